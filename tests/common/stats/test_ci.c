/* test_ci.c - confidence intervals. The Wilson score interval, with values worked from the
 * formula
 *   lo, hi = (2x + z^2 -+ z*sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))
 * with z = Phi^-1(0.975) = 1.95996398454005423552 and Phi^-1(0.999) = 3.09023230616781354154
 * (intermediate values below carried to 20 significant digits, in 60-digit decimal arithmetic;
 * Phi from its everywhere-convergent series x phi(x) sum x^2n / (3*5*...*(2n+1)), inverted by
 * bisection). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "assert_double.h"
#include "ci.h"

#define EPS 1e-12

/* x = 81, n = 263 at 95%:
 *   z^2 = 3.8414588206941259584
 *   z^2 + 4x(1 - x/n) = 3.84145882069412... + 324 * 182/263 = 3.84145882069412... +
 *                       224.212927756653992...; its square root is 15.101469682694731628
 *   lo = (2x + z^2 - z * root) / (2(n + z^2)) = 0.25528851987827422577
 *   hi = (2x + z^2 + z * root) / (2(n + z^2)) = 0.36620957698280007015
 * The observed 81/263 = 0.30798... lies inside, a little right of the centre. */
static void test_wilson_worked_95(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(81, 263, NCAP_Z95, &lo, &hi), 0);
    assert_near(lo, 0.25528851987827422577, EPS);
    assert_near(hi, 0.36620957698280007015, EPS);
}

/* The same counts at 99.8%: z^2 = 9.5495357060832432909, root of z^2 + 224.212927756653992...
 * = 15.289292444803887513,
 *   lo = 0.22803574024200475675, hi = 0.40138942190936961045 */
static void test_wilson_worked_998_is_wider(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(81, 263, NCAP_Z998, &lo, &hi), 0);
    assert_near(lo, 0.22803574024200475675, EPS);
    assert_near(hi, 0.40138942190936961045, EPS);
}

/* x = 0: the root is sqrt(z^2) = z, so lo = (z^2 - z^2) / ... = 0 and
 * hi = 2z^2 / (2(n + z^2)) = z^2 / (n + z^2) = 3.8414588206941259584 / 13.8414588206941259584
 *    = 0.27753279986288925272 */
static void test_wilson_zero_successes(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(0, 10, NCAP_Z95, &lo, &hi), 0);
    assert_true(lo == 0.0);
    assert_near(hi, 0.27753279986288925272, EPS);
}

/* x = n: 4x(1 - x/n) = 0, so lo = (2n + z^2 - z^2) / (2(n + z^2)) = n / (n + z^2)
 *    = 10 / 13.8414588206941259584 = 0.72246720013711074728, and hi = (2n + 2z^2) / (2(n + z^2)) =
 * 1 */
static void test_wilson_all_successes(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(10, 10, NCAP_Z95, &lo, &hi), 0);
    assert_near(lo, 0.72246720013711074728, EPS);
    assert_true(hi == 1.0);
}

/* x = 1, n = 2: centred on 1/2. root = sqrt(z^2 + 2) = 2.4169110080212150745,
 *   lo = (2 + z^2 - z * root) / (2(2 + z^2)) = 0.09453120573423071311,
 *   hi = 1 - lo = 0.90546879426576928689 */
static void test_wilson_half_is_symmetric(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(1, 2, NCAP_Z95, &lo, &hi), 0);
    assert_near(lo, 0.09453120573423071311, EPS);
    assert_near(hi, 0.90546879426576928689, EPS);
}

/* 5 deaths in 1000 at 99.8%: root = sqrt(9.5495357060832432909 + 20 * 0.995)
 *   = 5.4267426423300417362, lo = 0.00137667354457865807, hi = 0.01798793910160537963 */
static void test_wilson_rare_event(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(5, 1000, NCAP_Z998, &lo, &hi), 0);
    assert_near(lo, 0.00137667354457865807, EPS);
    assert_near(hi, 0.01798793910160537963, EPS);
}

/* Swapping successes and failures mirrors the interval: lo(x) = 1 - hi(n - x). */
static void test_wilson_mirror(void **state)
{
    (void)state;
    double lo1, hi1, lo2, hi2;
    assert_int_equal(ci_wilson(81, 263, NCAP_Z95, &lo1, &hi1), 0);
    assert_int_equal(ci_wilson(263 - 81, 263, NCAP_Z95, &lo2, &hi2), 0);
    assert_near(lo1, 1 - hi2, EPS);
    assert_near(hi1, 1 - lo2, EPS);
}

