/* test_sii.c - the slope index of inequality as phe_sii computes it for a proportion.
 *
 * The point estimate is checked against weighted least squares worked by hand (in exact rational
 * arithmetic for the longer example) and against a second, independent fit in the test: the
 * no-intercept regression of sqrt(a) y on sqrt(a) and b sqrt(a) that phe_sii hands to lm(), solved
 * here by Cramer's rule on its 2 x 2 normal equations in long double. For ranks b_i, the midpoints
 * of the shares a_i of [0, 1] laid end to end, the weighted mean rank sum a_i b_i is exactly 1/2
 * and the weighted spread S = sum a_i (b_i - 1/2)^2 = (1 - sum a_i^3) / 12 (the variance of a
 * uniform rank, 1/12, less each slice's own, a_i^2 / 12), so
 *     SII = sum a_i (b_i - 1/2) y_i / S.
 * The interval is checked for what a user relies on: it holds the estimate, it is the same for the
 * same seed, it narrows as populations grow, and it agrees with the delta method's normal
 * approximation where that is good (large groups). No published phe_sii result with its inputs in
 * text was found: the package's SII test data live in a spreadsheet (tests/testthat/
 * testdata_SII.xlsx) and its vignette's inputs in .rda data sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "assert_double.h"
#include "ci.h"
#include "sii.h"

#define SEED 20260101u

static sii_result_t run(const sii_group_t *g, size_t n, unsigned reps, uint64_t seed)
{
    char err[256] = "";
    sii_result_t r;
    if (sii_compute(g, n, reps, seed, &r, err, sizeof err) != 0) {
        print_error("sii_compute: %s\n", err);
        fail();
    }
    return r;
}

/* groups with Wilson 95% limits from x of n, as a release has them */
static void wilson_groups(const double *n, const double *x, size_t k, sii_group_t *g)
{
    for (size_t i = 0; i < k; i++) {
        g[i].population = n[i];
        g[i].value = x[i] / n[i];
        assert_int_equal(ci_wilson(x[i], n[i], NCAP_Z95, &g[i].lower95, &g[i].upper95), 0);
    }
}

/* The no-intercept fit phe_sii asks lm() for, solved directly: with u_i = sqrt(a_i),
 * v_i = b_i sqrt(a_i), w_i = y_i sqrt(a_i), the slope is
 * (Suu Svw - Suv Suw) / (Suu Svv - Suv^2). */
static double cramer_slope(const sii_group_t *g, size_t n)
{
    long double total = 0, cum = 0, suu = 0, suv = 0, svv = 0, suw = 0, svw = 0;
    for (size_t i = 0; i < n; i++)
        total += g[i].population;
    for (size_t i = 0; i < n; i++) {
        long double a = g[i].population / total, b = cum + a / 2;
        cum += a;
        long double u = sqrtl(a), v = b * u, w = g[i].value * u;
        suu += u * u;
        suv += u * v;
        svv += v * v;
        suw += u * w;
        svw += v * w;
    }
    return (double)((suu * svw - suv * suw) / (suu * svv - suv * suv));
}

/* Five groups of 1000, proportions 0.30 0.28 0.25 0.22 0.20 from the most deprived. a_i = 1/5,
 * b_i = 0.1 0.3 0.5 0.7 0.9, S = (1 - 5/125) / 12 = 0.08,
 * sum a (b - 1/2) y = 0.2 (-0.4 * 0.30 - 0.2 * 0.28 + 0 + 0.2 * 0.22 + 0.4 * 0.20) = -0.0104,
 * SII = -0.0104 / 0.08 = -0.13: 13 points lower at the least deprived end. */
static void test_equal_groups_by_hand(void **state)
{
    (void)state;
    static const double n[5] = {1000, 1000, 1000, 1000, 1000};
    static const double x[5] = {300, 280, 250, 220, 200};
    sii_group_t g[5];
    wilson_groups(n, x, 5, g);
    sii_result_t r = run(g, 5, SII_REPS_DEFAULT, SEED);
    assert_near(r.sii, -0.13, 1e-15);
    assert_near(cramer_slope(g, 5), -0.13, 1e-15);
    assert_true(r.lower95 < r.sii && r.sii < r.upper95);
    assert_true(r.upper95 < 0); /* a gradient this steep at n = 1000 is no chance */
}

