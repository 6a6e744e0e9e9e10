/* test_spc.c - XmR charts with the Making Data Count rules: the worked example of issue 5, each
 * rule alone on a series built for it, their precedence, improvement directions, assurance,
 * rebasing, fixed limits and screening. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "assert_double.h"
#include "spc.h"

#define MAXN 64

/* R: set.seed(123); rnorm(20) */
static const double rnorm20[20] = {
    -0.560475646552213, -0.23017748948328,  1.55870831414912,   0.070508391424576,
    0.129287735160946,  1.71506498688328,   0.460916205989202,  -1.26506123460653,
    -0.686852851893526, -0.445661970099958, 1.22408179743946,   0.359813827057364,
    0.400771450594052,  0.11068271594512,   -0.555841134754075, 1.78691313680308,
    0.497850478229239,  -1.96661715662964,  0.701355901563686,  -0.472791407727934};

typedef struct {
    spc_point_t p[MAXN];
    spc_summary_t s;
} chart_t;

static void chart(const double *y, size_t n, const spc_options_t *opts, chart_t *c)
{
    char err[256] = "";
    assert_true(n <= MAXN);
    int rc = spc_compute(y, n, opts, c->p, &c->s, err, sizeof err);
    if (rc != 0)
        fail_msg("spc_compute: %s", err);
}

/* One letter per point: '.' no special cause, 'O' outside_limits, 'T' trend, '2' two_in_three,
 * 'S' shift. */
static void causes_are(const chart_t *c, size_t n, const char *expected)
{
    char got[MAXN + 1];
    static const char letters[] = ".OT2S";
    for (size_t i = 0; i < n; i++)
        got[i] = letters[c->p[i].cause];
    got[n] = '\0';
    assert_string_equal(got, expected);
}

/* One letter per point: 'c' common_cause, 'I' improvement, 'C' concern, 'H' neutral high, 'L'
 * neutral low. */
static void types_are(const chart_t *c, size_t n, const char *expected)
{
    char got[MAXN + 1];
    static const char letters[] = "cICHL";
    for (size_t i = 0; i < n; i++)
        got[i] = letters[c->p[i].type];
    got[n] = '\0';
    assert_string_equal(got, expected);
}

#define N(a) (sizeof(a) / sizeof *(a))

static void points_equal(const spc_point_t *a, const spc_point_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].group, b[i].group);
        assert_near(a[i].mean, b[i].mean, 0);
        assert_int_equal(a[i].has_limits, b[i].has_limits);
        assert_near(a[i].lpl, b[i].lpl, 0);
        assert_near(a[i].upl, b[i].upl, 0);
        assert_int_equal(a[i].cause, b[i].cause);
        assert_int_equal(a[i].type, b[i].type);
    }
}

/* ---------- the worked example ---------- */

static void test_worked_example(void **state)
{
    (void)state;
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(rnorm20, 20, &o, &c);
    assert_near(c.s.mean, 0.1416238, 1e-6);
    assert_near(c.s.lpl, -3.01138, 1e-6);
    assert_near(c.s.upl, 3.294627, 1e-6);
    assert_true(c.s.has_limits);
    assert_int_equal(c.s.n, 20);
    for (size_t i = 0; i < 20; i++) {
        assert_near(c.p[i].mean, c.s.mean, 0);
        assert_near(c.p[i].lpl, c.s.lpl, 0);
        assert_near(c.p[i].upl, c.s.upl, 0);
        assert_int_equal(c.p[i].group, 0);
    }
    causes_are(&c, 20, "....................");
    types_are(&c, 20, "cccccccccccccccccccc");
    assert_int_equal(c.s.variation, SPC_COMMON_CAUSE);
}

static void test_worked_example_outlier_screened(void **state)
{
    (void)state;
    double y[20];
    memcpy(y, rnorm20, sizeof y);
    y[14] = 10;
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, 20, &o, &c);
    assert_near(c.s.mean, 0.6694159, 1e-6);
    assert_near(c.s.lpl, -2.383666, 1e-6);
    assert_near(c.s.upl, 3.722497, 1e-6);
    causes_are(&c, 20, "..............O.....");
    types_are(&c, 20, "ccccccccccccccIccccc");
}

