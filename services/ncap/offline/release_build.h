/* release_build.h - trust files through the pipeline offline, into the sums a release is built
 * from: what `ncap release build` does before benchmark_build. Each file is one submission of its
 * trust, in the order given, through the daemons' own code: ingest's shape checks and record
 * versions (submission.c: a row whose content is unchanged is no new version), linkage
 * (link_memory.h), validation (validate_record.c; history rules only warn, so they change no
 * outcome and are not run), the metric contributions (contribution.c) and the breakdown
 * categories (breakdown.h), summed per period and month into the cells metric.aggregate holds
 * and the values metric.measure counts.
 *
 * Two passes over the files: the first links every record, so that the second sees each
 * record's latest version with the date of death its patient has once all are linked, as the
 * death sweep leaves a deployment. Memory: the patient index (link_memory.h), about 100 bytes per
 * record, the cells, and one file at a time. */
#ifndef NCAP_RELEASE_BUILD_H
#define NCAP_RELEASE_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_def.h"
#include "benchmark.h"
#include "link_memory.h"
#include "release_sums.h"

/* Rows linkage takes at once: the daemon's default --batch. */
#define RELEASE_BUILD_BATCH 500

/* One trust's file. */
typedef struct {
    const char *path;
    const char *trust; /* its ODS trust code */
} release_source_t;

/* What happened to one file, for the user. */
typedef struct {
    unsigned data_rows; /* rows in the file */
    unsigned refused;   /* refused by ingest's shape checks */
    unsigned unchanged; /* the same as the record's version before: no new version */
    unsigned versions;  /* new record versions linked */
    unsigned withheld;  /* of those, withheld under the opt-out */
} release_file_counts_t;

typedef struct {
    long long records;     /* records in the release's sums: the latest version that went on */
    long long valid;       /* of those, valid */
    long long no_period;   /* of those, without a period (no contribution) */
    long long quarantined; /* valid, but a metric could not be evaluated (the daemon quarantines) */
    long long with_death;  /* linked to a death */
    long long patients;
} release_totals_t;

/* Tells the user how it goes (progress on stderr): each file's counts once it is linked, and every
 * 100,000 rows linked or counted; NULL for silence. */
typedef void (*release_note_fn)(void *ctx, const char *message);

typedef struct release_build_t release_build_t;

/* A build of def's release with linkage lm (reference data loaded; not owned). NULL when out of
 * memory. */
release_build_t *release_build_new(const audit_def_t *def, link_memory_t *lm, release_note_fn note,
                                   void *ctx);
void release_build_destroy(release_build_t **self_p);

/* Runs the files through the pipeline. counts (may be NULL) gets each file's counts. Returns 0, or
 * -1 with err: a file that cannot be read, or that ingest would refuse as a whole (its
 * file_error), a file changed between the passes, out of memory. */
int release_build_run(release_build_t *self, const release_source_t *files, size_t n,
                      release_file_counts_t *counts, char *err, size_t errlen);

/* Without files: counts one record version already linked and validated (pseudo, its payload as
 * validation.record keeps it, valid its outcome), as the metric stage would (a record it would
 * quarantine is left out and noted). `ncap release finalise` feeds the versions received by its
 * cutoff from PostgreSQL this way (lm may then be NULL); release_build_finish once after the last.
 * Returns 0, or -1 when out of memory. */
int release_build_add(release_build_t *self, const char *trust, const char *site,
                      const char *local_id, const ncap_record_t *pseudo, bool valid);
/* Counts a record of trust and site withheld under the opt-out (rec, as received) in the selection
 * ledger's withheld_opt_out (BENCHMARK_WITHHELD) of the period and month of its period field, as
 * metric would place it (none: not counted). Returns 0, or -1 when out of memory. */
int release_build_add_withheld(release_build_t *self, const char *trust, const char *site,
                               const ncap_record_t *rec);
int release_build_finish(release_build_t *self);

void release_build_totals(const release_build_t *self, release_totals_t *out);
/* The valid records with a period of trust in period i (the release's "records" of one trust, as
 * metric.aggregate's metric '' counts them): case ascertainment's. O(cells held). */
long long release_build_trust_records(const release_build_t *self, size_t i, const char *trust);

/* The periods with a record (valid or not), in order ("2025Q2" < "2025Q3"): each gets a release,
 * as the publish daemon rebuilds every period a record is in. */
size_t release_build_n_periods(const release_build_t *self);
const char *release_build_period(const release_build_t *self, size_t i);
/* Valid records of period i (the release's "records"). */
long long release_build_period_records(const release_build_t *self, size_t i);
/* The sums of period i (release_sums.h: its cells and values, months summed, and the months up
 * to its end for the run charts, as the publish daemon reads them from metric.aggregate and
 * metric.measure) into out (arrays allocated, release_sums_free; strings owned by the build).
 * Returns 0, or -1 when out of memory. */
int release_build_sums(const release_build_t *self, size_t i, release_sums_t *out);

#endif
