/* delay_ledger.c - delays.csv from publish.delay's histograms */
#include "delay_ledger.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "csv.h"
#include "db.h"
#include "period_export.h"

/* The period's histograms, each (trust, stage) together and in delay order: one range of the
 * primary key (audit, period, trust, stage, delay_s), no sort. O(histogram rows of the period).
 * The percentiles are counted here: the statement that did it in SQL (a window over the rows and
 * England's sums, two scans of every period's rows, a sort and a hash) was 8 ms a period. */
static const char histogram_sql[] =
    "SELECT trust, stage, delay_s, records FROM publish.delay WHERE audit = $1 AND period = $2"
    " ORDER BY audit, period, trust, stage, delay_s";

/* A row of the ledger: an area ('' England) and stage, its record versions, and the smallest
 * delay whose cumulative count reaches half of them and 90% of them (nearest rank). */
typedef struct {
    const char *trust, *stage;
    long long records, median, p90;
} ledger_row_t;

/* A bucket of a histogram. */
typedef struct {
    const char *stage;
    long long delay, records;
} bucket_t;

/* The row of buckets b[0..n) of one area and stage, in delay order. */
static ledger_row_t percentiles(const char *trust, const bucket_t *b, size_t n)
{
    ledger_row_t r = {trust, b[0].stage, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        r.records += b[i].records;
    /* ceil(0.5 n) and ceil(0.9 n) in integers */
    long long half = (r.records + 1) / 2, ninety = (9 * r.records + 9) / 10, cum = 0;
    bool m = false, q = false;
    for (size_t i = 0; i < n && !q; i++) {
        cum += b[i].records;
        if (!m && cum >= half) {
            r.median = b[i].delay;
            m = true;
        }
        if (cum >= ninety) {
            r.p90 = b[i].delay;
            q = true;
        }
    }
    return r;
}

static int bucket_cmp(const void *a, const void *b)
{
    const bucket_t *x = a, *y = b;
    int c = strcmp(x->stage, y->stage);
    return c ? c : (x->delay > y->delay) - (x->delay < y->delay);
}

/* England first, then trusts by code, each by stage (bytes). */
static int row_cmp(const void *a, const void *b)
{
    const ledger_row_t *x = a, *y = b;
    if ((*x->trust != '\0') != (*y->trust != '\0'))
        return *x->trust ? 1 : -1;
    int c = strcmp(x->trust, y->trust);
    return c ? c : strcmp(x->stage, y->stage);
}

/* The ledger's rows of r (histogram_sql's), into *rows (malloc'd; strings r's). Returns their
 * number, or -1 when out of memory. */
static long ledger_rows(const PGresult *r, ledger_row_t **rows)
{
    size_t n = (size_t)PQntuples(r), n_rows = 0;
    bucket_t *b = calloc(n + 1, sizeof *b);
    *rows = calloc(2 * n + 1, sizeof **rows);
    if (!b || !*rows) {
        free(b);
        free(*rows);
        *rows = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        b[i] = (bucket_t){PQgetvalue(r, (int)i, 1), strtoll(PQgetvalue(r, (int)i, 2), NULL, 10),
                          strtoll(PQgetvalue(r, (int)i, 3), NULL, 10)};
    /* each trust's and stage's buckets are together, in delay order */
    for (size_t i = 0, j; i < n; i = j) {
        const char *trust = PQgetvalue(r, (int)i, 0);
        for (j = i + 1; j < n && strcmp(PQgetvalue(r, (int)j, 0), trust) == 0 &&
                        strcmp(b[j].stage, b[i].stage) == 0;
             j++)
            ;
        (*rows)[n_rows++] = percentiles(trust, b + i, j - i);
    }
    /* England's: every trust's buckets of a stage, summed by delay */
    qsort(b, n, sizeof *b, bucket_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m > 0 && bucket_cmp(&b[m - 1], &b[i]) == 0)
            b[m - 1].records += b[i].records;
        else
            b[m++] = b[i];
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && strcmp(b[j].stage, b[i].stage) == 0; j++)
            ;
        (*rows)[n_rows++] = percentiles("", b + i, j - i);
    }
    free(b);
    qsort(*rows, n_rows, sizeof **rows, row_cmp);
    return (long)n_rows;
}

int delay_ledger_csv(PGconn *db, const char *audit, const char *period, long long min_count,
                     char **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *p[] = {audit, period};
    PGresult *r = db_query(db, histogram_sql, 2, p, err, errlen);
    if (!r)
        return -1;
    ledger_row_t *rows;
    long n = ledger_rows(r, &rows);
    char *buf;
    size_t len = 0;
    FILE *f = n >= 0 ? period_text_open(&buf, &len, DELAY_LEDGER_HEADER) : NULL;
    for (long i = 0; f && i < n; i++) {
        const ledger_row_t *x = &rows[i];
        bool days = strcmp(x->stage, "event_to_submission") == 0;
        /* a delay of a few records could single them out: as a count under min_count */
        bool shown = x->records >= (min_count > 1 ? min_count : 1);
        char med[32] = "", p90[32] = "", rec[32];
        snprintf(rec, sizeof rec, "%lld", x->records);
        if (shown) {
            snprintf(med, sizeof med, "%lld", days ? x->median / 86400 : x->median);
            snprintf(p90, sizeof p90, "%lld", days ? x->p90 / 86400 : x->p90);
        }
        const char *cols[] = {audit,
                              period,
                              *x->trust ? "trust" : "england",
                              *x->trust ? x->trust : BENCHMARK_ENGLAND_CODE,
                              x->stage,
                              rec,
                              med,
                              p90,
                              days ? "days" : "seconds"};
        csv_write_row(f, cols, sizeof cols / sizeof *cols);
    }
    free(rows);
    PQclear(r);
    if (n < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return (*out = period_text_close(f, &buf, err, errlen)) ? (int)n : -1;
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
