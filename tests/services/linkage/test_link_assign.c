/* test_link_assign.c - which patient each record of a batch joins, without a database: a held
 * patient found by a shared blocking key, an earlier record of the same batch, or a new patient;
 * a record with nothing to link on is "unlinked"; the batch's keys are sorted and distinct; a
 * record joins the patient it matches as a whole (the mean over the patient's sets of identifiers
 * scored), not the patient holding the single best set, and a record that looks like two patients
 * joins one of them, never merging them. */
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
    assert_int_equal(link_assign(&p, ids, 5, &bk, cand, 2, NULL, out, NULL, NULL), 0);
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

/* Patient 7 holds three sets of identifiers at one address: one identical to the record, two of
 * other people (an earlier over-merge, or relatives); patient 8 holds one that matches the record
 * well without a postcode. The record joins 8: on average it does not match 7. */
static void test_record_joins_the_patient_it_matches_as_a_whole(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t rec = ident("", "john", "smith", "1960-03-04", "LS1 4AP");
    link_ident_t x1 = rec;
    link_ident_t x2 = ident("", "peter", "smith", "1932-07-01", "LS1 4AP");
    link_ident_t x3 = ident("", "anne", "smith", "1935-01-01", "LS1 4AP");
    link_ident_t y = ident("", "john", "smith", "1960-03-04", "");
    double p1, p2, p3, py;
    link_score(&p, &rec, &x1, &p1);
    link_score(&p, &rec, &x2, &p2);
    link_score(&p, &rec, &x3, &p3);
    link_score(&p, &rec, &y, &py);
    assert_true(p1 > py && py >= p.threshold); /* 7 holds the best single set */
    assert_true((p1 + p2 + p3) / 3 < p.threshold);
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(&rec, 1, &bk), 0);
    link_candidate_t cand[] = {
        {7, x1, "d:19600304"}, {7, x1, "f:john:1960"}, /* one set found by two keys: counted once */
        {7, x1, "s:S530:LS1"}, {7, x2, "s:S530:LS1"},  {7, x3, "s:S530:LS1"},
        {8, y, "d:19600304"},  {8, y, "f:john:1960"},
    };
    patient_match_t out;
    assert_int_equal(link_assign(&p, &rec, 1, &bk, cand, 7, NULL, &out, NULL, NULL), 0);
    assert_int_equal(out.patient_id, 8);
    assert_true(out.probability == py);

    /* without 8, the record is a new patient rather than 7's */
    assert_int_equal(link_assign(&p, &rec, 1, &bk, cand, 5, NULL, &out, NULL, NULL), 0);
    assert_int_equal(out.patient_id, -1);
    assert_string_equal(out.method, "new");
    link_batch_keys_free(&bk);
}

/* Two patients, mary (7) and her sister ann (8), at one address with one surname; a record with
 * the sister's date of birth and mary's forename looks like both. It joins the one it matches
 * best, and the next records of each sister still join their own patient: no bridge. */
static void test_bridging_record_merges_no_one(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t mary = ident("", "mary", "jones", "1950-02-03", "M1 1AE");
    link_ident_t ann = ident("", "ann", "jones", "1952-06-07", "M1 1AE");
    link_ident_t ids[] = {
        ident("", "mary", "jones", "1952-06-07", "M1 1AE"), /* the bridge */
        mary,
        ann,
    };
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(ids, 3, &bk), 0);
    link_candidate_t cand[] = {
        {7, mary, "s:J520:M1"},
        {8, ann, "s:J520:M1"},
        {8, ann, "d:19520607"},
    };
    patient_match_t out[3];
    assert_int_equal(link_assign(&p, ids, 3, &bk, cand, 3, NULL, out, NULL, NULL), 0);
    assert_int_equal(out[0].patient_id, 8); /* the date of birth weighs more than the forename */
    assert_int_equal(out[1].patient_id, 7);
    assert_int_equal(out[2].patient_id, 8);
    link_batch_keys_free(&bk);
}

/* A twin: the held patient's surname, date of birth and address, and a valid NHS number of its
 * own (more than a digit from the patient's): a new patient, not the twin's, although the rest
 * matches. A typo of the NHS number (one digit, check digit wrong) is no such number. */
static void test_different_valid_nhs_numbers_are_two_people(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t ids[] = {
        ident("4857773457", "mary", "smith", "1940-05-12", "LS1 4AP"), /* another person */
        ident("4010232138", "mary", "smith", "1940-05-12", "LS1 4AP"), /* a typo: patient 42 */
    };
    assert_true(link_ident_apart(&ids[0], &(link_ident_t){0}) == false);
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(ids, 2, &bk), 0);
    link_candidate_t cand[] = {
        {42, ident("4010232137", "mary", "smith", "1940-05-12", "LS1 4AP"), "d:19400512"},
    };
    assert_true(link_ident_apart(&ids[0], &cand[0].id));
    assert_false(link_ident_apart(&ids[1], &cand[0].id));
    patient_match_t out[2];
    assert_int_equal(link_assign(&p, ids, 2, &bk, cand, 1, NULL, out, NULL, NULL), 0);
    assert_int_equal(out[0].patient_id, -1);
    assert_string_equal(out[0].method, "new");
    assert_int_equal(out[1].patient_id, 42);
    link_batch_keys_free(&bk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_keys_sorted_and_distinct),
        cmocka_unit_test(test_records_join_held_batch_or_new_patients),
        cmocka_unit_test(test_record_joins_the_patient_it_matches_as_a_whole),
        cmocka_unit_test(test_bridging_record_merges_no_one),
        cmocka_unit_test(test_different_valid_nhs_numbers_are_two_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
