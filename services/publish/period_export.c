/* period_export.c - a period's file written when its content changed */
#include "period_export.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "release_files.h"

FILE *period_text_open(char **buf, size_t *len, const char *header)
{
    *buf = NULL;
    FILE *f = open_memstream(buf, len);
    if (f)
        fprintf(f, "%s\n", header);
    return f;
}

char *period_text_close(FILE *f, char **buf, char *err, size_t errlen)
{
    if (!f || fclose(f) != 0) {
        free(*buf);
        *buf = NULL;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return *buf;
}

/* Writes body as root/<audit>/<period>/<name> when its hash differs from stored (the hash last
 * written, "" for none) and keeps the new hash in hash_table (upsert, as given). Returns 1 when
 * written, 0 when unchanged or the folder could not be written (logged; the hash is not kept, so
 * it is tried again), or -1 with err (a database error). */
static int export_body_upsert(PGconn *db, const char *upsert, const char *root, const char *audit,
                       const char *period, const char *name, const char *body, const char *stored,
                       char *err, size_t errlen)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hash[65], dir[1400], ferr[1600];
    crypto_hash_sha256(h, (const unsigned char *)body, strlen(body));
    sodium_bin2hex(hash, sizeof hash, h, sizeof h);
    if (strcmp(hash, stored) == 0)
        return 0;
    snprintf(dir, sizeof dir, "%s/%s/%s", root, audit, period);
    const char *p[] = {audit, period, hash};
    /* a folder that cannot be written holds back this file, never a release: said in the log,
     * tried again next round (the hash is not kept) */
    if (release_files_write_one(dir, name, body, strlen(body), ferr, sizeof ferr) != 0) {
        ncap_log(LOG_WARN, "could not write a period's file", "file", name, "error", ferr, NULL);
        return 0;
    }
    return db_execp(db, upsert, 3, p, err, errlen) != 0 ? -1 : 1;
}

static void upsert_sql(char *buf, size_t len, const char *hash_table)
{
    snprintf(buf, len,
             "INSERT INTO %s (audit, period, content_hash) VALUES ($1, $2, $3)"
             " ON CONFLICT (audit, period) DO UPDATE SET content_hash = EXCLUDED.content_hash",
             hash_table);
}

int period_export_body(PGconn *db, const char *hash_table, const char *root, const char *audit,
                       const char *period, const char *name, const char *body, const char *stored,
                       char *err, size_t errlen)
{
    char upsert[400];
    upsert_sql(upsert, sizeof upsert, hash_table);
    return export_body_upsert(db, upsert, root, audit, period, name, body, stored, err, errlen);
}

int period_export_text(PGconn *db, const char *hash_table, const char *root, const char *audit,
                       const char *period, const char *name, const char *body, char *err,
                       size_t errlen)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT content_hash FROM %s WHERE audit = $1 AND period = $2), '')",
             hash_table);
    const char *p[] = {audit, period};
    PGresult *r = db_query(db, sql, 2, p, err, errlen);
    if (!r)
        return -1;
    int rc = period_export_body(db, hash_table, root, audit, period, name, body,
                                PQgetvalue(r, 0, 0), err, errlen);
    PQclear(r);
    return rc;
}

int period_export(PGconn *db, audit_cache_t *audits, const char *periods_sql,
                  const char *hash_table, const char *root, const char *name,
                  period_export_text_fn text, void *ctx, char *err, size_t errlen)
{
    PGresult *periods = db_query(db, periods_sql, 0, NULL, err, errlen);
    if (!periods)
        return -1;
    char upsert[400];
    upsert_sql(upsert, sizeof upsert, hash_table);
    int written = 0;
    for (int i = 0; written >= 0 && i < PQntuples(periods); i++) {
        const char *audit = PQgetvalue(periods, i, 0), *period = PQgetvalue(periods, i, 1);
        char *body = NULL, derr[400];
        const audit_def_t *def = audit_cache_get(audits, audit, derr, sizeof derr);
        int got = text(ctx, db, def, audit, period, &body, err, errlen);
        if (got < 0) {
            written = -1;
            break;
        }
        if (got > 0 || !body)
            continue;
        int w = export_body_upsert(db, upsert, root, audit, period, name, body,
                                   PQgetvalue(periods, i, 2), err, errlen);
        written = w < 0 ? -1 : written + w;
        free(body);
    }
    PQclear(periods);
    return written;
}
