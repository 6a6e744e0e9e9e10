/* test_outlier_store.c - outlier cases in PostgreSQL, driven as the daemons' own roles: opened
 * from a release's flags, moved on past deadlines, answered by the trust (ingest's request, its
 * own cases only), published, cleared by corrected data and opened again; every transition kept;
 * the audit team's outliers.csv written only when it changed */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_cache.h"
#include "mini_audit.h"
#include "outlier_request.h"
#include "outlier_store.h"
#include "pg_fixture.h"

/* MINI_AUDIT_YAML with an outlier process */
static const char *outliers_yaml =
    "outliers: {notify_within_days: 1, respond_within_days: 2, publish_within_days: 1}\n";

static benchmark_row_t unit(const char *area, const char *flag, long long num)
{
    return (benchmark_row_t){.level = "trust",
                             .area_code = (char *)area,
                             .parent_code = "Y56",
                             .metric = "m",
                             .breakdown = "all",
                             .outlier = flag,
                             .has_numerator = true,
                             .numerator = num,
                             .has_denominator = true,
                             .denominator = 100,
                             .has_value = true,
                             .value = (double)num / 100,
                             .has_funnel = true,
                             .funnel_lower998 = 0.3,
                             .funnel_upper998 = 0.6};
}

static void release(PGconn *db, benchmark_row_t *rows, size_t n)
{
    char err[1024];
    benchmark_release_t rel = {.rows = rows, .n_rows = n};
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    if (outlier_store_release(db, "mini", "2025Q2", &rel, err, sizeof err) != 0)
        fail_msg("%s", err);
    pg_fixture_exec(db, "RESET ROLE");
}

/* Every case's state entered a working day (60 s) earlier; then one round of deadlines.
 * Returns the periods to rebuild. */
