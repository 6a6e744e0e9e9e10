/* test_delay_ledger.c - delays.csv (delay_ledger.h, on a real PostgreSQL: $NCAP_TEST_PG): the
 * medians and 90th percentiles publish counts from a period's histograms (publish.delay) equal
 * to those of the SQL that defined them (a window over the histograms and England's sums, nearest
 * rank), for random histograms of several trusts, stages and periods; the rows England first,
 * then trusts by code; a count under min_count without its delays; a period without histograms
 * no row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delay_ledger.h"
#include "pg_fixture.h"
#include "strbuf.h"

#define AUDIT "nhfd"
#define MIN_COUNT 5

/* The definition: per area ('' England) and stage, the records and the smallest delay whose
 * cumulative count reaches half of them and 90% of them. */
static const char reference_sql[] =
    "WITH h AS (SELECT trust, stage, delay_s, records FROM publish.delay"
    "   WHERE audit = $1 AND period = $2"
    "  UNION ALL SELECT '', stage, delay_s, sum(records) FROM publish.delay"
    "   WHERE audit = $1 AND period = $2 GROUP BY stage, delay_s),"
    " c AS (SELECT trust, stage, delay_s, sum(records) OVER (PARTITION BY trust, stage"
    "   ORDER BY delay_s) AS cum, sum(records) OVER (PARTITION BY trust, stage) AS n FROM h)"
    " SELECT trust, stage, n, min(delay_s) FILTER (WHERE cum >= ceil(0.5 * n)),"
    "   min(delay_s) FILTER (WHERE cum >= ceil(0.9 * n)) FROM c GROUP BY trust, stage, n"
    " ORDER BY trust <> '', trust COLLATE \"C\", stage COLLATE \"C\"";

/* delays.csv as the definition has it. */
static char *reference_csv(PGconn *db, const char *period)
{
    char err[1024];
    const char *p[] = {AUDIT, period};
    PGresult *r = db_query(db, reference_sql, 2, p, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    strbuf_t b;
    strbuf_init(&b);
    strbuf_append(&b, DELAY_LEDGER_HEADER "\n");
    for (int i = 0; i < PQntuples(r); i++) {
        const char *trust = PQgetvalue(r, i, 0), *stage = PQgetvalue(r, i, 1);
        bool days = strcmp(stage, "event_to_submission") == 0;
        long long n = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        long long m = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        long long q = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        strbuf_appendf(&b, "%s,%s,%s,%s,%s,%lld,", AUDIT, period, *trust ? "trust" : "england",
                       *trust ? trust : "E92000001", stage, n);
        if (n >= MIN_COUNT)
            strbuf_appendf(&b, "%lld,%lld", days ? m / 86400 : m, days ? q / 86400 : q);
        else
            strbuf_append(&b, ",");
        strbuf_appendf(&b, ",%s\n", days ? "days" : "seconds");
    }
    PQclear(r);
    assert_int_equal(b.oom, 0);
    return b.s;
}

static void test_percentiles_as_defined(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_delay_ledger");
    static const char *const periods[] = {"2025Q3", "2025Q4"};
    static const char *const trusts[] = {"RB2", "RA1", "R1K", "RC3"};
    static const char *const stages[] = {"submission_to_publication", "event_to_submission"};
    unsigned seed = 7;
    strbuf_t sql;
    strbuf_init(&sql);
    strbuf_append(&sql, "INSERT INTO publish.delay (audit, period, trust, stage, delay_s, records)"
                        " VALUES ");
    int rows = 0;
    for (size_t p = 0; p < 2; p++)
        for (size_t t = 0; t < 4; t++)
            for (size_t s = 0; s < 2; s++) {
                /* few buckets for the last trust (under min_count); equal delays across trusts */
                int buckets = t == 3 ? 1 : 1 + (int)(rand_r(&seed) % 40);
                long long delay = 0;
                for (int k = 0; k < buckets; k++) {
                    delay += (1 + rand_r(&seed) % 5) * (s == 1 ? 86400 : 60);
                    int records = t == 3 ? 2 : 1 + (int)(rand_r(&seed) % 9);
                    strbuf_appendf(&sql, "%s('%s', '%s', '%s', '%s', %lld, %d)", rows++ ? ", " : "",
                                   AUDIT, periods[p], trusts[t], stages[s], delay, records);
                }
            }
    assert_int_equal(sql.oom, 0);
    pg_fixture_exec(db, sql.s);
    strbuf_free(&sql);

    for (size_t p = 0; p < 2; p++) {
        char err[1024], *csv = NULL;
        int n = delay_ledger_csv(db, AUDIT, periods[p], MIN_COUNT, &csv, err, sizeof err);
        if (n < 0)
            fail_msg("%s", err);
        assert_int_equal(n, 10); /* England and 4 trusts, 2 stages each */
        char *want = reference_csv(db, periods[p]);
        assert_string_equal(csv, want);
        /* England first, then trusts by code; the last trust's 2 records without delays */
        assert_non_null(strstr(csv, "\n" AUDIT ","));
        assert_true(strstr(csv, ",england,") < strstr(csv, ",R1K,"));
        assert_true(strstr(csv, ",R1K,") < strstr(csv, ",RA1,"));
        assert_non_null(strstr(csv, ",RC3,submission_to_publication,2,,,seconds\n"));
        free(want);
        free(csv);
    }
    char err[1024], *csv = NULL;
    assert_int_equal(delay_ledger_csv(db, AUDIT, "2026Q1", MIN_COUNT, &csv, err, sizeof err), 0);
    assert_string_equal(csv, DELAY_LEDGER_HEADER "\n");
    free(csv);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_as_defined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
