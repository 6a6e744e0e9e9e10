/* test_outlier_process.c - the outlier process: its states and events, deadlines in working days
 * (weekends skipped; the test clock), the flag the public sees, and the definition's `outliers:`
 * settings with their FILE:LINE refusals */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_def.h"
#include "mini_audit.h"
#include "outlier_process.h"

/* 2026-01-05 was a Monday; 10:00 UTC */
#define MONDAY (1767571200LL + 10 * 3600)
#define DAY 86400LL

static void test_states_walk(void **state)
{
    (void)state;
    assert_int_equal(outlier_next(OUTLIER_DETECTED, OUTLIER_DEADLINE), OUTLIER_TRUST_NOTIFIED);
    assert_int_equal(outlier_next(OUTLIER_TRUST_NOTIFIED, OUTLIER_RESPONDED),
                     OUTLIER_TRUST_RESPONDED);
    assert_int_equal(outlier_next(OUTLIER_TRUST_RESPONDED, OUTLIER_DEADLINE), OUTLIER_PUBLISHED);
    /* no response in time: published without one */
    assert_int_equal(outlier_next(OUTLIER_TRUST_NOTIFIED, OUTLIER_DEADLINE), OUTLIER_PUBLISHED);
    /* corrected data clears any case, published too; a new flag opens a closed one again */
    for (int s = OUTLIER_DETECTED; s <= OUTLIER_PUBLISHED; s++)
        assert_int_equal(outlier_next(s, OUTLIER_CLEARED), OUTLIER_CLOSED);
    assert_int_equal(outlier_next(OUTLIER_CLOSED, OUTLIER_CLEARED), -1);
    assert_int_equal(outlier_next(OUTLIER_CLOSED, OUTLIER_FLAGGED), OUTLIER_DETECTED);
    /* what does not apply */
    assert_int_equal(outlier_next(OUTLIER_DETECTED, OUTLIER_RESPONDED), -1);
    assert_int_equal(outlier_next(OUTLIER_TRUST_RESPONDED, OUTLIER_RESPONDED), -1);
    assert_int_equal(outlier_next(OUTLIER_PUBLISHED, OUTLIER_DEADLINE), -1);
    assert_int_equal(outlier_next(OUTLIER_CLOSED, OUTLIER_DEADLINE), -1);
    assert_int_equal(outlier_next(OUTLIER_TRUST_NOTIFIED, OUTLIER_FLAGGED), -1);
    for (int s = 0; s < OUTLIER_N_STATES; s++)
        assert_int_equal(outlier_state_parse(outlier_state_name(s)), s);
    assert_int_equal(outlier_state_parse("notified"), -1);
    assert_null(outlier_state_name(OUTLIER_N_STATES));
    assert_false(outlier_trust_sees(OUTLIER_DETECTED));
    assert_true(outlier_trust_sees(OUTLIER_TRUST_NOTIFIED));
    assert_true(outlier_trust_sees(OUTLIER_PUBLISHED));
    assert_true(outlier_open(OUTLIER_TRUST_RESPONDED));
    assert_false(outlier_open(OUTLIER_PUBLISHED));
}

static void test_stage_days(void **state)
{
    (void)state;
    audit_outliers_t cfg = {true, 5, 10, 3};
    assert_int_equal(outlier_stage_days(&cfg, OUTLIER_DETECTED), 5);
    assert_int_equal(outlier_stage_days(&cfg, OUTLIER_TRUST_NOTIFIED), 10);
    assert_int_equal(outlier_stage_days(&cfg, OUTLIER_TRUST_RESPONDED), 3);
    assert_int_equal(outlier_stage_days(&cfg, OUTLIER_PUBLISHED), -1);
    assert_int_equal(outlier_stage_days(&cfg, OUTLIER_CLOSED), -1);
}

static void test_working_days(void **state)
{
    (void)state;
    assert_int_equal(outlier_due(MONDAY, 0, 0), MONDAY);
    assert_int_equal(outlier_due(MONDAY, 1, 0), MONDAY + DAY);
    assert_int_equal(outlier_due(MONDAY, 4, 0), MONDAY + 4 * DAY); /* Friday */
    assert_int_equal(outlier_due(MONDAY, 5, 0), MONDAY + 7 * DAY); /* next Monday */
    assert_int_equal(outlier_due(MONDAY, 10, 0), MONDAY + 14 * DAY);
    /* Friday + 1 working day: Monday */
    assert_int_equal(outlier_due(MONDAY + 4 * DAY, 1, 0), MONDAY + 7 * DAY);
    /* a Saturday start counts from Monday 00:00 */
    long long monday0 = MONDAY - 10 * 3600;
    assert_int_equal(outlier_due(MONDAY + 5 * DAY, 0, 0), monday0 + 7 * DAY);
    assert_int_equal(outlier_due(MONDAY + 6 * DAY, 1, 0), monday0 + 8 * DAY);
    /* the test clock: days of day_seconds, no weekends */
    assert_int_equal(outlier_due(MONDAY + 5 * DAY, 3, 10), MONDAY + 5 * DAY + 30);
    assert_int_equal(outlier_due(MONDAY, 0, 10), MONDAY);
}

