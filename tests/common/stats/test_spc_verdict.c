/* test_spc_verdict.c - a change's verdict (spc_verdict.h) on series worked out by hand.
 *
 * Every series starts with the same baseline of 6 points, 10 12 10 12 10 12: mean 11, every
 * moving range 2 (none screened: 3.267 x 2 = 6.53), so the process limits are 11 -+ 2.66 x 2 =
 * 5.68 and 16.32, and two thirds of the way to them 11 -+ 3.5467 = 7.4533 and 14.5467. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "spc_verdict.h"

#define BASE 10, 12, 10, 12, 10, 12
#define N(a) (sizeof(a) / sizeof *(a))

static spc_verdict_result_t verdict(const double *v, size_t n, size_t change, spc_improvement_t imp)
{
    spc_verdict_result_t r;
    char err[256];
    assert_int_equal(spc_verdict(v, n, change, imp, &r, err, sizeof err), 0);
    return r;
}

static void test_the_baseline(void **state)
{
    (void)state;
    const double v[] = {BASE, 10, 12, 10, 12, 10, 12, 10};
    spc_verdict_result_t r = verdict(v, N(v), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.before, 6);
    assert_int_equal(r.after, 7);
    assert_true(r.has_limits);
    assert_true(fabs(r.mean - 11) < 1e-12);
    assert_true(fabs(r.lpl - 5.68) < 1e-12);
    assert_true(fabs(r.upl - 16.32) < 1e-12);
    /* the same process after the change: no rule fires */
    assert_int_equal(r.verdict, SPC_VERDICT_NO_CHANGE);
    assert_int_equal(r.cause, SPC_CAUSE_NONE);
    assert_string_equal(spc_verdict_name(r.verdict), "no change");
}

static void test_a_shift_after_the_change(void **state)
{
    (void)state;
    /* 7 points of 13: inside the limits, but all above the mean */
    const double up[] = {BASE, 13, 13, 13, 13, 13, 13, 13};
    spc_verdict_result_t r = verdict(up, N(up), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_IMPROVED);
    assert_int_equal(r.cause, SPC_CAUSE_SHIFT);
    assert_int_equal(r.signal_at, 6);
    /* the same points when lower is better */
    assert_int_equal(verdict(up, N(up), 6, SPC_IMPROVEMENT_DECREASE).verdict, SPC_VERDICT_WORSE);
    /* and for a metric with no better direction */
    assert_int_equal(verdict(up, N(up), 6, SPC_IMPROVEMENT_NEUTRAL).verdict, SPC_VERDICT_HIGHER);
    /* 7 points of 9, below: worse where higher is better */
    const double down[] = {BASE, 9, 9, 9, 9, 9, 9, 9};
    r = verdict(down, N(down), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_WORSE);
    assert_int_equal(r.cause, SPC_CAUSE_SHIFT);
    assert_int_equal(verdict(down, N(down), 6, SPC_IMPROVEMENT_NEUTRAL).verdict, SPC_VERDICT_LOWER);
}

static void test_no_run_begins_before_the_change(void **state)
{
    (void)state;
    /* the baseline's last three points above the mean and the first 6 after: 9 in a row across
     * the change, but only 6 after it, then one below: no shift */
    const double v[] = {10, 12, 10, 12, 12, 12, 13, 13, 13, 13, 13, 13, 10};
    spc_verdict_result_t r = verdict(v, N(v), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_NO_CHANGE);
}

static void test_a_point_outside_the_limits(void **state)
{
    (void)state;
    /* 17 > 16.32 at the third point after; nothing else: no run of 7, no two near a limit */
    const double v[] = {BASE, 12, 10, 17, 11, 10, 12, 11};
    spc_verdict_result_t r = verdict(v, N(v), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_IMPROVED);
    assert_int_equal(r.cause, SPC_CAUSE_OUTSIDE_LIMITS);
    assert_int_equal(r.signal_at, 2);
    /* 5 < 5.68 */
    const double low[] = {BASE, 12, 10, 5, 11, 10, 12, 11};
    r = verdict(low, N(low), 6, SPC_IMPROVEMENT_DECREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_IMPROVED);
    assert_int_equal(r.cause, SPC_CAUSE_OUTSIDE_LIMITS);
}

