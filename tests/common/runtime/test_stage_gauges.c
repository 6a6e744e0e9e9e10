/* test_stage_gauges.c - what a daemon's metrics read from PostgreSQL is what `ncap status` shows
 * (each stage's processed records, backlog and quarantine), publish's gauge gives each audit's
 * latest release, and an instance registers where it serves its metrics (ops.instance.metrics,
 * migration 0023). On a real PostgreSQL ($NCAP_TEST_PG). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkage_stage.h"
#include "metric_stage.h"
#include "pg_fixture.h"
#include "pipeline_status.h"
#include "publish_gauge.h"
#include "publish_stage.h"
#include "registry.h"
#include "stage_gauges.h"
#include "validation_stage.h"

static long long value_of(metrics_t *m, const char *series)
{
    strbuf_t out = {0};
    metrics_render(m, &out);
    assert_false(out.oom);
    long long v = -1;
    size_t n = strlen(series);
    for (const char *p = out.s; (p = strstr(p, series)) != NULL; p += n)
        if ((p == out.s || p[-1] == '\n') && p[n] == ' ') {
            v = strtoll(p + n + 1, NULL, 10);
            break;
        }
    strbuf_free(&out);
    return v;
}

static void test_gauges_equal_ncap_status(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("test_stage_gauges");
    /* what the stages would have written: counts in their tallies, records held in quarantine
     * (and one released), raw records after linkage's watermark */
    pg_fixture_exec(db, "INSERT INTO ingest.tally (added, written) VALUES (40, 40), (2, 2);"
                        "INSERT INTO linkage.tally (added, written) VALUES (30, 30);"
                        "INSERT INTO validation.tally (added, written) VALUES (25, 25);"
                        "INSERT INTO validation.quarantine (record_id, version, stage,"
                        "  error_class, message, held) VALUES"
                        " (1, 1, 'validation', 'definition', 'x', true),"
                        " (2, 1, 'validation', 'definition', 'x', true),"
                        " (3, 1, 'validation', 'definition', 'x', false);"
                        "INSERT INTO metric.quarantine (record_id, version, stage, error_class,"
                        "  message) VALUES (7, 1, 'metric', 'evaluation', 'y');");
    stage_status_t status[PIPELINE_STAGES];
    char err[1024];
    assert_int_equal(pipeline_status_read(db, 0, status, err, sizeof err), 0);
    const stage_ops_t ops[PIPELINE_STAGES] = {{0},
                                              linkage_stage_ops(NULL),
                                              validation_stage_ops(NULL),
                                              metric_stage_ops(NULL),
                                              publish_stage_ops(NULL)};
    for (int i = 0; i < PIPELINE_STAGES; i++) {
        const char *stage = pipeline_stage_names[i];
        metrics_t *m = metrics_new(stage, "test", "0");
        assert_int_equal(stage_gauges_read(&ops[i], stage, db, m), 0);
        char series[128];
        snprintf(series, sizeof series, "ncap_stage_processed_records{stage=\"%s\"}", stage);
        assert_int_equal(value_of(m, series), status[i].processed);
        snprintf(series, sizeof series, "ncap_backlog_records{stage=\"%s\"}", stage);
        if (i != 1) /* linkage's count of ncap status adds the death sweep's, 0 here */
            assert_int_equal(value_of(m, series), status[i].backlog);
        snprintf(series, sizeof series, "ncap_quarantine_records{stage=\"%s\"}", stage);
        assert_int_equal(value_of(m, series), status[i].quarantined);
        metrics_destroy(&m);
    }
    assert_int_equal(status[0].processed, 42);
    assert_int_equal(status[2].quarantined, 2);
    assert_int_equal(status[3].quarantined, 1);
    /* without metrics, nothing is read */
    assert_int_equal(stage_gauges_read(&ops[2], "validation", db, NULL), 0);
    PQfinish(db);
}

static void test_gauge_counts_a_backlog_past_its_bound(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("test_stage_gauges_bound");
    char sql[512], err[1024];
    /* publish's backlog: records metric has written after publish's watermark */
    snprintf(sql, sizeof sql,
             "INSERT INTO metric.record_state (record_id, version, audit, trust, valid)"
             " SELECT g, 1, 'nhfd', 'RR8', true FROM generate_series(1, %d) g",
             STAGE_GAUGES_BACKLOG_BOUND + 5);
    pg_fixture_exec(db, sql);
    stage_ops_t ops = publish_stage_ops(NULL);
    const char *series = "ncap_backlog_records{stage=\"publish\"}";
    stage_status_t status[PIPELINE_STAGES];
    metrics_t *m = metrics_new("publish", "test", "0");
    /* past the bound: counted whole, as ncap status counts it */
    assert_int_equal(stage_gauges_read(&ops, "publish", db, m), 0);
    assert_int_equal(pipeline_status_read(db, 0, status, err, sizeof err), 0);
    assert_int_equal(status[4].backlog, STAGE_GAUGES_BACKLOG_BOUND + 5);
    assert_int_equal(value_of(m, series), status[4].backlog);
    /* within the minute after: not counted whole again (the count is O(backlog) and holds up the
     * stage's loop), but the last count less what publish has processed since; what metric
     * wrote meanwhile waits for the next whole count */
    pg_fixture_exec(db, "INSERT INTO publish.tally (added, written) VALUES (3, 3);"
                        "INSERT INTO metric.record_state (record_id, version, audit, trust, valid)"
                        " SELECT g, 1, 'nhfd', 'RR8', true FROM generate_series(20001, 20100) g");
    assert_int_equal(stage_gauges_read(&ops, "publish", db, m), 0);
    assert_int_equal(value_of(m, series), STAGE_GAUGES_BACKLOG_BOUND + 5 - 3);
    /* never below the bounded count */
    pg_fixture_exec(db, "INSERT INTO publish.tally (added, written) VALUES (50, 50)");
    assert_int_equal(stage_gauges_read(&ops, "publish", db, m), 0);
    assert_int_equal(value_of(m, series), STAGE_GAUGES_BACKLOG_BOUND);
    /* back under it: exact at once, whatever the last whole count was */
    pg_fixture_exec(db, "DELETE FROM metric.record_state WHERE record_id > 7");
    assert_int_equal(stage_gauges_read(&ops, "publish", db, m), 0);
    assert_int_equal(value_of(m, series), 7);
    metrics_destroy(&m);
    PQfinish(db);
}

