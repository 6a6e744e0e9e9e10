/* test_follow_up.c - the register's coverage on a record (follow_up.h), against the real NHFD
 * definition with mortality_30d followed up for 30 days: the stamp set, kept and taken away, and
 * the due date, the first coverage that completes a window the stamp left open (period day + 30,
 * whatever the time of day or the trust's date style), for one metric and for several. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "follow_up.h"
#include "nhfd_fixture.h"

/* No metric followed up: the tests set the follow-ups they need themselves (nhfd.yaml follows
 * mortality_30d and its risk-adjusted form up 30 days), so that they do not depend on the file. */
static void follow_none(audit_def_t *def)
{
    for (size_t i = 0; i < def->n_metrics; i++)
        def->metrics[i].follow_up_days = 0;
}

static audit_metric_t *follow(audit_def_t *def, const char *metric, int days)
{
    for (size_t i = 0; i < def->n_metrics; i++)
        if (strcmp(def->metrics[i].id, metric) == 0) {
            def->metrics[i].follow_up_days = days;
            return &def->metrics[i];
        }
    fail_msg("no metric %s", metric);
    return NULL;
}

static ncap_record_t *arriving(const char *arrival)
{
    ncap_record_t *rec = ncap_record_new();
    assert_non_null(rec);
    assert_int_equal(ncap_record_set(rec, "arrival_datetime", arrival), 0);
    return rec;
}

static const char *due_of(const audit_def_t *def, const ncap_record_t *rec, const char *covers,
                          char due[11])
{
    return follow_up_due(def, rec, covers, due) ? due : "none";
}

static void test_stamp(void **state)
{
    audit_def_t *def = *state;
    ncap_record_t *rec = arriving("2025-03-10T08:00");
    assert_int_equal(follow_up_stamp(def, rec, "2025-04-30"), 1);
    assert_string_equal(ncap_record_get(rec, FOLLOW_UP_COVERAGE_FIELD), "2025-04-30");
    assert_int_equal(follow_up_stamp(def, rec, "2025-04-30"), 0);
    assert_int_equal(follow_up_stamp(def, rec, "2025-05-31"), 1);
    assert_string_equal(ncap_record_get(rec, FOLLOW_UP_COVERAGE_FIELD), "2025-05-31");
    /* no register: no value */
    assert_int_equal(follow_up_stamp(def, rec, ""), 1);
    assert_null(ncap_record_get(rec, FOLLOW_UP_COVERAGE_FIELD));
    assert_int_equal(follow_up_stamp(def, rec, ""), 0);
    /* the checked record is a record of the audit: the linked field is one of its slots */
    assert_int_equal(follow_up_stamp(def, rec, "2025-04-30"), 1);
    char err[256];
    assert_int_equal(audit_def_check_record(def, rec, err, sizeof err), 0);
    ncap_record_destroy(&rec);
}

static void test_due_one_metric(void **state)
{
    audit_def_t *def = *state;
    follow_none(def);
    follow(def, "mortality_30d", 30);
    char due[11];
    ncap_record_t *rec = arriving("2025-03-10T23:59");
    /* the window of arrival day + 30 days: complete once the register covers 9 April */
    assert_string_equal(due_of(def, rec, "", due), "2025-04-09");
    assert_string_equal(due_of(def, rec, "2025-03-31", due), "2025-04-09");
    assert_string_equal(due_of(def, rec, "2025-04-08", due), "2025-04-09");
    assert_string_equal(due_of(def, rec, "2025-04-09", due), "none");
    assert_string_equal(due_of(def, rec, "2026-01-01", due), "none");
    ncap_record_destroy(&rec);
    /* a trust writing DD/MM/YYYY, and a date without a time */
    rec = arriving("10/03/2025 00:00");
    assert_string_equal(due_of(def, rec, "2025-04-01", due), "2025-04-09");
    ncap_record_destroy(&rec);
    rec = arriving("2024-12-31");
    assert_string_equal(due_of(def, rec, "", due), "2025-01-30");
    ncap_record_destroy(&rec);
    /* no period date, or not a date: nothing waits */
    rec = ncap_record_new();
    assert_string_equal(due_of(def, rec, "", due), "none");
    ncap_record_set(rec, "arrival_datetime", "2025-02-30T10:00");
    assert_string_equal(due_of(def, rec, "", due), "none");
    ncap_record_destroy(&rec);
    follow(def, "mortality_30d", 0);
}

static void test_due_several_metrics(void **state)
{
    audit_def_t *def = *state;
    follow_none(def);
    follow(def, "mortality_30d", 30);
    follow(def, "surgery_36h", 7);
    char due[11];
    ncap_record_t *rec = arriving("2025-03-10T08:00");
    /* the first window to complete, then the next */
    assert_string_equal(due_of(def, rec, "", due), "2025-03-17");
    assert_string_equal(due_of(def, rec, "2025-03-16", due), "2025-03-17");
    assert_string_equal(due_of(def, rec, "2025-03-17", due), "2025-04-09");
    assert_string_equal(due_of(def, rec, "2025-04-09", due), "none");
    ncap_record_destroy(&rec);
    follow(def, "surgery_36h", 0);
    follow(def, "mortality_30d", 0);
    /* no metric followed up: nothing waits */
    rec = arriving("2025-03-10T08:00");
    assert_string_equal(due_of(def, rec, "", due), "none");
    ncap_record_destroy(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_due_one_metric),
        cmocka_unit_test(test_due_several_metrics),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