static void test_screening_off_keeps_every_moving_range(void **state)
{
    (void)state;
    double y[20];
    memcpy(y, rnorm20, sizeof y);
    y[14] = 10;
    double mr = 0;
    for (size_t i = 1; i < 20; i++)
        mr += fabs(y[i] - y[i - 1]);
    mr /= 19;
    spc_options_t o;
    spc_options_init(&o);
    o.screen = false;
    chart_t c;
    chart(y, 20, &o, &c);
    assert_near(c.s.mean, 0.6694159, 1e-6);
    assert_near(c.s.lpl, c.s.mean - 2.66 * mr, 1e-12);
    assert_near(c.s.upl, c.s.mean + 2.66 * mr, 1e-12);
    /* the two moving ranges around 10 (10.56 and 8.21) are kept: upper limit 5.94, not 3.72 */
    assert_near(c.s.upl, 5.935457, 1e-6);
    causes_are(&c, 20, "..............O.....");

    /* screening on for the plain example changes nothing: no moving range is that large */
    chart_t on, off;
    spc_options_init(&o);
    chart(rnorm20, 20, &o, &on);
    o.screen = false;
    chart(rnorm20, 20, &o, &off);
    assert_near(on.s.upl, off.s.upl, 0);
}

/* ---------- each rule alone ---------- */

static void test_outside_limits(void **state)
{
    (void)state;
    /* 1,3 alternating (mean moving range 2 once the jump to 20 is screened out), then 20 */
    const double y[] = {1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 20};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_near(c.s.mean, 2.85, 1e-12);
    assert_near(c.s.lpl, 2.85 - 2.66 * 2, 1e-12);
    assert_near(c.s.upl, 2.85 + 2.66 * 2, 1e-12);
    causes_are(&c, N(y), "...................O");
    types_are(&c, N(y), "cccccccccccccccccccI");
    assert_int_equal(c.s.variation, SPC_SPECIAL_CAUSE_IMPROVEMENT);
}

static void test_outside_limits_is_strict(void **state)
{
    (void)state;
    /* limits fixed from 9,11,9,11: 10 -+ 5.32; a point on a limit is inside, a hair beyond is not
     */
    const double upl = 10 + 2.66 * 2, lpl = 10 - 2.66 * 2;
    const double y[] = {
        9, 11, 9, 11, upl, 10, lpl, 10, nextafter(upl, 100), 10, nextafter(lpl, -100)};
    spc_options_t o;
    spc_options_init(&o);
    o.fix_after = 4;
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_near(c.s.upl, upl, 0);
    assert_near(c.s.lpl, lpl, 0);
    causes_are(&c, N(y), "........O.O");
}

static void test_trend_increasing(void **state)
{
    (void)state;
    const double y[] = {5,   5.6, 5,   5.6, 5,   5.6, 4.7, 4.8, 4.9,
                        5.0, 5.1, 5.2, 5.3, 4.9, 5.6, 5,   5.6, 5};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    causes_are(&c, N(y), "......TTTTTTT.....");
    /* a rising trend is an improvement even where its points lie below the mean */
    types_are(&c, N(y), "ccccccIIIIIIIccccc");
}

static void test_trend_decreasing(void **state)
{
    (void)state;
    const double y[] = {5,   5.6, 5,   5.6, 5,   5.0, 5.3, 5.2, 5.1,
                        5.0, 4.9, 4.8, 4.7, 5.1, 5.6, 5,   5.6, 5};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    causes_are(&c, N(y), "......TTTTTTT.....");
    types_are(&c, N(y), "ccccccCCCCCCCccccc");
}

static void test_trend_needs_seven_and_a_tie_breaks_it(void **state)
{
    (void)state;
    /* 6 rising points only, then a tie in the middle of 7 */
    const double six[] = {5, 5.6, 5, 5.6, 4.7, 4.8, 4.9, 5.0, 5.1, 5.2, 4.9, 5.6, 5, 5.6};
    const double tie[] = {5, 5.6, 5, 5.6, 4.7, 4.8, 4.9, 4.9, 5.0, 5.1, 5.2, 4.9, 5.6, 5, 5.6};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(six, N(six), &o, &c);
    causes_are(&c, N(six), "..............");
    chart(tie, N(tie), &o, &c);
    causes_are(&c, N(tie), "...............");
}

