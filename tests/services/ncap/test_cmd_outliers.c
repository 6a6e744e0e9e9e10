/* test_cmd_outliers.c - `ncap outliers` for the audit team on a real PostgreSQL ($NCAP_TEST_PG):
 * list as a table and as outliers.csv's CSV, filtered; show with every transition and the trust's
 * response; a case that does not exist; and the usage errors. The trust's side (mine, show
 * --trust, respond) goes through ingest: tests/e2e/test_outlier_cases.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "pg_fixture.h"

static result_t outliers(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_outliers, "outliers", arg, ap);
    va_end(ap);
    return r;
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *const cases[][4] = {
        {"frobnicate", NULL, NULL, "unknown action \"frobnicate\""},
        {"show", NULL, NULL, "show needs a case id"},
        {"show", "0", NULL, "show needs a case id"},
        {"mine", NULL, NULL, "mine needs --trust T"},
        {"list", "--state", "notified", "unknown state \"notified\""},
    };
    char text[64];
    temp_file(text, "We are looking at it.\n");
    result_t t = outliers("respond", "3", "--text", text, NULL);
    unlink(text);
    assert_int_equal(t.rc, 2);
    assert_non_null(strstr(t.err, "respond needs --trust T"));
    result_free(&t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result_t r = outliers(cases[i][0], cases[i][1], cases[i][2], NULL);
        assert_int_equal(r.rc, 2);
        if (!strstr(r.err, cases[i][3]))
            fail_msg("ncap outliers %s: \"%s\", expected \"%s\"", cases[i][0], r.err, cases[i][3]);
        result_free(&r);
    }
}

static void test_the_team_lists_and_shows_cases(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_cmd_outliers");
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_test_cmd_outliers", getenv("NCAP_TEST_PG"));
    setenv("NCAP_PG", conninfo, 1);
    setenv("NCAP_AUDIT_DIR", NCAP_SOURCE_DIR "/deploy/audits", 1);
    pg_fixture_exec(db,
                    "INSERT INTO publish.outlier_case (audit, period, metric_id, level, area_code,"
                    " trust, state, state_by, flag, numerator, denominator, value)"
                    " VALUES ('nela', '2025Q2', 'mortality_30d_adjusted', 'trust', 'RJ1', 'RJ1',"
                    " 'detected', 'release', 'alarm_high', 49, 264, 1.8196449),"
                    " ('nela', '2025Q2', 'theatre_in_time', 'trust', 'RAL', 'RAL', 'detected',"
                    " 'release', 'alert_low', 285, 508, 0.561024)");
    pg_fixture_exec(db, "UPDATE publish.outlier_case SET state = 'trust_notified',"
                        " state_by = 'deadline', notified_at = now() WHERE area_code = 'RJ1'");
    pg_fixture_exec(db, "INSERT INTO publish.outlier_response (case_id, trust, text) SELECT"
                        " case_id, 'RJ1', 'Coding was incomplete.' FROM publish.outlier_case"
                        " WHERE area_code = 'RJ1'");
    long long id =
        pg_fixture_count(db, "SELECT case_id FROM publish.outlier_case WHERE area_code = 'RJ1'");

    result_t r = outliers("list", "--csv", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "case_id,audit,period,metric,level,area_code,trust,state,since,"
                                  "due,flag,public_flag,"));
    /* notified now: due 10 working days on (nela.yaml's respond_within_days) */
    char want[200];
    snprintf(want, sizeof want,
             "%lld,nela,2025Q2,mortality_30d_adjusted,trust,RJ1,RJ1,trust_notified,", id);
    const char *line = strstr(r.out, want);
    assert_non_null(line);
    int y1, m1, d1, y2, m2, d2;
    assert_int_equal(sscanf(line + strlen(want), "%d-%d-%dT%*d:%*d:%*dZ,%d-%d-%dT", &y1, &m1, &d1,
                            &y2, &m2, &d2),
                     6);
    assert_true(y2 * 10000 + m2 * 100 + d2 > y1 * 10000 + m1 * 100 + d1 + 10);
    assert_non_null(strstr(line, ",alarm_high,alert_high,49,264,,1.819645,"));
    assert_non_null(strstr(r.out, ",RAL,RAL,detected,"));
    result_free(&r);

    r = outliers("list", "--trust", "RAL", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "theatre_in_time"));
    assert_null(strstr(r.out, "RJ1"));
    assert_non_null(strstr(r.out, "1 case\n"));
    result_free(&r);
    r = outliers("list", "--state", "published", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "no outlier case\n");
    result_free(&r);

    char sid[32];
    snprintf(sid, sizeof sid, "%lld", id);
    r = outliers("show", sid, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "state: trust_notified\n"));
    assert_non_null(strstr(r.out, " - -> detected (release)\n"));
    assert_non_null(strstr(r.out, " detected -> trust_notified (deadline)\n"));
    assert_non_null(strstr(r.out, "from RJ1:\nCoding was incomplete.\n"));
    result_free(&r);
    r = outliers("show", "999999", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap outliers: no outlier case 999999\n");
    result_free(&r);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_the_team_lists_and_shows_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