static int advance(PGconn *db, audit_cache_t *audits, int *moved)
{
    char err[1024];
    pg_fixture_exec(db,
                    "UPDATE publish.outlier_case SET state_at = state_at - interval '61 seconds'");
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    PGresult *r = outlier_store_advance(db, audits, 60, moved, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    int n = PQntuples(r);
    PQclear(r);
    pg_fixture_exec(db, "RESET ROLE");
    return n;
}

static const char *state_of(PGconn *db, const char *area)
{
    static char s[32];
    char sql[256], err[512];
    snprintf(sql, sizeof sql, "SELECT state FROM publish.outlier_case WHERE area_code = '%s'",
             area);
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    assert_non_null(r);
    snprintf(s, sizeof s, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "none");
    PQclear(r);
    return s;
}

/* A trust's request through ingest's answer, as ncap_ingest. Returns the reply's kind. */
static int ask(PGconn *db, const char *trust, Ncap__V1__OutlierRequest__Action action, long long id,
               const char *text, size_t *n_cases)
{
    Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
    req.trust = (char *)trust;
    req.action = action;
    req.case_id = id;
    req.text = (char *)(text ? text : "");
    Ncap__V1__OutlierReply rep = NCAP__V1__OUTLIER_REPLY__INIT;
    outlier_answer_t a;
    char err[1024];
    pg_fixture_exec(db, "SET ROLE ncap_ingest");
    if (outlier_request_answer(db, &req, trust, "not yours", &rep, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    pg_fixture_exec(db, "RESET ROLE");
    *n_cases = rep.n_cases;
    int kind = rep.kind;
    outlier_answer_clear(&a);
    return kind;
}

static void test_a_case_through_every_stage(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_outlier_store");
    char dir[] = "/tmp/ncap_test_outliers_XXXXXX", path[512], team[128], err[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/mini.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(MINI_AUDIT_YAML, f);
    fputs(outliers_yaml, f);
    fclose(f);
    audit_cache_t *audits = audit_cache_new(dir);

    /* a release flags RAA (alarm) and RBB (alert); RCC is in control: no case */
    benchmark_row_t rows[] = {unit("RAA", "alarm_high", 70), unit("RBB", "alert_low", 20),
                              unit("RCC", "in_control", 45)};
    release(db, rows, 3);
    assert_string_equal(state_of(db, "RAA"), "detected");
    assert_string_equal(state_of(db, "RBB"), "detected");
    assert_string_equal(state_of(db, "RCC"), "none");
    size_t n = 0;
    assert_int_equal(ask(db, "RAA", NCAP__V1__OUTLIER_REQUEST__ACTION__LIST, 0, NULL, &n),
                     NCAP__V1__OUTLIER_REPLY__KIND__OK);
    assert_int_equal(n, 0); /* not notified yet */
    long long raa =
        pg_fixture_count(db, "SELECT case_id FROM publish.outlier_case WHERE area_code = 'RAA'");

    /* the same release again changes nothing: no transition */
    release(db, rows, 3);
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM publish.outlier_transition"), 2);

    /* a day later: notified; the trust sees its case, another trust not */
    int moved = 0;
    assert_int_equal(advance(db, audits, &moved), 0);
    assert_int_equal(moved, 2);
    assert_string_equal(state_of(db, "RAA"), "trust_notified");
    assert_int_equal(ask(db, "RAA", NCAP__V1__OUTLIER_REQUEST__ACTION__LIST, 0, NULL, &n),
                     NCAP__V1__OUTLIER_REPLY__KIND__OK);
    assert_int_equal(n, 1);
    assert_int_equal(ask(db, "RBB", NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW, raa, NULL, &n),
                     NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND);
    assert_int_equal(
        ask(db, "RBB", NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND, raa, "not ours", &n),
        NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND);
    assert_string_equal(state_of(db, "RAA"), "trust_notified");

    /* RAA responds (twice: both kept, one transition) */
    assert_int_equal(ask(db, "RAA", NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND, raa, "ok", &n),
                     NCAP__V1__OUTLIER_REPLY__KIND__OK);
    assert_int_equal(
        ask(db, "RAA", NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND, raa, "and more", &n),
        NCAP__V1__OUTLIER_REPLY__KIND__OK);
    assert_string_equal(state_of(db, "RAA"), "trust_responded");
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM publish.outlier_response"), 2);

    /* the deadlines: RAA published a day after its response; RBB (no response) waits its two */
    assert_int_equal(advance(db, audits, &moved), 1); /* mini 2025Q2 to rebuild */
    assert_int_equal(moved, 1);
    assert_string_equal(state_of(db, "RAA"), "published");
    assert_string_equal(state_of(db, "RBB"), "trust_notified");
    assert_int_equal(advance(db, audits, &moved), 1);
    assert_string_equal(state_of(db, "RBB"), "published");
    assert_int_equal(ask(db, "RAA", NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND, raa, "late", &n),
                     NCAP__V1__OUTLIER_REPLY__KIND__ERROR);

    /* the gate's input: the published units */
    outlier_unit_t *units = NULL;
    PGresult *pub = outlier_store_published(db, "mini", "2025Q2", &units, &n, err, sizeof err);
    assert_non_null(pub);
    assert_int_equal(n, 2);
    free(units);
    PQclear(pub);

    /* corrected data: RAA in control, closed; flagged again, detected again */
    rows[0] = unit("RAA", "in_control", 45);
    release(db, rows, 3);
    assert_string_equal(state_of(db, "RAA"), "closed");
    rows[0] = unit("RAA", "alarm_high", 75);
    release(db, rows, 3);
    assert_string_equal(state_of(db, "RAA"), "detected");
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM publish.outlier_transition WHERE case_id = %lld AND"
             " to_state IN ('detected', 'trust_notified', 'trust_responded', 'published',"
             " 'closed')",
             raa);
    assert_int_equal(pg_fixture_count(db, sql), 6);
    assert_int_equal(pg_fixture_count(db,
                                      "SELECT count(*) FROM publish.outlier_transition"
                                      " WHERE from_state = 'trust_notified' AND by_what = 'trust'"),
                     1);

    /* the team's file: written once, then only after a change */
    snprintf(team, sizeof team, "%s/team", dir);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(outlier_store_export(db, audits, 60, team, err, sizeof err), 1);
    assert_int_equal(outlier_store_export(db, audits, 60, team, err, sizeof err), 0);
    pg_fixture_exec(db, "RESET ROLE");
    snprintf(path, sizeof path, "%s/mini/2025Q2/outliers.csv", team);
    char *csv = NULL;
    outlier_filter_t all = {0};
    assert_int_equal(outlier_store_csv(db, audits, 60, &all, &csv, err, sizeof err), 2);
    f = fopen(path, "r");
    assert_non_null(f);
    char got[4096] = "";
    size_t len = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[len] = '\0';
    assert_string_equal(got, csv);
    assert_non_null(strstr(csv, ",RAA,RAA,detected,"));
    assert_non_null(strstr(csv, ",alarm_high,alert_high,75,100,"));
    /* the delay ledger: RAA's case left detected, trust_notified and trust_responded once each
     * (then published, closed, detected again): the seconds in each, whole numbers */
    const char *line = strstr(csv, ",RAA,RAA,detected,");
    assert_non_null(line);
    const char *end = strchr(line, '\n');
    assert_non_null(end);
    int commas = 0;
    const char *p = end;
    while (p > line && commas < 3)
        if (*--p == ',')
            commas++;
    long long det = -1, notified = -1, responded = -1;
    assert_int_equal(sscanf(p, ",%lld,%lld,%lld\n", &det, &notified, &responded), 3);
    assert_true(det >= 0 && notified >= 0 && responded >= 0);
    free(csv);

    unlink(path);
    snprintf(path, sizeof path, "%s/mini/2025Q2", team);
    rmdir(path);
    snprintf(path, sizeof path, "%s/mini", team);
    rmdir(path);
    rmdir(team);
    snprintf(path, sizeof path, "%s/mini.yaml", dir);
    unlink(path);
    rmdir(dir);
    audit_cache_destroy(&audits);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_case_through_every_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
