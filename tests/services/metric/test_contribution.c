/* test_contribution.c - what one valid NHFD record adds to the published figures: its quarter,
 * and for each key metric whether it is in the denominator and meets the standard */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nhfd_fixture.h"

#include <stdio.h>
#include <string.h>

#include "audit_def.h"
#include "contribution.h"

/* A valid record with the times that matter; NULL leaves a time out. */
static ncap_record_t *record(const char *arrival, const char *surgery, const char *ortho)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "local_record_id", "HF-0001");
    ncap_record_set(r, "trust_code", "RR8");
    ncap_record_set(r, "site_code", "RR801");
    ncap_record_set(r, "sex", "2");
    if (arrival)
        ncap_record_set(r, "arrival_datetime", arrival);
    if (surgery)
        ncap_record_set(r, "surgery_datetime", surgery);
    if (ortho)
        ncap_record_set(r, "orthogeriatric_assessment_datetime", ortho);
    ncap_record_set(r, "age_at_arrival", "85");
    ncap_record_set(r, "age_band", "80-89");
    /* the register of deaths covers every follow-up of these records */
    ncap_record_set(r, "deaths_covered_to", "2030-12-31");
    return r;
}

typedef struct {
    char period[8];
    char month[8];
    int n;
    contribution_t c[8];
} result_t;

static void compute(void **state, const ncap_record_t *rec, result_t *res)
{
    const audit_def_t *def = *state;
    assert_true(def->n_metrics <= 8);
    char err[256] = "";
    memset(res, 0, sizeof *res);
    res->n = contribution_compute(def, rec, res->period, res->month, res->c, err, sizeof err);
    if (res->n < 0)
        fail_msg("contribution_compute failed: %s", err);
}

static const contribution_t *metric(const result_t *res, const char *id)
{
    for (int i = 0; i < res->n; i++)
        if (strcmp(res->c[i].metric_id, id) == 0)
            return &res->c[i];
    return NULL;
}

/* Expects the record in the denominator of metric id, meeting the standard or not. */
static void assert_counts(const result_t *res, const char *id, int numerator)
{
    const contribution_t *c = metric(res, id);
    if (!c)
        fail_msg("record not in the denominator of \"%s\"", id);
    assert_int_equal(c->denominator, 1);
    assert_int_equal(c->numerator, numerator);
}

static void check(void **state, const char *arrival, const char *surgery, const char *ortho,
                  const char *period, int n, int surgery_36h, int ortho_72h)
{
    ncap_record_t *rec = record(arrival, surgery, ortho);
    result_t res;
    compute(state, rec, &res);
    ncap_record_destroy(&rec);
    assert_string_equal(res.period, period);
    /* n of the timing metrics, and 30-day mortality: every record placed in a period, none died
     * (no death linked); an operated record is in the adjusted mortality (its ASA grade missing)
     * and the median hours to surgery too */
    assert_int_equal(res.n, period[0] ? n + 1 + (surgery_36h >= 0 ? 2 : 0) : 0);
    if (period[0])
        assert_counts(&res, "mortality_30d", 0);
    if (surgery_36h >= 0)
        assert_counts(&res, "surgery_36h", surgery_36h);
    else
        assert_null(metric(&res, "surgery_36h"));
    if (ortho_72h >= 0)
        assert_counts(&res, "ortho_72h", ortho_72h);
    else
        assert_null(metric(&res, "ortho_72h"));
}

static void test_operated_within_both_standards(void **state)
{
    check(state, "2026-01-10T08:00", "2026-01-11T09:00", "2026-01-10T15:00", "2026Q1", 2, 1, 1);
}

static void test_surgery_at_exactly_36_hours_is_in(void **state)
{
    check(state, "2026-01-10T08:00", "2026-01-11T20:00", NULL, "2026Q1", 2, 1, 0);
    check(state, "2026-01-10T08:00", "2026-01-11T20:00:00", NULL, "2026Q1", 2, 1, 0);
}

static void test_surgery_a_minute_or_second_after_36_hours_is_out(void **state)
{
    check(state, "2026-01-10T08:00", "2026-01-11T20:01", NULL, "2026Q1", 2, 0, 0);
    check(state, "2026-01-10T08:00", "2026-01-11T20:00:01", NULL, "2026Q1", 2, 0, 0);
}

