/* test_ci.c - the Wilson score interval, with values worked by hand from the formula
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