/* The populations of phe_sii's own documentation example (Area1, deciles 1-10: 7291 7997 6105
 * 7666 5790 6934 5918 5974 7147 7534, total 68356) with its life expectancies over 100 as the
 * proportions (0.759 0.783 0.838 0.836 0.805 0.811 0.817 0.842 0.806 0.863). Worked in exact
 * rational arithmetic: ranks b = 0.053331 0.165157 0.268309 0.369039 0.467464 0.560536 0.654544
 * 0.741530 0.837505 0.944891 (to 6 places), S = (1 - sum a^3) / 12 = 26339884044797 /
 * 319396331262016 = 0.082467710072690660, sum a (b - 1/2) y = 0.0057729333063503950, SII =
 * 230481714833577 / 3292485505599625 = 0.070002347600798875. */
static void test_unequal_groups_exact(void **state)
{
    (void)state;
    static const double pop[10] = {7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534};
    static const double y[10] = {0.759, 0.783, 0.838, 0.836, 0.805,
                                 0.811, 0.817, 0.842, 0.806, 0.863};
    sii_group_t g[10];
    for (size_t i = 0; i < 10; i++) {
        g[i].population = pop[i];
        g[i].value = y[i];
        assert_int_equal(ci_wilson(y[i] * pop[i], pop[i], NCAP_Z95, &g[i].lower95, &g[i].upper95),
                         0);
    }
    sii_result_t r = run(g, 10, SII_REPS_DEFAULT, SEED);
    assert_close(r.sii, 0.070002347600798875, 1e-14);
    assert_close(cramer_slope(g, 10), 0.070002347600798875, 1e-14);
    assert_true(r.lower95 < r.sii && r.sii < r.upper95);
}

/* phe_sii's documentation on ranks: "If quantile 1 then contains 12 percent of the total
 * population, its relative rank is 0.12/2 [= 0.06]. If quantile 2 includes 10 percent of the
 * population, its relative rank is 0.12+(0.10/2)=0.17." With shares 12 10 20 18 40 percent the
 * ranks are 0.06 0.17 0.32 0.51 0.80; a value exactly 0.2 + 0.3 b on those ranks is a line whose
 * slope, the SII, is 0.3, and with ten million in each group the interval is narrow around it. */
static void test_linear_in_rank(void **state)
{
    (void)state;
    static const double share[5] = {12, 10, 20, 18, 40};
    static const double rank[5] = {0.06, 0.17, 0.32, 0.51, 0.80};
    sii_group_t g[5];
    for (size_t i = 0; i < 5; i++) {
        double n = share[i] * 1e6;
        g[i].population = n;
        g[i].value = 0.2 + 0.3 * rank[i];
        assert_int_equal(ci_wilson(g[i].value * n, n, NCAP_Z95, &g[i].lower95, &g[i].upper95), 0);
    }
    sii_result_t r = run(g, 5, SII_REPS_DEFAULT, SEED);
    assert_near(r.sii, 0.3, 1e-14);
    assert_true(r.lower95 < 0.3 && 0.3 < r.upper95);
    assert_true(r.upper95 - r.lower95 < 0.002);
}

/* The same line over ten deciles of uneven size: any affine value gives its slope back. */
static void test_linear_deciles(void **state)
{
    (void)state;
    static const double pop[10] = {41, 97, 12, 65, 30, 88, 7, 54, 23, 76};
    sii_group_t g[10];
    double total = 0, cum = 0;
    for (size_t i = 0; i < 10; i++)
        total += pop[i];
    for (size_t i = 0; i < 10; i++) {
        double a = pop[i] / total, b = cum + a / 2;
        cum += a;
        double n = pop[i] * 1e5;
        g[i].population = n;
        g[i].value = 0.65 - 0.4 * b;
        assert_int_equal(ci_wilson(g[i].value * n, n, NCAP_Z95, &g[i].lower95, &g[i].upper95), 0);
    }
    sii_result_t r = run(g, 10, SII_REPS_DEFAULT, SEED);
    assert_near(r.sii, -0.4, 1e-14);
    assert_true(r.lower95 < -0.4 && -0.4 < r.upper95);
    assert_true(r.upper95 - r.lower95 < 0.01);
}

