/* test_results_store.c - the SQL behind `ncap results`, on a real PostgreSQL ($NCAP_TEST_PG), run
 * as ingest's own role (migration 0021's grants): a trust's figures per period, metric and site
 * are the sums of its records' contributions (a median over the counted records' values, held and
 * missing counted apart), another trust's records never come back, and the records come page by
 * page in metric then local id order (byte order), each once, with their date as sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nhfd_fixture.h"
#include "pg_fixture.h"
#include "results_store.h"

/* RH8: records a, B, c at site RH801 and d at RH802 in 2025Q3, e in 2025Q4; RA1: z (same period,
 * metric and local id order, to be left out). surgery_36h: a, B, d met, c not; the median's
 * values 10 (a), 30 (c), 20 (d); mortality_30d_adjusted: a observed 1 (expected 0.25), c held. */
static const char *const seed_sql =
    "INSERT INTO ingest.submission (submission_id, audit, trust, filename, rows, accepted,"
    "  unchanged, rejected) VALUES (1, 'nhfd', 'RH8', 'RH8.csv', 5, 5, 0, 0),"
    "  (2, 'nhfd', 'RA1', 'RA1.csv', 1, 1, 0, 0);"
    "INSERT INTO ingest.record (record_id, audit, trust, local_id, latest_version) VALUES"
    "  (1, 'nhfd', 'RH8', 'a', 2), (2, 'nhfd', 'RH8', 'B', 1), (3, 'nhfd', 'RH8', 'c', 1),"
    "  (4, 'nhfd', 'RH8', 'd', 1), (5, 'nhfd', 'RH8', 'e', 1), (6, 'nhfd', 'RA1', 'a', 1);"
    "INSERT INTO ingest.raw_record (record_id, version, submission_id, row_number, payload,"
    "  content_hash) VALUES"
    "  (1, 1, 1, 2, '{\"arrival_datetime\": \"2025-07-01T09:00\"}', 'h1'),"
    "  (1, 2, 1, 2, '{\"arrival_datetime\": \"2025-07-02T10:00\"}', 'h1b'),"
    "  (2, 1, 1, 3, '{\"arrival_datetime\": \"2025-08-01T09:00\"}', 'h2'),"
    "  (3, 1, 1, 4, '{\"arrival_datetime\": \"2025-09-01T09:00\"}', 'h3'),"
    "  (4, 1, 1, 5, '{\"arrival_datetime\": \"2025-09-02T09:00\"}', 'h4'),"
    "  (5, 1, 1, 6, '{\"arrival_datetime\": \"2025-10-02T09:00\"}', 'h5'),"
    "  (6, 1, 2, 2, '{\"arrival_datetime\": \"2025-07-03T09:00\"}', 'h6');"
    "INSERT INTO metric.record_state (record_id, version, audit, trust, period, valid) VALUES"
    "  (1, 2, 'nhfd', 'RH8', '2025Q3', true), (2, 1, 'nhfd', 'RH8', '2025Q3', true),"
    "  (3, 1, 'nhfd', 'RH8', '2025Q3', true), (4, 1, 'nhfd', 'RH8', '2025Q3', true),"
    "  (5, 1, 'nhfd', 'RH8', '2025Q4', true), (6, 1, 'nhfd', 'RA1', '2025Q3', true);"
    /* each record's contributions, as metric stores them: one row a record (migration 0034) */
    "INSERT INTO metric.record_contribution (record_id, audit, trust, site, period, month,"
    "  metric_id, numerator, denominator, expected_e9, value, held, missing) VALUES"
    "  (1, 'nhfd', 'RH8', 'RH801', '2025Q3', '2025-07',"
    "   '{\"\",surgery_36h,arrival_to_surgery_hours,mortality_30d_adjusted}', '{0,1,0,1}',"
    "   '{1,1,1,1}', '{0,0,0,250000000}', '{NULL,NULL,10,NULL}', '{f,f,f,f}', '{f,f,f,f}'),"
    "  (2, 'nhfd', 'RH8', 'RH801', '2025Q3', '2025-08', '{surgery_36h}', '{1}', '{1}', '{0}',"
    "   '{NULL}', '{f}', '{f}'),"
    "  (3, 'nhfd', 'RH8', 'RH801', '2025Q3', '2025-09',"
    "   '{surgery_36h,arrival_to_surgery_hours,mortality_30d_adjusted}', '{0,0,0}', '{1,1,0}',"
    "   '{0,0,0}', '{NULL,30,NULL}', '{f,f,t}', '{f,f,f}'),"
    "  (4, 'nhfd', 'RH8', 'RH802', '2025Q3', '2025-09', '{surgery_36h,arrival_to_surgery_hours}',"
    "   '{1,0}', '{1,1}', '{0,0}', '{NULL,20}', '{f,f}', '{f,f}'),"
    "  (5, 'nhfd', 'RH8', 'RH801', '2025Q4', '2025-10', '{surgery_36h}', '{0}', '{1}', '{0}',"
    "   '{NULL}', '{f}', '{f}'),"
    "  (6, 'nhfd', 'RA1', 'RA101', '2025Q3', '2025-07', '{surgery_36h}', '{1}', '{1}', '{0}',"
    "   '{NULL}', '{f}', '{f}');"
    "SET ROLE ncap_ingest";

