/* test_outlier_gate.c - a release's alarms held back until their cases are published: which rows
 * change, to what, and that an audit without an outlier process is left as it is */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "outlier_gate.h"

static benchmark_row_t row(const char *level, const char *area, const char *metric,
                           const char *breakdown, const char *flag)
{
    return (benchmark_row_t){.level = level,
                             .area_code = (char *)area,
                             .metric = metric,
                             .breakdown = breakdown,
                             .outlier = flag,
                             .has_value = true,
                             .value = 0.3,
                             .lower998 = 0.2,
                             .upper998 = 0.4,
                             .has_funnel = true,
                             .funnel_lower998 = 0.5,
                             .funnel_upper998 = 0.7};
}

static void test_alarms_held_until_published(void **state)
{
    (void)state;
    benchmark_row_t rows[] = {
        row("england", "E92000001", "m", "all", ""),
        row("trust", "RAA", "m", "all", "alarm_low"),  /* held back */
        row("site", "RAA01", "m", "all", "alarm_low"), /* held back: its own case */
        row("trust", "RBB", "m", "all", "alarm_high"), /* published */
        row("trust", "RCC", "m", "all", "alert_high"), /* an alert: shown */
        row("trust", "RBB", "n", "all", "alarm_high"), /* another metric's case: held back */
        row("trust", "RAA", "m", "sex", ""),           /* a breakdown: left alone */
    };
    benchmark_release_t rel = {.rows = rows, .n_rows = sizeof rows / sizeof rows[0]};
    audit_def_t def = {.outliers = {true, 1, 10, 3}};
    outlier_unit_t published[] = {{"m", "trust", "RBB"}};
    outlier_gate_release(&def, &rel, published, 1);
    assert_string_equal(rows[0].outlier, "");
    assert_string_equal(rows[1].outlier, "alert_low");
    assert_true(isnan(rows[1].funnel_lower998) && isnan(rows[1].funnel_upper998));
    assert_true(isnan(rows[1].lower998) && isnan(rows[1].upper998));
    assert_true(rows[1].value == 0.3 && rows[1].has_funnel);
    assert_string_equal(rows[2].outlier, "alert_low");
    assert_string_equal(rows[3].outlier, "alarm_high");
    assert_true(rows[3].funnel_upper998 == 0.7 && rows[3].upper998 == 0.4);
    assert_string_equal(rows[4].outlier, "alert_high");
    /* a genuine alert has no 99.8% limits either: their absence does not mark a held alarm */
    assert_true(isnan(rows[4].funnel_upper998) && isnan(rows[4].upper998));
    assert_true(rows[0].funnel_upper998 == 0.7); /* England: no unit */
    assert_string_equal(rows[5].outlier, "alert_high");
    assert_true(rows[6].funnel_upper998 == 0.7 && rows[6].upper998 == 0.4);

    /* no process: nothing changes */
    benchmark_row_t plain = row("trust", "RAA", "m", "all", "alarm_low");
    benchmark_release_t one = {.rows = &plain, .n_rows = 1};
    audit_def_t none = {0};
    outlier_gate_release(&none, &one, NULL, 0);
    assert_string_equal(plain.outlier, "alarm_low");
    assert_true(plain.funnel_lower998 == 0.5);
}

static void test_unit_rows(void **state)
{
    (void)state;
    benchmark_row_t r = row("trust", "RAA", "m", "all", "in_control");
    assert_true(outlier_gate_unit_row(&r));
    r.breakdown = "sex";
    assert_false(outlier_gate_unit_row(&r));
    r = row("region", "Y56", "m", "all", "");
    assert_false(outlier_gate_unit_row(&r));
    r = row("site", "RAA01", "m", "all", "");
    r.has_funnel = false; /* suppressed, or a median */
    assert_false(outlier_gate_unit_row(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alarms_held_until_published),
        cmocka_unit_test(test_unit_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