static void test_two_in_three_above(void **state)
{
    (void)state;
    /* 15.8 and 16.2 lie beyond the near line (15.77) but inside the upper limit (17.91); 12.5
     * between them is above the mean and is not flagged */
    const double v[] = {10, 12, 10, 12, 10,   12,   10,   12, 10, 12, 10, 12,
                        10, 12, 10, 12, 15.8, 12.5, 16.2, 10, 12, 10, 12};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(v, N(v), &o, &c);
    double near = c.s.mean + (c.s.upl - c.s.mean) * 2 / 3;
    assert_true(v[16] > near && v[18] > near && v[16] < c.s.upl && v[18] < c.s.upl);
    assert_true(v[17] > c.s.mean && v[17] < near);
    causes_are(&c, N(v), "................2.2....");
    types_are(&c, N(v), "ccccccccccccccccIcIcccc");
}

static void test_two_in_three_below(void **state)
{
    (void)state;
    const double y[] = {12, 10, 12, 10, 12,  10,  12,  10, 12, 10, 12, 10,
                        12, 10, 12, 10, 6.2, 9.5, 5.8, 12, 10, 12, 10};
    spc_options_t o;
    spc_options_init(&o);
    o.improvement = SPC_IMPROVEMENT_DECREASE;
    chart_t c;
    chart(y, N(y), &o, &c);
    causes_are(&c, N(y), "................2.2....");
    types_are(&c, N(y), "ccccccccccccccccIcIcccc");
}

static void test_two_in_three_needs_all_three_on_one_side(void **state)
{
    (void)state;
    /* 16.3 and 16.5 are both near the upper limit, but 10.5 between them is below the mean */
    const double y[] = {10, 12, 10, 12, 10,   12,   10,   12, 10, 12, 10, 12,
                        10, 12, 10, 12, 16.3, 10.5, 16.5, 10, 12, 10, 12};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    double near = c.s.mean + (c.s.upl - c.s.mean) * 2 / 3;
    assert_true(y[16] > near && y[18] > near && y[17] < c.s.mean);
    causes_are(&c, N(y), ".......................");
}

static void test_shift(void **state)
{
    (void)state;
    /* mean exactly 10: seven 11s above it, seven 9s below it */
    const double y[] = {14, 6,  14, 6,  11, 11, 11, 11, 11, 11, 11,
                        6,  14, 6,  14, 9,  9,  9,  9,  9,  9,  9};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_near(c.s.mean, 10, 0);
    causes_are(&c, N(y), "....SSSSSSS....SSSSSSS");
    types_are(&c, N(y), "ccccIIIIIIIccccCCCCCCC");
}

static void test_point_on_the_mean_breaks_a_shift(void **state)
{
    (void)state;
    const double y[] = {14, 6,  14, 6,  11, 11, 11, 10, 11, 11, 11,
                        6,  14, 6,  14, 9,  9,  9,  10, 9,  9,  9};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_near(c.s.mean, 10, 0);
    causes_are(&c, N(y), "......................");
}

/* ---------- precedence: outside_limits, trend, two_in_three, shift ---------- */

static void test_precedence_outside_trend_shift(void **state)
{
    (void)state;
    /* 12 points below the mean (a shift), then a rising trend of 7 that starts below the mean
     * (trend beats shift) and ends beyond the upper limit (outside beats trend) */
    const double y[] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1.5, 2, 2.5, 3, 3.5, 4, 7};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_true(y[12] < c.s.mean && y[18] > c.s.upl);
    causes_are(&c, N(y), "SSSSSSSSSSSSTTTTTTO");
    types_are(&c, N(y), "CCCCCCCCCCCCIIIIIII");
}

static void test_precedence_two_in_three_over_shift(void **state)
{
    (void)state;
    const double y[] = {10, 12,   10,   12,   10,   12, 10, 12, 10, 12, 11.9,
                        12, 11.9, 15.3, 15.3, 11.9, 12, 10, 12, 10, 12, 10};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    causes_are(&c, N(y), ".........SSSS22SS.....");
}

