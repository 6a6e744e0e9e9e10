/* quality_store.h - the linkage quality facts of each record (linkage.record_quality, migration
 * 0027) and, kept equal to them by its triggers in the same transaction, their counts: the
 * changes each statement makes appended to linkage.quality_delta, folded into
 * linkage.quality_count after linkage's commits (migration 0055: two instances never wait on
 * one count); publish reads both, summed, through publish.linkage_quality. */
#ifndef NCAP_QUALITY_STORE_H
#define NCAP_QUALITY_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link_quality.h"

/* One record version as linkage took it. */
typedef struct {
    int64_t record_id;
    int version;
    int64_t patient_id;
    const char *audit, *trust, *site;
    const link_quality_t *q;
    bool death_matched; /* its patient is linked to a death */
    bool withheld;      /* under the national data opt-out */
    /* its patient was created in the caller's transaction (by the batch linking it): the patient's
     * records are then exactly its facts among those stored in the same call */
    bool new_patient;
} quality_fact_t;

/* Stores the facts of facts[0..n) inside the caller's transaction, each in place of its record's
 * older version (an older or equal version is ignored: a batch retried or a version taken after a
 * newer one changes nothing), then sets the method of every record of the patients the batch
 * touched, the records' new and previous patients (linkage.quality_methods, migration 0030: a
 * singleton turns linked when its patient's second record arrives, and back when it leaves).
 * The methods of a new patient's records (new_patient) are decided here, from the facts, and
 * stored with them: linkage.quality_methods then runs only for the patients held before, and not
 * at all for a batch of new patients. Returns 0, or -1 with err. */
int quality_store_facts(PGconn *db, const quality_fact_t *facts, size_t n, char *err,
                        size_t errlen);

/* Sets death_matched of every record of the patients patient_ids (a bigint[] literal) to whether
 * the patient is linked to a death now (the death sweep's step 2: a death loaded, taken over or
 * removed), counting the fact's revision up where it changed. Returns the facts changed, or -1
 * with err. */
long quality_store_deaths(PGconn *db, const char *patient_ids, char *err, size_t errlen);

/* Moves the changes to the counts appended so far into linkage.quality_count (after linkage's
 * commits, in a transaction of its own: linkage.quality_fold, migration 0055). Returns the changes
 * folded, or -1 with err. */
long quality_store_fold(PGconn *db, char *err, size_t errlen);

#endif