static PGconn *open_seeded(void)
{
    PGconn *db = pg_fixture_open("ncap_test_results_store");
    pg_fixture_exec(db, seed_sql);
    return db;
}

static const results_figure_t *figure(const results_figures_t *f, const char *period,
                                      const char *metric, const char *site)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->figures[i].period, period) == 0 &&
            strcmp(f->figures[i].metric_id, metric) == 0 && strcmp(f->figures[i].site, site) == 0 &&
            f->figures[i].trust_level == !*site)
            return &f->figures[i];
    return NULL;
}

static void test_the_figures(void **state)
{
    const audit_def_t *def = *state;
    PGconn *db = open_seeded();
    char err[1024];
    results_figures_t f;
    assert_int_equal(results_store_figures(db, def, "RH8", "", &f, err, sizeof err), 0);
    /* 2025Q3: 3 metrics x (trust, RH801, RH802 where it has records); 2025Q4: trust and RH801 */
    const results_figure_t *x = figure(&f, "2025Q3", "surgery_36h", "");
    assert_non_null(x);
    assert_int_equal(x->numerator, 3);
    assert_int_equal(x->denominator, 4);
    x = figure(&f, "2025Q3", "surgery_36h", "RH801");
    assert_non_null(x);
    assert_int_equal(x->numerator, 2);
    assert_int_equal(x->denominator, 3);
    x = figure(&f, "2025Q3", "arrival_to_surgery_hours", "");
    assert_non_null(x);
    assert_true(x->has_value);
    assert_true(x->value == 20); /* median of 10, 20, 30 */
    x = figure(&f, "2025Q3", "arrival_to_surgery_hours", "RH801");
    assert_true(x->value == 20); /* of 10 and 30: their mean */
    x = figure(&f, "2025Q3", "mortality_30d_adjusted", "");
    assert_int_equal(x->numerator, 1);
    assert_int_equal(x->denominator, 1);
    assert_int_equal(x->expected_e9, 250000000);
    assert_int_equal(x->held, 1);
    assert_false(x->has_value); /* a ratio's value is O/E, the client's */
    assert_non_null(figure(&f, "2025Q4", "surgery_36h", "RH801"));
    /* the record count (metric "") is no figure; RA1's site never appears */
    for (size_t i = 0; i < f.n; i++) {
        assert_true(f.figures[i].metric_id[0]);
        assert_true(strcmp(f.figures[i].site, "RA101") != 0);
    }
    /* the order: period, metric, the trust before its sites */
    assert_string_equal(f.figures[0].period, "2025Q3");
    assert_string_equal(f.figures[0].metric_id, "arrival_to_surgery_hours");
    assert_true(f.figures[0].trust_level);
    assert_int_equal(f.n, 3 + 2 + 3 + 2); /* 2025Q3: 3 + 2 + 3; 2025Q4: 2 */
    results_figures_clear(&f);
    /* one period */
    assert_int_equal(results_store_figures(db, def, "RH8", "2025Q4", &f, err, sizeof err), 0);
    assert_int_equal(f.n, 2);
    results_figures_clear(&f);
    /* nothing for a trust without records, nor for RA1 in 2025Q4 */
    assert_int_equal(results_store_figures(db, def, "RX1", "", &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);
    results_figures_clear(&f);
    assert_int_equal(results_store_figures(db, def, "RA1", "2025Q4", &f, err, sizeof err), 0);
    assert_int_equal(f.n, 0);
    results_figures_clear(&f);
    PQfinish(db);
}

/* Every record line of RH8 in pages of limit, joined up: "metric|local|site|period|date|num|den|
 * held" each. */
static size_t all_records(PGconn *db, const audit_def_t *def, const char *period, unsigned limit,
                          char lines[][128], size_t max, size_t *pages)
{
    char err[1024], metric[64] = "", local[64] = "";
    size_t n = 0;
    *pages = 0;
    for (;;) {
        results_page_t p;
        assert_int_equal(results_store_page(db, def, "RH8", period, *pages ? metric : NULL,
                                            *pages ? local : NULL, limit, &p, err, sizeof err),
                         0);
        (*pages)++;
        assert_true(p.n <= limit);
        for (size_t i = 0; i < p.n && n < max; i++) {
            const results_record_t *r = &p.records[i];
            snprintf(lines[n++], 128, "%s|%s|%s|%s|%s|%lld|%d|%d", r->metric_id, r->local_id,
                     r->site, r->period, r->date, r->numerator, r->denominator, r->held);
        }
        bool more = p.more && p.n > 0;
        if (p.n) {
            snprintf(metric, sizeof metric, "%s", p.records[p.n - 1].metric_id);
            snprintf(local, sizeof local, "%s", p.records[p.n - 1].local_id);
        }
        results_page_clear(&p);
        if (!more)
            return n;
    }
}

static void test_the_records_page_by_page(void **state)
{
    const audit_def_t *def = *state;
    PGconn *db = open_seeded();
    static const char *const want[] = {
        "arrival_to_surgery_hours|a|RH801|2025Q3|2025-07-02T10:00|0|1|0",
        "arrival_to_surgery_hours|c|RH801|2025Q3|2025-09-01T09:00|0|1|0",
        "arrival_to_surgery_hours|d|RH802|2025Q3|2025-09-02T09:00|0|1|0",
        "mortality_30d_adjusted|a|RH801|2025Q3|2025-07-02T10:00|1|1|0",
        "mortality_30d_adjusted|c|RH801|2025Q3|2025-09-01T09:00|0|0|1",
        /* byte order: "B" before "a" */
        "surgery_36h|B|RH801|2025Q3|2025-08-01T09:00|1|1|0",
        "surgery_36h|a|RH801|2025Q3|2025-07-02T10:00|1|1|0",
        "surgery_36h|c|RH801|2025Q3|2025-09-01T09:00|0|1|0",
        "surgery_36h|d|RH802|2025Q3|2025-09-02T09:00|1|1|0",
        "surgery_36h|e|RH801|2025Q4|2025-10-02T09:00|0|1|0",
    };
    size_t nwant = sizeof want / sizeof *want;
    char lines[32][128];
    for (unsigned limit = 1; limit <= 12; limit++) {
        size_t pages, n = all_records(db, def, "", limit, lines, 32, &pages);
        assert_int_equal(n, nwant);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(lines[i], want[i]);
        assert_true(pages >= (nwant + limit - 1) / limit);
    }
    size_t pages, n = all_records(db, def, "2025Q4", 2, lines, 32, &pages);
    assert_int_equal(n, 1);
    assert_string_equal(lines[0], want[9]);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_figures),
        cmocka_unit_test(test_the_records_page_by_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
