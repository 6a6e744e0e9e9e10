/* message.h - helpers between records and the ncap.v1 protobuf messages */
#ifndef NCAP_MESSAGE_H
#define NCAP_MESSAGE_H

#include <jansson.h>

#include "ncap/v1/records.pb-c.h"
#include "record.h"

/* A random message id (32 hex characters). */
void message_new_id(char out[33]);
/* Builds repeated Field from a record. The fields point into rec: keep rec alive until the message
 * is packed; free with message_fields_free. Returns 0 or -1. */
int message_fields_from_record(const ncap_record_t *rec, Ncap__V1__Field ***fields_p, size_t *n_p);
void message_fields_free(Ncap__V1__Field **fields, size_t n);
/* Fills rec (cleared first) from repeated Field. Returns 0 or -1. */
int message_fields_to_record(Ncap__V1__Field *const *fields, size_t n, ncap_record_t *rec);
/* Record <-> JSON object text {"name": "value", ...} as stored in PostgreSQL (jsonb).
 * message_record_to_json returns NULL when a name or value is not UTF-8, or out of memory. */
char *message_record_to_json(const ncap_record_t *rec);
int message_record_from_json(const char *json, ncap_record_t *rec);

#endif