static void test_public_flag(void **state)
{
    (void)state;
    assert_string_equal(outlier_public_flag("alarm_high", false), "alert_high");
    assert_string_equal(outlier_public_flag("alarm_low", false), "alert_low");
    assert_string_equal(outlier_public_flag("alarm_high", true), "alarm_high");
    assert_string_equal(outlier_public_flag("alert_low", false), "alert_low");
    assert_string_equal(outlier_public_flag("in_control", false), "in_control");
    assert_string_equal(outlier_public_flag("", false), "");
    assert_true(outlier_flag_opens("alert_high"));
    assert_true(outlier_flag_opens("alarm_low"));
    assert_false(outlier_flag_opens("in_control"));
    assert_false(outlier_flag_opens(""));
}

/* ---------------------------------------------------------------- the definition */

/* The line of the definition's text where what a test adds to MINI_AUDIT_YAML starts. */
static int first_added_line(void)
{
    int n = 1;
    for (const char *c = MINI_AUDIT_YAML; *c; c++)
        n += *c == '\n';
    return n;
}

static char tmp_path[64];

static audit_def_t *load_with(const char *extra, char *err, size_t errlen)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/ncap_test_outl_XXXXXX.yaml");
    int fd = mkstemps(tmp_path, 5);
    assert_true(fd >= 0);
    char text[4096];
    int n = snprintf(text, sizeof text, "%s%s", MINI_AUDIT_YAML, extra);
    assert_int_equal(write(fd, text, (size_t)n), n);
    close(fd);
    audit_def_t *def = audit_def_load(tmp_path, err, errlen);
    unlink(tmp_path);
    return def;
}

/* MINI_AUDIT_YAML and extra must be refused at extra's line `line` (1: its first). */
static void refused(const char *extra, int line, const char *what)
{
    line += first_added_line() - 1;
    char err[1024] = "", want[1200];
    audit_def_t *def = load_with(extra, err, sizeof err);
    assert_null(def);
    snprintf(want, sizeof want, "%s:%d: %s", tmp_path, line, what);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("got \"%s\", expected it to start with \"%s\"", err, want);
}

static void test_definition(void **state)
{
    (void)state;
    char err[1024] = "";
    audit_def_t *def = load_with("", err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_false(def->outliers.enabled);
    audit_def_destroy(&def);
    def = load_with("outliers: {notify_within_days: 5, respond_within_days: 10,"
                    " publish_within_days: 0}\n",
                    err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_true(def->outliers.enabled);
    assert_int_equal(def->outliers.notify_within_days, 5);
    assert_int_equal(def->outliers.respond_within_days, 10);
    assert_int_equal(def->outliers.publish_within_days, 0);
    audit_def_destroy(&def);

    refused("outliers: [5]\n", 1, "\"outliers\" must be a mapping");
    refused("outliers:\n"
            "  notify_within_days: 5\n"
            "  respond_within_days: ten\n" /* 3 */
            "  publish_within_days: 5\n",
            3,
            "outliers: \"respond_within_days\" is \"ten\", expected a whole number from 0 to 250");
    refused("outliers: {notify_within_days: 5, respond_within_days: 251, publish_within_days: 1}\n",
            1,
            "outliers: \"respond_within_days\" is \"251\", expected a whole number from 0 to 250");
    refused("outliers: {notify_within_days: 5, respond_within_days: 10}\n", 1,
            "outliers: missing key \"publish_within_days\"");
    refused("outliers: {notify_within_days: 5, respond_within_days: 10, publish_within_days: 1,"
            " remind: 2}\n",
            1, "outliers: unknown key \"remind\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states_walk),  cmocka_unit_test(test_stage_days),
        cmocka_unit_test(test_working_days), cmocka_unit_test(test_public_flag),
        cmocka_unit_test(test_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
