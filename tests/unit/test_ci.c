/* test_ci.c - confidence intervals. The Wilson score interval, with values worked by hand from
 * the formula
 *   lo, hi = (2x + z^2 -+ z*sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))
 * (intermediate values below carried to 20+ significant digits). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "ci.h"

#define EPS 1e-12

/* x = 81, n = 263, z = 1.959964 (95%):
 *   z^2 = 3.841458881296
 *   z^2 + 4x(1 - x/n) = 3.841458881296 + 324 * 182/263 = 3.841458881296 + 224.212927756654...
 *                     = 228.054386637950...; its square root is 15.101469684701220907...
 *   z * root = 29.598336929106...
 *   2x + z^2 = 165.841458881296;  2(n + z^2) = 533.682917762592
 *   lo = (165.841458881296 - 29.598336929106...) / 533.682917762592 = 0.25528851948901574755
 *   hi = (165.841458881296 + 29.598336929106...) / 533.682917762592 = 0.36620957745801942100
 * The observed 81/263 = 0.30798... lies inside, a little right of the centre. */
static void test_wilson_worked_95(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(81, 263, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 0.25528851948901574755, EPS);
    assert_float_equal(hi, 0.36620957745801942100, EPS);
}

/* The same counts at 99.8% (z = 3.090232): z^2 = 9.549533813824, root of
 * 9.549533813824 + 224.212927756654 = 15.289292382922042622,
 *   lo = (171.549533813824 - 47.247460579062...) / 545.099067627648 = 0.22803574729221811284
 *   hi = (171.549533813824 + 47.247460579062...) / 545.099067627648 = 0.40138941228632608864 */
static void test_wilson_worked_998_is_wider(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(81, 263, NCAP_Z998, &lo, &hi), 0);
    assert_float_equal(lo, 0.22803574729221811284, EPS);
    assert_float_equal(hi, 0.40138941228632608864, EPS);
}

/* x = 0: the root is sqrt(z^2) = z, so lo = (z^2 - z^2) / ... = 0 and
 * hi = 2z^2 / (2(n + z^2)) = z^2 / (n + z^2) = 3.841458881296 / 13.841458881296
 *    = 0.27753280302605771909 */
static void test_wilson_zero_successes(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(0, 10, NCAP_Z95, &lo, &hi), 0);
    assert_true(lo == 0.0);
    assert_float_equal(hi, 0.27753280302605771909, EPS);
}

/* x = n: 4x(1 - x/n) = 0, so lo = (2n + z^2 - z^2) / (2(n + z^2)) = n / (n + z^2)
 *    = 10 / 13.841458881296 = 0.72246719697394228091, and hi = (2n + 2z^2) / (2(n + z^2)) = 1 */
static void test_wilson_all_successes(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(10, 10, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 0.72246719697394228091, EPS);
    assert_true(hi == 1.0);
}

/* x = 1, n = 2: centred on 1/2. root = sqrt(3.841458881296 + 2) = 2.41691102055826622854,
 *   lo = (2 + 3.841458881296 - 1.959964 * 2.41691102055826622854) / 11.682917762592
 *      = 0.09453120463920079903, hi = 1 - lo = 0.90546879536079920097 */
static void test_wilson_half_is_symmetric(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(1, 2, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 0.09453120463920079903, EPS);
    assert_float_equal(hi, 0.90546879536079920097, EPS);
}

/* 5 deaths in 1000 at 99.8%: root = sqrt(9.549533813824 + 20 * 0.995) = 5.42674246798426947427,
 *   lo = (10 + 9.549533813824 - 3.090232 * 5.42674246798426947427) / 2019.099067627648
 *      = 0.00137667369970409108, hi = 0.01798793710841622229 */
static void test_wilson_rare_event(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_wilson(5, 1000, NCAP_Z998, &lo, &hi), 0);
    assert_float_equal(lo, 0.00137667369970409108, EPS);
    assert_float_equal(hi, 0.01798793710841622229, EPS);
}

