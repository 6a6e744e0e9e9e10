/* history_store.h - what history rules need from PostgreSQL: a patient's other stored records of
 * an audit, and the lock that serialises the instances validating one patient. The rules
 * themselves are in history_rule.h. */
#ifndef NCAP_HISTORY_STORE_H
#define NCAP_HISTORY_STORE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct {
    int64_t record_id;
    int version; /* the latest stored */
    ncap_record_t *rec;
} stored_record_t;

typedef struct {
    stored_record_t *items;
    size_t n;
} stored_records_t;

/* Takes the transaction-scoped advisory lock of each patient key (e.g. "<audit>:<pseudonym>"),
 * in sorted order so that two instances never wait on each other crosswise. keys is sorted and
 * deduplicated in place. Returns 0, or -1 with err. */
int history_store_lock(PGconn *db, const char **keys, size_t n, char *err, size_t errlen);

/* Loads into out the latest version of every record of audit with pseudonym in
 * validation.record, except record_id itself. Returns 0, or -1 with err. */
int history_store_load(PGconn *db, const char *audit, const char *pseudonym, int64_t record_id,
                       stored_records_t *out, char *err, size_t errlen);
void stored_records_clear(stored_records_t *r);

#endif
