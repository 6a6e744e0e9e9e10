/* ascertainment.c - ascertainment.csv from the record counts and the expected cases */
#include "ascertainment.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"
#include "period_export.h"

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
    char *buf;
    size_t len = 0;
    FILE *f = period_text_open(&buf, &len, ASCERTAINMENT_HEADER);
    int n = PQntuples(r);
    char thr[32] = "";
    if (has_threshold)
        snprintf(thr, sizeof thr, "%g", threshold);
    for (int i = 0; f && i < n; i++) {
        long long records = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        long long expected = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        char share[32] = "";
        const char *rating = "";
        if (expected > 0) {
            double a = (double)records / (double)expected;
            snprintf(share, sizeof share, "%.6f", a);
            if (has_threshold)
                rating = a >= threshold ? "meets" : "below";
        }
        const char *cols[] = {
            audit, period, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), share,
            thr,   rating};
        csv_write_row(f, cols, sizeof cols / sizeof *cols);
    }
    PQclear(r);
    return (*out = period_text_close(f, &buf, err, errlen)) ? n : -1;
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