static void test_precedence_trend_over_two_in_three(void **state)
{
    (void)state;
    /* 15.1 and 15.3 are near the upper limit with 12 before them; alone that is two_in_three,
     * but when they end a rising trend of 7 they are the trend's */
    const double flat[] = {10,   12, 10,   12, 10,   12,   10, 12, 10, 12, 10,
                           12.1, 11, 11.5, 12, 15.1, 15.3, 10, 12, 10, 12, 10};
    const double rising[] = {10,   12, 10,   12, 10,   12,   10, 12, 10, 12, 10,
                             10.5, 11, 11.5, 12, 15.1, 15.3, 10, 12, 10, 12, 10};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(flat, N(flat), &o, &c);
    causes_are(&c, N(flat), "...............22.....");
    chart(rising, N(rising), &o, &c);
    causes_are(&c, N(rising), "..........TTTTTTT.....");
}

/* ---------- improvement directions ---------- */

static void test_improvement_mappings(void **state)
{
    (void)state;
    const double y[] = {14, 6,  14, 6,  11, 11, 11, 11, 11, 11, 11,
                        6,  14, 6,  14, 9,  9,  9,  9,  9,  9,  9};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    o.improvement = SPC_IMPROVEMENT_INCREASE;
    chart(y, N(y), &o, &c);
    types_are(&c, N(y), "ccccIIIIIIIccccCCCCCCC");
    o.improvement = SPC_IMPROVEMENT_DECREASE;
    chart(y, N(y), &o, &c);
    types_are(&c, N(y), "ccccCCCCCCCccccIIIIIII");
    o.improvement = SPC_IMPROVEMENT_NEUTRAL;
    chart(y, N(y), &o, &c);
    types_are(&c, N(y), "ccccHHHHHHHccccLLLLLLL");
    assert_int_equal(c.s.variation, SPC_SPECIAL_CAUSE_NEUTRAL_LOW);
    /* the causes do not depend on the direction */
    causes_are(&c, N(y), "....SSSSSSS....SSSSSSS");

    spc_improvement_t imp;
    assert_int_equal(spc_improvement_parse("decrease", &imp), 0);
    assert_int_equal(imp, SPC_IMPROVEMENT_DECREASE);
    assert_int_equal(spc_improvement_parse("up", &imp), -1);
    assert_string_equal(spc_point_type_name(SPC_SPECIAL_CAUSE_NEUTRAL_HIGH),
                        "special_cause_neutral_high");
    assert_string_equal(spc_point_type_name(SPC_COMMON_CAUSE), "common_cause");
    assert_string_equal(spc_cause_name(SPC_CAUSE_TWO_IN_THREE), "two_in_three");
    assert_string_equal(spc_cause_name(SPC_CAUSE_NONE), "");
}

/* ---------- assurance ---------- */

static spc_assurance_t assurance(spc_improvement_t improvement, bool has_target, double target)
{
    /* limits 2.85 -+ 5.32: -2.47 to 8.17 */
    const double y[] = {1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 20};
    spc_options_t o;
    spc_options_init(&o);
    o.improvement = improvement;
    o.has_target = has_target;
    o.target = target;
    chart_t c;
    chart(y, N(y), &o, &c);
    return c.s.assurance;
}

static void test_assurance(void **state)
{
    (void)state;
    assert_int_equal(assurance(SPC_IMPROVEMENT_INCREASE, true, 9), SPC_ASSURANCE_CONSISTENT_FAIL);
    assert_int_equal(assurance(SPC_IMPROVEMENT_INCREASE, true, -3), SPC_ASSURANCE_CONSISTENT_PASS);
    assert_int_equal(assurance(SPC_IMPROVEMENT_INCREASE, true, 5), SPC_ASSURANCE_INCONSISTENT);
    assert_int_equal(assurance(SPC_IMPROVEMENT_DECREASE, true, 9), SPC_ASSURANCE_CONSISTENT_PASS);
    assert_int_equal(assurance(SPC_IMPROVEMENT_DECREASE, true, -3), SPC_ASSURANCE_CONSISTENT_FAIL);
    assert_int_equal(assurance(SPC_IMPROVEMENT_DECREASE, true, 0), SPC_ASSURANCE_INCONSISTENT);
    /* a target on a limit is within it */
    assert_int_equal(assurance(SPC_IMPROVEMENT_INCREASE, true, 2.85 + 2.66 * 2),
                     SPC_ASSURANCE_INCONSISTENT);
    assert_int_equal(assurance(SPC_IMPROVEMENT_NEUTRAL, true, 9), SPC_ASSURANCE_NONE);
    assert_int_equal(assurance(SPC_IMPROVEMENT_INCREASE, false, 9), SPC_ASSURANCE_NONE);
    assert_string_equal(spc_assurance_name(SPC_ASSURANCE_CONSISTENT_PASS), "consistent_pass");
    assert_string_equal(spc_assurance_name(SPC_ASSURANCE_NONE), "");
}

