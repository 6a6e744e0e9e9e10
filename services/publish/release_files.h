/* release_files.h - a committed release written out as files, the bytes publish stored with it
 * (publish.release_file):
 *   OUT/<audit>/<period>/r<NNNN>/release.csv|json, fingertips.csv, spc.csv, spc_summary.csv,
 *                                delays.csv, ascertainment.csv (immutable, one per revision)
 *   OUT/<audit>/<period>/latest.csv|json, fingertips.csv, spc.csv, spc_summary.csv
 *                                                      (each replaced atomically)
 *   OUT/<audit>/final/<year>/<period>/release.csv|json, ...  a final release (migration 0025)
 *   OUT/<audit>/final/<year>/late.csv                  its late records as they stand (0028) */
#ifndef NCAP_RELEASE_FILES_H
#define NCAP_RELEASE_FILES_H

#include <libpq-fe.h>
#include <stddef.h>

/* A release's files, in this order: latest.csv, latest.json, fingertips.csv, spc.csv,
 * spc_summary.csv (the run charts: a release stored before them has the first three only), then
 * the ledgers as they stood when it was made, delays.csv and ascertainment.csv (none before
 * migration 0028's time; ascertainment.csv only with expected cases). The ledgers go into the
 * revision's own folder only: the period's delays.csv and ascertainment.csv beside latest.* are
 * publish's, rewritten whenever they change (period_export.h), also without a new revision. */
#define RELEASE_N_FILES 7
#define RELEASE_N_FILES_REQUIRED 3
#define RELEASE_N_LATEST 5 /* the files written as latest.* and the like */
extern const char *const RELEASE_FILE_NAMES[RELEASE_N_FILES];

/* Writes a release's files, content[k] (len[k] bytes; NULL: none, for a run chart of an older
 * release) named RELEASE_FILE_NAMES[k], in the layout
 * above: when revision > 0 first into its own folder r<NNNN>/, then latest.*, each replaced
 * atomically (a temporary file, fsync, rename), so that a reader of latest.* sees a whole
 * release. `ncap release build` writes latest.* alone (revision 0). Returns 0 or -1 with err. */
int release_files_write(const char *out_dir, const char *audit, const char *period, int revision,
                        const char *const content[RELEASE_N_FILES],
                        const size_t len[RELEASE_N_FILES], char *err, size_t errlen);
/* Loads release release_id from PostgreSQL and writes its files. Returns 0 or -1 with err. */
int release_files_export(PGconn *db, const char *out_dir, long long release_id, char *err,
                         size_t errlen);
/* Writes data (len bytes) to dir/name atomically (a temporary file, fsync, rename), dir created
 * as needed: a file of publish's beside the release's own, e.g. the audit team's outliers.csv.
 * Returns 0 or -1 with err. */
int release_files_write_one(const char *dir, const char *name, const char *data, size_t len,
                            char *err, size_t errlen);
/* Exports the latest revision of each audit period whose files are missing or whose latest.* do
 * not hold its bytes (after a crash between commit and writing, or in the middle of it). Returns
 * the number exported, or -1. */
int release_files_export_missing(PGconn *db, const char *out_dir, char *err, size_t errlen);
/* Removes the folder r<NNNN>/ of a pruned revision (its files, then the folder; none there: 0).
 * latest.* are never touched. Returns 0 or -1 with err. */
int release_files_remove(const char *out_dir, const char *audit, const char *period, int revision,
                         char *err, size_t errlen);
/* Removes the folders of revisions older than an audit period's oldest one stored (pruned, their
 * folders left by a crash between the commit and the removal). Returns the number removed, or
 * -1. */
int release_files_remove_pruned(PGconn *db, const char *out_dir, char *err, size_t errlen);

/* The content hash of a release: its CSVs as published (the run charts change with months of
 * earlier periods) and its record count; hash gets 64 hex digits and a NUL. */
void release_files_hash(const char *csv, const char *spc, const char *spc_summary,
                        long long records, char hash[65]);
/* Stores release release_id's files (content in RELEASE_FILE_NAMES' order; a NULL past the
 * required ones: none) and its rows
 * (publish.output, one per line of latest.csv, from the JSON content[1]), in the caller's
 * transaction. Returns 0 or -1 with err. */
int release_files_store(PGconn *db, const char *release_id,
                        const char *const content[RELEASE_N_FILES], char *err, size_t errlen);
/* The folder of audit's final release of financial year year. */
void release_files_final_dir(const char *out_dir, const char *audit, int year, char *buf,
                             size_t len);
/* Writes the final release of audit's financial year year from PostgreSQL: each period's files
 * and late.csv as it stands (final_late.h; each written atomically; nothing when there is no such
 * final). Returns 0 or -1
 * with err. */
int release_files_export_final(PGconn *db, const char *out_dir, const char *audit, int year,
                               char *err, size_t errlen);

#endif