static void test_wilson_rejects_impossible_counts(void **state)
{
    (void)state;
    double lo = 0, hi = 0;
    assert_int_equal(ci_wilson(0, 0, NCAP_Z95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
    lo = hi = 0;
    assert_int_equal(ci_wilson(1, -5, NCAP_Z95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
    lo = hi = 0;
    assert_int_equal(ci_wilson(-1, 10, NCAP_Z95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
    lo = hi = 0;
    assert_int_equal(ci_wilson(11, 10, NCAP_Z95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
    lo = hi = 0;
    assert_int_equal(ci_wilson(NAN, 10, NCAP_Z95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
}

/* ---- counts and observed/expected ratios: exact (chi-square) limits below 10, Byar above ---- */

/* Byar, O = 20 at 95%: lower = 20 (1 - 1/180 - z/(3 sqrt 20))^3 = 12.211428834875932119;
 * upper = 21 (1 - 1/189 + z/(3 sqrt 21))^3 = 30.889880369197063878 (60-digit decimal). */
static void test_byar_worked(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_count_byar(20, NCAP_Z95, &lo, &hi), 0);
    assert_close(lo, 12.211428834875932119, 1e-14);
    assert_close(hi, 30.889880369197063878, 1e-14);
    /* O = 150 at 99.8%: 150 (1 - 1/1350 - z/(3 sqrt 150))^3 = 114.96708113056584110,
     * 151 (1 - 1/1359 + z/(3 sqrt 151))^3 = 191.85423962128881816 */
    assert_int_equal(ci_count(150, NCAP_Z998, &lo, &hi), 0);
    assert_close(lo, 114.96708113056584110, 1e-14);
    assert_close(hi, 191.85423962128881816, 1e-14);
}

/* Exact limits at tail t (0.025 for 95%, 0.001 for 99.8%): lower = the lambda with
 * P(Poisson(lambda) >= O) = t, upper = the lambda with P(Poisson(lambda) <= O) = t, which are the
 * chi-square quantiles ncap computes, halved. Closed forms where the Poisson sums are one term:
 *   O = 0: e^-lambda = t, upper = -log t: -log 0.025 = 3.6888794541139363029,
 *          -log 0.001 = 6.9077552789821370521
 *   O = 1: 1 - e^-lambda = t, lower = -log(1 - t): -log 0.975 = 0.025317807984289875404,
 *          -log 0.999 = 0.0010005003335835335001 */
static void test_exact_count_closed_forms(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_count(0, NCAP_Z95, &lo, &hi), 0);
    assert_true(lo == 0);
    assert_close(hi, 3.6888794541139363029, 1e-14);
    assert_int_equal(ci_count(0, NCAP_Z998, &lo, &hi), 0);
    assert_true(lo == 0);
    assert_close(hi, 6.9077552789821370521, 1e-14);
    assert_int_equal(ci_count(1, NCAP_Z95, &lo, &hi), 0);
    assert_close(lo, 0.025317807984289875404, 1e-14);
    assert_int_equal(ci_count(1, NCAP_Z998, &lo, &hi), 0);
    assert_close(lo, 0.0010005003335835335001, 1e-14);
}

/* Every whole count below 10 at both levels, against limits found independently: bisection on
 * the Poisson CDF sum e^-lambda lambda^k / k! (k <= O for the upper limit, k < O for the lower)
 * in 60-digit decimal arithmetic, 250 halvings from [0, 200]. */
static void test_exact_count_table(void **state)
{
    (void)state;
    static const double want[2][10][2] = {{{0, 3.6888794541139363029e+0},
                                           {2.5317807984289875404e-2, 5.5716433909388985972e+0},
                                           {2.4220927854396490290e-1, 7.2246876677239608150e+0},
                                           {6.1867212289560128657e-1, 8.7672730697423260397e+0},
                                           {1.0898653736263248753e+0, 1.0241588675403698276e+1},
                                           {1.6234863901184205381e+0, 1.1668332079322669631e+1},
                                           {2.2018942534908508117e+0, 1.3059474022518685391e+1},
                                           {2.8143630515198660794e+0, 1.4422675361702379412e+1},
                                           {3.4538321767485012874e+0, 1.5763189220193315224e+1},
                                           {4.1153730973783324328e+0, 1.7084803451419170312e+1}},
                                          {{0, 6.9077552789821370521e+0},
                                           {1.0005003335835335001e-3, 9.2334134764515857304e+0},
                                           {4.5402017769489556821e-2, 1.1228872242412662630e+1},
                                           {1.9053337756840319061e-1, 1.3062240779188070737e+1},
                                           {4.2855241362842297238e-1, 1.4794149222537209397e+1},
                                           {7.3937173191783251683e-1, 1.6454745203680106607e+1},
                                           {1.1071046602556393490e+0, 1.8061636840199069892e+1},
                                           {1.5203362603988090767e+0, 1.9626177395384238007e+1},
                                           {1.9708139217403657789e+0, 2.1156198165839983010e+1},
                                           {2.4524244043637749276e+0, 2.2657373309062930742e+1}}};
    static const double z[2] = {NCAP_Z95, NCAP_Z998};
    for (int level = 0; level < 2; level++)
        for (int o = 0; o < 10; o++) {
            double lo, hi;
            assert_int_equal(ci_count_exact(o, z[level], &lo, &hi), 0);
            assert_close(lo, want[level][o][0], 1e-13);
            assert_close(hi, want[level][o][1], 1e-13);
        }
    /* A count need not be whole (an expected-count adjustment can make it 9.5): there the limits
     * are gamma quantiles, P(9.5, lower) = t and Q(10.5, upper) = t, solved with mpmath's
     * regularised incomplete gamma at 50 digits: 4.4532582409939862672, 17.73943795286362721. */
    double lo, hi;
    assert_int_equal(ci_count_exact(9.5, NCAP_Z95, &lo, &hi), 0);
    assert_close(lo, 4.4532582409939862672, 1e-13);
    assert_close(hi, 17.73943795286362721, 1e-13);
}

/* Exact below 10, Byar from 10: at O = 9.5 the exact limits are used, at 10 Byar's; the two
 * agree to about 1% there, so the switch is not a jump a reader would notice. */
static void test_count_switches_at_ten(void **state)
{
    (void)state;
    double lo, hi, elo, ehi, blo, bhi;
    ci_count(9.5, NCAP_Z95, &lo, &hi);
    ci_count_exact(9.5, NCAP_Z95, &elo, &ehi);
    assert_true(lo == elo && hi == ehi);
    ci_count(10, NCAP_Z95, &lo, &hi);
    ci_count_byar(10, NCAP_Z95, &blo, &bhi);
    assert_true(lo == blo && hi == bhi);
    ci_count_exact(10, NCAP_Z95, &elo, &ehi);
    assert_near(blo / elo, 1, 0.01);
    assert_near(bhi / ehi, 1, 0.01);
}

/* A ratio is the count's interval divided by E: O = 5, E = 2.5 gives 1.6234863901184205381 / 2.5
 * and 11.668332079322669631 / 2.5. E = 0 has no interval. */
static void test_ratio(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_ratio(5, 2.5, NCAP_Z95, &lo, &hi), 0);
    assert_close(lo, 0.64939455604736821524, 1e-13);
    assert_close(hi, 4.6673328317290678524, 1e-13);
    assert_int_equal(ci_ratio(5, 0, NCAP_Z95, &lo, &hi), -1);
    assert_true(isnan(lo) && isnan(hi));
    assert_int_equal(ci_ratio(-1, 3, NCAP_Z95, &lo, &hi), -1);
    assert_int_equal(ci_count(NAN, NCAP_Z95, &lo, &hi), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson_worked_95),
        cmocka_unit_test(test_wilson_worked_998_is_wider),
        cmocka_unit_test(test_wilson_zero_successes),
        cmocka_unit_test(test_wilson_all_successes),
        cmocka_unit_test(test_wilson_half_is_symmetric),
        cmocka_unit_test(test_wilson_rare_event),
        cmocka_unit_test(test_wilson_mirror),
        cmocka_unit_test(test_wilson_rejects_impossible_counts),
        cmocka_unit_test(test_byar_worked),
        cmocka_unit_test(test_exact_count_closed_forms),
        cmocka_unit_test(test_exact_count_table),
        cmocka_unit_test(test_count_switches_at_ten),
        cmocka_unit_test(test_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