/* ---------- rebase and fixed limits ---------- */

static void test_rebase(void **state)
{
    (void)state;
    /* a step from around 10 to around 20 */
    const double y[] = {9, 11, 9, 11, 9, 11, 9, 11, 19, 21, 19, 21, 19, 21, 19, 21};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_near(c.s.mean, 15, 1e-12);
    for (size_t i = 0; i < N(y); i++)
        assert_int_not_equal(c.p[i].cause, SPC_CAUSE_NONE);

    const size_t rebase[] = {8};
    o.rebase = rebase;
    o.nrebase = 1;
    chart(y, N(y), &o, &c);
    for (size_t i = 0; i < N(y); i++) {
        assert_int_equal(c.p[i].group, i >= 8);
        assert_near(c.p[i].mean, i < 8 ? 10 : 20, 1e-12);
        assert_near(c.p[i].upl, (i < 8 ? 10 : 20) + 2.66 * 2, 1e-12);
    }
    causes_are(&c, N(y), "................");
    assert_near(c.s.mean, 20, 1e-12);
    assert_near(c.s.lpl, 20 - 5.32, 1e-12);

    /* rebasing at the first point, or twice at one point, changes nothing */
    const size_t twice[] = {8, 0, 8};
    o.rebase = twice;
    o.nrebase = 3;
    chart_t c2;
    chart(y, N(y), &o, &c2);
    points_equal(c.p, c2.p, N(y));
}

static void test_rules_do_not_cross_a_rebase(void **state)
{
    (void)state;
    /* 4 rising points before the rebase and 4 after: never a trend of 7 within one group */
    const double y[] = {5, 6, 5, 6, 5, 6, 1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 7, 8, 7};
    spc_options_t o;
    spc_options_init(&o);
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_int_equal(c.p[10].cause, SPC_CAUSE_TREND);
    const size_t rebase[] = {10};
    o.rebase = rebase;
    o.nrebase = 1;
    chart(y, N(y), &o, &c);
    for (size_t i = 6; i < 14; i++)
        assert_int_not_equal(c.p[i].cause, SPC_CAUSE_TREND);
}

static void test_fix_after(void **state)
{
    (void)state;
    /* limits from 9,11,9,11,9,11 (mean 10, moving range 2) held for the rest */
    const double y[] = {9, 11, 9, 11, 9, 11, 9, 11, 30, 11, 9, 11};
    spc_options_t o;
    spc_options_init(&o);
    o.fix_after = 6;
    chart_t c;
    chart(y, N(y), &o, &c);
    for (size_t i = 0; i < N(y); i++) {
        assert_near(c.p[i].mean, 10, 1e-12);
        assert_near(c.p[i].lpl, 10 - 5.32, 1e-12);
        assert_near(c.p[i].upl, 10 + 5.32, 1e-12);
    }
    causes_are(&c, N(y), "........O...");

    /* fix_after beyond the group is the whole group */
    o.fix_after = 100;
    chart_t all, plain;
    chart(y, N(y), &o, &all);
    spc_options_init(&o);
    chart(y, N(y), &o, &plain);
    points_equal(all.p, plain.p, N(y));

    /* with a rebase, each group is fixed after its own first points */
    const double z[] = {9, 11, 9, 11, 50, 19, 21, 19, 21, 0};
    const size_t rebase[] = {5};
    spc_options_init(&o);
    o.fix_after = 4;
    o.rebase = rebase;
    o.nrebase = 1;
    chart(z, N(z), &o, &c);
    assert_near(c.p[4].mean, 10, 1e-12);
    assert_near(c.p[9].mean, 20, 1e-12);
    assert_near(c.p[9].upl, 25.32, 1e-12);
    causes_are(&c, N(z), "....O....O");
    types_are(&c, N(z), "ccccIccccC");
}

