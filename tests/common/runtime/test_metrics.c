/* test_metrics.c - a daemon's metrics as Prometheus reads them: the exact text exposition, the
 * histograms' buckets, database errors by SQLSTATE class, a stage's own gauges, health and
 * readiness, and counters that lose nothing when several threads count at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_http.h"

static char *render(metrics_t *m)
{
    strbuf_t out = {0};
    metrics_render(m, &out);
    assert_false(out.oom);
    return out.s;
}

/* The whole text, as a scrape of a linkage daemon that has done some work reads it. */
static void test_exposition_text_is_exact(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("linkage", "ncap-linkd", "0.1.0");
    assert_non_null(m);
    metrics_add(m, METRICS_RECORDS_PROCESSED, 1200);
    metrics_add(m, METRICS_RECORDS_QUARANTINED, 3);
    metrics_add(m, METRICS_MESSAGES_RECEIVED, 12);
    metrics_add(m, METRICS_MESSAGES_SENT, 13);
    metrics_add(m, METRICS_DB_RECONNECTS, 1);
    metrics_set(m, METRICS_STAGE_PROCESSED, 5000);
    metrics_set(m, METRICS_BACKLOG, 42);
    metrics_set(m, METRICS_QUARANTINE, 3);
    metrics_set(m, METRICS_DB_CONNECTED, 1);
    metrics_set(m, METRICS_REGISTERED, 1);
    metrics_batch(m, 500, 120000);
    metrics_batch(m, 1, 500);
    metrics_db_error(m, "40P01");
    metrics_db_error(m, "");
    assert_int_equal(metrics_family_set(m, "ncap_release_last_timestamp_seconds",
                                        "When the audit's latest release was made.", "audit",
                                        "nhfd", 1764900000),
                     0);
    assert_int_equal(metrics_family_set(m, "ncap_release_last_timestamp_seconds", "ignored",
                                        "ignored", "nela", 1764800000.5),
                     0);
    char *text = render(m);
    const char *expected =
        "# HELP ncap_build_info The daemon's build: its version, service and stage (always 1).\n"
        "# TYPE ncap_build_info gauge\n"
        "ncap_build_info{stage=\"linkage\",service=\"ncap-linkd\",version=\"0.1.0\"} 1\n"
        "# HELP ncap_records_processed_total Records this instance stored (committed to its "
        "stage's tables) since it started; publish: the audit periods it rebuilt.\n"
        "# TYPE ncap_records_processed_total counter\n"
        "ncap_records_processed_total{stage=\"linkage\"} 1200\n"
        "# HELP ncap_records_quarantined_total Records this instance quarantined (committed to "
        "<stage>.quarantine) since it started.\n"
        "# TYPE ncap_records_quarantined_total counter\n"
        "ncap_records_quarantined_total{stage=\"linkage\"} 3\n"
        "# HELP ncap_records_deferred_total Records this instance left to its next batch because "
        "another instance's transaction held what they needed (linkage: a blocking key), since it "
        "started.\n"
        "# TYPE ncap_records_deferred_total counter\n"
        "ncap_records_deferred_total{stage=\"linkage\"} 0\n"
        "# HELP ncap_messages_received_total Messages taken from the inbox: nudges from the "
        "upstream stage (ingest: trusts' requests).\n"
        "# TYPE ncap_messages_received_total counter\n"
        "ncap_messages_received_total{stage=\"linkage\"} 12\n"
        "# HELP ncap_messages_sent_total Nudges sent to the next stage.\n"
        "# TYPE ncap_messages_sent_total counter\n"
        "ncap_messages_sent_total{stage=\"linkage\"} 13\n"
        "# HELP ncap_messages_dropped_total Nudges not sent for want of room or a live next stage "
        "(the backlog finds their records).\n"
        "# TYPE ncap_messages_dropped_total counter\n"
        "ncap_messages_dropped_total{stage=\"linkage\"} 0\n"
        "# HELP ncap_db_reconnects_total Times the loop's PostgreSQL connection was lost and made "
        "again.\n"
        "# TYPE ncap_db_reconnects_total counter\n"
        "ncap_db_reconnects_total{stage=\"linkage\"} 1\n"
        "# HELP ncap_stage_processed_records Records the stage has processed, all instances "
        "together, as ncap status counts them (its tally, read every few seconds).\n"
        "# TYPE ncap_stage_processed_records gauge\n"
        "ncap_stage_processed_records{stage=\"linkage\"} 5000\n"
        "# HELP ncap_backlog_records Records upstream holds that the stage has not processed, as "
        "ncap status counts them (read every few seconds).\n"
        "# TYPE ncap_backlog_records gauge\n"
        "ncap_backlog_records{stage=\"linkage\"} 42\n"
        "# HELP ncap_quarantine_records Records held in the stage's quarantine (read every few "
        "seconds).\n"
        "# TYPE ncap_quarantine_records gauge\n"
        "ncap_quarantine_records{stage=\"linkage\"} 3\n"
        "# HELP ncap_db_connected 1 while the loop is connected to PostgreSQL, else 0.\n"
        "# TYPE ncap_db_connected gauge\n"
        "ncap_db_connected{stage=\"linkage\"} 1\n"
        "# HELP ncap_registered 1 while this instance is registered in ops.instance, else 0.\n"
        "# TYPE ncap_registered gauge\n"
        "ncap_registered{stage=\"linkage\"} 1\n"
        "# HELP ncap_batch_records Records per committed batch (publish: periods per rebuild).\n"
        "# TYPE ncap_batch_records histogram\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"1\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"5\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"10\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"25\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"50\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"100\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"250\"} 1\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"500\"} 2\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"1000\"} 2\n"
        "ncap_batch_records_bucket{stage=\"linkage\",le=\"+Inf\"} 2\n"
        "ncap_batch_records_sum{stage=\"linkage\"} 501\n"
        "ncap_batch_records_count{stage=\"linkage\"} 2\n"
        "# HELP ncap_batch_duration_seconds Time from reading a batch's rows to its commit "
        "(ingest: storing one submission).\n"
        "# TYPE ncap_batch_duration_seconds histogram\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.001\"} 1\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.005\"} 1\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.01\"} 1\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.025\"} 1\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.05\"} 1\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.1\"} 1\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.25\"} 2\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"0.5\"} 2\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"1\"} 2\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"2.5\"} 2\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"5\"} 2\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"10\"} 2\n"
        "ncap_batch_duration_seconds_bucket{stage=\"linkage\",le=\"+Inf\"} 2\n"
        "ncap_batch_duration_seconds_sum{stage=\"linkage\"} 0.120500\n"
        "ncap_batch_duration_seconds_count{stage=\"linkage\"} 2\n"
        "# HELP ncap_db_errors_total Statements PostgreSQL refused (or that failed for a lost "
        "connection: class \"none\"), by SQLSTATE class (its first two characters).\n"
        "# TYPE ncap_db_errors_total counter\n"
        "ncap_db_errors_total{stage=\"linkage\",class=\"40\"} 1\n"
        "ncap_db_errors_total{stage=\"linkage\",class=\"none\"} 1\n"
        "# HELP ncap_release_last_timestamp_seconds When the audit's latest release was made.\n"
        "# TYPE ncap_release_last_timestamp_seconds gauge\n"
        "ncap_release_last_timestamp_seconds{stage=\"linkage\",audit=\"nela\"} 1764800000.5\n"
        "ncap_release_last_timestamp_seconds{stage=\"linkage\",audit=\"nhfd\"} 1764900000\n";
    assert_string_equal(text, expected);
    free(text);
    metrics_destroy(&m);
    assert_null(m);
    metrics_destroy(&m); /* harmless */
}

