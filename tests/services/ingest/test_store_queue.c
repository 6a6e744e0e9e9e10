/* test_store_queue.c - the order finished uploads are stored in: one trust's (audit and trust's)
 * files one at a time and in the order they finished, other trusts' beside them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store_queue.h"

static int setup(void **state)
{
    *state = store_queue_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    store_queue_t *q = *state;
    store_queue_destroy(&q);
    assert_null(q);
    store_queue_destroy(&q); /* harmless twice */
    return 0;
}

static void test_one_trust_is_stored_one_file_at_a_time_in_order(void **state)
{
    store_queue_t *q = *state;
    int a1, a2, a3;
    assert_int_equal(store_queue_push(q, "nhfd/RH8", &a1), 0);
    assert_int_equal(store_queue_push(q, "nhfd/RH8", &a2), 0);
    assert_int_equal(store_queue_push(q, "nhfd/RH8", &a3), 0);
    assert_ptr_equal(store_queue_take(q), &a1);
    assert_null(store_queue_take(q)); /* a2 waits for a1 */
    assert_int_equal(store_queue_done(q, &a1), 0);
    assert_ptr_equal(store_queue_take(q), &a2);
    assert_null(store_queue_take(q));
    assert_int_equal(store_queue_done(q, &a2), 0);
    assert_ptr_equal(store_queue_take(q), &a3);
    assert_int_equal(store_queue_done(q, &a3), 0);
    assert_null(store_queue_take(q));
    assert_int_equal(store_queue_waiting(q), 0);
    assert_int_equal(store_queue_taken(q), 0);
}

static void test_other_trusts_go_past_a_busy_one(void **state)
{
    store_queue_t *q = *state;
    int a1, a2, b1, c1, b2;
    store_queue_push(q, "nhfd/RH8", &a1);
    store_queue_push(q, "nhfd/RH8", &a2);
    store_queue_push(q, "nhfd/RA1", &b1);
    store_queue_push(q, "nela/RH8", &c1); /* another audit of the same trust: other records */
    store_queue_push(q, "nhfd/RA1", &b2);
    assert_ptr_equal(store_queue_take(q), &a1);
    assert_ptr_equal(store_queue_take(q), &b1);
    assert_ptr_equal(store_queue_take(q), &c1);
    assert_null(store_queue_take(q)); /* a2 and b2 wait for a1 and b1 */
    assert_int_equal(store_queue_waiting(q), 2);
    assert_int_equal(store_queue_taken(q), 3);
    /* Finishing in another order frees each trust's next file, earliest first. */
    assert_int_equal(store_queue_done(q, &b1), 0);
    assert_ptr_equal(store_queue_take(q), &b2);
    assert_null(store_queue_take(q));
    assert_int_equal(store_queue_done(q, &a1), 0);
    assert_ptr_equal(store_queue_take(q), &a2);
    assert_int_equal(store_queue_taken(q), 3);
    assert_int_equal(store_queue_waiting(q), 0);
}

static void test_done_is_only_for_what_was_taken(void **state)
{
    store_queue_t *q = *state;
    int a1, other;
    store_queue_push(q, "nhfd/RH8", &a1);
    assert_int_equal(store_queue_done(q, &a1), -1); /* waiting, not taken */
    assert_ptr_equal(store_queue_take(q), &a1);
    assert_int_equal(store_queue_done(q, &other), -1);
    assert_int_equal(store_queue_done(q, &a1), 0);
    assert_int_equal(store_queue_done(q, &a1), -1);
}

static void test_take_back_gives_the_waiting_in_order_whatever_their_key(void **state)
{
    store_queue_t *q = *state;
    int a1, a2, b1;
    store_queue_push(q, "nhfd/RH8", &a1);
    store_queue_push(q, "nhfd/RH8", &a2);
    store_queue_push(q, "nhfd/RA1", &b1);
    assert_ptr_equal(store_queue_take(q), &a1);
    assert_ptr_equal(store_queue_take_back(q), &a2); /* its key is busy: still given back */
    assert_ptr_equal(store_queue_take_back(q), &b1);
    assert_null(store_queue_take_back(q));
    assert_int_equal(store_queue_taken(q), 1);
    /* The queue still works after the tail was taken back. */
    int b2;
    store_queue_push(q, "nhfd/RA1", &b2);
    assert_ptr_equal(store_queue_take(q), &b2);
}

static void test_a_key_too_long_is_refused(void **state)
{
    store_queue_t *q = *state;
    char key[STORE_QUEUE_KEY_MAX + 1];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    int a;
    assert_int_equal(store_queue_push(q, key, &a), -1);
    key[STORE_QUEUE_KEY_MAX - 1] = '\0'; /* the longest that fits */
    assert_int_equal(store_queue_push(q, key, &a), 0);
    assert_int_equal(store_queue_waiting(q), 1);
}

static void test_destroy_with_items_left_frees_the_queue_only(void **state)
{
    store_queue_t *q = store_queue_new();
    int a1, a2;
    store_queue_push(q, "nhfd/RH8", &a1);
    store_queue_push(q, "nhfd/RH8", &a2);
    assert_ptr_equal(store_queue_take(q), &a1);
    store_queue_destroy(&q); /* the sanitizer build checks nothing leaks */
    assert_null(q);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_trust_is_stored_one_file_at_a_time_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_trusts_go_past_a_busy_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_is_only_for_what_was_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_take_back_gives_the_waiting_in_order_whatever_their_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_key_too_long_is_refused, setup, teardown),
        cmocka_unit_test(test_destroy_with_items_left_frees_the_queue_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
