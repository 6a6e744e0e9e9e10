/* test_publish_stage.c - ncap-publishd's rebuilds on a real PostgreSQL ($NCAP_TEST_PG), run as the
 * ncap_publish role, from sums the metric stage keeps (written here as it writes them): a
 * period's figures are its months' sums (cells of no month, left by a deployment migrated to 0016
 * while metric takes its records again, among them); a change to a record of an earlier period
 * rebuilds every later period too, whose run charts show that period's months (a new revision
 * with the same latest.csv), and a change to a record of the last period rebuilds that period
 * alone; a round of another publisher in between is seen (the sums held since forgotten). The
 * cadence: rounds every interval unless asked, older provisional revisions pruned. The state
 * (publish_t) is kept between rounds, as the daemon keeps it. */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_cache.h"
#include "pg_fixture.h"
#include "publish_stage.h"
#include "release_output_sql.h"

#define AUDIT_DIR NCAP_SOURCE_DIR "/deploy/audits"

static long long count_of(PGconn *db, const char *sql)
{
    char err[2048];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s\nin: %s", err, sql);
    long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* A record metric has applied: its state, and what it adds to the cells of surgery_36h and the
 * record count in its month (breakdown 'all' only), as metric.aggregate sums them; each record
 * here stands for 20, so that disclosure control hides none of the figures. */
static void audit_record(PGconn *db, const char *audit, const char *metric, int id, int version,
                         const char *trust, const char *period, const char *month, int numerator)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO metric.record_state (record_id, version, audit, trust, period, valid)"
             " VALUES (%d, %d, '%s', '%s', '%s', true) ON CONFLICT (record_id) DO UPDATE SET"
             " version = EXCLUDED.version;"
             "INSERT INTO metric.aggregate AS a (audit, period, month, trust, site, metric_id,"
             " breakdown, category, numerator, denominator) VALUES"
             " ('%s', '%s', '%s', '%s', '%s01', '%s', 'all', '', %d, 20),"
             " ('%s', '%s', '%s', '%s', '%s01', '', 'all', '', 0, 20)"
             " ON CONFLICT (audit, period, month, trust, site, metric_id, breakdown, category)"
             " DO UPDATE SET numerator = a.numerator + EXCLUDED.numerator,"
             " denominator = a.denominator + EXCLUDED.denominator,"
             " write_xid = EXCLUDED.write_xid", /* as metric writes a cell (migration 0045) */
             id, version, audit, trust, period, audit, period, month, trust, trust, metric,
             10 * numerator, audit, period, month, trust, trust);
    pg_fixture_exec(db, sql);
}

static void record(PGconn *db, int id, int version, const char *trust, const char *period,
                   const char *month, int numerator)
{
    audit_record(db, "nhfd", "surgery_36h", id, version, trust, period, month, numerator);
}

/* Runs publish's periodic work once, with what earlier rounds left in ps (what the daemon keeps
 * between rounds); returns how many periods it rebuilt. */
static int publish_once(PGconn *db, publish_t *ps)
{
    stage_ops_t ops = publish_stage_ops(ps);
    char err[2048];
    stage_keys_t out = {0};
    int n = stage_run_periodic(&ops, db, 100, &out, err, sizeof err);
    stage_keys_free(&out);
    if (n < 0)
        fail_msg("%s", err);
    return n;
}

