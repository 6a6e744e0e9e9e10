/* link_memory.h - linkage offline: what ncap-linkd keeps in PostgreSQL (the patient index, the
 * register of deaths and the death links, the opt-out list, deprivation by LSOA) held in memory
 * for one run of `ncap release build`, and linkage's work on a batch of records against it.
 *
 * The decisions are the daemon's own, called in the order linkage_stage.c calls them:
 * link_record_prepare (identifiers, derived fields, the record without identifiers),
 * link_assign (the patient: the held patients of the record's blocking keys, none of a key whose
 * block holds more than LINK_MAX_BLOCK rows, as patient_index.c finds them; two patients
 * the record bridges merged as patient_merge.h merges them), death_choose
 * (a death for a patient without one, among the deaths sharing its NHS number or date of birth),
 * the IMD of the record's LSOA, link_record_add_linked, the register's coverage (follow_up_stamp),
 * and optout_withholds after the batch is linked. What is not the same: the parameters are the
 * documented defaults (link_params_default: a deployment's `ncap link-train` is not seen), and a
 * deployment's batches are whatever its nudges gathered, where here they are the caller's: the
 * opt-out, decided after a batch is linked, withholds a record without its NHS number whose
 * patient's number comes later in the same batch.
 *
 * Cost: each record is scored against the held patients of its blocking keys, as in the daemon;
 * 200,000 simulated records with a register of 109,000 deaths link at about 12,000 records a
 * second on one core in 170 MB (each distinct set of identifiers of a patient once, its blocking
 * keys, the deaths). */
#ifndef NCAP_LINK_MEMORY_H
#define NCAP_LINK_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_def.h"
#include "link_incremental.h"
#include "link_record.h"
#include "record.h"
#include "refdata.h"

typedef struct link_memory_t link_memory_t;

/* An empty index with parameters p (copied; p->tf, if any, must outlive it). NULL when out of
 * memory. */
link_memory_t *link_memory_new(const link_params_t *p);
void link_memory_destroy(link_memory_t **self_p);

/* Reference data, as `ncap refdata load` keeps it: a death row whose row_hash is held already is
 * a duplicate (the first is kept, and deaths are numbered in the order added); an opt-out number
 * once; an LSOA's first row. Each returns 1 when added, 0 for a duplicate, -1 when out of memory.
 */
int link_memory_add_death(link_memory_t *self, const refdata_row_t *row);
int link_memory_add_optout(link_memory_t *self, const char *nhs_number);
int link_memory_add_imd(link_memory_t *self, const char *lsoa, int decile, int quintile);
size_t link_memory_deaths(const link_memory_t *self);
/* The latest date of death of the register held (YYYY-MM-DD), or "" when it holds none: what
 * `ncap refdata load deaths` takes the register to cover when not told. */
const char *link_memory_latest_death(const link_memory_t *self);
/* How far the register reaches (YYYY-MM-DD, or "" for no register): stamped on every record as
 * the linked deaths_covered_to where its definition lists it (follow_up.h), as ncap-linkd stamps
 * the coverage `ncap refdata load deaths` recorded. Set it before linking. */
void link_memory_set_coverage(link_memory_t *self, const char *covers_to);

typedef struct {
    long long read, added, duplicates, skipped;
} link_memory_load_counts_t;
/* Called for each bad row of a reference file, which is skipped: line in the file (the header is
 * line 1) and why. */
typedef void (*link_memory_bad_row_fn)(void *ctx, size_t line, const refdata_problem_t *problem);
/* Reads a reference file of kind (deaths, optouts or imd) from data[0..len) with the reader
 * `ncap refdata load` uses (refdata.h), adding its good rows; each bad row goes to bad_row (may
 * be NULL) and is skipped, as the load skips it. counts (may be NULL) are set. Returns 0, or -1
 * with err: a wrong header (nothing is added), or out of memory. */
int link_memory_load(link_memory_t *self, refdata_kind_t kind, const char *data, size_t len,
                     link_memory_bad_row_fn bad_row, void *ctx, link_memory_load_counts_t *counts,
                     char *err, size_t errlen);

/* One record of a batch: the caller sets def and raw; link_memory_link fills the rest. */
typedef struct {
    const audit_def_t *def;
    const ncap_record_t *raw; /* the record as ingest stored it */
    link_outcome_t outcome;   /* its pseudonymised record (outcome.pseudo), identifier problems */
    int64_t patient_id;       /* from 1 */
    bool withheld;            /* under the national data opt-out: goes no further */
} link_memory_item_t;

/* Links the n records of a batch as ncap-linkd's store does: each to a patient (new ones
 * numbered in record order), patients without a death to one, deprivation added, then the
 * opt-out. The caller clears each item (link_memory_item_clear) whatever the result. Returns 0,
 * or -1 when out of memory (the index may then hold part of the batch). */
int link_memory_link(link_memory_t *self, link_memory_item_t *items, size_t n);
/* Links one record's identifiers alone, as link_memory_link does each record's (link_assign
 * against the held patients of its keys, merging two it bridges; a new patient when none
 * matches; its keys stored), and nothing else (no death, no opt-out): `ncap link --incremental`.
 * *patient_id receives its patient, from 1 (a later record may merge it into another:
 * link_memory_patient). Returns 0, or -1 when out of memory. */
int link_memory_assign(link_memory_t *self, const link_ident_t *id, int64_t *patient_id);
/* Frees what link_memory_link put in item. */
void link_memory_item_clear(link_memory_item_t *item);

/* What linkage passes on for raw once every record is linked (the death sweep's state):
 * link_record_prepare, then the values linkage adds, its patient's date of death now and the
 * deprivation of its LSOA. out is cleared with link_outcome_clear. Returns 0, or -1 when out of
 * memory. */
int link_memory_final(const link_memory_t *self, const audit_def_t *def, const ncap_record_t *raw,
                      int64_t patient_id, link_outcome_t *out);

/* The date of death (YYYY-MM-DD) linked to patient now, or "": what the death sweep gives a
 * patient's records once every record is linked. */
const char *link_memory_date_of_death(const link_memory_t *self, int64_t patient_id);
/* Patients held (those merged into another not counted). */
int64_t link_memory_patients(const link_memory_t *self);
/* The patient that holds patient_id's records now: patient_id, or the patient it was merged into
 * (link_assign.h), as often as that was merged again. */
int64_t link_memory_patient(const link_memory_t *self, int64_t patient_id);

#endif
