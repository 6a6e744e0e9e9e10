/* message.h - a record as the JSON payload every stage stores (json, migration 0051): the only
 * form records take between stages, since messages carry keys only (nudge.h) */
#ifndef NCAP_MESSAGE_H
#define NCAP_MESSAGE_H

#include <jansson.h>

#include "record.h"

/* Record <-> JSON object text {"name": "value", ...} as stored in PostgreSQL.
 * message_record_to_json returns NULL when a name or value is not UTF-8, or out of memory. */
char *message_record_to_json(const ncap_record_t *rec);
int message_record_from_json(const char *json, ncap_record_t *rec);

#endif
