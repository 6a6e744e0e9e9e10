/* test_release_values.c - a release's medians and means from metric.measure's rows streamed in
 * value order (release_values.h, on a real PostgreSQL: $NCAP_TEST_PG), never held: the same
 * latest.csv and run charts as benchmark_build gives from the same rows held in arrays (the way
 * `ncap release build` gives them), and each trust's and England's median equal to one computed
 * independently in SQL from the rows and their counts (the middle value, or the mean of the two
 * middle ones, of every record's value: the definition benchmark_build uses), close to
 * PostgreSQL's own percentile_cont(0.5) of the records' values, and each mean to avg(). */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "measure_sql.h"
#include "pg_fixture.h"
#include "release_values.h"

#define AUDIT "nhfd"
#define PERIOD "2026Q1"
#define N_TRUSTS 3
#define N_MONTHS 4 /* the last of an earlier period: the run charts' */
#define N_ROWS 600

static const char *const trusts[N_TRUSTS] = {"RA1", "RB2", "RC3"};
static const char *const months[N_MONTHS] = {"2025-12", "2026-01", "2026-02", "2026-03"};
static const char *const sexes[] = {"male", "female"};
static const benchmark_metric_t metrics[] = {
    {.id = "hours", .label = "Hours (median)", .kind = BENCHMARK_MEDIAN},
    {.id = "score", .label = "Score (mean)", .kind = BENCHMARK_MEAN},
};

/* The rows written: each also as a measure of the arrays (strings static). */
typedef struct {
    benchmark_measure_t *m;
    size_t n;
    benchmark_cell_t *cells;
    size_t n_cells;
} rows_t;

static const char *period_of(const char *month)
{
    return strcmp(month, "2026-01") < 0 ? "2025Q4" : PERIOD;
}

/* A cell of each measure's key (its denominator the records with a value), merged by key. */
static void add_cell(rows_t *r, const benchmark_measure_t *x)
{
    for (size_t i = 0; i < r->n_cells; i++) {
        benchmark_cell_t *c = &r->cells[i];
        if (c->trust == x->trust && c->site == x->site && c->metric == x->metric &&
            c->breakdown == x->breakdown && c->category == x->category && c->month == x->month) {
            c->denominator += x->count;
            return;
        }
    }
    r->cells[r->n_cells++] = (benchmark_cell_t){.trust = x->trust,
                                                .site = x->site,
                                                .metric = x->metric,
                                                .breakdown = x->breakdown,
                                                .category = x->category,
                                                .month = x->month,
                                                .denominator = x->count};
}

/* Writes N_ROWS values (of few distinct ones: equal values in several cells and months) of both
 * metrics, each of a record with a sex and no other category, into metric.measure, and into r as
 * the measures it counts in: breakdown "all" of its month and sex of the period (month ""). */
static void write_rows(PGconn *db, rows_t *r)
{
    r->m = calloc(4 * N_ROWS, sizeof *r->m);
    r->cells = calloc(4 * N_ROWS, sizeof *r->cells);
    assert_non_null(r->m);
    assert_non_null(r->cells);
    unsigned seed = 11;
    char sql[1024];
    for (int i = 0; i < N_ROWS; i++) {
        seed = seed * 1103515245u + 12345u;
        const char *trust = trusts[(seed >> 8) % N_TRUSTS],
                   *month = months[(seed >> 12) % N_MONTHS];
        const char *sex = sexes[(seed >> 4) % 2];
        const benchmark_metric_t *metric = &metrics[(seed >> 20) % 2];
        double value = (double)((seed >> 16) % 97) / 4 - 3; /* quarters, some negative */
        long long count = 1 + (long long)((seed >> 24) % 3);
        snprintf(sql, sizeof sql,
                 MEASURE_CELL_WITH
                 " INSERT INTO metric.measure AS m (cell, value, imd_decile, ethnicity, sex, age,"
                 " count) SELECT id, %.17g, '', '', '%s', '', %lld FROM c ON CONFLICT (cell, value,"
                 " imd_decile, ethnicity, sex, age) DO UPDATE SET count = m.count + EXCLUDED.count",
                 AUDIT, period_of(month), month, trust, "", metric->id, value, sex, count);
        pg_fixture_exec(db, sql);
        for (int b = 0; b < 2; b++) {
            benchmark_measure_t x = {.trust = trust,
                                     .site = "",
                                     .metric = metric->id,
                                     .breakdown = b ? "sex" : "all",
                                     .category = b ? sex : "",
                                     .month = b ? "" : month,
                                     .value = value,
                                     .count = count};
            if (strcmp(period_of(month), PERIOD) == 0) {
                r->m[r->n++] = x;
                add_cell(r, &x);
            }
        }
    }
}