/* The count of a line "name value" in text, or -1 when the line is not there. */
static long long value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
    return -1;
}

static void test_histogram_buckets_are_upper_bounds(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("metric", "ncap-metricd", "0.1.0");
    /* each value lands in the first bucket it does not exceed; past the last, only in +Inf */
    uint64_t sizes[] = {0, 1, 2, 5, 6, 1000, 1001, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        metrics_batch(m, sizes[i], 10000000 + i); /* 10 s and a little: past every time bound */
    char *t = render(m);
    assert_int_equal(value_of(t, "ncap_batch_records_bucket{stage=\"metric\",le=\"1\"}"), 2);
    assert_int_equal(value_of(t, "ncap_batch_records_bucket{stage=\"metric\",le=\"5\"}"), 4);
    assert_int_equal(value_of(t, "ncap_batch_records_bucket{stage=\"metric\",le=\"10\"}"), 5);
    assert_int_equal(value_of(t, "ncap_batch_records_bucket{stage=\"metric\",le=\"1000\"}"), 6);
    assert_int_equal(value_of(t, "ncap_batch_records_bucket{stage=\"metric\",le=\"+Inf\"}"), 8);
    assert_int_equal(value_of(t, "ncap_batch_records_count{stage=\"metric\"}"), 8);
    assert_int_equal(value_of(t, "ncap_batch_records_sum{stage=\"metric\"}"), 102015);
    /* 10 s exactly would be le="10"; 10.000001 s and more are above it */
    assert_int_equal(value_of(t, "ncap_batch_duration_seconds_bucket{stage=\"metric\",le=\"10\"}"),
                     1);
    assert_int_equal(
        value_of(t, "ncap_batch_duration_seconds_bucket{stage=\"metric\",le=\"+Inf\"}"), 8);
    assert_non_null(strstr(t, "ncap_batch_duration_seconds_sum{stage=\"metric\"} 80.000028\n"));
    free(t);
    metrics_destroy(&m);
}

static void test_db_errors_by_sqlstate_class(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("validation", "ncap-validated", "0.1.0");
    const char *states[] = {"40001", "40P01", "22P02", "23505", "08006", "57P01",
                            "",      NULL,    "4",     "zz000", "XX000"};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        metrics_db_error(m, states[i]);
    char *t = render(m);
    const char *at = strstr(t, "# TYPE ncap_db_errors_total counter\n");
    assert_non_null(at);
    assert_string_equal(at, "# TYPE ncap_db_errors_total counter\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"08\"} 1\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"22\"} 1\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"23\"} 1\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"40\"} 2\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"57\"} 1\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"XX\"} 1\n"
                            "ncap_db_errors_total{stage=\"validation\",class=\"none\"} 4\n");
    free(t);
    metrics_destroy(&m);
}

static void test_label_values_are_escaped_and_series_bounded(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("pub\"lish", "ncap-publishd", "0.1.0");
    assert_int_equal(metrics_family_set(m, "ncap_x", "x.", "audit", "a\\b\"c\nd", 1), 0);
    char *t = render(m);
    assert_non_null(strstr(t, "ncap_x{stage=\"pub\\\"lish\",audit=\"a\\\\b\\\"c\\nd\"} 1\n"));
    assert_non_null(strstr(t, "ncap_build_info{stage=\"pub\\\"lish\","));
    free(t);
    /* setting a series again replaces its value */
    assert_int_equal(metrics_family_set(m, "ncap_x", "x.", "audit", "a\\b\"c\nd", 2), 0);
    char label[32];
    for (int i = 1; i < METRICS_FAMILY_SERIES; i++) {
        snprintf(label, sizeof label, "audit%02d", i);
        assert_int_equal(metrics_family_set(m, "ncap_x", "x.", "audit", label, i), 0);
    }
    assert_int_equal(metrics_family_set(m, "ncap_x", "x.", "audit", "one_too_many", 1), -1);
    assert_int_equal(metrics_family_set(m, "ncap_x", "x.", "audit", "audit07", 70), 0);
    t = render(m);
    assert_non_null(strstr(t, "ncap_x{stage=\"pub\\\"lish\",audit=\"a\\\\b\\\"c\\nd\"} 2\n"));
    assert_non_null(strstr(t, "ncap_x{stage=\"pub\\\"lish\",audit=\"audit07\"} 70\n"));
    assert_null(strstr(t, "one_too_many"));
    free(t);
    metrics_destroy(&m);
}

static void test_alive_and_ready(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("metric", "ncap-metricd", "0.1.0");
    char why[256];
    /* starting: alive, not ready */
    assert_true(metrics_alive(m, 1000, why, sizeof why));
    assert_false(metrics_ready(m, 1000, why, sizeof why));
    assert_string_equal(why, "not connected to PostgreSQL");
    metrics_set(m, METRICS_DB_CONNECTED, 1);
    assert_false(metrics_ready(m, 1000, why, sizeof why));
    assert_string_equal(why, "not registered in ops.instance");
    metrics_set(m, METRICS_REGISTERED, 1);
    metrics_beat(m, 1000);
    assert_true(metrics_ready(m, 1000 + METRICS_STALL_MS, why, sizeof why));
    /* a loop that stopped turning is neither alive nor ready */
    assert_false(metrics_alive(m, 1001 + METRICS_STALL_MS + 1000, why, sizeof why));
    assert_string_equal(why, "the daemon's loop has not turned for 61 s (more than 60 s)");
    assert_false(metrics_ready(m, 1001 + METRICS_STALL_MS + 1000, why, sizeof why));
    /* PostgreSQL gone */
    metrics_beat(m, 100000);
    metrics_set(m, METRICS_DB_CONNECTED, 0);
    assert_false(metrics_ready(m, 100000, why, sizeof why));
    metrics_destroy(&m);
}

static void test_no_metrics_costs_nothing(void **state)
{
    (void)state;
    /* the hooks of a process that installed none */
    metrics_add(NULL, METRICS_RECORDS_PROCESSED, 1);
    metrics_set(NULL, METRICS_BACKLOG, 1);
    metrics_batch(NULL, 1, 1);
    metrics_db_error(NULL, "40001");
    metrics_beat(NULL, 1);
    assert_int_equal(metrics_family_set(NULL, "a", "b", "c", "d", 1), 0);
    assert_int_equal(metrics_get(NULL, METRICS_BACKLOG), 0);
    assert_int_equal(metrics_count(NULL, METRICS_RECORDS_PROCESSED), 0);
    metrics_t *m = metrics_new("x", "y", "z");
    metrics_install(m);
    assert_ptr_equal(metrics_installed(), m);
    metrics_install(NULL);
    assert_null(metrics_installed());
    metrics_destroy(&m);
}

#define THREADS 4
#define PER_THREAD 200000

static void *count_away(void *arg)
{
    metrics_t *m = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_add(m, METRICS_RECORDS_PROCESSED, 1);
        metrics_batch(m, 3, 2);
        metrics_db_error(m, "40001");
        if (i % 1000 == 0) {
            strbuf_t out = {0}; /* a scrape meanwhile */
            metrics_render(m, &out);
            strbuf_free(&out);
        }
    }
    return NULL;
}