static void test_orthogeriatric_assessment_at_exactly_72_hours(void **state)
{
    check(state, "2026-01-10T08:00", NULL, "2026-01-13T08:00", "2026Q1", 1, -1, 1);
    check(state, "2026-01-10T08:00", NULL, "2026-01-13T08:01", "2026Q1", 1, -1, 0);
}

static void test_not_operated_counts_only_for_ortho_72h(void **state)
{
    /* no surgery: not in the surgery denominator at all (not a failure against it) */
    check(state, "2026-01-10T08:00", NULL, "2026-01-11T08:00", "2026Q1", 1, -1, 1);
    check(state, "2026-01-10T08:00", "", NULL, "2026Q1", 1, -1, 0);
}

static void test_uk_style_dates(void **state)
{
    /* 10 January, not 1 October: 36 hours exactly, in the first quarter */
    check(state, "10/01/2026 08:00", "11/01/2026 20:00", "13/01/2026 08:00", "2026Q1", 2, 1, 1);
    check(state, "10/01/2026 08:00", "11/01/2026 20:01", "13/01/2026 08:01", "2026Q1", 2, 0, 0);
    /* 1 April: the second quarter; a mix of styles in one record */
    check(state, "01/04/2026 10:00", "2026-04-02 22:00", NULL, "2026Q2", 2, 1, 0);
}

static void test_quarter_from_arrival(void **state)
{
    check(state, "2026-03-31T23:59", "2026-04-01T10:00", NULL, "2026Q1", 2, 1, 0);
    check(state, "2026-04-01T00:00", NULL, NULL, "2026Q2", 1, -1, 0);
    check(state, "2026-06-30T23:59", NULL, NULL, "2026Q2", 1, -1, 0);
    check(state, "2026-07-01T00:00", NULL, NULL, "2026Q3", 1, -1, 0);
    check(state, "2026-09-30T12:00", NULL, NULL, "2026Q3", 1, -1, 0);
    check(state, "2026-10-01T12:00", NULL, NULL, "2026Q4", 1, -1, 0);
    /* arrived on New Year's Eve, operated in the new year: counted in the quarter of arrival */
    check(state, "2025-12-31T22:00", "2026-01-01T09:00", NULL, "2025Q4", 2, 1, 0);
}

static void test_quarter_of_uk_clock_time_with_offset(void **state)
{
    /* 00:30 on 1 April, British Summer Time, is 1 April in the UK: the second quarter. */
    check(state, "2026-04-01T00:30+01:00", NULL, NULL, "2026Q2", 1, -1, 0);
}

static void test_36_hours_of_clock_time_whichever_way_written(void **state)
{
    /* the same two moments, 36 hours apart on the ward clock in summer; one system appends the
     * offset, the other does not (nhfd.yaml: no offset means UK clock time). */
    check(state, "2026-06-01T08:00+01:00", "2026-06-02T20:00", NULL, "2026Q2", 2, 1, 0);
}

static void test_no_arrival_no_period_no_contribution(void **state)
{
    check(state, NULL, "2026-01-11T09:00", NULL, "", 0, -1, -1);
    check(state, "", "2026-01-11T09:00", NULL, "", 0, -1, -1);
    check(state, "not a date", "2026-01-11T09:00", NULL, "", 0, -1, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operated_within_both_standards),
        cmocka_unit_test(test_surgery_at_exactly_36_hours_is_in),
        cmocka_unit_test(test_surgery_a_minute_or_second_after_36_hours_is_out),
        cmocka_unit_test(test_orthogeriatric_assessment_at_exactly_72_hours),
        cmocka_unit_test(test_not_operated_counts_only_for_ortho_72h),
        cmocka_unit_test(test_uk_style_dates),
        cmocka_unit_test(test_quarter_from_arrival),
        cmocka_unit_test(test_quarter_of_uk_clock_time_with_offset),
        cmocka_unit_test(test_36_hours_of_clock_time_whichever_way_written),
        cmocka_unit_test(test_no_arrival_no_period_no_contribution),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
