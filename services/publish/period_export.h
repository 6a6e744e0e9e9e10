/* period_export.h - a file of each audit period (the audit team's outliers.csv, the delay ledger's
 * delays.csv) written only when its content changed: the hash of what was last written is kept in
 * a table of (audit, period, content_hash) (publish.outlier_export, publish.delay_export). */
#ifndef NCAP_PERIOD_EXPORT_H
#define NCAP_PERIOD_EXPORT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "audit_cache.h"

/* The file's text for one audit period (malloc'd, into *text), def the audit's definition (NULL
 * when it no longer loads): returns 0, 1 to skip the period (*text NULL), or -1 with err. */
typedef int (*period_export_text_fn)(void *ctx, PGconn *db, const audit_def_t *def,
                                     const char *audit, const char *period, char **text, char *err,
                                     size_t errlen);

/* A file's text built in memory: period_text_open starts it with the header line (NULL when out
 * of memory); period_text_close ends it and returns the text (malloc'd), or NULL with err. */
FILE *period_text_open(char **buf, size_t *len, const char *header);
char *period_text_close(FILE *f, char **buf, char *err, size_t errlen);

/* For each row (audit, period, the hash last written or NULL) of periods_sql, asks text for the
 * file and, when its hash differs, writes it as root/<audit>/<period>/<name> and keeps the new
 * hash in hash_table. A folder that cannot be written is logged and tried again on the next call
 * (the hash is not kept), never failing the caller. Returns the files written, or -1 with err (a
 * database error, or text's). */
int period_export(PGconn *db, audit_cache_t *audits, const char *periods_sql,
                  const char *hash_table, const char *root, const char *name,
                  period_export_text_fn text, void *ctx, char *err, size_t errlen);

/* The same for one period whose text the caller has and whose hash last written it read (stored,
 * "" for none; e.g. from a statement over several periods): writes body when its hash differs.
 * Returns 1 when written, 0 when not, or -1 with err. */
int period_export_body(PGconn *db, const char *hash_table, const char *root, const char *audit,
                       const char *period, const char *name, const char *body, const char *stored,
                       char *err, size_t errlen);

/* The same for one period whose text the caller has (body, e.g. a ledger stored with the revision
 * a round just committed), so that it is not built again: writes it when its hash differs from
 * hash_table's. Returns 1 when written, 0 when not (unchanged, or a folder that cannot be
 * written: logged, tried again), or -1 with err. */
int period_export_text(PGconn *db, const char *hash_table, const char *root, const char *audit,
                       const char *period, const char *name, const char *body, char *err,
                       size_t errlen);

#endif
