/* test_link_record.c - what linkage decides about one NHFD record before any database work: the
 * identifiers normalised for the patient index, warnings that never repeat an
 * identifier, age derived while the date of birth is at hand, and no identifier passed on */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nhfd_fixture.h"

#include <stdio.h>
#include <string.h>

#include "audit_def.h"
#include "link_record.h"

/* A raw record as ingest stores it: identifiers included. 4010232137 passes the Modulus 11 check
 * (weights 10..2 give 213, 213 mod 11 = 4, 11 - 4 = 7). */
static ncap_record_t *raw_record(const char *nhs, const char *dob, const char *arrival)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "local_record_id", "HF-0001");
    ncap_record_set(r, "trust_code", "RR8");
    ncap_record_set(r, "site_code", "RR801");
    if (nhs)
        ncap_record_set(r, "nhs_number", nhs);
    ncap_record_set(r, "forename", "Ann");
    ncap_record_set(r, "surname", "Example");
    if (dob)
        ncap_record_set(r, "date_of_birth", dob);
    ncap_record_set(r, "sex", "2");
    ncap_record_set(r, "postcode", "LS1 4AP");
    ncap_record_set(r, "lsoa", "E01011365");
    ncap_record_set(r, "ethnic_category", "A");
    ncap_record_set(r, "arrival_datetime", arrival);
    ncap_record_set(r, "residence_at_fracture", "1");
    ncap_record_set(r, "pre_fracture_mobility", "2");
    ncap_record_set(r, "amts_pre_op", "8");
    ncap_record_set(r, "fracture_type", "ICD");
    ncap_record_set(r, "fracture_side", "L");
    ncap_record_set(r, "pathological_fracture", "N");
    ncap_record_set(r, "asa_grade", "3");
    ncap_record_set(r, "surgery_datetime", "2026-01-11T09:00");
    return r;
}

static void prepare(void **state, const ncap_record_t *raw, int64_t record_id, link_outcome_t *out)
{
    assert_int_equal(link_record_prepare(*state, record_id, raw, out), 0);
    assert_non_null(out->pseudo);
}

