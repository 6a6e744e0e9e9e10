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

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

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

/* ---------------------------------------------------------------- kinds, held and missing */

static const char KINDS_YAML[] =
    "audit: kinds\nname: Kinds\ndataset_version: \"1\"\nrecord_key: id\ntrust_field: trust\n"
    "site_field: site\nperiod_field: seen\nopt_out_applies: false\n"
    "fields:\n"
    "  - {name: id, type: string}\n  - {name: trust, type: ods_code}\n"
    "  - {name: site, type: ods_code}\n  - {name: seen, type: date, required: true}\n"
    "  - {name: age, type: integer}\n  - {name: smoker, type: boolean}\n"
    "  - {name: died, type: boolean}\n  - {name: hours, type: decimal}\n"
    "linked:\n  - {name: deaths_covered_to, type: date}\n"
    "risk_models:\n"
    "  - id: lr\n    label: Logistic\n    kind: logistic\n    intercept: -2\n    terms:\n"
    "      - {expr: \"age - 60\", coefficient: 0.05}\n"
    "      - {expr: smoker, coefficient: 0.7, default: 0.25}\n"
    "  - id: pm\n    label: Poisson\n    kind: poisson\n    intercept: -1\n"
    "    terms: [{expr: \"ln(age)\", coefficient: 0.5}]\n"
    "metrics:\n"
    "  - {id: o_e, label: O/E, kind: ratio, denominator: \"true\", observed: died,\n"
    "     expected: risk(lr), follow_up_days: 30}\n"
    "  - {id: count, label: Count, kind: ratio, denominator: \"true\",\n"
    "     observed: \"if(died, 2, 0)\", expected: risk(pm)}\n"
    "  - {id: hours_median, label: Median, kind: median, denominator: \"true\", value: hours}\n"
    "  - {id: minutes_mean, label: Mean, kind: mean, denominator: \"true\", value: hours * 60}\n"
    "  - {id: crude, label: Crude, denominator: \"true\", numerator: died, follow_up_days: 30}\n";

static audit_def_t *kinds_def(void)
{
    char path[] = "/tmp/ncap_test_kinds_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, KINDS_YAML, strlen(KINDS_YAML)), (ssize_t)strlen(KINDS_YAML));
    close(fd);
    char err[512] = "";
    audit_def_t *def = audit_def_load(path, err, sizeof err);
    unlink(path);
    if (!def)
        fail_msg("%s", err);
    return def;
}

/* One record: each value NULL to leave it out. */
static void kinds(const audit_def_t *def, const char *age, const char *smoker, const char *died,
                  const char *hours, const char *covered, result_t *res)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "seen", "2026-01-10");
    const char *names[] = {"age", "smoker", "died", "hours", "deaths_covered_to"};
    const char *values[] = {age, smoker, died, hours, covered};
    for (size_t i = 0; i < 5; i++)
        if (values[i])
            ncap_record_set(r, names[i], values[i]);
    audit_def_t *d = (audit_def_t *)def;
    compute((void **)&d, r, res);
    ncap_record_destroy(&r);
}

static void test_ratio_expected_in_fixed_point(void **state)
{
    (void)state;
    audit_def_t *def = kinds_def();
    result_t res;
    kinds(def, "70", "Y", "Y", "2.5", "2026-12-31", &res);
    assert_int_equal(res.n, 5);
    const contribution_t *c = metric(&res, "o_e");
    assert_int_equal(c->numerator, 1);
    assert_int_equal(c->denominator, 1);
    assert_false(c->held || c->missing);
    assert_true(c->expected_e9 == llround(1e9 / (1 + exp(-(-2 + 0.05 * 10 + 0.7)))));
    c = metric(&res, "count"); /* poisson, a count observed */
    assert_int_equal(c->numerator, 2);
    assert_true(c->expected_e9 == llround(1e9 * exp(-1 + 0.5 * log(70))));
    c = metric(&res, "hours_median");
    assert_true(c->has_value && c->value == 2.5 && c->denominator == 1);
    c = metric(&res, "minutes_mean");
    assert_true(c->has_value && c->value == 150 && c->denominator == 1);
    assert_counts(&res, "crude", 1);
    /* a term with a default takes it when its input is missing */
    kinds(def, "70", NULL, "N", "2.5", "2026-12-31", &res);
    c = metric(&res, "o_e");
    assert_int_equal(c->numerator, 0);
    assert_true(c->expected_e9 == llround(1e9 / (1 + exp(-(-2 + 0.05 * 10 + 0.7 * 0.25)))));
    audit_def_destroy(&def);
}

static void test_missing_inputs_and_values(void **state)
{
    (void)state;
    audit_def_t *def = kinds_def();
    result_t res;
    /* no age: no expected value for either model; no hours: no value */
    kinds(def, NULL, "Y", "Y", NULL, "2026-12-31", &res);
    assert_int_equal(res.n, 5);
    const char *ids[] = {"o_e", "count", "hours_median", "minutes_mean"};
    for (size_t i = 0; i < 4; i++) {
        const contribution_t *c = metric(&res, ids[i]);
        assert_true(c->missing && !c->held);
        assert_int_equal(c->denominator, 0);
        assert_int_equal(c->numerator, 0);
        assert_true(c->expected_e9 == 0 && !c->has_value);
    }
    /* ln(0) has no value: missing, as a missing input */
    kinds(def, "0", "N", "N", "1", "2026-12-31", &res);
    assert_true(metric(&res, "count")->missing);
    assert_false(metric(&res, "o_e")->missing);
    audit_def_destroy(&def);
}

static void test_follow_up_held_until_the_register_covers_it(void **state)
{
    (void)state;
    audit_def_t *def = kinds_def();
    result_t res;
    /* seen 10 January: 30 days run to 9 February */
    const char *held[] = {NULL, "2026-01-10", "2026-02-08"};
    for (size_t i = 0; i < 3; i++) {
        kinds(def, "70", "Y", "Y", "2", held[i], &res);
        const char *ids[] = {"o_e", "crude"};
        for (size_t k = 0; k < 2; k++) {
            const contribution_t *c = metric(&res, ids[k]);
            assert_true(c->held && !c->missing);
            assert_int_equal(c->denominator, 0);
            assert_int_equal(c->numerator, 0);
        }
        /* the metrics without follow-up count */
        assert_int_equal(metric(&res, "count")->denominator, 1);
    }
    kinds(def, "70", "Y", "Y", "2", "2026-02-09", &res);
    assert_false(metric(&res, "o_e")->held);
    assert_int_equal(metric(&res, "o_e")->denominator, 1);
    assert_counts(&res, "crude", 1);
    audit_def_destroy(&def);
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
        cmocka_unit_test(test_ratio_expected_in_fixed_point),
        cmocka_unit_test(test_missing_inputs_and_values),
        cmocka_unit_test(test_follow_up_held_until_the_register_covers_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
