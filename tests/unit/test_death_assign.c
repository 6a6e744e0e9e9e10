/* test_death_assign.c - which death goes to which patient when deaths loaded later are compared
 * with the patients already held: one to one, the best weight wins, a patient keeps the death it
 * has, and a death moves only to a patient with a higher weight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "death_assign.h"

/* The patient chosen for death d among out[0..n), or 0. */
static int64_t patient_of(const death_pair_t *out, size_t n, int64_t d)
{
    for (size_t i = 0; i < n; i++)
        if (out[i].death_id == d)
            return out[i].patient_id;
    return 0;
}

static void test_best_weight_wins_one_to_one(void **state)
{
    (void)state;
    /* deaths 1 and 2 both fit patient 10 best; death 2 fits patient 11 too */
    death_pair_t cand[] = {{1, 10, 12.0}, {2, 10, 9.0}, {2, 11, 8.5}, {1, 11, 3.0}};
    death_pair_t out[4];
    size_t n = death_assign(cand, 4, NULL, 0, out);
    assert_int_equal(n, 2);
    assert_int_equal(patient_of(out, n, 1), 10);
    assert_int_equal(patient_of(out, n, 2), 11);
}

static void test_a_patient_keeps_the_death_it_has(void **state)
{
    (void)state;
    death_pair_t linked[] = {{5, 10, 20.0}};
    death_pair_t cand[] = {{1, 10, 1012.0}};
    death_pair_t out[1];
    assert_int_equal(death_assign(cand, 1, linked, 1, out), 0);
}

static void test_a_linked_death_moves_only_to_a_better_patient(void **state)
{
    (void)state;
    death_pair_t linked[] = {{1, 10, 9.0}};
    death_pair_t weaker[] = {{1, 11, 9.0}};
    death_pair_t out[2];
    assert_int_equal(death_assign(weaker, 1, linked, 1, out), 0);
    /* a deterministic link (NHS number and date of birth agree) outranks a probabilistic one;
     * patient 10 is free again and takes death 2 */
    death_pair_t better[] = {{1, 11, 1010.0}, {2, 10, 7.0}};
    size_t n = death_assign(better, 2, linked, 1, out);
    assert_int_equal(n, 2);
    assert_int_equal(patient_of(out, n, 1), 11);
    assert_int_equal(patient_of(out, n, 2), 10);
}

static void test_nothing_to_choose(void **state)
{
    (void)state;
    death_pair_t out[1];
    assert_int_equal(death_assign(NULL, 0, NULL, 0, out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_weight_wins_one_to_one),
        cmocka_unit_test(test_a_patient_keeps_the_death_it_has),
        cmocka_unit_test(test_a_linked_death_moves_only_to_a_better_patient),
        cmocka_unit_test(test_nothing_to_choose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