/* surgery_36h's numerator and denominator on the trust row of the latest revision of period. */
static void assert_trust_row(PGconn *db, const char *period, const char *trust, long long num,
                             long long den)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT o.numerator || '/' || o.denominator FROM publish.output o"
             " JOIN publish.release r USING (release_id) WHERE r.audit = 'nhfd'"
             " AND r.period = '%s' AND o.level = 'trust' AND o.area_code = '%s'"
             " AND o.metric_id = 'surgery_36h' AND o.breakdown = 'all'"
             " ORDER BY r.revision DESC LIMIT 1",
             period, trust);
    char err[2048], want[64];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    assert_int_equal(PQntuples(r), 1);
    snprintf(want, sizeof want, "%lld/%lld", num, den);
    assert_string_equal(PQgetvalue(r, 0, 0), want);
    PQclear(r);
    /* every column of latest.csv is kept (migration 0031): the selection ledger's too */
    snprintf(sql, sizeof sql,
             "SELECT concat_ws('/', o.held, o.missing, o.rejected, o.left_out, o.withheld_opt_out,"
             " o.bound_lower IS NOT NULL, o.bound_upper IS NOT NULL) FROM publish.output o"
             " JOIN publish.release r USING (release_id) WHERE r.audit = 'nhfd'"
             " AND r.period = '%s' AND o.level = 'trust' AND o.area_code = '%s'"
             " AND o.metric_id = 'surgery_36h' AND o.breakdown = 'all'"
             " ORDER BY r.revision DESC LIMIT 1",
             period, trust);
    r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    assert_string_equal(PQgetvalue(r, 0, 0), "0/0/0/0/0/t/t"); /* NULLs would be left out */
    PQclear(r);
}

/* Runs sql (statements), which must fail with sqlstate and a message containing what; then
 * ROLLBACK. */
static void assert_refused(PGconn *db, const char *sql, const char *sqlstate, const char *what)
{
    PGresult *r = PQexec(db, sql);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) != PGRES_FATAL_ERROR || !state || strcmp(state, sqlstate) != 0 ||
        !strstr(PQresultErrorMessage(r), what))
        fail_msg("expected %s (%s) from: %s\ngot: %s %s", sqlstate, what, sql,
                 state ? state : "success", PQresultErrorMessage(r));
    PQclear(r);
    pg_fixture_exec(db, "ROLLBACK");
}

static void test_months_and_later_periods(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_publish_stage");
    char dir[] = "/tmp/ncap_test_publish_XXXXXX";
    assert_non_null(mkdtemp(dir));
    publish_t ps = {.out_dir = dir, .audits = audit_cache_new(AUDIT_DIR)};

    /* 2026Q1 over its three months and a cell of no month (before 0016); 2026Q2 */
    record(db, 1, 1, "RA1", "2026Q1", "2026-01", 1);
    record(db, 2, 1, "RA1", "2026Q1", "2026-02", 0);
    record(db, 3, 1, "RA1", "2026Q1", "2026-03", 1);
    record(db, 4, 1, "RA1", "2026Q1", "", 1);
    record(db, 5, 1, "RA1", "2026Q2", "2026-04", 1);
    record(db, 6, 1, "RB2", "2026Q2", "2026-05", 0);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 2);
    assert_trust_row(db, "2026Q1", "RA1", 30, 80);
    assert_trust_row(db, "2026Q2", "RA1", 10, 20);
    assert_trust_row(db, "2026Q2", "RB2", 0, 20);
    assert_int_equal(count_of(db, "SELECT records FROM publish.release WHERE period = '2026Q1'"),
                     80);
    assert_int_equal(publish_once(db, &ps), 0);

    /* a record of February changes: 2026Q1 and the later 2026Q2 are rebuilt */
    pg_fixture_exec(db, "RESET ROLE");
    record(db, 2, 2, "RA1", "2026Q1", "2026-02", 1);
    pg_fixture_exec(db, "UPDATE metric.aggregate SET denominator = denominator - 20,"
                        " write_xid = pg_current_xact_id()"
                        " WHERE month = '2026-02'"); /* version 1 subtracted */
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 2);
    assert_trust_row(db, "2026Q1", "RA1", 40, 80);
    assert_int_equal(count_of(db, "SELECT max(revision) FROM publish.release"
                                  " WHERE period = '2026Q1'"),
                     2);
    /* 2026Q2's own figures are the same; its run charts show February's change */
    assert_int_equal(count_of(db, "SELECT max(revision) FROM publish.release"
                                  " WHERE period = '2026Q2'"),
                     2);
    assert_int_equal(count_of(db, "SELECT count(DISTINCT f.content) FROM publish.release_file f"
                                  " JOIN publish.release r USING (release_id)"
                                  " WHERE r.period = '2026Q2' AND f.name = 'latest.csv'"),
                     1);

    /* a record of the last period: that period alone */
    pg_fixture_exec(db, "RESET ROLE");
    record(db, 7, 1, "RB2", "2026Q2", "2026-06", 1);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 1);
    assert_trust_row(db, "2026Q2", "RB2", 10, 40);

    /* another publisher's round between two of this one's (one at a time): the sums this one
     * holds from its last round are forgotten, not brought up to date by its own changes only */
    publish_t other = {.out_dir = dir, .audits = ps.audits};
    pg_fixture_exec(db, "RESET ROLE");
    record(db, 8, 1, "RA1", "2026Q2", "2026-04", 1);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &other), 1);
    assert_trust_row(db, "2026Q2", "RA1", 20, 40);
    pg_fixture_exec(db, "RESET ROLE");
    record(db, 9, 1, "RB2", "2026Q2", "2026-06", 0);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 1);
    assert_trust_row(db, "2026Q2", "RA1", 20, 40);
    assert_trust_row(db, "2026Q2", "RB2", 10, 60);
    publish_stage_clear(&other);

    publish_stage_clear(&ps);
    audit_cache_destroy(&ps.audits);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    PQfinish(db);
}

