/* patient_index.h - the patients already held, in PostgreSQL (linkage.block: blocking keys with
 * the identifiers seen with them), and the assignment of records to them (link_assign decides;
 * this module does the SQL).
 *
 * Two linkage instances never create two patients for one person (DESIGN.md invariant 4): before
 * looking up candidates, patient_index_assign takes a transaction-scoped advisory lock on every
 * blocking key of the batch, in sorted order (so two batches cannot deadlock), and holds them
 * until the caller's transaction ends. Two records that could be one person share a blocking key,
 * so the second waits for the first to commit and then finds its patient. ncap-linkd first takes
 * them without waiting (patient_index_try_keys) and defers the records whose keys another
 * instance holds to its next batch, so its batches seldom wait (linkage_stage.c). */
#ifndef NCAP_PATIENT_INDEX_H
#define NCAP_PATIENT_INDEX_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link_assign.h"
#include "link_incremental.h"

/* Patients the death sweep compares with a death per key at most (the lowest ids: death_sweep.c).
 * A record's candidates follow LINK_MAX_BLOCK instead (link_assign.h). */
#define PATIENT_INDEX_MAX_BLOCK 200

/* The advisory lock id of the blocking key k (an SQL expression), the same in every statement
 * that takes one (patient_index_lock_keys, patient_index_try_keys, patient_merge_sets): two
 * statements that hashed a key otherwise would not exclude each other. */
#define PATIENT_KEY_LOCK_ID(k) "hashtextextended(" k ", 4)"

/* Takes the transaction-scoped advisory lock of each blocking key in keys (a PostgreSQL text[]
 * literal, e.g. "{n:4010232137,d:19400101}"), in the order every linkage instance takes them:
 * whoever else links a record with one of these keys waits for the caller's transaction. Returns
 * 0, or -1 with err. */
int patient_index_lock_keys(PGconn *db, const char *keys, char *err, size_t errlen);
/* Takes, without waiting, the transaction-scoped advisory lock of each blocking key of the n
 * records ids (those patient_index_assign takes, held to the end of the caller's transaction),
 * and sets held[i] to whether record i's keys are now all the caller's: false when another
 * transaction (another linkage instance's batch) holds one of them. The caller leaves those
 * records to a later batch rather than wait for that transaction, and assigns the others
 * (patient_index_assign finds their locks already its own). Returns 0, or -1 with err. */
int patient_index_try_keys(PGconn *db, const link_ident_t *ids, size_t n, bool *held, char *err,
                           size_t errlen);
/* Reads the parameters from linkage.match_param and linkage.match_setting, first storing the
 * defaults (link_params_default) where none are stored. Returns 0, or -1 with err. */
int patient_index_load_params(PGconn *db, link_params_t *p, char *err, size_t errlen);
/* Stores p: where none are stored (replace false), or in place of those stored (replace true),
 * then also adding 1 to the setting params_version, by which every ncap-linkd instance sees that
 * it must load them again. Returns 0, or -1 with err. */
int patient_index_store_params(PGconn *db, const link_params_t *p, bool replace, char *err,
                               size_t errlen);
/* Replaces the term frequencies in linkage.match_term_freq with those of tf (link_field_tf's
 * fields), to be committed with the parameters they were learned with. Returns 0, or -1 with err.
 */
int patient_index_store_term_freqs(PGconn *db, const term_freq_t *tf, char *err, size_t errlen);
/* Reads linkage.match_term_freq into *tf, a new table (empty when none is stored), for
 * link_params_t.tf. Returns 0, or -1 with err. */
int patient_index_load_term_freqs(PGconn *db, term_freq_t **tf, char *err, size_t errlen);
/* What ncap-linkd scores with, loaded at start and whenever params_version changes: the
 * parameters into *p and the term frequencies into *tf, a new table that p->tf points to (p->tf
 * NULL when none is stored: nothing to look up). Leaves *p as it was on failure. Returns 0, or -1
 * with err. */
int patient_index_load_model(PGconn *db, link_params_t *p, term_freq_t **tf, char *err,
                             size_t errlen);
/* The setting params_version into *version (0 when none is stored). Returns 0, or -1 with err. */
int patient_index_params_version(PGconn *db, double *version, char *err, size_t errlen);

/* The candidate rows (linkage.block) a linkage batch reads and holds at once, about: a batch
 * whose records would read more is taken in groups of records one after another, sized by the
 * rows a record read in this process's last groups, each group's candidates scored, stored and
 * freed before the next group reads its own (the next group finds the patients the earlier ones
 * created or joined in the index, as the next batch would). Candidates grow with the patients
 * held (a date of birth's block holds more people as the index grows, up to LINK_MAX_BLOCK), so
 * without groups linkage's memory grew with the record count: 17 rows a record at 100,000
 * records, 65 at a million (500-record batches: 8,500 and 32,500 rows, each about 370 bytes as
 * read and copied). At 100,000 records a batch is one group. */
#define PATIENT_INDEX_GROUP_ROWS 10000
/* Sets the candidate rows a group holds at most, for this process (0: PATIENT_INDEX_GROUP_ROWS);
 * 1 makes every record of a batch a group of its own (tests). */
void patient_index_set_group_rows(size_t rows);

/* Assigns each of the n records (identifiers ids[i]) to a patient, inside the caller's
 * transaction: locks the blocking keys (unless locked: the caller's transaction took them all,
 * patient_index_try_keys), scores each record against the candidate patients of its
 * keys and the records before it in the batch (in groups of records, PATIENT_INDEX_GROUP_ROWS),
 * creates new patients, stores the identifiers and keys. With merges (may be NULL: no patient is
 * merged), two held patients a record bridges are merged as link_assign decides (their sets read by
 * patient_merge_sets) and their blocking keys moved (patient_merge_index); *merges receives them
 * (the caller frees it) for the caller to move their records (patient_merge_records). Returns 0, or
 * -1 with err (the caller rolls back). */
int patient_index_assign(PGconn *db, const link_params_t *p, const link_ident_t *ids, size_t n,
                         bool locked, patient_match_t *out, link_merge_t **merges, size_t *nmerges,
                         char *err, size_t errlen);

#endif