static void test_counters_lose_nothing_across_threads(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("ingest", "ncap-ingestd", "0.1.0");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_away, m), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render(m);
    long long total = (long long)THREADS * PER_THREAD;
    assert_int_equal(value_of(text, "ncap_records_processed_total{stage=\"ingest\"}"), total);
    assert_int_equal(value_of(text, "ncap_batch_records_count{stage=\"ingest\"}"), total);
    assert_int_equal(value_of(text, "ncap_batch_records_sum{stage=\"ingest\"}"), 3 * total);
    assert_int_equal(value_of(text, "ncap_db_errors_total{stage=\"ingest\",class=\"40\"}"), total);
    free(text);
    metrics_destroy(&m);
}

static void test_listen_address_parsed_or_refused(void **state)
{
    (void)state;
    char host[64], err[256];
    int port = -1;
    assert_int_equal(metrics_http_parse_listen("metrics listen", "127.0.0.1:9464", host,
                                               sizeof host, &port, err, sizeof err),
                     0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(metrics_http_parse_listen("metrics listen", "[::1]:0", host, sizeof host,
                                               &port, err, sizeof err),
                     0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(metrics_http_parse_listen("metrics listen", "localhost:65535", host,
                                               sizeof host, &port, err, sizeof err),
                     0);
    const char *bad[] = {"",        "9464",    ":9464",     "host:", "host:65536",
                         "host:-1", "host:9x", "[::1:9464", "[]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(metrics_http_parse_listen("metrics listen", bad[i], host, sizeof host,
                                                   &port, err, sizeof err),
                         -1);
        assert_non_null(strstr(err, "expected HOST:PORT"));
    }
    assert_int_equal(
        metrics_http_parse_listen("metrics listen", "host:12", host, 4, &port, err, sizeof err),
        -1);
}

