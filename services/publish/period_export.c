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

int period_export(PGconn *db, audit_cache_t *audits, const char *periods_sql,
                  const char *hash_table, const char *root, const char *name,
                  period_export_text_fn text, void *ctx, char *err, size_t errlen)
{
    PGresult *periods = db_query(db, periods_sql, 0, NULL, err, errlen);
    if (!periods)
        return -1;
    char upsert[400];
    snprintf(upsert, sizeof upsert,
             "INSERT INTO %s (audit, period, content_hash) VALUES ($1, $2, $3)"
             " ON CONFLICT (audit, period) DO UPDATE SET content_hash = EXCLUDED.content_hash",
             hash_table);
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
        unsigned char h[crypto_hash_sha256_BYTES];
        char hash[65], dir[1400], ferr[1600];
        crypto_hash_sha256(h, (const unsigned char *)body, strlen(body));
        sodium_bin2hex(hash, sizeof hash, h, sizeof h);
        if (strcmp(hash, PQgetvalue(periods, i, 2)) != 0) {
            snprintf(dir, sizeof dir, "%s/%s/%s", root, audit, period);
            const char *p[] = {audit, period, hash};
            /* a folder that cannot be written holds back this file, never a release: said in
             * the log, tried again next round (the hash is not kept) */
            if (release_files_write_one(dir, name, body, strlen(body), ferr, sizeof ferr) != 0)
                ncap_log(LOG_WARN, "could not write a period's file", "file", name, "error", ferr,
                         NULL);
            else if (db_execp(db, upsert, 3, p, err, errlen) != 0)
                written = -1;
            else
                written++;
        }
        free(body);
    }
    PQclear(periods);
    return written;
}