/* A definition that fails every record of an audit holds them all: the quarantine's gauge counts
 * up to the bound at every read, and past it whole only as seldom as the backlog, the last whole
 * count standing between two. */
static void test_gauge_counts_a_quarantine_past_its_bound(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("test_stage_gauges_quarantine");
    char sql[512], err[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO validation.quarantine (record_id, version, stage, error_class, message)"
             " SELECT g, 1, 'validation', 'definition', 'x' FROM generate_series(1, %d) g",
             STAGE_GAUGES_BACKLOG_BOUND + 5);
    pg_fixture_exec(db, sql);
    stage_ops_t ops = validation_stage_ops(NULL);
    const char *series = "ncap_quarantine_records{stage=\"validation\"}";
    stage_status_t status[PIPELINE_STAGES];
    metrics_t *m = metrics_new("validation", "test", "0");
    /* past the bound: counted whole, as ncap status --exact counts it */
    assert_int_equal(stage_gauges_read(&ops, "validation", db, m), 0);
    assert_int_equal(pipeline_status_read(db, 0, status, err, sizeof err), 0);
    assert_int_equal(status[2].quarantined, STAGE_GAUGES_BACKLOG_BOUND + 5);
    assert_int_equal(value_of(m, series), status[2].quarantined);
    /* within the minute after: the last whole count stands */
    pg_fixture_exec(db, "INSERT INTO validation.quarantine (record_id, version, stage,"
                        " error_class, message) SELECT g, 1, 'validation', 'definition', 'x'"
                        " FROM generate_series(20001, 20100) g");
    assert_int_equal(stage_gauges_read(&ops, "validation", db, m), 0);
    assert_int_equal(value_of(m, series), STAGE_GAUGES_BACKLOG_BOUND + 5);
    /* back under the bound: exact at once */
    pg_fixture_exec(db, "UPDATE validation.quarantine SET held = false WHERE record_id > 7");
    assert_int_equal(stage_gauges_read(&ops, "validation", db, m), 0);
    assert_int_equal(value_of(m, series), 7);
    metrics_destroy(&m);
    PQfinish(db);
}

static void test_publish_gauge_is_each_audits_latest_release(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("test_stage_gauges_release");
    pg_fixture_exec(db, "INSERT INTO publish.release (audit, period, revision, records,"
                        "  content_hash, created_at) VALUES"
                        " ('nhfd', '2025Q1', 1, 10, 'a', '2026-01-01 00:00:00+00'),"
                        " ('nhfd', '2025Q2', 1, 10, 'b', '2026-01-02 00:00:00+00'),"
                        " ('nela', '2025Q1', 1, 10, 'c', '2025-12-31 23:59:59+00')");
    stage_ops_t ops = publish_stage_ops(NULL);
    ops.gauge = PUBLISH_RELEASE_GAUGE;
    metrics_t *m = metrics_new("publish", "test", "0");
    assert_int_equal(stage_gauges_read(&ops, "publish", db, m), 0);
    assert_int_equal(
        value_of(m, "ncap_release_last_timestamp_seconds{stage=\"publish\",audit=\"nhfd\"}"),
        1767312000LL);
    assert_int_equal(
        value_of(m, "ncap_release_last_timestamp_seconds{stage=\"publish\",audit=\"nela\"}"),
        1767225599LL);
    metrics_destroy(&m);
    PQfinish(db);
}

static void test_instance_registers_its_metrics_url(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("test_stage_gauges_registry");
    char err[1024];
    assert_int_equal(registry_register(db, "h:1:a", "metric", "tcp://127.0.0.1:5", err, sizeof err),
                     0);
    assert_int_equal(registry_set_metrics(db, "h:1:a", "http://127.0.0.1:9464", err, sizeof err),
                     0);
    assert_int_equal(pg_fixture_count(db, "SELECT count(*) FROM ops.instance WHERE instance_id ="
                                          " 'h:1:a' AND metrics = 'http://127.0.0.1:9464'"),
                     1);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauges_equal_ncap_status),
        cmocka_unit_test(test_gauge_counts_a_backlog_past_its_bound),
        cmocka_unit_test(test_gauge_counts_a_quarantine_past_its_bound),
        cmocka_unit_test(test_publish_gauge_is_each_audits_latest_release),
        cmocka_unit_test(test_instance_registers_its_metrics_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