static int answer(metrics_t *m, const char *method, const char *path, long long now,
                  const char **type, char **body)
{
    strbuf_t out = {0};
    int status = metrics_http_answer(m, method, path, now, &out, type);
    *body = out.s;
    return status;
}

static void test_http_answers(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("metric", "ncap-metricd", "0.1.0");
    const char *type;
    char *body;
    assert_int_equal(answer(m, "GET", "/metrics", 0, &type, &body), 200);
    assert_string_equal(type, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(body, "ncap_build_info{stage=\"metric\""));
    free(body);
    assert_int_equal(answer(m, "HEAD", "/metrics", 0, &type, &body), 200);
    free(body);
    assert_int_equal(answer(m, "GET", "/healthz", 0, &type, &body), 200);
    assert_string_equal(body, "alive\n");
    free(body);
    assert_int_equal(answer(m, "GET", "/readyz", 0, &type, &body), 503);
    assert_string_equal(body, "not ready: not connected to PostgreSQL\n");
    free(body);
    metrics_set(m, METRICS_DB_CONNECTED, 1);
    metrics_set(m, METRICS_REGISTERED, 1);
    assert_int_equal(answer(m, "GET", "/readyz", 0, &type, &body), 200);
    assert_string_equal(body, "ready\n");
    free(body);
    metrics_beat(m, 0);
    assert_int_equal(answer(m, "GET", "/healthz", 2 * METRICS_STALL_MS, &type, &body), 503);
    assert_string_equal(body, "not alive: the daemon's loop has not turned for 120 s (more "
                              "than 60 s)\n");
    free(body);
    assert_int_equal(answer(m, "POST", "/metrics", 0, &type, &body), 405);
    assert_string_equal(body, "method POST not allowed: only GET and HEAD\n");
    free(body);
    const char *paths[] = {"/", "/metrics/", "/metricsx", "/healthz/x", "/../metrics", ""};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        assert_int_equal(answer(m, "GET", paths[i], 0, &type, &body), 404);
        free(body);
    }
    metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exposition_text_is_exact),
        cmocka_unit_test(test_histogram_buckets_are_upper_bounds),
        cmocka_unit_test(test_db_errors_by_sqlstate_class),
        cmocka_unit_test(test_label_values_are_escaped_and_series_bounded),
        cmocka_unit_test(test_alive_and_ready),
        cmocka_unit_test(test_no_metrics_costs_nothing),
        cmocka_unit_test(test_counters_lose_nothing_across_threads),
        cmocka_unit_test(test_listen_address_parsed_or_refused),
        cmocka_unit_test(test_http_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
