/* test_cmd_report_linkage.c - `ncap report linkage` on a real PostgreSQL ($NCAP_TEST_PG): linkage's
 * counts (kept from hand-made facts by migration 0027's triggers) printed as linkage_quality.csv's
 * rows (--csv, one header for every period), filtered by audit, period and trust, as a table with
 * suppressed counts shown "-"; nothing to show; --help; and the usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "linkage_quality.h"
#include "pg_fixture.h"

static result_t report(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_report, "report", arg, ap);
    va_end(ap);
    return r;
}

static void test_usage(void **state)
{
    (void)state;
    (void)temp_file;
    result_t h = report("linkage", "--help", NULL);
    assert_int_equal(h.rc, 0);
    assert_non_null(strstr(h.out, "usage: ncap report linkage"));
    assert_non_null(strstr(h.out, "death_matched"));
    result_free(&h);
    result_t l = report("--help", NULL);
    assert_int_equal(l.rc, 0);
    assert_non_null(strstr(l.out, "linkage "));
    result_free(&l);
    const char *const cases[][3] = {
        {"--period", "2026-07", "period \"2026-07\" is not a calendar quarter"},
        {"--trust", "not a trust", "trust \"not a trust\" is not an ODS trust code"},
        {"extra", NULL, "unexpected argument \"extra\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result_t r = report("linkage", cases[i][0], cases[i][1], NULL);
        assert_int_equal(r.rc, 2);
        if (!strstr(r.err, cases[i][2]))
            fail_msg("ncap report linkage %s: \"%s\", expected \"%s\"", cases[i][0], r.err,
                     cases[i][2]);
        result_free(&r);
    }
}

static void test_report_from_the_counts(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_cmd_report_linkage");
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_test_cmd_report_linkage",
             getenv("NCAP_TEST_PG"));
    setenv("NCAP_PG", conninfo, 1);
    setenv("NCAP_AUDIT_DIR", NCAP_SOURCE_DIR "/deploy/audits", 1);
    result_t none = report("linkage", NULL);
    assert_int_equal(none.rc, 0);
    assert_string_equal(none.out, "no linkage counts\n");
    result_free(&none);
    /* 2025Q3: trust RAA, 20 records at RAA01 (10 by NHS number, 6 probabilistic, 4 singletons, 2
     * dead) and 10 at RAA02 (every one by NHS number), one withheld; trust RBB, 12 singletons;
     * 2025Q4: one record of RAA */
    pg_fixture_exec(
        db, "INSERT INTO linkage.record_quality (record_id, version, patient_id, audit, trust,"
            " site, period, method, death_matched, withheld, imd_quintile, ethnicity, sex, age)"
            " SELECT i, 1, i, 'nhfd', CASE WHEN i <= 31 THEN 'RAA' ELSE 'RBB' END,"
            " CASE WHEN i <= 20 THEN 'RAA01' WHEN i <= 31 THEN 'RAA02' ELSE 'RBB01' END,"
            " '2025Q3', CASE WHEN i <= 10 OR i BETWEEN 21 AND 30 THEN 'nhs_number'"
            " WHEN i <= 16 THEN 'probabilistic' ELSE 'singleton' END, i IN (1, 11), i = 31,"
            " '1', 'white', CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END, '80-89'"
            " FROM generate_series(1, 43) i");
    pg_fixture_exec(db, "INSERT INTO linkage.record_quality VALUES (44, 1, 0, 44, 'nhfd', 'RAA',"
                        " 'RAA01', '2025Q4', 'singleton', false, false, '1', 'white', 'male',"
                        " '80-89')");
    result_t r = report("linkage", "--csv", NULL);
    assert_int_equal(r.rc, 0);
    assert_memory_equal(r.out, LINKAGE_QUALITY_HEADER "\n", strlen(LINKAGE_QUALITY_HEADER) + 1);
    /* one header for both periods; nhfd suppresses 1 to 7 (min_count 8) */
    assert_null(strstr(r.out + 1, LINKAGE_QUALITY_HEADER));
    /* England's 6 probabilistic and 2 deaths are hidden, and the 16 singletons with them (the
     * methods add up to the records shown); the site whose counts are 0 or all is shown whole */
    assert_non_null(strstr(r.out, "\nnhfd,2025Q3,england,E92000001,,all,,42,20,,,,0.476190,,,,"
                                  "suppressed\n"));
    assert_non_null(strstr(r.out, "\nnhfd,2025Q3,site,RAA02,RAA,all,,10,10,0,0,0,1.000000,"
                                  "0.000000,0.000000,0.000000,\n"));
    assert_non_null(strstr(r.out, "\nnhfd,2025Q4,england,E92000001,,all,,1,"));
    result_free(&r);
    /* one period, one trust: England's rows and the trust's */
    r = report("linkage", "--audit", "nhfd", "--period", "2025Q3", "--trust", "RBB", "--csv", NULL);
    assert_int_equal(r.rc, 0);
    assert_null(strstr(r.out, "2025Q4"));
    assert_null(strstr(r.out, ",RAA"));
    assert_non_null(strstr(r.out, "\nnhfd,2025Q3,trust,RBB,E92000001,all,,12,0,0,12,0,0.000000,"
                                  "0.000000,1.000000,0.000000,\n"));
    result_free(&r);
    /* the table: a suppressed count is "-" */
    r = report("linkage", "--period", "2025Q3", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(
        strstr(r.out, "linkage quality of nhfd 2025Q3 (small counts suppressed below 8)"));
    assert_non_null(strstr(r.out, "site RAA02"));
    assert_non_null(strstr(r.out, "10 (100.0%)"));
    assert_non_null(strstr(r.out, " -"));
    result_free(&r);
    r = report("linkage", "--audit", "nela", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "no linkage counts of nela\n");
    result_free(&r);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_report_from_the_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
