/* test_array_grow.c - a growing array's room (array_grow.h): doubled until it holds what is
 * needed (never past a bound: array_grow_max), the new elements zeroed, nothing changed when it
 * fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "array_grow.h"

static void test_grows_and_zeroes(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(array_grow((void **)&v, &cap, 1, sizeof *v), 0);
    assert_int_equal(cap, 1);
    v[0] = 7;
    assert_int_equal(array_grow((void **)&v, &cap, 1, sizeof *v), 0); /* room already */
    assert_int_equal(cap, 1);
    assert_int_equal(array_grow((void **)&v, &cap, 5, sizeof *v), 0);
    assert_int_equal(cap, 8);
    assert_int_equal(v[0], 7);
    for (size_t i = 1; i < cap; i++)
        assert_int_equal(v[i], 0);
    /* one at a time: doublings only */
    size_t grew = 0, before = cap;
    for (size_t n = 9; n <= 1000; n++) {
        assert_int_equal(array_grow((void **)&v, &cap, n, sizeof *v), 0);
        grew += cap != before;
        before = cap;
    }
    assert_int_equal(cap, 1024);
    assert_int_equal(grew, 7);
    free(v);
}

static void test_overflow_leaves_it(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(array_grow((void **)&v, &cap, 4, sizeof *v), 0);
    int *was = v;
    assert_int_equal(array_grow((void **)&v, &cap, SIZE_MAX / 2, sizeof *v), -1);
    assert_ptr_equal(v, was);
    assert_int_equal(cap, 4);
    free(v);
}

static void test_bounded(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    /* doubled, the last doubling cut to the bound; past it refused */
    assert_int_equal(array_grow_cap(0, 1, 10), 1);
    assert_int_equal(array_grow_cap(8, 9, 10), 10);
    assert_int_equal(array_grow_cap(8, 8, 10), 8);
    assert_int_equal(array_grow_cap(10, 11, 10), 0);
    for (size_t n = 1; n <= 10; n++)
        assert_int_equal(array_grow_max((void **)&v, &cap, n, 10, sizeof *v), 0);
    assert_int_equal(cap, 10);
    v[9] = 3;
    assert_int_equal(array_grow_max((void **)&v, &cap, 11, 10, sizeof *v), -1);
    assert_int_equal(cap, 10);
    assert_int_equal(v[9], 3);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_and_zeroes),
        cmocka_unit_test(test_overflow_leaves_it),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