/* Most deprived first: a proportion that rises from decile 1 to decile 10 has a positive SII,
 * and the groups given the other way round give its negative. */
static void test_sign_follows_order(void **state)
{
    (void)state;
    static const double n[10] = {900, 950, 1000, 1000, 1050, 1100, 1000, 980, 1020, 990};
    static const double x[10] = {180, 200, 230, 240, 270, 300, 290, 300, 330, 340};
    sii_group_t g[10], rev[10];
    wilson_groups(n, x, 10, g);
    for (size_t i = 0; i < 10; i++)
        rev[i] = g[9 - i];
    sii_result_t r = run(g, 10, SII_REPS_DEFAULT, SEED);
    sii_result_t q = run(rev, 10, SII_REPS_DEFAULT, SEED);
    assert_true(r.sii > 0 && r.lower95 > 0);
    assert_near(q.sii, -r.sii, 1e-15);
    assert_true(q.upper95 < 0);
    assert_near(q.lower95, -r.upper95, 0.1 * (r.upper95 - r.lower95));
}

/* Ten deciles of unequal sizes with their Wilson intervals: the groups test_reproducible pins the
 * bits of. */
static void deciles(sii_group_t g[10])
{
    static const double n[10] = {812, 1204, 990, 1433, 1010, 760, 1302, 1111, 640, 905};
    static const double x[10] = {97, 131, 102, 140, 93, 66, 109, 88, 50, 63};
    wilson_groups(n, x, 10, g);
}

/* Same groups, reps and seed: the same bits. Another seed: another draw of the same interval. */
static void test_reproducible(void **state)
{
    (void)state;
    sii_group_t g[10];
    deciles(g);
    sii_result_t a = run(g, 10, SII_REPS_DEFAULT, SEED);
    sii_result_t b = run(g, 10, SII_REPS_DEFAULT, SEED);
    assert_memory_equal(&a, &b, sizeof a);
    /* and what this build drew when it was written: a change to the generator, the draw order
     * or the percentiles moves these; another libm only their last digits */
    assert_close(a.sii, -0.048194148951724435, 1e-14);
    assert_close(a.lower95, -0.068095707407906506, 1e-12);
    assert_close(a.upper95, -0.028408781119150114, 1e-12);
    sii_result_t c = run(g, 10, SII_REPS_DEFAULT, SEED + 1);
    assert_memory_equal(&a.sii, &c.sii, sizeof a.sii);
    assert_true(a.lower95 != c.lower95 || a.upper95 != c.upper95);
    double w = a.upper95 - a.lower95;
    assert_near(c.lower95, a.lower95, 0.03 * w);
    assert_near(c.upper95, a.upper95, 0.03 * w);
    /* the smallest number of repetitions phe_sii allows works too */
    sii_result_t d = run(g, 10, SII_REPS_MIN, SEED);
    assert_true(d.lower95 < d.sii && d.sii < d.upper95);
}

/* The draws made once give what sii_compute draws itself, bit for bit, for any number of groups up
 * to the draws' (a decile without records leaves nine), and at phe_sii's smallest reps too. */
static void test_draws_same_bits(void **state)
{
    (void)state;
    sii_group_t g[10];
    deciles(g);
    static const unsigned reps[] = {SII_REPS_DEFAULT, SII_REPS_MIN};
    for (size_t k = 0; k < 2; k++) {
        sii_draws_t d;
        char err[256] = "";
        assert_int_equal(sii_draws_make(&d, 10, reps[k], SEED, err, sizeof err), 0);
        static const size_t sizes[] = {10, 9, 7, 2};
        for (size_t j = 0; j < 4; j++) {
            sii_result_t want = run(g, sizes[j], reps[k], SEED), got;
            assert_int_equal(sii_compute_draws(g, sizes[j], &d, &got, err, sizeof err), 0);
            assert_memory_equal(&got, &want, sizeof got);
        }
        /* more groups than the draws were made for: refused, not read past them */
        sii_group_t more[11];
        memcpy(more, g, sizeof g);
        more[10] = g[9];
        sii_result_t res;
        assert_int_equal(sii_compute_draws(more, 11, &d, &res, err, sizeof err), -1);
        assert_non_null(strstr(err, "11 groups, the draws were made for at most 10"));
        /* the groups are checked as sii_compute checks them */
        sii_group_t bad[2] = {g[0], g[1]};
        bad[1].lower95 = 0;
        assert_int_equal(sii_compute_draws(bad, 2, &d, &res, err, sizeof err), -1);
        assert_non_null(strstr(err, "group 2"));
        sii_draws_free(&d);
        assert_null(d.z);
    }
    sii_draws_t d;
    char err[256] = "";
    assert_int_equal(sii_draws_make(&d, 10, SII_REPS_MIN - 1, SEED, err, sizeof err), -1);
    assert_null(d.z);
    assert_non_null(strstr(err, "expected at least 1000"));
    sii_result_t res;
    assert_int_equal(sii_compute_draws(NULL, 0, &d, &res, err, sizeof err), -1);
    assert_non_null(strstr(err, "no draws made"));
}

