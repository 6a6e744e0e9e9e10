/* test_validate_record.c - the NHFD dataset rules on a pseudonymised record: what is valid, and the
 * error rows a trust gets back (field, rule, value, message) for what is not */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "nhfd_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "utf8.h"
#include "validate_record.h"

/* A pseudonymised record as linkage passes it on: no identifiers, derived fields added. */
static ncap_record_t *good_record(void)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "local_record_id", "HF-0001");
    ncap_record_set(r, "trust_code", "RR8");
    ncap_record_set(r, "site_code", "RR801");
    ncap_record_set(r, "sex", "2");
    ncap_record_set(r, "ethnic_category", "99");
    ncap_record_set(r, "arrival_datetime", "2026-01-10T08:00");
    ncap_record_set(r, "ward_admission_datetime", "10/01/2026 11:30");
    ncap_record_set(r, "never_admitted_to_ward", "N");
    ncap_record_set(r, "residence_at_fracture", "1");
    ncap_record_set(r, "pre_fracture_mobility", "2");
    ncap_record_set(r, "amts_pre_op", "ND");
    ncap_record_set(r, "fracture_type", "ICD");
    ncap_record_set(r, "fracture_side", "L");
    ncap_record_set(r, "pathological_fracture", "N");
    ncap_record_set(r, "asa_grade", "3");
    ncap_record_set(r, "orthogeriatric_assessment_datetime", "2026-01-10T15:00");
    ncap_record_set(r, "surgery_datetime", "2026-01-11 09:00");
    ncap_record_set(r, "operation", "HA");
    ncap_record_set(r, "amts_post_op", "0");
    ncap_record_set(r, "discharge_destination", "1");
    ncap_record_set(r, "discharge_date", "20/01/2026");
    ncap_record_set(r, "age_at_arrival", "85");
    ncap_record_set(r, "age_band", "80-89");
    return r;
}

static const validation_problem_t *problem_of(const validation_result_t *r, const char *field)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->problems[i].field, field) == 0)
            return &r->problems[i];
    return NULL;
}

/* A problem's value and message are cut to their fields (127 and 319 bytes): through a character
 * (é across the cut), the half is a '?', so that both stay UTF-8, which PostgreSQL stores
 * (validation.problem) rather than refusing the batch and quarantining the record. */
static void test_problem_texts_cut_stay_utf8(void **state)
{
    (void)state;
    char value[200], message[400];
    snprintf(value, sizeof value, "%0126d\xc3\xa9tail", 0);
    snprintf(message, sizeof message, "%0318d\xc3\xa9tail", 0);
    validation_result_t r = {0};
    validation_result_reset(&r);
    assert_int_equal(validation_result_add(&r, "comment", "too_long", "warning", value, message),
                     0);
    assert_int_equal(strlen(r.problems[0].value), 127);
    assert_int_equal(r.problems[0].value[126], '?');
    assert_int_equal(utf8_invalid_at(r.problems[0].value), 0);
    assert_int_equal(strlen(r.problems[0].message), 319);
    assert_int_equal(r.problems[0].message[318], '?');
    assert_int_equal(utf8_invalid_at(r.problems[0].message), 0);
    free(r.problems);
}

static void test_good_record_is_valid(void **state)
{
    ncap_record_t *rec = good_record();
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_int_equal(res.n, 0);
    assert_true(res.valid);
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void test_minimal_record_is_valid(void **state)
{
    /* only the required non-identifier fields; optional ones absent or empty */
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "local_record_id", "X_9");
    ncap_record_set(r, "trust_code", "RR8");
    ncap_record_set(r, "site_code", "RR8");
    ncap_record_set(r, "sex", "X");
    ncap_record_set(r, "arrival_datetime", "2026-01-10T08:00Z");
    ncap_record_set(r, "residence_at_fracture", "9");
    ncap_record_set(r, "pre_fracture_mobility", "9");
    ncap_record_set(r, "amts_pre_op", "10");
    ncap_record_set(r, "fracture_type", "ST");
    ncap_record_set(r, "fracture_side", "R");
    ncap_record_set(r, "pathological_fracture", "U");
    ncap_record_set(r, "asa_grade", "");
    ncap_record_set(r, "discharge_date", "  ");
    validation_result_t res;
    assert_int_equal(validate_record(*state, r, &res), 0);
    assert_int_equal(res.n, 0);
    assert_true(res.valid);
    validation_result_free(&res);
    ncap_record_destroy(&r);
}