/* ---------- edge cases ---------- */

static void test_all_values_equal(void **state)
{
    (void)state;
    const double y[] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
    spc_options_t o;
    spc_options_init(&o);
    o.has_target = true;
    o.target = 5;
    chart_t c;
    chart(y, N(y), &o, &c);
    assert_true(c.s.has_limits);
    assert_near(c.s.mean, 4, 0);
    assert_near(c.s.lpl, 4, 0);
    assert_near(c.s.upl, 4, 0);
    causes_are(&c, N(y), "............");
    types_are(&c, N(y), "cccccccccccc");
    assert_int_equal(c.s.assurance, SPC_ASSURANCE_CONSISTENT_FAIL);
    o.screen = false;
    chart(y, N(y), &o, &c);
    assert_near(c.s.upl, 4, 0);
}

static void test_one_and_two_points(void **state)
{
    (void)state;
    const double one[] = {7};
    spc_options_t o;
    spc_options_init(&o);
    o.has_target = true;
    o.target = 100;
    chart_t c;
    chart(one, 1, &o, &c);
    assert_false(c.s.has_limits);
    assert_false(c.p[0].has_limits);
    assert_near(c.s.mean, 7, 0);
    assert_int_equal(c.p[0].type, SPC_COMMON_CAUSE);
    assert_int_equal(c.s.assurance, SPC_ASSURANCE_NONE);
    assert_int_equal(c.s.n, 1);

    const double two[] = {7, 9};
    chart(two, 2, &o, &c);
    assert_true(c.s.has_limits);
    assert_near(c.s.mean, 8, 0);
    assert_near(c.s.upl, 8 + 2.66 * 2, 1e-12);
    causes_are(&c, 2, "..");
    assert_int_equal(c.s.assurance, SPC_ASSURANCE_CONSISTENT_FAIL);

    /* a rebase at the last point leaves a group of one */
    const double three[] = {7, 9, 20};
    const size_t rebase[] = {2};
    o.rebase = rebase;
    o.nrebase = 1;
    chart(three, 3, &o, &c);
    assert_true(c.p[1].has_limits);
    assert_false(c.p[2].has_limits);
    assert_near(c.p[2].mean, 20, 0);
    assert_false(c.s.has_limits);
}

static void test_errors(void **state)
{
    (void)state;
    spc_options_t o;
    spc_options_init(&o);
    spc_point_t p[4];
    char err[256];
    const double y[] = {1, 2, NAN, 4};
    assert_int_equal(spc_compute(y, 0, &o, p, NULL, err, sizeof err), -1);
    assert_int_equal(spc_compute(y, 4, &o, p, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "point 3"));
    const size_t rebase[] = {4};
    o.rebase = rebase;
    o.nrebase = 1;
    assert_int_equal(spc_compute(y, 2, &o, p, NULL, err, sizeof err), -1);
    assert_string_equal(err, "rebase at point 5 is beyond the series (2 points)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_worked_example_outlier_screened),
        cmocka_unit_test(test_screening_off_keeps_every_moving_range),
        cmocka_unit_test(test_outside_limits),
        cmocka_unit_test(test_outside_limits_is_strict),
        cmocka_unit_test(test_trend_increasing),
        cmocka_unit_test(test_trend_decreasing),
        cmocka_unit_test(test_trend_needs_seven_and_a_tie_breaks_it),
        cmocka_unit_test(test_two_in_three_above),
        cmocka_unit_test(test_two_in_three_below),
        cmocka_unit_test(test_two_in_three_needs_all_three_on_one_side),
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_point_on_the_mean_breaks_a_shift),
        cmocka_unit_test(test_precedence_outside_trend_shift),
        cmocka_unit_test(test_precedence_two_in_three_over_shift),
        cmocka_unit_test(test_precedence_trend_over_two_in_three),
        cmocka_unit_test(test_improvement_mappings),
        cmocka_unit_test(test_assurance),
        cmocka_unit_test(test_rebase),
        cmocka_unit_test(test_rules_do_not_cross_a_rebase),
        cmocka_unit_test(test_fix_after),
        cmocka_unit_test(test_all_values_equal),
        cmocka_unit_test(test_one_and_two_points),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