/* A hundred times the people and the same proportions: the interval is about ten times narrower
 * (the standard errors fall as 1 / sqrt(n)), and each holds its estimate. */
static void test_narrows_with_population(void **state)
{
    (void)state;
    static const double n[10] = {500, 520, 480, 510, 495, 505, 530, 470, 515, 475};
    static const double p[10] = {0.42, 0.40, 0.41, 0.37, 0.36, 0.35, 0.33, 0.34, 0.30, 0.29};
    double x1[10], n100[10], x100[10];
    for (size_t i = 0; i < 10; i++) {
        x1[i] = p[i] * n[i];
        n100[i] = n[i] * 100;
        x100[i] = x1[i] * 100;
    }
    sii_group_t small[10], big[10];
    wilson_groups(n, x1, 10, small);
    wilson_groups(n100, x100, 10, big);
    sii_result_t s = run(small, 10, SII_REPS_DEFAULT, SEED);
    sii_result_t b = run(big, 10, SII_REPS_DEFAULT, SEED);
    assert_true(s.lower95 < s.sii && s.sii < s.upper95);
    assert_true(b.lower95 < b.sii && b.sii < b.upper95);
    double ratio = (s.upper95 - s.lower95) / (b.upper95 - b.lower95);
    assert_true(ratio > 8 && ratio < 12);
}

/* Where the groups are large the inverse logit is nearly linear over a draw's spread, so the SII,
 * a fixed combination sum k_i y_i of the values, is nearly normal with variance
 * sum k_i^2 (p_i (1 - p_i) se_i)^2 (the delta method), se_i the logit-scale standard error
 * (logit U_i - logit L_i) / (2 z). The simulated limits must sit 1.96 such deviations either side
 * of the estimate, to within the simulation's own noise (~1% at 100,000 repetitions) and the
 * little asymmetry left. */
static void test_agrees_with_delta_method(void **state)
{
    (void)state;
    static const double n[10] = {5200, 6100, 5800, 6400, 6900, 7100, 6600, 7300, 6800, 7500};
    static const double x[10] = {1560, 1708, 1566, 1600, 1587, 1562, 1386, 1460, 1292, 1350};
    sii_group_t g[10];
    wilson_groups(n, x, 10, g);
    sii_result_t r = run(g, 10, SII_REPS_DEFAULT, SEED);

    double total = 0, cum = 0, s = 0, var = 0;
    for (size_t i = 0; i < 10; i++)
        total += n[i];
    double b[10], a[10];
    for (size_t i = 0; i < 10; i++) {
        a[i] = n[i] / total;
        b[i] = cum + a[i] / 2;
        cum += a[i];
    }
    for (size_t i = 0; i < 10; i++)
        s += a[i] * (b[i] - 0.5) * (b[i] - 0.5);
    for (size_t i = 0; i < 10; i++) {
        double k = a[i] * (b[i] - 0.5) / s;
        double p = g[i].value;
        double se =
            (log(g[i].upper95 / (1 - g[i].upper95)) - log(g[i].lower95 / (1 - g[i].lower95))) /
            (2 * NCAP_Z95);
        double sd = p * (1 - p) * se;
        var += k * k * sd * sd;
    }
    double half = NCAP_Z95 * sqrt(var);
    assert_close(r.sii - r.lower95, half, 0.03);
    assert_close(r.upper95 - r.sii, half, 0.03);
}