static void test_identifier_fields_are_not_required_here(void **state)
{
    /* date_of_birth is required and an identifier: linkage checked it and removed it */
    ncap_record_t *rec = good_record();
    assert_null(ncap_record_get(rec, "date_of_birth"));
    assert_null(ncap_record_get(rec, "nhs_number"));
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_null(problem_of(&res, "date_of_birth"));
    assert_true(res.valid);
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void test_missing_required_is_an_error(void **state)
{
    ncap_record_t *rec = good_record();
    ncap_record_remove(rec, "fracture_type");
    ncap_record_set(rec, "arrival_datetime", " ");
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_false(res.valid);
    assert_int_equal(res.n, 2);
    const validation_problem_t *p = problem_of(&res, "fracture_type");
    assert_non_null(p);
    assert_string_equal(p->rule, "required");
    assert_string_equal(p->severity, "error");
    assert_string_equal(p->value, "");
    assert_string_equal(p->message, "\"fracture_type\" (Type of fracture) is required but empty");
    p = problem_of(&res, "arrival_datetime");
    assert_non_null(p);
    assert_string_equal(p->rule, "required");
    assert_string_equal(p->message, "\"arrival_datetime\" (Date and time of arrival at the "
                                    "admitting hospital) is required but empty");
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void assert_one_error(void **state, const char *field, const char *value, const char *rule,
                             const char *message_start)
{
    ncap_record_t *rec = good_record();
    ncap_record_set(rec, field, value);
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_false(res.valid);
    assert_int_equal(res.n, 1);
    const validation_problem_t *p = &res.problems[0];
    assert_string_equal(p->field, field);
    assert_string_equal(p->rule, rule);
    assert_string_equal(p->severity, "error");
    assert_string_equal(p->value, value);
    if (strncmp(p->message, message_start, strlen(message_start)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", p->message, message_start);
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void test_bad_code(void **state)
{
    assert_one_error(state, "sex", "3", "code", "\"sex\" is \"3\", expected one of");
    assert_one_error(state, "fracture_type", "icd", "code",
                     "\"fracture_type\" is \"icd\", expected one of");
    assert_one_error(state, "amts_pre_op", "11", "code", "\"amts_pre_op\" is \"11\", expected");
}

static void test_bad_date_and_datetime(void **state)
{
    assert_one_error(state, "discharge_date", "31/06/2026", "type",
                     "\"discharge_date\" is \"31/06/2026\", expected a date such as 2026-03-01");
    assert_one_error(state, "discharge_date", "2025-02-29", "type",
                     "\"discharge_date\" is \"2025-02-29\", expected a date");
    assert_one_error(state, "arrival_datetime", "2026-13-01T08:00", "type",
                     "\"arrival_datetime\" is \"2026-13-01T08:00\", expected a date and time");
    /* a date without the time is not a date and time */
    assert_one_error(state, "surgery_datetime", "2026-01-11", "type",
                     "\"surgery_datetime\" is \"2026-01-11\", expected a date and time");
}

static void test_out_of_range_and_not_a_number(void **state)
{
    assert_one_error(state, "asa_grade", "7", "range",
                     "\"asa_grade\" is \"7\", expected a whole number");
    assert_one_error(state, "asa_grade", "0", "range",
                     "\"asa_grade\" is \"0\", expected a whole number");
    assert_one_error(state, "asa_grade", "three", "type",
                     "\"asa_grade\" is \"three\", expected a whole number");
    assert_one_error(state, "asa_grade", "2.5", "type",
                     "\"asa_grade\" is \"2.5\", expected a whole number");
}

static void test_bad_boolean_ods_and_pattern(void **state)
{
    assert_one_error(state, "never_admitted_to_ward", "maybe", "type",
                     "\"never_admitted_to_ward\" is \"maybe\", expected Y or N");
    assert_one_error(state, "site_code", "rr-801", "type", "\"site_code\" is \"rr-801\", expected");
    assert_one_error(state, "local_record_id", "HF 0001", "pattern",
                     "\"local_record_id\" is \"HF 0001\", expected a value matching");
}

static void test_every_error_is_reported(void **state)
{
    ncap_record_t *rec = good_record();
    ncap_record_set(rec, "sex", "3");
    ncap_record_set(rec, "asa_grade", "9");
    ncap_record_remove(rec, "fracture_side");
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_false(res.valid);
    assert_int_equal(res.n, 3);
    assert_string_equal(problem_of(&res, "sex")->rule, "code");
    assert_string_equal(problem_of(&res, "asa_grade")->rule, "range");
    assert_string_equal(problem_of(&res, "fracture_side")->rule, "required");
    validation_result_free(&res);
    assert_int_equal(res.n, 0);
    assert_null(res.problems);
    ncap_record_destroy(&rec);
}

/* ---------------------------------------------------------------- the definition's rules */

/* rec (good_record with field set to value, or removed when value is NULL) breaks rule_id only,
 * with severity, and the message written out. */
static void assert_one_rule(void **state, const char *field, const char *value, const char *rule_id,
                            const char *severity, const char *message)
{
    ncap_record_t *rec = good_record();
    if (value)
        ncap_record_set(rec, field, value);
    else
        ncap_record_remove(rec, field);
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    if (res.n != 1)
        fail_msg("%zu problems, expected 1 (%s)", res.n, rule_id);
    const validation_problem_t *p = &res.problems[0];
    assert_string_equal(p->rule, rule_id);
    assert_string_equal(p->severity, severity);
    assert_int_equal(res.valid, strcmp(severity, "error") != 0);
    assert_string_equal(p->message, message);
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void test_rule_check_time_order(void **state)
{
    /* arrival 2026-01-10T08:00 in good_record */
    assert_one_rule(state, "surgery_datetime", "2026-01-10T07:59", "surgery_before_arrival",
                    "error", "surgery (2026-01-10T07:59) is before arrival (2026-01-10T08:00)");
    assert_one_rule(state, "orthogeriatric_assessment_datetime", "09/01/2026 23:00",
                    "ortho_before_arrival", "error",
                    "orthogeriatric assessment (09/01/2026 23:00) is before arrival "
                    "(2026-01-10T08:00)");
    /* a date against a date and time: discharged on the day before arrival */
    assert_one_rule(state, "discharge_date", "2026-01-09", "discharge_before_arrival", "error",
                    "discharge (2026-01-09) is before the day of arrival (2026-01-10T08:00)");
    /* ... but the day of arrival itself is fine, and so is surgery at the minute of arrival */
    ncap_record_t *rec = good_record();
    ncap_record_set(rec, "discharge_date", "10/01/2026");
    ncap_record_set(rec, "surgery_datetime", "2026-01-10T08:00");
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_int_equal(res.n, 0);
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void test_rule_when_require(void **state)
{
    assert_one_rule(state, "never_admitted_to_ward", "Y", "ward_admission_never_admitted", "error",
                    "ward admission is given (10/01/2026 11:30) but never_admitted_to_ward is Y: "
                    "leave ward admission empty when the patient never reached the ward");
    /* never admitted and no ward admission: fine */
    ncap_record_t *rec = good_record();
    ncap_record_set(rec, "never_admitted_to_ward", "yes");
    ncap_record_set(rec, "ward_admission_datetime", "");
    validation_result_t res;
    assert_int_equal(validate_record(*state, rec, &res), 0);
    assert_int_equal(res.n, 0);
    validation_result_free(&res);
    ncap_record_destroy(&rec);
}

static void test_rule_plausibility_warnings(void **state)
{
    assert_one_rule(state, "age_at_arrival", "111", "age_over_110", "warning",
                    "age at arrival is 111: please check the date of birth");
    assert_one_rule(state, "surgery_datetime", "2026-02-10T08:00", "surgery_after_30_days",
                    "warning",
                    "surgery (2026-02-10T08:00) is more than 30 days after arrival "
                    "(2026-01-10T08:00): please check both dates");
}

static void test_rule_value_combination(void **state)
{
    assert_one_rule(state, "operation", "NOP", "operation_without_surgery", "warning",
                    "operation is NOP but the surgery date and time is 2026-01-11 09:00: \"NOP\" "
                    "(no operation) goes with an empty surgery date and time, any other operation "
                    "with a filled one");
    assert_one_rule(state, "surgery_datetime", NULL, "operation_without_surgery", "warning",
                    "operation is HA but the surgery date and time is empty: \"NOP\" (no "
                    "operation) goes with an empty surgery date and time, any other operation "
                    "with a filled one");
}

static void test_rule_skipped_when_its_field_fails_its_type(void **state)
{
    /* the bad surgery time is reported once, by its type check, not again by the rules */
    assert_one_error(state, "surgery_datetime", "yesterday", "type",
                     "\"surgery_datetime\" is \"yesterday\", expected a date and time");
    assert_one_error(state, "arrival_datetime", "2026-01-12", "type",
                     "\"arrival_datetime\" is \"2026-01-12\", expected a date and time");
}

static void test_linked_date_of_death(void **state)
{
    /* arrival 2026-01-10T08:00: death registered on the day before */
    assert_one_rule(state, "date_of_death", "2026-01-09", "admission_after_death", "error",
                    "arrival (2026-01-10T08:00) is after the patient's registered date of death "
                    "(2026-01-09): please check the arrival date and the patient's identifiers");
    /* death on the day of arrival, or after it, or unknown: fine */
    static const char *fine[] = {"2026-01-10", "2026-01-11", "2030-01-01", ""};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        ncap_record_t *rec = good_record();
        ncap_record_set(rec, "date_of_death", fine[i]);
        validation_result_t res;
        assert_int_equal(validate_record(*state, rec, &res), 0);
        if (res.n != 0)
            fail_msg("date of death %s: %s", fine[i], res.problems[0].message);
        validation_result_free(&res);
        ncap_record_destroy(&rec);
    }
    /* linked values are typed like fields: a decile out of range is reported, not required */
    assert_one_error(state, "imd_decile", "11", "range",
                     "\"imd_decile\" is \"11\", expected a whole number from 1 to 10");
    assert_one_error(state, "date_of_death", "2026-02-30", "type",
                     "\"date_of_death\" is \"2026-02-30\", expected a date");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_problem_texts_cut_stay_utf8),
        cmocka_unit_test(test_good_record_is_valid),
        cmocka_unit_test(test_minimal_record_is_valid),
        cmocka_unit_test(test_identifier_fields_are_not_required_here),
        cmocka_unit_test(test_missing_required_is_an_error),
        cmocka_unit_test(test_bad_code),
        cmocka_unit_test(test_bad_date_and_datetime),
        cmocka_unit_test(test_out_of_range_and_not_a_number),
        cmocka_unit_test(test_bad_boolean_ods_and_pattern),
        cmocka_unit_test(test_every_error_is_reported),
        cmocka_unit_test(test_rule_check_time_order),
        cmocka_unit_test(test_rule_when_require),
        cmocka_unit_test(test_rule_plausibility_warnings),
        cmocka_unit_test(test_rule_value_combination),
        cmocka_unit_test(test_rule_skipped_when_its_field_fails_its_type),
        cmocka_unit_test(test_linked_date_of_death),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