static void assert_no_identifier(const ncap_record_t *pseudo)
{
    const char *ids[] = {"nhs_number", "forename", "surname", "date_of_birth", "postcode", "lsoa"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        assert_null(ncap_record_get(pseudo, ids[i]));
}

/* ---------------------------------------------------------------- the identifiers for linking */

static void test_valid_nhs_number_and_dob_link_deterministically(void **state)
{
    ncap_record_t *raw = raw_record("4010232137", "1940-05-12", "2026-01-10T08:00");
    link_outcome_t out;
    prepare(state, raw, 77, &out);
    assert_string_equal(out.ident.nhs, "4010232137");
    assert_true(out.ident.nhs_valid);
    assert_string_equal(out.ident.dob, "19400512");
    assert_string_equal(out.ident.surname, "example");
    assert_int_equal(out.n_problems, 0);
    link_outcome_clear(&out);
    assert_null(out.pseudo);
    ncap_record_destroy(&raw);
}

static void test_identifiers_are_the_same_however_the_trust_writes_them(void **state)
{
    /* spaced NHS number, UK-style date: the same patient, so the same identifiers */
    ncap_record_t *raw = raw_record("401 023 2137", "12/05/1940", "10/01/2026 08:00");
    link_outcome_t out;
    prepare(state, raw, 78, &out);
    assert_string_equal(out.ident.nhs, "4010232137");
    assert_true(out.ident.nhs_valid);
    assert_string_equal(out.ident.dob, "19400512");
    assert_string_equal(out.ident.surname, "example");
    assert_int_equal(out.n_problems, 0);
    link_outcome_clear(&out);
    ncap_record_destroy(&raw);
}

static void assert_unlinked_with_warning(void **state, const char *nhs, int64_t id,
                                         const char *rule)
{
    ncap_record_t *raw = raw_record(nhs, "1940-05-12", "2026-01-10T08:00");
    link_outcome_t out;
    prepare(state, raw, id, &out);
    assert_false(out.ident.nhs_valid); /* not linked by NHS number; probabilistically at most */
    assert_int_equal(out.n_problems, 1);
    assert_string_equal(out.problems[0].field, "nhs_number");
    assert_string_equal(out.problems[0].rule, rule);
    assert_string_equal(out.problems[0].severity, "warning");
    /* the message goes back to the trust and into logs: never the number, nor its digits */
    if (nhs && *nhs) {
        char digits[16] = "";
        size_t n = 0;
        for (const char *p = nhs; *p && n < sizeof digits - 1; p++)
            if (*p >= '0' && *p <= '9')
                digits[n++] = *p;
        assert_null(strstr(out.problems[0].message, nhs));
        if (n >= 6) {
            digits[6] = '\0'; /* not even the first six digits */
            assert_null(strstr(out.problems[0].message, digits));
        }
    }
    assert_no_identifier(out.pseudo);
    link_outcome_clear(&out);
    ncap_record_destroy(&raw);
}

static void test_wrong_check_digit_is_unlinked_with_warning(void **state)
{
    assert_unlinked_with_warning(state, "4010232138", 77, "nhs_number_invalid");
}

static void test_malformed_number_is_unlinked_with_warning(void **state)
{
    assert_unlinked_with_warning(state, "40102321", 12, "nhs_number_invalid");
    assert_unlinked_with_warning(state, "401-023-213X", 13, "nhs_number_invalid");
}

static void test_missing_number_is_unlinked_with_warning(void **state)
{
    assert_unlinked_with_warning(state, "", 5, "nhs_number_missing");
    assert_unlinked_with_warning(state, NULL, 6, "nhs_number_missing");
    assert_unlinked_with_warning(state, "   ", 7, "nhs_number_missing");
}

static void test_placeholder_and_test_numbers_are_unlinked(void **state)
{
    /* both pass the check digit, neither is a real patient's number */
    assert_unlinked_with_warning(state, "4444444444", 8, "nhs_number_placeholder");
    assert_unlinked_with_warning(state, "9434765919", 9, "nhs_number_test");
}

static void test_missing_or_bad_dob_is_unlinked_and_not_aged(void **state)
{
    const char *dobs[] = {NULL, "", "31/06/1940", "1940-02-30"};
    const char *rules[] = {"dob_missing", "dob_missing", "dob_invalid", "dob_invalid"};
    for (size_t i = 0; i < 4; i++) {
        ncap_record_t *raw = raw_record("4010232137", dobs[i], "2026-01-10T08:00");
        link_outcome_t out;
        prepare(state, raw, 40, &out);
        assert_string_equal(out.ident.dob, "");
        assert_int_equal(out.n_problems, 1);
        assert_string_equal(out.problems[0].field, "date_of_birth");
        assert_string_equal(out.problems[0].rule, rules[i]);
        assert_string_equal(out.problems[0].severity, "warning");
        if (dobs[i] && *dobs[i])
            assert_null(strstr(out.problems[0].message, dobs[i]));
        assert_null(strstr(out.problems[0].message, "4010232137"));
        /* derived fields are present but empty */
        assert_string_equal(ncap_record_get(out.pseudo, "age_at_arrival"), "");
        assert_string_equal(ncap_record_get(out.pseudo, "age_band"), "");
        assert_no_identifier(out.pseudo);
        link_outcome_clear(&out);
        ncap_record_destroy(&raw);
    }
}

static void test_both_bad_gives_two_warnings(void **state)
{
    ncap_record_t *raw = raw_record("4010232138", "", "2026-01-10T08:00");
    link_outcome_t out;
    prepare(state, raw, 3, &out);
    assert_int_equal(out.n_problems, 2);
    assert_string_equal(out.problems[0].rule, "nhs_number_invalid");
    assert_string_equal(out.problems[1].rule, "dob_missing");
    link_outcome_clear(&out);
    ncap_record_destroy(&raw);
}

/* ---------------------------------------------------------------- the pseudonymised record */

static void test_identifiers_removed_the_rest_passed_on(void **state)
{
    ncap_record_t *raw = raw_record("4010232137", "1940-05-12", "2026-01-10T08:00");
    ncap_record_set(raw, "favourite_colour", "blue"); /* not a field of the audit */
    link_outcome_t out;
    prepare(state, raw, 77, &out);
    assert_no_identifier(out.pseudo);
    assert_null(ncap_record_get(out.pseudo, "favourite_colour"));
    /* every non-identifier field of the audit, unchanged */
    assert_string_equal(ncap_record_get(out.pseudo, "local_record_id"), "HF-0001");
    assert_string_equal(ncap_record_get(out.pseudo, "trust_code"), "RR8");
    assert_string_equal(ncap_record_get(out.pseudo, "site_code"), "RR801");
    assert_string_equal(ncap_record_get(out.pseudo, "sex"), "2");
    assert_string_equal(ncap_record_get(out.pseudo, "ethnic_category"), "A");
    assert_string_equal(ncap_record_get(out.pseudo, "arrival_datetime"), "2026-01-10T08:00");
    assert_string_equal(ncap_record_get(out.pseudo, "asa_grade"), "3");
    assert_string_equal(ncap_record_get(out.pseudo, "surgery_datetime"), "2026-01-11T09:00");
    /* 14 non-identifier fields sent (of 20, 6 of them identifiers) plus 2 derived */
    assert_int_equal(out.pseudo->n, 14 + 2);
    /* and nowhere in it any identifier value */
    for (size_t i = 0; i < out.pseudo->n; i++) {
        const char *v = out.pseudo->fields[i].value;
        assert_null(strstr(v, "4010232137"));
        assert_null(strstr(v, "1940-05-12"));
        assert_null(strstr(v, "Example"));
        assert_null(strstr(v, "LS1 4AP"));
        assert_null(strstr(v, "E01011365"));
    }
    /* the raw record is not changed */
    assert_string_equal(ncap_record_get(raw, "nhs_number"), "4010232137");
    link_outcome_clear(&out);
    ncap_record_destroy(&raw);
}

/* ---------------------------------------------------------------- derived age */

static void assert_age(void **state, const char *dob, const char *arrival, const char *age,
                       const char *band)
{
    ncap_record_t *raw = raw_record("4010232137", dob, arrival);
    link_outcome_t out;
    prepare(state, raw, 1, &out);
    assert_string_equal(ncap_record_get(out.pseudo, "age_at_arrival"), age);
    assert_string_equal(ncap_record_get(out.pseudo, "age_band"), band);
    link_outcome_clear(&out);
    ncap_record_destroy(&raw);
}

static void test_age_at_arrival_and_band(void **state)
{
    assert_age(state, "1940-05-12", "2026-01-10T08:00", "85", "80-89");
    /* the day before the 86th birthday, late evening; then the birthday, just after midnight */
    assert_age(state, "1940-05-12", "2026-05-11T23:59", "85", "80-89");
    assert_age(state, "1940-05-12", "2026-05-12T00:01", "86", "80-89");
    /* crossing a band edge on the birthday itself */
    assert_age(state, "1936-05-12", "2026-05-11T12:00", "89", "80-89");
    assert_age(state, "1936-05-12", "2026-05-12T12:00", "90", "90+");
    assert_age(state, "1956-05-12", "2026-05-11T12:00", "69", "60-69");
    assert_age(state, "1956-05-12", "2026-05-12T12:00", "70", "70-79");
    assert_age(state, "1966-05-12", "2026-05-11T12:00", "59", "<60");
    assert_age(state, "1966-05-12", "2026-05-12T12:00", "60", "60-69");
    /* born on 29 February: a year older on 1 March in other years */
    assert_age(state, "1944-02-29", "2026-02-28T12:00", "81", "80-89");
    assert_age(state, "1944-02-29", "2026-03-01T12:00", "82", "80-89");
    /* UK-style dates give the same ages */
    assert_age(state, "12/05/1936", "11/05/2026 12:00", "89", "80-89");
    assert_age(state, "12/05/1936", "12/05/2026 12:00", "90", "90+");
}

static void test_no_arrival_no_age(void **state)
{
    assert_age(state, "1940-05-12", "", "", "");
}

static void test_a_revised_date_of_death_replaces_the_one_passed_on(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    assert_non_null(rec);
    assert_int_equal(ncap_record_set(rec, "asa_grade", "3"), 0);
    assert_int_equal(link_record_revise_date_of_death(rec, ""), 0);
    assert_int_equal(link_record_revise_date_of_death(rec, "2024-03-01"), 1);
    assert_string_equal(ncap_record_get(rec, "date_of_death"), "2024-03-01");
    assert_int_equal(link_record_revise_date_of_death(rec, "2024-03-01"), 0);
    assert_int_equal(link_record_revise_date_of_death(rec, ""), 1); /* its death removed */
    assert_null(ncap_record_get(rec, "date_of_death"));
    assert_string_equal(ncap_record_get(rec, "asa_grade"), "3");
    ncap_record_destroy(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_nhs_number_and_dob_link_deterministically),
        cmocka_unit_test(test_identifiers_are_the_same_however_the_trust_writes_them),
        cmocka_unit_test(test_wrong_check_digit_is_unlinked_with_warning),
        cmocka_unit_test(test_malformed_number_is_unlinked_with_warning),
        cmocka_unit_test(test_missing_number_is_unlinked_with_warning),
        cmocka_unit_test(test_placeholder_and_test_numbers_are_unlinked),
        cmocka_unit_test(test_missing_or_bad_dob_is_unlinked_and_not_aged),
        cmocka_unit_test(test_both_bad_gives_two_warnings),
        cmocka_unit_test(test_identifiers_removed_the_rest_passed_on),
        cmocka_unit_test(test_age_at_arrival_and_band),
        cmocka_unit_test(test_no_arrival_no_age),
        cmocka_unit_test(test_a_revised_date_of_death_replaces_the_one_passed_on),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
