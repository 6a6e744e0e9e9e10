/* test_trust_rate.c - the per-trust submission rate limit: a burst up to the limit, then refused
 * with the wait until the next, refilled over the window; trusts apart; no limit at 0; many trusts
 * do not grow it without bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "trust_rate.h"

static void test_a_burst_up_to_the_limit_then_the_wait_for_the_next(void **state)
{
    (void)state;
    trust_rate_t *r = trust_rate_new(5, 60); /* 5 per minute: one back every 12 s */
    assert_non_null(r);
    assert_int_equal(trust_rate_limit(r), 5);
    assert_int_equal(trust_rate_window(r), 60);
    for (int i = 0; i < 5; i++)
        assert_int_equal(trust_rate_take(r, "RA1", 1000), 0);
    assert_int_equal(trust_rate_take(r, "RA1", 1000), 12000);
    assert_int_equal(trust_rate_take(r, "RA1", 7000), 6000); /* a refusal takes nothing */
    /* another trust is not held back */
    assert_int_equal(trust_rate_take(r, "RB1", 7000), 0);
    /* one back after 12 s, and only one */
    assert_int_equal(trust_rate_take(r, "RA1", 13000), 0);
    assert_true(trust_rate_take(r, "RA1", 13000) > 0);
    /* a full window later, a full burst again, never more */
    for (int i = 0; i < 5; i++)
        assert_int_equal(trust_rate_take(r, "RA1", 1000000), 0);
    assert_true(trust_rate_take(r, "RA1", 1000000) > 0);
    trust_rate_destroy(&r);
    assert_null(r);
    trust_rate_destroy(&r);
}

static void test_no_limit_at_zero(void **state)
{
    (void)state;
    trust_rate_t *r = trust_rate_new(0, 60);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(trust_rate_take(r, "RA1", 1), 0);
    trust_rate_destroy(&r);
}

static void test_many_trusts_are_forgotten_once_their_bucket_is_full(void **state)
{
    (void)state;
    trust_rate_t *r = trust_rate_new(2, 1);
    char trust[16];
    /* RA1 empties its bucket; then far more trusts than kept pass by, each once */
    assert_int_equal(trust_rate_take(r, "RA1", 0), 0);
    assert_int_equal(trust_rate_take(r, "RA1", 0), 0);
    for (int i = 0; i < 3 * TRUST_RATE_MAX_TRUSTS; i++) {
        snprintf(trust, sizeof trust, "T%d", i);
        assert_int_equal(trust_rate_take(r, trust, 10), 0);
    }
    /* RA1, not full, was kept through the rebuilds: still limited 10 ms later */
    assert_true(trust_rate_take(r, "RA1", 10) > 0);
    trust_rate_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_burst_up_to_the_limit_then_the_wait_for_the_next),
        cmocka_unit_test(test_no_limit_at_zero),
        cmocka_unit_test(test_many_trusts_are_forgotten_once_their_bucket_is_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
