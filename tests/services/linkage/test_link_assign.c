/* test_link_assign.c - which patient each record of a batch joins, without a database: a held
 * patient found by a shared blocking key, an earlier record of the same batch, or a new patient;
 * a record with nothing to link on is "unlinked"; the batch's keys are sorted and distinct; a
 * record joins the patient it matches as a whole (the mean over the patient's sets of identifiers
 * scored), not the patient holding the single best set. A record that matches two patients joins
 * the best and merges the two when they match each other as a whole (one person whose first
 * records made two patients), and never when they do not (sisters at one address), when they hold
 * two valid NHS numbers apart, or when one cannot be merged now (another instance links it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
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
    assert_string_equal(bk.sorted[0], "d:19400512:f");
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
        {43, ident("", "peter", "smith", "1940-05-12", "W1A 0AX"), "d:19400512:f"},
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
    /* x1 is one set found by two keys: counted once */
    link_candidate_t cand[] = {
        {7, x1, "d:19600304:f"}, {7, x1, "f:john:1960:s"}, {7, x1, "s:S530:LS1"},
        {7, x2, "s:S530:LS1"},   {7, x3, "s:S530:LS1"},    {8, y, "d:19600304:f"},
        {8, y, "f:john:1960:s"},
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
        {8, ann, "d:19520607:f"},
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
        {42, ident("4010232137", "mary", "smith", "1940-05-12", "LS1 4AP"), "d:19400512:f"},
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

/* ---------------------------------------------------------------- merges */

/* The held patients of a test: each set of identifiers with its patient, and a patient that
 * cannot be merged now (0: none). */
typedef struct {
    const link_candidate_t *rows;
    size_t n;
    int64_t locked;
    int calls;
} held_t;

static int held_sets(void *ctx, int64_t patient_id, link_ident_t **sets, size_t *n)
{
    held_t *h = ctx;
    h->calls++;
    *sets = calloc(h->n + 1, sizeof **sets);
    *n = 0;
    if (!*sets)
        return -1;
    for (size_t r = 0; r < h->n; r++)
        if (h->rows[r].patient_id == patient_id)
            (*sets)[(*n)++] = h->rows[r].id;
    return patient_id == h->locked;
}

static double prob(const link_params_t *p, link_ident_t a, link_ident_t b)
{
    double pr;
    link_score(p, &a, &b, &pr);
    return pr;
}

/* One woman: her first record made patient 7, a later one with another date of birth in the same
 * year and a new address made patient 8 (too unlike to join 7: 0.04). A record with the first
 * date of birth at the new address matches both and joins 7; 7 with the record and 8 match each
 * other on average (the pair 7-8 and the pair record-8 over the two pairs across): 8 is merged
 * into 7, which holds more sets of identifiers with the record. The next record, 8's identifiers
 * again, joins 7. */
static void test_bridging_record_merges_two_patients_of_one_person(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t first = ident("", "mary", "jones", "1950-02-03", "M1 1AE");
    link_ident_t moved = ident("", "mary", "jones", "1950-09-17", "M3 4XY");
    link_ident_t ids[] = {ident("", "mary", "jones", "1950-02-03", "M3 4XY"), moved};
    assert_true(prob(&p, first, moved) < p.threshold);
    assert_true(prob(&p, ids[0], first) >= p.threshold);
    assert_true(prob(&p, ids[0], moved) >= p.threshold);
    assert_true((prob(&p, first, moved) + prob(&p, ids[0], moved)) / 2 >= p.threshold);
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(ids, 2, &bk), 0);
    link_candidate_t cand[] = {
        {7, first, "d:19500203:f"},
        {7, first, "f:mary:1950:j"},
        {8, moved, "f:mary:1950:j"},
        {8, moved, "s:J520:M3"},
    };
    held_t h = {.rows = cand, .n = 4};
    link_held_t held = {held_sets, &h};
    patient_match_t out[2];
    link_merge_t *merges;
    size_t nmerges;
    assert_int_equal(link_assign(&p, ids, 2, &bk, cand, 4, &held, out, &merges, &nmerges), 0);
    assert_int_equal(out[0].patient_id, 7);
    assert_string_equal(out[0].method, "probabilistic");
    assert_int_equal(out[1].patient_id, 7);
    assert_int_equal(nmerges, 1);
    assert_int_equal(merges[0].from, 8);
    assert_int_equal(merges[0].into, 7);
    free(merges);

    /* without the merge (no link_held_t), the two records go to one patient each */
    assert_int_equal(link_assign(&p, ids, 2, &bk, cand, 4, NULL, out, NULL, NULL), 0);
    assert_int_not_equal(out[0].patient_id, out[1].patient_id);

    /* 8 holds three sets, its number mistyped twice (compared with no number: no weight), 7 two
     * with the record: 7 is merged into 8 */
    link_ident_t typo1 = ident("4010232138", "mary", "jones", "1950-09-17", "M3 4XY");
    link_ident_t typo2 = ident("4010232139", "mary", "jones", "1950-09-17", "M3 4XY");
    assert_true(typo1.nhs[0] && !typo1.nhs_valid && typo2.nhs[0] && !typo2.nhs_valid);
    link_candidate_t rows[] = {{7, first, ""}, {8, moved, ""}, {8, typo1, ""}, {8, typo2, ""}};
    h = (held_t){.rows = rows, .n = 4};
    assert_int_equal(link_assign(&p, ids, 2, &bk, cand, 4, &held, out, &merges, &nmerges), 0);
    assert_int_equal(nmerges, 1);
    assert_int_equal(merges[0].from, 7);
    assert_int_equal(merges[0].into, 8);
    assert_int_equal(out[0].patient_id, 8);
    assert_int_equal(out[1].patient_id, 8);
    free(merges);

    /* another instance links a record of 8 now: no merge, the record joins the best */
    h.locked = 8;
    assert_int_equal(link_assign(&p, ids, 2, &bk, cand, 4, &held, out, &merges, &nmerges), 0);
    assert_int_equal(nmerges, 0);
    assert_int_not_equal(out[0].patient_id, out[1].patient_id);
    free(merges);
    link_batch_keys_free(&bk);
}

