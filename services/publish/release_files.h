/* release_files.h - a committed release written out as files, the bytes publish stored with it
 * (publish.release_file):
 *   OUT/<audit>/<period>/r<NNNN>/release.csv|json, fingertips.csv   (immutable, one per revision)
 *   OUT/<audit>/<period>/latest.csv|json, fingertips.csv            (each replaced atomically) */
#ifndef NCAP_RELEASE_FILES_H
#define NCAP_RELEASE_FILES_H

#include <libpq-fe.h>
#include <stddef.h>

/* Loads release release_id from PostgreSQL and writes its files. Returns 0 or -1 with err. */
int release_files_export(PGconn *db, const char *out_dir, long long release_id, char *err,
                         size_t errlen);
/* Exports the latest revision of each audit period whose files are missing (after a crash
 * between commit and writing). Returns the number exported, or -1. */
int release_files_export_missing(PGconn *db, const char *out_dir, char *err, size_t errlen);

#endif
