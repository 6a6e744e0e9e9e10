/* delay_ledger.c - delays.csv from publish.delay's histograms */
#include "delay_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "csv.h"
#include "db.h"
#include "period_export.h"

/* Per area ('' England) and stage: the record versions, and the smallest delay whose cumulative
 * count reaches half of them and 90% of them (nearest rank). O(histogram rows of the period). */
static const char percentile_sql[] =
    "WITH h AS (SELECT trust, stage, delay_s, records FROM publish.delay"
    "   WHERE audit = $1 AND period = $2"
    "  UNION ALL SELECT '', stage, delay_s, sum(records) FROM publish.delay"
    "   WHERE audit = $1 AND period = $2 GROUP BY stage, delay_s),"
    " c AS (SELECT trust, stage, delay_s, sum(records) OVER (PARTITION BY trust, stage"
    "   ORDER BY delay_s) AS cum, sum(records) OVER (PARTITION BY trust, stage) AS n FROM h)"
    " SELECT trust, stage, n, min(delay_s) FILTER (WHERE cum >= ceil(0.5 * n)),"
    "   min(delay_s) FILTER (WHERE cum >= ceil(0.9 * n)) FROM c GROUP BY trust, stage, n"
    " ORDER BY trust <> '', trust COLLATE \"C\", stage COLLATE \"C\"";

int delay_ledger_csv(PGconn *db, const char *audit, const char *period, long long min_count,
                     char **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *p[] = {audit, period};
    PGresult *r = db_query(db, percentile_sql, 2, p, err, errlen);
    if (!r)
        return -1;
    char *buf;
    size_t len = 0;
    FILE *f = period_text_open(&buf, &len, DELAY_LEDGER_HEADER);
    int n = PQntuples(r);
    for (int i = 0; f && i < n; i++) {
        const char *trust = PQgetvalue(r, i, 0), *stage = PQgetvalue(r, i, 1);
        long long records = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        bool days = strcmp(stage, "event_to_submission") == 0;
        /* a delay of a few records could single them out: as a count under min_count */
        bool shown = records >= (min_count > 1 ? min_count : 1);
        char med[32] = "", p90[32] = "", rec[32];
        snprintf(rec, sizeof rec, "%lld", records);
        if (shown) {
            long long m = strtoll(PQgetvalue(r, i, 3), NULL, 10);
            long long q = strtoll(PQgetvalue(r, i, 4), NULL, 10);
            snprintf(med, sizeof med, "%lld", days ? m / 86400 : m);
            snprintf(p90, sizeof p90, "%lld", days ? q / 86400 : q);
        }
        const char *cols[] = {audit,
                              period,
                              *trust ? "trust" : "england",
                              *trust ? trust : BENCHMARK_ENGLAND_CODE,
                              stage,
                              rec,
                              med,
                              p90,
                              days ? "days" : "seconds"};
        csv_write_row(f, cols, sizeof cols / sizeof *cols);
    }
    PQclear(r);
    return (*out = period_text_close(f, &buf, err, errlen)) ? n : -1;
}

/* delay_ledger_export's text of a period: its audit's min_count from the definition. */
static int export_text(void *ctx, PGconn *db, const audit_def_t *def, const char *audit,
                       const char *period, char **text, char *err, size_t errlen)
{
    (void)ctx;
    if (!def)
        return 1; /* an audit no longer defined: its releases are not rebuilt either */
    return delay_ledger_csv(db, audit, period, def->disclosure_min_count, text, err, errlen) < 0
               ? -1
               : 0;
}

int delay_ledger_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                        size_t errlen)
{
    return period_export(db, audits,
                         "SELECT d.audit, d.period, e.content_hash FROM (SELECT DISTINCT audit,"
                         " period FROM publish.delay) d LEFT JOIN publish.delay_export e"
                         " USING (audit, period) ORDER BY 1, 2",
                         "publish.delay_export", out_dir, "delays.csv", export_text, NULL, err,
                         errlen);
}
