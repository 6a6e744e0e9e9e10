/* test_link_assign.c - which patient each record of a batch joins, without a database: a held
 * patient found by a shared blocking key, an earlier record of the same batch, or a new patient;
 * a record with nothing to link on is "unlinked"; the batch's keys are sorted and distinct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "link_assign.h"

static link_ident_t ident(const char *nhs, const char *fn, const char *sn, const char *dob,
                          const char *pc)
{
    link_ident_t id;
    link_ident_from_values(nhs, fn, sn, dob, "f", pc, &id);
    return id;
}

static void test_batch_keys_sorted_and_distinct(void **state)
{
    (void)state;
    link_ident_t ids[] = {ident("4010232137", "mary", "smith", "1940-05-12", "LS1 4AP"),
                          ident("4010232137", "mary", "smith", "1940-05-12", "LS1 4AP"),
                          ident("", "", "", "", "")};
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(ids, 3, &bk), 0);
    assert_int_equal(bk.nkeys[0], 4);
    assert_int_equal(bk.nkeys[2], 0);
    assert_int_equal(bk.nsorted, 4);
    for (size_t k = 1; k < bk.nsorted; k++)
        assert_true(strcmp(bk.sorted[k - 1], bk.sorted[k]) < 0);
    assert_string_equal(bk.sorted[0], "d:19400512");
    link_batch_keys_free(&bk);
}

static void test_records_join_held_batch_or_new_patients(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t ids[] = {
        ident("4010232137", "mary", "smith", "1940-05-12", "LS1 4AP"), /* held patient 42 */
        ident("", "john", "jones", "1951-01-30", "M1 1AE"),            /* new */
        ident("", "john", "jones", "1951-01-30", "M1 1AE"),            /* the record before */
        ident("", "", "", "", "LS1 4AP"),                              /* nothing to link on */
        ident("", "ann", "brown", "1960-07-07", "B33 8TH"),            /* new */
    };
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(ids, 5, &bk), 0);
    link_candidate_t cand[] = {
        {42, ident("4010232137", "mary", "smith", "1940-05-12", "LS1 4AP"), "n:4010232137"},
        {43, ident("", "peter", "smith", "1940-05-12", "W1A 0AX"), "d:19400512"},
    };
    patient_match_t out[5];
    assert_int_equal(link_assign(&p, ids, 5, &bk, cand, 2, out), 0);
    assert_int_equal(out[0].patient_id, 42);
    assert_string_equal(out[0].method, "nhs_dob");
    assert_true(out[0].probability == 1.0);
    assert_int_equal(out[1].patient_id, -1);
    assert_string_equal(out[1].method, "new");
    assert_int_equal(out[2].patient_id, -1);
    assert_string_equal(out[2].method, "probabilistic");
    assert_true(out[2].probability >= p.threshold);
    assert_int_equal(out[3].patient_id, -2);
    assert_string_equal(out[3].method, "unlinked");
    assert_int_equal(out[4].patient_id, -3);
    link_batch_keys_free(&bk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_keys_sorted_and_distinct),
        cmocka_unit_test(test_records_join_held_batch_or_new_patients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
