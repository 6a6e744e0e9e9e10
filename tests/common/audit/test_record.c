/* test_record.c - one record as named text values: what a stage stores is what the trust sent,
 * a resubmitted value replaces the old one, and "missing" means what a data clerk means by it */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "record.h"

static void test_set_and_get_keep_the_values_as_sent(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    assert_non_null(rec);
    assert_int_equal(ncap_record_set(rec, "local_record_id", "HF-0001"), 0);
    assert_int_equal(ncap_record_set(rec, "trust_code", "RR8"), 0);
    assert_int_equal(ncap_record_set(rec, "surname", "O'Brien, \"Jr\""), 0);
    assert_int_equal(rec->n, 3);
    assert_string_equal(ncap_record_get(rec, "local_record_id"), "HF-0001");
    assert_string_equal(ncap_record_get(rec, "trust_code"), "RR8");
    assert_string_equal(ncap_record_get(rec, "surname"), "O'Brien, \"Jr\"");
    /* a field the trust did not send is absent, not empty */
    assert_null(ncap_record_get(rec, "asa_grade"));
    /* names are case-sensitive, as columns are */
    assert_null(ncap_record_get(rec, "Trust_Code"));
    ncap_record_destroy(&rec);
    assert_null(rec);
    ncap_record_destroy(&rec); /* a second destroy is harmless */
}

static void test_values_are_copied(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    char name[] = "asa_grade", value[] = "3";
    assert_int_equal(ncap_record_set(rec, name, value), 0);
    name[0] = 'X';
    value[0] = '9';
    assert_string_equal(ncap_record_get(rec, "asa_grade"), "3");
    ncap_record_destroy(&rec);
}

static void test_set_again_replaces_the_value(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    assert_int_equal(ncap_record_set(rec, "asa_grade", "2"), 0);
    assert_int_equal(ncap_record_set(rec, "sex", "1"), 0);
    assert_int_equal(ncap_record_set(rec, "asa_grade", "4"), 0);
    assert_int_equal(rec->n, 2);
    assert_string_equal(ncap_record_get(rec, "asa_grade"), "4");
    assert_string_equal(ncap_record_get(rec, "sex"), "1");
    ncap_record_destroy(&rec);
}

static void test_null_value_is_stored_as_empty(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    assert_int_equal(ncap_record_set(rec, "discharge_date", NULL), 0);
    assert_non_null(ncap_record_get(rec, "discharge_date"));
    assert_string_equal(ncap_record_get(rec, "discharge_date"), "");
    assert_true(ncap_record_missing(rec, "discharge_date"));
    ncap_record_destroy(&rec);
}

static void test_missing_means_absent_empty_or_blank(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "empty", "");
    ncap_record_set(rec, "spaces", "   ");
    ncap_record_set(rec, "tab_newline", "\t\r\n");
    ncap_record_set(rec, "zero", "0");
    ncap_record_set(rec, "padded", "  3 ");
    assert_true(ncap_record_missing(rec, "absent"));
    assert_true(ncap_record_missing(rec, "empty"));
    assert_true(ncap_record_missing(rec, "spaces"));
    assert_true(ncap_record_missing(rec, "tab_newline"));
    /* "0" is an answer (e.g. AMTS score 0), not a missing value */
    assert_false(ncap_record_missing(rec, "zero"));
    assert_false(ncap_record_missing(rec, "padded"));
    ncap_record_destroy(&rec);
}

static void test_remove_keeps_the_others_in_order(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "nhs_number", "9434765919");
    ncap_record_set(rec, "forename", "Ann");
    ncap_record_set(rec, "sex", "2");
    ncap_record_set(rec, "asa_grade", "3");
    ncap_record_remove(rec, "forename");
    ncap_record_remove(rec, "not_there"); /* no-op */
    assert_int_equal(rec->n, 3);
    assert_null(ncap_record_get(rec, "forename"));
    assert_string_equal(rec->fields[0].name, "nhs_number");
    assert_string_equal(rec->fields[1].name, "sex");
    assert_string_equal(rec->fields[2].name, "asa_grade");
    assert_string_equal(ncap_record_get(rec, "asa_grade"), "3");
    ncap_record_remove(rec, "asa_grade");  /* the last one */
    ncap_record_remove(rec, "nhs_number"); /* the first one */
    assert_int_equal(rec->n, 1);
    assert_string_equal(ncap_record_get(rec, "sex"), "2");
    ncap_record_destroy(&rec);
}

static void test_clear_then_reuse(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "a", "1");
    ncap_record_set(rec, "b", "2");
    ncap_record_clear(rec);
    assert_int_equal(rec->n, 0);
    assert_null(ncap_record_get(rec, "a"));
    ncap_record_set(rec, "c", "3");
    assert_int_equal(rec->n, 1);
    assert_string_equal(ncap_record_get(rec, "c"), "3");
    ncap_record_destroy(&rec);
}

static void test_many_fields_grow(void **state)
{
    (void)state;
    /* a wide dataset: more fields than the first allocation holds */
    ncap_record_t *rec = ncap_record_new();
    char name[32], value[32];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "field_%03d", i);
        snprintf(value, sizeof value, "v%d", i * 7);
        assert_int_equal(ncap_record_set(rec, name, value), 0);
    }
    assert_int_equal(rec->n, 200);
    assert_string_equal(ncap_record_get(rec, "field_000"), "v0");
    assert_string_equal(ncap_record_get(rec, "field_199"), "v1393");
    assert_string_equal(ncap_record_get(rec, "field_100"), "v700");
    ncap_record_destroy(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_get_keep_the_values_as_sent),
        cmocka_unit_test(test_values_are_copied),
        cmocka_unit_test(test_set_again_replaces_the_value),
        cmocka_unit_test(test_null_value_is_stored_as_empty),
        cmocka_unit_test(test_missing_means_absent_empty_or_blank),
        cmocka_unit_test(test_remove_keeps_the_others_in_order),
        cmocka_unit_test(test_clear_then_reuse),
        cmocka_unit_test(test_many_fields_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