/* The release of PERIOD from the cells and either the arrays (reader NULL) or the reader, as
 * latest.csv and spc.csv; the release itself into *rel. */
static void build(const rows_t *own, const rows_t *series, release_values_t *reader,
                  benchmark_release_t *rel, char **csv, char **spc)
{
    benchmark_input_t in = {.audit = AUDIT,
                            .period = PERIOD,
                            .metrics = metrics,
                            .n_metrics = 2,
                            .cells = own->cells,
                            .n_cells = own->n_cells,
                            .series = series->cells,
                            .n_series = series->n_cells};
    if (reader) {
        in.read_measures = release_values_read;
        in.reader = reader;
    } else {
        in.measures = own->m;
        in.n_measures = own->n;
        in.series_measures = series->m;
        in.n_series_measures = series->n;
    }
    char err[1024], *summary = NULL;
    if (benchmark_build(&in, rel, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_non_null(*csv = benchmark_csv_text(&in, rel));
    if (benchmark_spc_text(&in, spc, &summary, err, sizeof err) != 0)
        fail_msg("%s", err);
    free(summary);
}

/* A reader of rows_t's measures in the order they were written (not by value). */
static int unordered(void *reader, bool series, const char *from_month,
                     benchmark_each_measure_t each, void *ctx, char *err, size_t errlen)
{
    (void)from_month;
    const rows_t *r = reader;
    for (size_t i = 0; !series && i < r->n; i++)
        if (each(ctx, &r->m[i]) != 0) {
            snprintf(err, errlen, "stopped");
            return -1;
        }
    return 0;
}

/* The run charts' rows a reader hands, "month value count" each, one line a row, in the order
 * handed (ascending values: hand_text checks). */
typedef struct {
    char text[1 << 16];
    size_t len;
    double last; /* the value handed last */
} handed_t;

static int hand_text(void *ctx, const benchmark_measure_t *x)
{
    handed_t *h = ctx;
    assert_true(h->len == 0 || x->value >= h->last);
    h->last = x->value;
    int n = snprintf(h->text + h->len, sizeof h->text - h->len, "%s %.17g %lld\n", x->month,
                     x->value, x->count);
    assert_true(n > 0 && (size_t)n < sizeof h->text - h->len);
    h->len += (size_t)n;
    return 0;
}

/* The lines of text whose month (the first field) is from on, in order. */
static void lines_from(const char *text, const char *from, handed_t *out)
{
    out->len = 0;
    out->text[0] = '\0';
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = (size_t)(end - p) + 1;
        if (strncmp(p, from, strlen(from)) >= 0) {
            memcpy(out->text + out->len, p, n);
            out->len += n;
            out->text[out->len] = '\0';
        }
        p += n;
    }
}

static int by_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* text's lines sorted, in place (rows of equal value come in either order). */
static void sort_lines(handed_t *h)
{
    static char copy[sizeof h->text];
    static char *line[4096];
    size_t n = 0;
    memcpy(copy, h->text, h->len + 1);
    for (char *p = copy; *p && n < 4096;) {
        char *end = strchr(p, '\n');
        *end = '\0';
        line[n++] = p;
        p = end + 1;
    }
    qsort(line, n, sizeof *line, by_line);
    h->len = 0;
    for (size_t i = 0; i < n; i++)
        h->len += (size_t)snprintf(h->text + h->len, sizeof h->text - h->len, "%s\n", line[i]);
}

/* The value in the first column of sql's first row. */
static double value_of(PGconn *db, const char *sql)
{
    char err[2048];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s\nin: %s", err, sql);
    double v = strtod(PQgetvalue(r, 0, 0), NULL);
    PQclear(r);
    return v;
}

/* Row (level, area, metric, breakdown all) of rel. */
static const benchmark_row_t *row_of(const benchmark_release_t *rel, const char *level,
                                     const char *area, const char *metric)
{
    for (size_t i = 0; i < rel->n_rows; i++) {
        const benchmark_row_t *x = &rel->rows[i];
        if (strcmp(x->level, level) == 0 && strcmp(x->area_code, area) == 0 &&
            strcmp(x->metric, metric) == 0 && strcmp(x->breakdown, "all") == 0)
            return x;
    }
    fail_msg("no row %s %s %s", level, area, metric);
    return NULL;
}

/* The checks of one area's median and mean against SQL over its rows (trust NULL: England's). */
static void check_area(PGconn *db, const benchmark_release_t *rel, const char *trust)
{
    char where[256], sql[2048];
    snprintf(where, sizeof where,
             "audit = '" AUDIT "' AND period = '" PERIOD "' AND breakdown = 'all'%s%s%s",
             trust ? " AND trust = '" : "", trust ? trust : "", trust ? "'" : "");
    const benchmark_row_t *median =
        row_of(rel, trust ? "trust" : "england", trust ? trust : BENCHMARK_ENGLAND_CODE, "hours");
    /* the middle value of every record's value (the (n + 1) / 2-th), or the mean of the two
     * middle ones (the n / 2-th and the one after), from the values' running counts */
    snprintf(sql, sizeof sql,
             "WITH v AS (SELECT value, sum(count) AS c FROM " MEASURE_ROWS_SQL " mr WHERE %s"
             "   AND metric_id = 'hours' GROUP BY value),"
             " cum AS (SELECT value, (sum(c) OVER (ORDER BY value))::bigint AS upto,"
             "   (sum(c) OVER ())::bigint AS n FROM v)"
             " SELECT ((SELECT min(value) FROM cum WHERE upto >= (n + 1) / 2)"
             "   + (SELECT min(value) FROM cum WHERE upto >= n / 2 + 1)) / 2 FROM cum LIMIT 1",
             where);
    assert_true(median->has_value);
    double want = value_of(db, sql);
    if (median->value != want)
        fail_msg("%s: median %.17g, SQL's %.17g", trust ? trust : "England", median->value, want);
    /* PostgreSQL's own median of the records' values (each row count times) */
    snprintf(sql, sizeof sql,
             "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY value) FROM " MEASURE_ROWS_SQL
             " mr"
             " CROSS JOIN generate_series(1, count) WHERE %s AND metric_id = 'hours'",
             where);
    assert_true(fabs(median->value - value_of(db, sql)) < 1e-9);
    snprintf(sql, sizeof sql,
             "SELECT sum(value * count) / sum(count) FROM " MEASURE_ROWS_SQL " mr WHERE %s"
             " AND metric_id = 'score'",
             where);
    const benchmark_row_t *mean =
        row_of(rel, trust ? "trust" : "england", trust ? trust : BENCHMARK_ENGLAND_CODE, "score");
    assert_true(mean->has_value);
    assert_true(fabs(mean->value - value_of(db, sql)) < 1e-9);
}

static void test_streamed_values(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_release_values");
    rows_t own = {0}, series = {0};
    write_rows(db, &own);
    /* the run charts': breakdown all of every month up to the period (earlier months too) */
    series.m = calloc(4 * N_ROWS, sizeof *series.m);
    series.cells = calloc(4 * N_ROWS, sizeof *series.cells);
    assert_non_null(series.m);
    assert_non_null(series.cells);
    char err[2048];
    PGresult *r =
        db_query(db,
                 "SELECT trust, metric_id, month, value::text, count FROM " MEASURE_ROWS_SQL " mr"
                 " WHERE breakdown = 'all' ORDER BY trust, metric_id, month, value DESC",
                 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    static const char *const metric_ids[] = {"hours", "score"};
    for (int i = 0; i < PQntuples(r); i++) {
        const char *t = PQgetvalue(r, i, 0), *m = PQgetvalue(r, i, 1), *mo = PQgetvalue(r, i, 2);
        benchmark_measure_t x = {.site = "",
                                 .breakdown = "all",
                                 .category = "",
                                 .value = strtod(PQgetvalue(r, i, 3), NULL),
                                 .count = strtoll(PQgetvalue(r, i, 4), NULL, 10)};
        for (int k = 0; k < N_TRUSTS; k++)
            x.trust = strcmp(t, trusts[k]) == 0 ? trusts[k] : x.trust;
        for (int k = 0; k < N_MONTHS; k++)
            x.month = strcmp(mo, months[k]) == 0 ? months[k] : x.month;
        x.metric = strcmp(m, "hours") == 0 ? metric_ids[0] : metric_ids[1];
        series.m[series.n++] = x;
        add_cell(&series, &x);
    }
    PQclear(r);

    benchmark_release_t held, streamed;
    char *csv_held, *spc_held, *csv_streamed, *spc_streamed;
    build(&own, &series, NULL, &held, &csv_held, &spc_held);
    pg_fixture_exec(db, "BEGIN"); /* the reader's cursor lives in a transaction, as publish's */
    release_values_t reader = {.db = db, .audit = AUDIT, .period = PERIOD};
    build(&own, &series, &reader, &streamed, &csv_streamed, &spc_streamed);
    pg_fixture_exec(db, "COMMIT");
    assert_string_equal(csv_streamed, csv_held);
    assert_string_equal(spc_streamed, spc_held);
    assert_non_null(strstr(spc_held, "hours")); /* the run charts have the values' months */

    for (int k = 0; k < N_TRUSTS; k++)
        check_area(db, &streamed, trusts[k]);
    check_area(db, &streamed, NULL);

    /* the run charts' values from a month on: the same rows in the same order as all of them
     * less the earlier months' (the months before taken from a memo: test_benchmark_spc.c) */
    static handed_t all, from, want;
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(release_values_read(&reader, true, NULL, hand_text, &all, err, sizeof err), 0);
    assert_int_equal(
        release_values_read(&reader, true, months[2], hand_text, &from, err, sizeof err), 0);
    pg_fixture_exec(db, "COMMIT");
    lines_from(all.text, months[2], &want);
    assert_true(want.len > 0 && want.len < all.len);
    sort_lines(&want); /* rows of equal value come in either order */
    sort_lines(&from);
    assert_string_equal(from.text, want.text);
    /* a second build of the period with a memo of the first's months: the same run charts */
    benchmark_series_memo_t *memo = benchmark_series_memo_new();
    assert_non_null(memo);
    for (int k = 0; k < 2; k++) {
        benchmark_input_t with = {.audit = AUDIT,
                                  .period = PERIOD,
                                  .metrics = metrics,
                                  .n_metrics = 2,
                                  .cells = own.cells,
                                  .n_cells = own.n_cells,
                                  .series = series.cells,
                                  .n_series = series.n_cells,
                                  .read_measures = release_values_read,
                                  .reader = &reader,
                                  .series_memo = memo};
        char *spc_memo, *summary;
        pg_fixture_exec(db, "BEGIN");
        if (benchmark_spc_text(&with, &spc_memo, &summary, err, sizeof err) != 0)
            fail_msg("%s", err);
        pg_fixture_exec(db, "COMMIT");
        assert_string_equal(spc_memo, spc_held);
        free(spc_memo);
        free(summary);
    }
    benchmark_series_memo_destroy(&memo);

    /* values out of order are refused, not summed wrong */
    benchmark_input_t in = {.audit = AUDIT,
                            .period = PERIOD,
                            .metrics = metrics,
                            .n_metrics = 2,
                            .cells = own.cells,
                            .n_cells = own.n_cells,
                            .read_measures = unordered,
                            .reader = &own};
    benchmark_release_t bad;
    assert_int_equal(benchmark_build(&in, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected ascending values"));

    benchmark_release_free(&held);
    benchmark_release_free(&streamed);
    free(csv_held);
    free(spc_held);
    free(csv_streamed);
    free(spc_streamed);
    free(own.m);
    free(own.cells);
    free(series.m);
    free(series.cells);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streamed_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