static bool exists(const char *dir, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return access(path, F_OK) == 0;
}

/* Whether the file dir/rel holds exactly the bytes publish stored as latest.csv of revision of
 * nhfd's 2026Q1. */
static bool holds_revision(PGconn *db, const char *dir, const char *rel, int revision)
{
    char sql[512], path[512], err[2048];
    snprintf(sql, sizeof sql,
             "SELECT f.content FROM publish.release_file f JOIN publish.release r"
             " USING (release_id) WHERE r.audit = 'nhfd' AND r.period = '2026Q1'"
             " AND r.revision = %d AND f.name = 'latest.csv'",
             revision);
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r || PQntuples(r) != 1)
        fail_msg("no latest.csv of revision %d: %s", revision, r ? "" : err);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    bool same = f && n == (size_t)PQgetlength(r, 0, 0) && memcmp(buf, PQgetvalue(r, 0, 0), n) == 0;
    if (f)
        fclose(f);
    PQclear(r);
    return same;
}

/* The stage loop's hint (stage_ops_t.due_in_ms): in how many ms the round of changed records
 * that wait comes due, or -1 when none waits. */
static long long due_in(publish_t *ps)
{
    stage_ops_t ops = publish_stage_ops(ps);
    return ops.due_in_ms(ops.state);
}

/* Within a few seconds of the interval (3600 s) after the audit's last release. */
static bool due_in_about_an_hour(publish_t *ps)
{
    long long in = due_in(ps);
    return in > 3590 * 1000LL && in <= 3600 * 1000LL + 10;
}

/* The cadence: an audit with a provisional release made within the interval waits (its changed
 * records stay after the watermark, unseen) until `ncap release now` asks (a row of
 * publish.release_request, taken by the round), and the stage loop is told when its round comes
 * due (so that it runs then, not up to an idle sweep later); each period keeps its newest `keep`
 * provisional revisions (rows and folders), and a final release is never pruned. */