/* The same three records arriving in one batch, no patient held: the first two make two new
 * patients, the third merges them; one new patient is left, numbered -1, and no held patient is
 * merged. */
static void test_bridge_within_a_batch(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t ids[] = {ident("", "mary", "jones", "1950-02-03", "M1 1AE"),
                          ident("", "mary", "jones", "1950-09-17", "M3 4XY"),
                          ident("", "mary", "jones", "1950-02-03", "M3 4XY"),
                          ident("", "ann", "brown", "1960-07-07", "B33 8TH")};
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(ids, 4, &bk), 0);
    held_t h = {0};
    link_held_t held = {held_sets, &h};
    patient_match_t out[4];
    link_merge_t *merges;
    size_t nmerges;
    assert_int_equal(link_assign(&p, ids, 4, &bk, NULL, 0, &held, out, &merges, &nmerges), 0);
    assert_int_equal(out[0].patient_id, -1);
    assert_int_equal(out[1].patient_id, -1);
    assert_int_equal(out[2].patient_id, -1);
    assert_int_equal(out[3].patient_id, -2);
    assert_string_equal(out[1].method, "new");
    assert_int_equal(nmerges, 0);
    assert_int_equal(h.calls, 0); /* nothing held to read */
    free(merges);
    link_batch_keys_free(&bk);
}

/* Sisters at one address (test_bridging_record_merges_no_one) with the sets held read: the record
 * matches both, but the sisters do not match each other on average with it (0.49): not merged. */
static void test_bridge_between_sisters_merges_no_one(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t mary = ident("", "mary", "jones", "1950-02-03", "M1 1AE");
    link_ident_t ann = ident("", "ann", "jones", "1952-06-07", "M1 1AE");
    link_ident_t rec = ident("", "mary", "jones", "1952-06-07", "M1 1AE");
    assert_true(prob(&p, rec, mary) >= p.threshold && prob(&p, rec, ann) >= p.threshold);
    assert_true((prob(&p, mary, ann) + prob(&p, mary, rec)) / 2 < p.threshold);
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(&rec, 1, &bk), 0);
    link_candidate_t cand[] = {
        {7, mary, "s:J520:M1"}, {8, ann, "s:J520:M1"}, {8, ann, "d:19520607:f"}};
    held_t h = {.rows = cand, .n = 3};
    link_held_t held = {held_sets, &h};
    patient_match_t out;
    link_merge_t *merges;
    size_t nmerges;
    assert_int_equal(link_assign(&p, &rec, 1, &bk, cand, 3, &held, &out, &merges, &nmerges), 0);
    assert_int_equal(out.patient_id, 8);
    assert_int_equal(nmerges, 0);
    assert_true(h.calls > 0); /* it looked */
    free(merges);
    link_batch_keys_free(&bk);
}

/* Two patients holding two valid NHS numbers apart are two people, whatever a record without a
 * number that matches both says. */
static void test_bridge_never_merges_numbers_apart(void **state)
{
    (void)state;
    link_params_t p;
    link_params_default(&p);
    link_ident_t first = ident("4010232137", "mary", "jones", "1950-02-03", "M1 1AE");
    link_ident_t moved = ident("4857773457", "mary", "jones", "1950-09-17", "M3 4XY");
    link_ident_t rec = ident("", "mary", "jones", "1950-02-03", "M3 4XY");
    assert_true(link_ident_apart(&first, &moved));
    link_batch_keys_t bk;
    assert_int_equal(link_batch_keys_build(&rec, 1, &bk), 0);
    link_candidate_t cand[] = {{7, first, "d:19500203:f"}, {8, moved, "s:J520:M3"}};
    held_t h = {.rows = cand, .n = 2};
    link_held_t held = {held_sets, &h};
    patient_match_t out;
    link_merge_t *merges;
    size_t nmerges;
    assert_int_equal(link_assign(&p, &rec, 1, &bk, cand, 2, &held, &out, &merges, &nmerges), 0);
    assert_int_equal(out.patient_id, 7);
    assert_int_equal(nmerges, 0);
    free(merges);
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
        cmocka_unit_test(test_bridging_record_merges_two_patients_of_one_person),
        cmocka_unit_test(test_bridge_within_a_batch),
        cmocka_unit_test(test_bridge_between_sisters_merges_no_one),
        cmocka_unit_test(test_bridge_never_merges_numbers_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
