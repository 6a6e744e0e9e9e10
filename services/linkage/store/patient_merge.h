/* patient_merge.h - two held patients found to be one person, merged in PostgreSQL (migration
 * 0032). link_assign decides (link_assign.h: a record matching two patients that match each other
 * as a whole); this module reads what it needs and does the SQL, all in the transaction of the
 * batch whose record bridged them, so that a kill at any point loses nothing and merges nothing
 * twice: the batch is redone whole or not at all.
 *
 *   - patient_merge_sets, link_assign's link_held_t: every set of identifiers held for a patient
 *     (linkage.block). It first takes, without waiting, the advisory lock of each blocking key the
 *     patient holds (pg_try_advisory_xact_lock, held to the end of the transaction): when another
 *     instance holds one, it is linking a record of that patient now, and the patient is not
 *     merged (a later bridging record will be). Never waiting keeps invariant 4 free of deadlock:
 *     every instance takes the keys of its batch in sorted order, waiting, and only then these
 *     without waiting. Holding every key of both patients, no other instance can find either of
 *     them until the merge commits, and then it finds the one patient.
 *   - patient_merge_index (patient_index_assign calls it): the blocking keys of each patient
 *     merged move to the patient it was merged into (a set that one holds already kept once), and
 *     linkage.patient.merged_into says where it went.
 *   - patient_merge_records (linkage_stage calls it, before deaths and the opt-out): the merged
 *     patient's records take the other's pseudonym under the running key (the latest version of
 *     each is revised: its link revision counted up and passed on, as the rekey sweep passes on a
 *     new pseudonym; a superseded version is only stamped), their links and linkage quality facts
 *     move, and its death link moves unless the other has one (then it is linked to no one); the
 *     death sweep re-derives the date of death of the merged patient's records. Records withheld
 *     under the opt-out stay withheld; from now on a number of either patient on the opt-out list
 *     withholds the records of both (optout.h reads the patient's blocking keys).
 *
 * Cost: a merge is rare (70 in 50,000 simulated records, `ncap sim linkage`); each reads the two
 * patients' keys and records by index, O(their records), and every record that matches two
 * patients (about 1 in 100 there) reads both patients' keys once: a query each. */
#ifndef NCAP_PATIENT_MERGE_H
#define NCAP_PATIENT_MERGE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "link_assign.h"
#include "link_incremental.h"
#include "pseudonym.h"
#include "stage.h"

/* The context of patient_merge_sets: the connection, and why it failed. */
typedef struct {
    PGconn *db;
    char err[512];
} patient_merge_reader_t;

/* link_held_t's sets (ctx a patient_merge_reader_t): the patient's distinct sets of identifiers
 * from linkage.block, after its blocking keys are locked. Returns 0; 1 when another transaction
 * holds the lock of one of its keys; -1 with ctx's err. */
int patient_merge_sets(void *ctx, int64_t patient_id, link_ident_t **sets, size_t *n);

/* The blocking keys of each merges[k].from moved to merges[k].into, and from marked merged into
 * it. Returns 0, or -1 with err. */
int patient_merge_index(PGconn *db, const link_merge_t *merges, size_t n, char *err, size_t errlen);

/* The records, links, quality facts and death link of each merges[k].from moved to
 * merges[k].into, pseudonymised under key (key_id its id); the key (with the new link revision)
 * of each record revised appended to revised. Returns 0, or -1 with err. */
int patient_merge_records(PGconn *db, const link_merge_t *merges, size_t n,
                          const unsigned char key[PSEUDONYM_KEY_BYTES], const char *key_id,
                          stage_keys_t *revised, char *err, size_t errlen);

#endif
