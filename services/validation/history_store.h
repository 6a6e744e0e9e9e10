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
    size_t of; /* the index of the record (in history_store_load's arrays) whose history it is */
    int64_t record_id;
    int version; /* the latest stored */
    ncap_record_t *rec;
} stored_record_t;

typedef struct {
    stored_record_t *items; /* by of, then record_id */
    size_t n;
} stored_records_t;

/* Takes the transaction-scoped advisory lock of each patient key (e.g. "<audit>:<pseudonym>"),
 * in sorted order so that two instances never wait on each other crosswise. keys is sorted and
 * deduplicated in place. Returns 0, or -1 with err. */
int history_store_lock(PGconn *db, const char **keys, size_t n, char *err, size_t errlen);

/* Loads into out, for each i < n whose audits[i] is not NULL, every record of audits[i] whose
 * latest version in validation.record has pseudonyms[i], except record_ids[i] itself, with of = i
 * (a superseded version never speaks for its record: after the pseudonymisation key is rotated
 * it may still carry the patient's old pseudonym, and a record re-linked in a later version
 * belongs to the later version's patient only):
 * a whole batch's histories in one query (an index range per patient, 0005), not one a record.
 * A stored payload that is not a record is left out (it has no history to give). Returns 0, or -1
 * with err. */
int history_store_load(PGconn *db, const char *const *audits, const char *const *pseudonyms,
                       const int64_t *record_ids, size_t n, stored_records_t *out, char *err,
                       size_t errlen);
void stored_records_clear(stored_records_t *r);

#endif
