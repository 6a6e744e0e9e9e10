/* test_death_assign.c - which death goes to which patient when deaths loaded later are compared
 * with the patients already held: one to one, the best weight wins, a patient keeps the death it
 * has, and a death moves only to a patient with a higher weight; and when a record's patient is
 * compared with the deaths sharing its NHS number or date of birth (death_choose). */
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

static link_ident_t ident(const char *nhs, const char *fn, const char *sn, const char *dob)
{
    link_ident_t id;
    link_ident_from_values(nhs, fn, sn, dob, "f", "LS1 4AP", &id);
    return id;
}

static void test_a_patient_gets_the_death_that_fits_best(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t ids[] = {ident("", "mary", "smith", "1940-05-12"),
                          ident("", "john", "jones", "1951-01-30")};
    int64_t patients[] = {10, 11};
    death_held_t deaths[] = {
        {1, ident("", "mary", "smyth", "1940-05-12"), 0, 0, false},
        {2, ident("", "mary", "smith", "1940-05-12"), 0, 0, false},    /* better */
        {3, ident("", "john", "jones", "1951-01-30"), 12, 1e9, false}, /* kept by patient 12 */
        {4, ident("", "mary", "smith", "1977-01-01"), 0, 0, false},    /* shares no key */
    };
    int64_t linked[2 + 2] = {12};
    size_t nlinked = 1;
    death_choose(&p, ids, patients, 2, deaths, 4, linked, &nlinked);
    assert_false(deaths[0].changed);
    assert_true(deaths[1].changed);
    assert_int_equal(deaths[1].patient_id, 10);
    assert_false(deaths[2].changed);
    assert_int_equal(deaths[2].patient_id, 12);
    assert_false(deaths[3].changed);
    assert_int_equal(nlinked, 2);
    assert_int_equal(linked[1], 10);
    double w;
    assert_true(death_link_weight(&p, &ids[0], &deaths[1].id, &w));
    assert_true(w == deaths[1].weight);
}

static void test_a_pair_found_twice_counts_once_at_its_best(void **state)
{
    (void)state;
    death_pair_t cand[3];
    size_t n = 0;
    death_pair_keep_best(cand, &n, (death_pair_t){1, 10, 5.0});
    death_pair_keep_best(cand, &n, (death_pair_t){1, 10, 7.0});
    death_pair_keep_best(cand, &n, (death_pair_t){1, 10, 6.0});
    death_pair_keep_best(cand, &n, (death_pair_t){1, 11, 2.0});
    assert_int_equal(n, 2);
    assert_true(cand[0].weight == 7.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_weight_wins_one_to_one),
        cmocka_unit_test(test_a_patient_keeps_the_death_it_has),
        cmocka_unit_test(test_a_linked_death_moves_only_to_a_better_patient),
        cmocka_unit_test(test_nothing_to_choose),
        cmocka_unit_test(test_a_patient_gets_the_death_that_fits_best),
        cmocka_unit_test(test_a_pair_found_twice_counts_once_at_its_best),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
