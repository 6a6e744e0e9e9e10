/* test_recount.c - a count made whole now and then and estimated between (recount.h): when the
 * next whole count is due (every so often, and never more than a share of the time), and the
 * estimate between (the last count less the progress since, never below a floor). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "recount.h"

static void test_first_count_is_due_and_the_estimate_is_the_floor(void **state)
{
    (void)state;
    recount_t c = {0};
    assert_true(recount_due(&c, 0, 60000, 1));
    assert_int_equal(recount_estimate(&c, 500, 7), 7);
}

static void test_estimate_is_the_count_less_the_progress_since(void **state)
{
    (void)state;
    recount_t c = {0};
    /* 2,000,000 left when 300 had been processed */
    recount_made(&c, 2000000, 300, 1000, 1200);
    assert_int_equal(recount_estimate(&c, 300, 0), 2000000);
    assert_int_equal(recount_estimate(&c, 1300, 0), 1999000);
    /* never below the floor (the bounded count, or 0) */
    assert_int_equal(recount_estimate(&c, 2000300, 10000), 10000);
    assert_int_equal(recount_estimate(&c, 2000400, 0), 0);
}

static void test_due_every_so_often_and_at_most_a_share_of_the_time(void **state)
{
    (void)state;
    recount_t c = {0};
    /* a cheap count (200 ms): due a minute after the last began */
    recount_made(&c, 50, 0, 1000, 1200);
    assert_false(recount_due(&c, 60999, 60000, 1));
    assert_true(recount_due(&c, 61000, 60000, 1));
    /* a count of 2 s at most 1% of the time: 200 s after the last began, not 60 */
    recount_made(&c, 5000000, 0, 1000, 3000);
    assert_false(recount_due(&c, 61000, 60000, 1));
    assert_false(recount_due(&c, 200999, 60000, 1));
    assert_true(recount_due(&c, 201000, 60000, 1));
    /* without a share: every minute whatever it cost */
    assert_true(recount_due(&c, 61000, 60000, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_count_is_due_and_the_estimate_is_the_floor),
        cmocka_unit_test(test_estimate_is_the_count_less_the_progress_since),
        cmocka_unit_test(test_due_every_so_often_and_at_most_a_share_of_the_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
