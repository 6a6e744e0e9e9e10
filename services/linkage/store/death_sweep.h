/* death_sweep.h - deaths that arrive after a patient's records were passed on. The register of
 * deaths is reloaded at any time (`ncap refdata load deaths`), while a record links to a death
 * only when it is linked itself (death_link.h). The sweep, run by one ncap-linkd instance at a
 * time, closes that gap in two steps, each inside a transaction of the caller's (one each: both
 * take advisory locks on blocking keys, and two sets in one transaction could deadlock with a
 * record being linked):
 *
 *   1. death_sweep_link compares the deaths no sweep has considered yet with the patients already
 *      held (candidates by blocking keys "n:<NHS number>" and "d:<date of birth>:<sex>", scored
 * with link_score, chosen one to one by death_assign);
 *   2. death_sweep_revise takes the patients whose death link changed (linkage.death_recheck,
 *      filled by a trigger on linkage.death_link: linked, taken over, or removed with its death by
 *      a reload) and re-derives date_of_death of the latest version of each of their records whose
 *      audit lists it. A record whose value changed is updated in linkage.pseudo_record with its
 *      revision counted up, and passed on again as a link revision. The linkage quality facts of
 *      every record of those patients, withheld ones too, take death_matched as it is now
 *      (quality_store_deaths), whatever their audit lists.
 *
 * And a third, for the register's coverage (`ncap refdata load deaths --covers-to`, follow_up.h),
 * run once the first two have nothing to do, so that a record is derived again with the deaths
 * loaded with the coverage linked already:
 *
 *   3. death_sweep_coverage takes the record versions whose follow_up_due the coverage has reached
 *      (linkage.pseudo_record.follow_up_due <= linkage.death_coverage.covers_to) and stamps the
 *      coverage now on the latest of them (deaths_covered_to, with date_of_death as the patient has
 *      it now), as the next link revision, and their next due date; a superseded version's due
 *      date is cleared. The choice is by state, not by event: a kill at any point leaves the
 *      records due, and a record stamped with an older coverage by a batch that raced a load is
 *      taken at the next sweep. */
#ifndef NCAP_DEATH_SWEEP_H
#define NCAP_DEATH_SWEEP_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_cache.h"
#include "link_incremental.h"
#include "stage.h"

typedef struct {
    size_t deaths;   /* deaths considered (step 1) */
    size_t links;    /* death links made or moved (step 1) */
    size_t patients; /* patients re-derived (step 2) */
    size_t revised;  /* records revised (step 2) */
    size_t due;      /* record versions whose follow-up the coverage reached (step 3) */
    size_t covered;  /* of those, revised (step 3) */
} death_sweep_counts_t;

/* Step 1 for up to limit deaths not yet considered; adds to c. Returns 0, or -1 with err. */
int death_sweep_link(PGconn *db, const link_params_t *p, int limit, death_sweep_counts_t *c,
                     char *err, size_t errlen);

/* Step 2 for up to limit queued patients: appends the key (with the new link revision) of each
 * record revised to out; adds to c. Returns 0, or -1 with err. */
int death_sweep_revise(PGconn *db, audit_cache_t *audits, int limit, stage_keys_t *out,
                       death_sweep_counts_t *c, char *err, size_t errlen);

/* Step 3 for up to limit record versions due: appends the key (with the new link revision) of
 * each record revised to out; adds to c. A version whose audit definition cannot be loaded stays
 * due (and is not counted). Returns 0, or -1 with err. */
int death_sweep_coverage(PGconn *db, audit_cache_t *audits, int limit, stage_keys_t *out,
                         death_sweep_counts_t *c, char *err, size_t errlen);

/* Appends the key of each revision stored (the rows of u: record_id, version, revision) to out,
 * for validation to take. Returns 0, or -1 when out of memory. */
int death_sweep_pass_on(const PGresult *u, stage_keys_t *out);

#endif