/* Swapping successes and failures mirrors the interval: lo(x) = 1 - hi(n - x). */
static void test_wilson_mirror(void **state)
{
    (void)state;
    double lo1, hi1, lo2, hi2;
    assert_int_equal(ci_wilson(81, 263, NCAP_Z95, &lo1, &hi1), 0);
    assert_int_equal(ci_wilson(263 - 81, 263, NCAP_Z95, &lo2, &hi2), 0);
    assert_float_equal(lo1, 1 - hi2, EPS);
    assert_float_equal(hi1, 1 - lo2, EPS);
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

/* Byar, O = 20, z = 1.959964: 1/(9*20) = 0.0055556, z/(3*sqrt 20) = 1.959964/13.416407865 =
 * 0.1460873, lower = 20 (1 - 0.0055556 - 0.1460873)^3 = 20 * 0.8483571^3 = 12.211428785115904;
 * upper = 21 (1 - 1/189 + 1.959964/(3*sqrt 21))^3 = 21 * (1 - 0.0052910 + 0.1425659)^3
 *       = 30.889880460829430 (carried to 30 digits with mpmath). */
static void test_byar_worked(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_count_byar(20, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 12.2114287851159035, 1e-12);
    assert_float_equal(hi, 30.8898804608294301, 1e-12);
    /* O = 150 at 99.8%: 150 (1 - 1/1350 - 3.090232/(3 sqrt 150))^3 = 114.96708427102631,
     * 151 (1 - 1/1359 + 3.090232/(3 sqrt 151))^3 = 191.85423520784463 */
    assert_int_equal(ci_count(150, NCAP_Z998, &lo, &hi), 0);
    assert_float_equal(lo, 114.967084271026306, 1e-11);
    assert_float_equal(hi, 191.854235207844632, 1e-11);
}

/* Exact limits: with tail t = P(Z > 1.959964) = 0.024999999096442404 (the z of 95% rounded to 7
 * digits), lower = the lambda with P(Poisson(lambda) >= O) = t, upper = the lambda with
 * P(Poisson(lambda) <= O) = t, i.e. chi-square quantiles halved.
 *   O = 0: lower 0; e^-lambda = t, upper = -log t = 3.6888794902562408
 *   O = 1: 1 - e^-lambda = t, lower = -log(1 - t) = 0.025317807057564137;
 *          e^-lambda (1 + lambda) = t, upper = 5.5716434335680332 (solved with mpmath)
 *   O = 5: lower 1.6234863742897784, upper 11.668332137880561 (mpmath, summing the pmf) */
static void test_exact_count_worked(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_count(0, NCAP_Z95, &lo, &hi), 0);
    assert_true(lo == 0);
    assert_float_equal(hi, 3.6888794902562408, 1e-12);
    assert_int_equal(ci_count(1, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 0.025317807057564137, 1e-14);
    assert_float_equal(hi, 5.5716434335680332, 1e-12);
    assert_int_equal(ci_count_exact(5, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 1.6234863742897784, 1e-12);
    assert_float_equal(hi, 11.668332137880561, 1e-12);
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
    assert_float_equal(blo / elo, 1, 0.01);
    assert_float_equal(bhi / ehi, 1, 0.01);
}

/* A ratio is the count's interval divided by E: O = 5, E = 2.5 gives 1.6234863742897784 / 2.5
 * and 11.668332137880561 / 2.5. E = 0 has no interval. */
static void test_ratio(void **state)
{
    (void)state;
    double lo, hi;
    assert_int_equal(ci_ratio(5, 2.5, NCAP_Z95, &lo, &hi), 0);
    assert_float_equal(lo, 0.64939454971591136, 1e-12);
    assert_float_equal(hi, 4.6673328551522244, 1e-12);
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
        cmocka_unit_test(test_exact_count_worked),
        cmocka_unit_test(test_count_switches_at_ten),
        cmocka_unit_test(test_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