static void test_a_trend(void **state)
{
    (void)state;
    /* 9 ... 15: 6 rises, 7 points; not a shift (11 sits on the mean), 15 the only point beyond
     * 14.5467, so no two in three: the trend alone */
    const double v[] = {BASE, 9, 10, 11, 12, 13, 14, 15};
    spc_verdict_result_t r = verdict(v, N(v), 6, SPC_IMPROVEMENT_DECREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_WORSE);
    assert_int_equal(r.cause, SPC_CAUSE_TREND);
    assert_int_equal(r.signal_at, 6);
    /* one tie breaks it */
    const double tie[] = {BASE, 9, 10, 11, 11, 13, 14, 15};
    assert_int_equal(verdict(tie, N(tie), 6, SPC_IMPROVEMENT_DECREASE).verdict,
                     SPC_VERDICT_NO_CHANGE);
}

static void test_two_of_three_near_a_limit(void **state)
{
    (void)state;
    /* 15 and 15.5 beyond 14.5467 with 11.5 above the mean: the first two points flagged */
    const double v[] = {BASE, 15, 15.5, 11.5, 10, 12, 10, 12};
    spc_verdict_result_t r = verdict(v, N(v), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_IMPROVED);
    assert_int_equal(r.cause, SPC_CAUSE_TWO_IN_THREE);
    assert_int_equal(r.signal_at, 1);
    /* the third of the three below the mean: no signal */
    const double mixed[] = {BASE, 15, 15.5, 10.5, 10, 12, 10, 12};
    assert_int_equal(verdict(mixed, N(mixed), 6, SPC_IMPROVEMENT_INCREASE).verdict,
                     SPC_VERDICT_NO_CHANGE);
}

static void test_the_latest_signal_decides(void **state)
{
    (void)state;
    /* 5 below the lower limit first, then 7 points of 13 above the mean: improved now */
    const double v[] = {BASE, 5, 13, 13, 13, 13, 13, 13, 13};
    spc_verdict_result_t r = verdict(v, N(v), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_IMPROVED);
    assert_int_equal(r.cause, SPC_CAUSE_SHIFT);
    assert_int_equal(r.signal_at, 7);
    /* the other way round: a shift up, then a fall below the lower limit */
    const double w[] = {BASE, 13, 13, 13, 13, 13, 13, 13, 5};
    r = verdict(w, N(w), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_WORSE);
    assert_int_equal(r.cause, SPC_CAUSE_OUTSIDE_LIMITS);
}

static void test_pending_until_enough_points(void **state)
{
    (void)state;
    /* 6 points after: even a point far outside waits for the seventh */
    const double six[] = {BASE, 30, 13, 13, 13, 13, 13};
    spc_verdict_result_t r = verdict(six, N(six), 6, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_PENDING);
    assert_string_equal(spc_verdict_name(r.verdict), "pending");
    assert_int_equal(r.after, 6);
    /* 5 before: limits on too little */
    const double five[] = {10, 12, 10, 12, 10, 13, 13, 13, 13, 13, 13, 13};
    r = verdict(five, N(five), 5, SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(r.verdict, SPC_VERDICT_PENDING);
    assert_int_equal(r.before, 5);
}

static void test_bad_input(void **state)
{
    (void)state;
    const double v[] = {BASE, NAN, 13, 13, 13, 13, 13, 13};
    spc_verdict_result_t r;
    char err[256];
    assert_int_equal(spc_verdict(v, N(v), 6, SPC_IMPROVEMENT_INCREASE, &r, err, sizeof err), -1);
    assert_string_equal(err, "point 7 is not a finite number");
    assert_int_equal(spc_verdict(v, 6, 0, SPC_IMPROVEMENT_INCREASE, &r, err, sizeof err), -1);
    assert_string_equal(err, "the change is at point 1 of 6, expected 1-6");
    assert_int_equal(spc_verdict(v, 6, 7, SPC_IMPROVEMENT_INCREASE, &r, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_baseline),
        cmocka_unit_test(test_a_shift_after_the_change),
        cmocka_unit_test(test_no_run_begins_before_the_change),
        cmocka_unit_test(test_a_point_outside_the_limits),
        cmocka_unit_test(test_a_trend),
        cmocka_unit_test(test_two_of_three_near_a_limit),
        cmocka_unit_test(test_the_latest_signal_decides),
        cmocka_unit_test(test_pending_until_enough_points),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
