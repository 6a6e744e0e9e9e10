/* release_files.h - a committed release written out as files, the bytes publish stored with it
 * (publish.release_file):
 *   OUT/<audit>/<period>/r<NNNN>/release.csv|json, fingertips.csv, spc.csv, spc_summary.csv
 *                                                      (immutable, one per revision)
 *   OUT/<audit>/<period>/latest.csv|json, fingertips.csv, spc.csv, spc_summary.csv
 *                                                      (each replaced atomically) */
#ifndef NCAP_RELEASE_FILES_H
#define NCAP_RELEASE_FILES_H

#include <libpq-fe.h>
#include <stddef.h>

/* A release's files, in this order: latest.csv, latest.json, fingertips.csv, spc.csv,
 * spc_summary.csv (the run charts: a release stored before them has the first three only). */
#define RELEASE_N_FILES 5
#define RELEASE_N_FILES_REQUIRED 3
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

#endif