static void expect_error(const sii_group_t *g, size_t n, unsigned reps, const char *want)
{
    char err[512] = "";
    sii_result_t r = {1, 2, 3};
    assert_int_equal(sii_compute(g, n, reps, SEED, &r, err, sizeof err), -1);
    if (!strstr(err, want)) {
        print_error("error \"%s\" does not say \"%s\"\n", err, want);
        fail();
    }
    /* out is left alone */
    assert_true(r.sii == 1 && r.lower95 == 2 && r.upper95 == 3);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const double n[5] = {1000, 1000, 1000, 1000, 1000};
    static const double x[5] = {300, 280, 250, 220, 200};
    sii_group_t good[5], g[5];
    wilson_groups(n, x, 5, good);

    expect_error(NULL, 5, SII_REPS_DEFAULT, "no groups");
    expect_error(good, 0, SII_REPS_DEFAULT, "0 groups, expected at least 2");
    expect_error(good, 1, SII_REPS_DEFAULT, "1 group, expected at least 2");
    expect_error(good, 5, 0, "0 repetitions, expected at least 1000");
    expect_error(good, 5, 999, "999 repetitions, expected at least 1000");

    memcpy(g, good, sizeof g);
    g[2].population = 0;
    expect_error(g, 5, SII_REPS_DEFAULT, "group 3: population 0, expected a finite number > 0");
    g[2].population = -5;
    expect_error(g, 5, SII_REPS_DEFAULT, "group 3: population -5");
    g[2].population = NAN;
    expect_error(g, 5, SII_REPS_DEFAULT, "group 3: population nan");
    g[2].population = INFINITY;
    expect_error(g, 5, SII_REPS_DEFAULT, "group 3: population inf");
    g[1].population = g[2].population = 1e308;
    expect_error(g, 5, SII_REPS_DEFAULT, "groups 1-3: the populations add up past");

    memcpy(g, good, sizeof g);
    g[4].value = NAN;
    expect_error(g, 5, SII_REPS_DEFAULT, "group 5: value nan, 95% interval");
    memcpy(g, good, sizeof g);
    g[0].upper95 = INFINITY;
    expect_error(g, 5, SII_REPS_DEFAULT, "expected finite numbers");

    memcpy(g, good, sizeof g);
    g[1].lower95 = g[1].value + 0.01;
    expect_error(g, 5, SII_REPS_DEFAULT, "group 2: value 0.28 lies outside its 95% interval 0.29-");
    memcpy(g, good, sizeof g);
    g[1].upper95 = g[1].value - 0.01;
    expect_error(g, 5, SII_REPS_DEFAULT, "expected lower95 <= value <= upper95");

    /* a numerator of 0, and one of the whole denominator: no logit */
    memcpy(g, good, sizeof g);
    g[3].value = 0;
    assert_int_equal(ci_wilson(0, 1000, NCAP_Z95, &g[3].lower95, &g[3].upper95), 0);
    expect_error(g, 5, SII_REPS_DEFAULT, "group 4: value 0 with 95% interval 0-");
    expect_error(g, 5, SII_REPS_DEFAULT, "logit scale");
    memcpy(g, good, sizeof g);
    g[3].value = 1;
    assert_int_equal(ci_wilson(1000, 1000, NCAP_Z95, &g[3].lower95, &g[3].upper95), 0);
    expect_error(g, 5, SII_REPS_DEFAULT, "expected 0 < lower95 and upper95 < 1");

    /* a short error buffer is cut, not overrun; none at all is allowed */
    char tiny[8];
    sii_result_t r;
    assert_int_equal(sii_compute(good, 1, SII_REPS_DEFAULT, SEED, &r, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), 7);
    assert_int_equal(sii_compute(good, 1, SII_REPS_DEFAULT, SEED, &r, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_groups_by_hand),
        cmocka_unit_test(test_unequal_groups_exact),
        cmocka_unit_test(test_linear_in_rank),
        cmocka_unit_test(test_linear_deciles),
        cmocka_unit_test(test_sign_follows_order),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_draws_same_bits),
        cmocka_unit_test(test_narrows_with_population),
        cmocka_unit_test(test_agrees_with_delta_method),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
