/* ascertainment.c - ascertainment.csv from the record counts and the expected cases */
#include "ascertainment.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "period_export.h"

char *ascertainment_text(const char *audit, const char *period, const ascertainment_row_t *rows,
                         size_t n, bool has_threshold, double threshold)
{
    char *buf, err[64];
    size_t len = 0;
    FILE *f = period_text_open(&buf, &len, ASCERTAINMENT_HEADER);
    char thr[32] = "";
    if (has_threshold)
        snprintf(thr, sizeof thr, "%g", threshold);
    for (size_t i = 0; f && i < n; i++) {
        char records[32], expected[32], share[32] = "";
        snprintf(records, sizeof records, "%lld", rows[i].records);
        snprintf(expected, sizeof expected, "%lld", rows[i].expected);
        const char *rating = "";
        if (rows[i].expected > 0) {
            double a = (double)rows[i].records / (double)rows[i].expected;
            snprintf(share, sizeof share, "%.6f", a);
            if (has_threshold)
                rating = a >= threshold ? "meets" : "below";
        }
        const char *cols[] = {audit, period, rows[i].trust, records, expected, share, thr, rating};
        csv_write_row(f, cols, sizeof cols / sizeof *cols);
    }
    return period_text_close(f, &buf, err, sizeof err);
}

int ascertainment_csv(PGconn *db, const char *audit, const char *period, bool has_threshold,
                      double threshold, char **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *p[] = {audit, period};
    /* O(expected rows and record-count cells of the period) */
    PGresult *r =
        db_query(db,
                 "SELECT e.trust, coalesce((SELECT sum(a.denominator) FROM metric.aggregate a"
                 "   WHERE a.audit = e.audit AND a.period = e.period AND a.trust = e.trust"
                 "   AND a.metric_id = '' AND a.breakdown = 'all'), 0), e.expected"
                 " FROM publish.expected_cases e WHERE e.audit = $1 AND e.period = $2"
                 " ORDER BY e.trust COLLATE \"C\"",
                 2, p, err, errlen);
    if (!r)
        return -1;
    int n = PQntuples(r);
    ascertainment_row_t *rows = calloc((size_t)n + 1, sizeof *rows);
    for (int i = 0; rows && i < n; i++)
        rows[i] = (ascertainment_row_t){PQgetvalue(r, i, 0), strtoll(PQgetvalue(r, i, 1), NULL, 10),
                                        strtoll(PQgetvalue(r, i, 2), NULL, 10)};
    *out =
        rows ? ascertainment_text(audit, period, rows, (size_t)n, has_threshold, threshold) : NULL;
    free(rows);
    PQclear(r);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return n;
}

static int export_text(void *ctx, PGconn *db, const audit_def_t *def, const char *audit,
                       const char *period, char **text, char *err, size_t errlen)
{
    (void)ctx;
    if (!def)
        return 1; /* an audit no longer defined: its releases are not rebuilt either */
    return ascertainment_csv(db, audit, period, def->has_ascertainment_threshold,
                             def->ascertainment_threshold, text, err, errlen) < 0
               ? -1
               : 0;
}

int ascertainment_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                         size_t errlen)
{
    return period_export(db, audits,
                         "SELECT e.audit, e.period, x.content_hash FROM (SELECT DISTINCT audit,"
                         " period FROM publish.expected_cases c WHERE EXISTS (SELECT 1 FROM"
                         " publish.release r WHERE r.audit = c.audit AND r.period = c.period)) e"
                         " LEFT JOIN publish.ascertainment_export x USING (audit, period)"
                         " ORDER BY 1, 2",
                         "publish.ascertainment_export", out_dir, "ascertainment.csv", export_text,
                         NULL, err, errlen);
}
