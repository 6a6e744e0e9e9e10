/* test_order_select.c - the order statistic selected is the one a sort gives, at every position,
 * on random values, ties, sorted and reversed arrays, and the two-step use of the SII's interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "order_select.h"
#include "rng.h"

/* a uniform double in [0, 1) */
static double unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* every position k of a copy of v[0..n) against the sorted copy, and the partition around it */
static void check_all_positions(const double *v, size_t n)
{
    double *sorted = malloc(n * sizeof *sorted), *a = malloc(n * sizeof *a);
    assert_non_null(sorted);
    assert_non_null(a);
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp);
    for (size_t k = 0; k < n; k++) {
        memcpy(a, v, n * sizeof *v);
        order_select(a, n, k);
        assert_true(a[k] == sorted[k]);
        for (size_t i = 0; i < k; i++)
            assert_true(a[i] <= a[k]);
        for (size_t i = k + 1; i < n; i++)
            assert_true(a[i] >= a[k]);
    }
    free(sorted);
    free(a);
}

static void test_every_position_as_a_sort(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, 7, 0);
    double v[257];
    for (size_t n = 1; n <= 257; n += 17) {
        for (size_t i = 0; i < n; i++)
            v[i] = unit(&r) * 2 - 1;
        check_all_positions(v, n);
        for (size_t i = 0; i < n; i++) /* many ties */
            v[i] = (double)(rng_next(&r) % 4);
        check_all_positions(v, n);
        for (size_t i = 0; i < n; i++) /* sorted, then reversed */
            v[i] = (double)i;
        check_all_positions(v, n);
        for (size_t i = 0; i < n; i++)
            v[i] = (double)(n - i);
        check_all_positions(v, n);
    }
}

static void test_two_order_statistics_as_the_sii_takes_them(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *a = malloc(N * sizeof *a), *sorted = malloc(N * sizeof *sorted);
    assert_non_null(a);
    assert_non_null(sorted);
    rng_t r;
    rng_seed(&r, 11, 0);
    for (size_t i = 0; i < N; i++)
        a[i] = sorted[i] = unit(&r);
    qsort(sorted, N, sizeof *sorted, cmp);
    order_select(a, N, 97500 - 1);
    order_select(a, 97500 - 1, 2500 - 1);
    assert_true(a[2500 - 1] == sorted[2500 - 1]);
    assert_true(a[97500 - 1] == sorted[97500 - 1]);
    free(a);
    free(sorted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_position_as_a_sort),
        cmocka_unit_test(test_two_order_statistics_as_the_sii_takes_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
