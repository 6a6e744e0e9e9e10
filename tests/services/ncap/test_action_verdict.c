/* test_action_verdict.c - an action's verdict from a release's spc.csv (action_verdict.h): the
 * trust's shown months of the metric, split at the first month after the action (a hidden month,
 * with no value, skipped; other trusts' and metrics' rows ignored), judged as spc_verdict judges
 * them (its own rules are tested in tests/common/stats/test_spc_verdict.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "action_verdict.h"

#define HEAD                                                                                       \
    "audit,metric,level,area_code,month,numerator,denominator,value,mean,lpl,upl,special_cause,"   \
    "point_type\n"
#define ROW(metric, unit, month, value)                                                            \
    "nhfd," metric ",trust," unit "," month ",1,2," value ",,,,,\n"

/* RAA's m1: 2025-01..06 alternate 0.10/0.12 (mean 0.11, limits 0.0568-0.1632), a hidden month
 * (2025-07, no value), then 2025-08..2026-02 at 0.13: 7 shown months above the mean. */
/* clang-format off */
static const char spc[] = HEAD
    ROW("m1", "RAA", "2025-01", "0.10")
    ROW("m1", "RAA", "2025-02", "0.12")
    ROW("m1", "RAA", "2025-03", "0.10")
    ROW("m1", "RAA", "2025-04", "0.12")
    ROW("m1", "RAA", "2025-05", "0.10")
    ROW("m1", "RAA", "2025-06", "0.12")
    ROW("m1", "RAA", "2025-07", "")
    ROW("m1", "RAA", "2025-08", "0.13")
    ROW("m1", "RAA", "2025-09", "0.13")
    ROW("m1", "RAA", "2025-10", "0.13")
    ROW("m1", "RAA", "2025-11", "0.13")
    ROW("m1", "RAA", "2025-12", "0.13")
    ROW("m1", "RAA", "2026-01", "0.13")
    ROW("m1", "RAA", "2026-02", "0.13")
    ROW("m1", "RBB", "2025-08", "0.01")
    ROW("m2", "RAA", "2025-08", "0.01");
/* clang-format on */

static spc_verdict_result_t verdict(const char *text, const char *metric, const char *trust,
                                    const char *date, spc_improvement_t imp)
{
    spc_verdict_result_t v;
    char err[256] = "";
    if (action_verdict(text, metric, trust, date, imp, &v, err, sizeof err) != 0) {
        print_error("action_verdict: %s\n", err);
        fail();
    }
    return v;
}

static void test_the_months_after_the_action(void **state)
{
    (void)state;
    /* the 15th of July: July stays before (hidden anyway), August on is after */
    spc_verdict_result_t v = verdict(spc, "m1", "RAA", "2025-07-15", SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(v.before, 6);
    assert_int_equal(v.after, 7);
    assert_int_equal(v.verdict, SPC_VERDICT_IMPROVED);
    assert_int_equal(v.cause, SPC_CAUSE_SHIFT);
    assert_int_equal(verdict(spc, "m1", "RAA", "2025-07-15", SPC_IMPROVEMENT_DECREASE).verdict,
                     SPC_VERDICT_WORSE);
    /* from the 1st of August: the same split */
    v = verdict(spc, "m1", "RAA", "2025-08-01", SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(v.before, 6);
    assert_int_equal(v.after, 7);
    /* from the 2nd of August: August is before, 6 after: pending */
    v = verdict(spc, "m1", "RAA", "2025-08-02", SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(v.before, 7);
    assert_int_equal(v.after, 6);
    assert_int_equal(v.verdict, SPC_VERDICT_PENDING);
}

static void test_pending_without_months_on_both_sides(void **state)
{
    (void)state;
    spc_verdict_result_t v = verdict(spc, "m1", "RAA", "2026-06-01", SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(v.verdict, SPC_VERDICT_PENDING);
    assert_int_equal(v.before, 13);
    assert_int_equal(v.after, 0);
    v = verdict(spc, "m1", "RAA", "2024-06-01", SPC_IMPROVEMENT_INCREASE);
    assert_int_equal(v.verdict, SPC_VERDICT_PENDING);
    assert_int_equal(v.after, 13);
    v = verdict(spc, "m1", "RCC", "2025-07-15", SPC_IMPROVEMENT_INCREASE); /* no months */
    assert_int_equal(v.verdict, SPC_VERDICT_PENDING);
    assert_int_equal(v.before + v.after, 0);
    v = verdict("", "m1", "RAA", "2025-07-15", SPC_IMPROVEMENT_INCREASE); /* no release yet */
    assert_int_equal(v.verdict, SPC_VERDICT_PENDING);
}

static void test_bad_input(void **state)
{
    (void)state;
    spc_verdict_result_t v;
    char err[256];
    assert_int_equal(action_verdict(spc, "m1", "RAA", "15/07/2025", SPC_IMPROVEMENT_INCREASE, &v,
                                    err, sizeof err),
                     -1);
    assert_string_equal(err, "action date \"15/07/2025\" is not a date YYYY-MM-DD");
    assert_int_equal(action_verdict(HEAD ROW("m1", "RAA", "2025-01", "x"), "m1", "RAA",
                                    "2025-07-15", SPC_IMPROVEMENT_INCREASE, &v, err, sizeof err),
                     -1);
    assert_string_equal(err, "spc.csv line 2: value \"x\" is not a number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_months_after_the_action),
        cmocka_unit_test(test_pending_without_months_on_both_sides),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