static void test_cadence_and_prune(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_publish_cadence");
    /* Another transaction of the cluster, open through the test (another test's, on a machine
     * running them in parallel; an operator's long report): every snapshot's xmin stays behind
     * it, so the rows each round took are still after the next round's xmin. Its hint must come
     * from what waits, not from those rows (a round that took everything once said it was due
     * again in an interval). */
    PGconn *other = PQconnectdb(getenv("NCAP_TEST_PG"));
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    pg_fixture_exec(other, "BEGIN");
    pg_fixture_exec(other, "SELECT txid_current()");
    char dir[] = "/tmp/ncap_test_publish_XXXXXX";
    assert_non_null(mkdtemp(dir));
    publish_t ps = {
        .out_dir = dir, .audits = audit_cache_new(AUDIT_DIR), .interval_s = 3600, .keep = 2};

    record(db, 1, 1, "RA1", "2026Q1", "2026-01", 1);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 1); /* the period's first release: at once */
    assert_true(exists(dir, "nhfd/2026Q1/r0001/release.csv"));
    assert_int_equal(due_in(&ps), -1); /* nothing waits */

    /* a change within the interval waits, unseen */
    pg_fixture_exec(db, "RESET ROLE");
    record(db, 1, 2, "RA1", "2026Q1", "2026-01", 1);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 0);
    assert_int_equal(count_of(db, "SELECT version FROM publish.seen WHERE record_id = 1"), 1);
    assert_true(due_in_about_an_hour(&ps)); /* the interval after the first release */
    assert_int_equal(publish_once(db, &ps), 0);
    /* meanwhile a record of another audit, with no release yet: its round at once, while
     * nhfd's change still waits (a round with nothing due reads only the rows written since the
     * last one: those tell which audits can have changed records) */
    pg_fixture_exec(db, "RESET ROLE");
    audit_record(db, "nela", "risk_documented", 100, 1, "RA1", "2026Q1", "2026-01", 1);
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 1);
    assert_true(exists(dir, "nela/2026Q1/r0001/release.csv"));
    assert_int_equal(count_of(db, "SELECT version FROM publish.seen WHERE record_id = 1"), 1);
    assert_true(due_in_about_an_hour(&ps)); /* nela's round did not take nhfd's change */
    assert_int_equal(publish_once(db, &ps), 0);

    /* ncap release now: the round at once, the request taken */
    pg_fixture_exec(db, "RESET ROLE");
    pg_fixture_exec(db, "INSERT INTO publish.release_request (audit) VALUES ('nhfd')");
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 1);
    assert_int_equal(count_of(db, "SELECT version FROM publish.seen WHERE record_id = 1"), 2);
    assert_int_equal(count_of(db, "SELECT count(*) FROM publish.release_request"), 0);
    assert_int_equal(due_in(&ps), -1); /* the request's round took what waited */
    assert_trust_row(db, "2026Q1", "RA1", 20, 40);

    /* a third revision: the first is pruned, rows and folder; latest.* stay */
    pg_fixture_exec(db, "RESET ROLE");
    record(db, 2, 1, "RA1", "2026Q1", "2026-02", 1);
    pg_fixture_exec(db, "INSERT INTO publish.release_request (audit) VALUES (NULL)");
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_int_equal(publish_once(db, &ps), 1);
    assert_int_equal(count_of(db, "SELECT string_agg(revision::text, '' ORDER BY revision)"
                                  " FROM publish.release WHERE audit = 'nhfd'"),
                     23);
    assert_int_equal(count_of(db, "SELECT count(*) FROM publish.output o WHERE NOT EXISTS"
                                  " (SELECT 1 FROM publish.release r"
                                  " WHERE r.release_id = o.release_id)"),
                     0);
    assert_int_equal(count_of(db, RELEASE_ROWS_UNLIKE_JSON_SQL), 0);
    assert_true(count_of(db, "SELECT count(*) FROM publish.output") > 0);
    /* a release's rows belong to a release, which keeps none when deleted (checked per
     * statement, migration 0039, as the foreign key did per row) */
    pg_fixture_exec(db, "RESET ROLE");
    assert_refused(db,
                   "BEGIN; CREATE TEMP TABLE o AS SELECT * FROM publish.output LIMIT 1;"
                   " UPDATE o SET release_id = -1, ordinal = 1;"
                   " INSERT INTO publish.output SELECT * FROM o",
                   "23503", "no such release");
    assert_refused(db,
                   "BEGIN; UPDATE publish.output SET release_id = -1"
                   " WHERE release_id = (SELECT max(release_id) FROM publish.output)",
                   "23503", "no such release");
    assert_refused(db,
                   "BEGIN; CREATE TEMP TABLE d AS SELECT max(release_id) AS id FROM publish.output;"
                   " DELETE FROM publish.release_change WHERE release_id = (SELECT id FROM d);"
                   " DELETE FROM publish.release_file WHERE release_id = (SELECT id FROM d);"
                   " DELETE FROM publish.release WHERE release_id = (SELECT id FROM d)",
                   "23503", "still has rows in publish.output");
    pg_fixture_exec(db, "SET ROLE ncap_publish");
    assert_false(exists(dir, "nhfd/2026Q1/r0001"));
    /* why the pruned revision changed (record 1 added) went to the oldest one kept (r2, record 1
     * corrected), so that a diff from before r2 still counts it (migration 0028) */
    assert_int_equal(count_of(db, "SELECT sum(c.added) * 100 + sum(c.corrected) * 10 + count(*)"
                                  " FROM publish.release_change c JOIN publish.release r"
                                  " USING (release_id) WHERE r.audit = 'nhfd' AND r.revision = 2"),
                     111);
    assert_int_equal(count_of(db, "SELECT sum(added) * 10 + sum(corrected)"
                                  " FROM publish.release_change c JOIN publish.release r"
                                  " USING (release_id) WHERE r.audit = 'nhfd'"),
                     21);
    assert_true(exists(dir, "nhfd/2026Q1/r0002/release.csv"));
    assert_true(exists(dir, "nhfd/2026Q1/r0003/release.csv"));
    assert_true(exists(dir, "nhfd/2026Q1/latest.csv"));
    /* latest.* are the newest revision's bytes, and a revision's folder keeps its own (latest.*
     * are links to the revision's files, never written in place) */
    assert_true(holds_revision(db, dir, "nhfd/2026Q1/latest.csv", 3));
    assert_true(holds_revision(db, dir, "nhfd/2026Q1/r0003/release.csv", 3));
    assert_true(holds_revision(db, dir, "nhfd/2026Q1/r0002/release.csv", 2));
    assert_false(holds_revision(db, dir, "nhfd/2026Q1/r0002/release.csv", 3));

    /* revision 2 made final (as `ncap release finalise` marks its releases, migration 0025):
     * never pruned */
    pg_fixture_exec(db, "RESET ROLE");
    pg_fixture_exec(db, "INSERT INTO publish.final (audit, year, cutoff, records, late_csv)"
                        " VALUES ('nhfd', 2025, now(), 0, '')");
    pg_fixture_exec(db, "UPDATE publish.release SET status = 'final', final_year = 2025"
                        " WHERE revision = 2");
    for (int v = 2; v <= 3; v++) {
        pg_fixture_exec(db, "RESET ROLE");
        record(db, 2, v, "RA1", "2026Q1", "2026-02", 1);
        pg_fixture_exec(db, "INSERT INTO publish.release_request (audit) VALUES (NULL)");
        pg_fixture_exec(db, "SET ROLE ncap_publish");
        assert_int_equal(publish_once(db, &ps), 1);
    }
    assert_int_equal(count_of(db, "SELECT string_agg(revision::text, '' ORDER BY revision)"
                                  " FROM publish.release WHERE audit = 'nhfd'"),
                     245);
    assert_true(exists(dir, "nhfd/2026Q1/r0002/release.csv"));
    assert_false(exists(dir, "nhfd/2026Q1/r0003"));

    pg_fixture_exec(other, "COMMIT");
    PQfinish(other);
    publish_stage_clear(&ps);
    audit_cache_destroy(&ps.audits);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    PQfinish(db);
}

/* Rounds are apart the interval, or twice the last round's time when it took longer; 0 stays a
 * round on every change. */
static void test_round_spacing(void **state)
{
    (void)state;
    assert_int_equal(publish_round_spacing_s(0, 30000), 0);
    assert_int_equal(publish_round_spacing_s(60, 0), 60);
    assert_int_equal(publish_round_spacing_s(2, 700), 2);  /* a steady load's round: the interval */
    assert_int_equal(publish_round_spacing_s(2, 1900), 2); /* within the interval: no change */
    assert_int_equal(publish_round_spacing_s(2, 2000), 2);
    assert_int_equal(publish_round_spacing_s(2, 2001), 5);   /* 4.002 s, rounded up */
    assert_int_equal(publish_round_spacing_s(2, 20000), 40); /* a million records' rounds */
    assert_int_equal(publish_round_spacing_s(60, 20000), 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months_and_later_periods),
        cmocka_unit_test(test_cadence_and_prune),
        cmocka_unit_test(test_round_spacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
