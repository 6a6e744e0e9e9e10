/* test_record.c - one record as named text values: what a stage stores is what the trust sent,
 * a resubmitted value replaces the old one, and "missing" means what a data clerk means by it */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
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

/* Values longer than a block, among short ones, set again, removed, and the record cleared and
 * reused many times: every value reads back as set (the sanitizer build checks that no byte is
 * read past its block, nor a block leaked), and a value read before its field was set again stays
 * as it was until the record is cleared. */
static void test_long_values_among_short_ones(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    static char longv[3][10000];
    for (int k = 0; k < 3; k++) {
        memset(longv[k], 'a' + k, sizeof longv[k] - 1);
        longv[k][sizeof longv[k] - 1] = '\0';
    }
    for (int round = 0; round < 50; round++) {
        char name[32], value[32];
        for (int i = 0; i < 120; i++) {
            snprintf(name, sizeof name, "f%d", i);
            snprintf(value, sizeof value, "%d-%d", round, i);
            const char *v = i % 40 == 7 ? longv[(i + round) % 3] : value;
            assert_int_equal(ncap_record_set(rec, name, v), 0);
        }
        const char *before = ncap_record_get(rec, "f7");
        assert_int_equal(ncap_record_set(rec, "f7", "short now"), 0);
        assert_string_equal(before, longv[(7 + round) % 3]);
        assert_string_equal(ncap_record_get(rec, "f7"), "short now");
        assert_int_equal(ncap_record_set(rec, "f8", longv[2]), 0);
        ncap_record_remove(rec, "f47");
        assert_int_equal(rec->n, 119);
        for (int i = 0; i < 120; i++) {
            snprintf(name, sizeof name, "f%d", i);
            snprintf(value, sizeof value, "%d-%d", round, i);
            const char *got = ncap_record_get(rec, name);
            if (i == 47)
                assert_null(got);
            else if (i == 7)
                assert_string_equal(got, "short now");
            else if (i == 8)
                assert_string_equal(got, longv[2]);
            else if (i % 40 == 7)
                assert_string_equal(got, longv[(i + round) % 3]);
            else
                assert_string_equal(got, value);
        }
        /* a value of the record set as another of its fields */
        assert_int_equal(ncap_record_set(rec, "copy", ncap_record_get(rec, "f87")), 0);
        assert_string_equal(ncap_record_get(rec, "copy"), longv[(87 + round) % 3]);
        ncap_record_clear(rec);
        assert_int_equal(rec->n, 0);
    }
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

/* 100,000 fields (a payload issue 11 sent to every stage): each is found, replaced and removed as
 * in a small record, the order kept, across the size where the index takes over from the scan. */
static void test_a_record_of_100000_fields(void **state)
{
    (void)state;
    const int n = 100000;
    ncap_record_t *rec = ncap_record_new();
    char name[32], value[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "f%d", i);
        snprintf(value, sizeof value, "%d", i * 3);
        assert_int_equal(ncap_record_set(rec, name, value), 0);
        if (i == RECORD_SCAN_MAX - 1 || i == RECORD_SCAN_MAX)
            assert_string_equal(ncap_record_get(rec, "f0"), "0"); /* on both sides of the switch */
    }
    assert_int_equal(rec->n, (size_t)n);
    for (int i = 0; i < n; i += 997) {
        snprintf(name, sizeof name, "f%d", i);
        snprintf(value, sizeof value, "%d", i * 3);
        assert_string_equal(ncap_record_get(rec, name), value);
    }
    assert_null(ncap_record_get(rec, "f100000"));
    /* replaced in place */
    assert_int_equal(ncap_record_set(rec, "f99999", "new"), 0);
    assert_int_equal(rec->n, (size_t)n);
    assert_string_equal(rec->fields[n - 1].value, "new");
    /* removed: the others still found, at their new places */
    ncap_record_remove(rec, "f5");
    assert_int_equal(rec->n, (size_t)n - 1);
    assert_null(ncap_record_get(rec, "f5"));
    assert_string_equal(ncap_record_get(rec, "f6"), "18");
    assert_string_equal(rec->fields[5].name, "f6");
    assert_string_equal(ncap_record_get(rec, "f99999"), "new");
    /* cleared, then filled past the scan and removed down below it (each remove is O(n)) */
    ncap_record_clear(rec);
    assert_null(ncap_record_get(rec, "f4"));
    for (int i = 0; i <= RECORD_SCAN_MAX; i++) {
        snprintf(name, sizeof name, "f%d", i);
        assert_int_equal(ncap_record_set(rec, name, "again"), 0);
    }
    ncap_record_remove(rec, "f0");
    ncap_record_remove(rec, "f1");
    assert_int_equal(rec->n, RECORD_SCAN_MAX - 1);
    assert_null(ncap_record_get(rec, "f1"));
    assert_string_equal(ncap_record_get(rec, "f2"), "again");
    snprintf(name, sizeof name, "f%d", RECORD_SCAN_MAX);
    assert_string_equal(ncap_record_get(rec, name), "again");
    ncap_record_destroy(&rec);
}

/* A record is checked against its definition as every stage reads one: fields of the audit only,
 * at most as many as it has. */
static void test_a_record_is_checked_against_its_definition(void **state)
{
    (void)state;
    char err[512] = "";
    audit_def_t *def =
        audit_def_load_named(NCAP_SOURCE_DIR "/deploy/audits", "nhfd", err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    ncap_record_t *rec = ncap_record_new();
    /* every slot: fields, linked fields (date_of_death) and derived fields (age_band) */
    for (size_t i = 0; i < audit_def_n_slots(def); i++)
        assert_int_equal(ncap_record_set(rec, audit_def_slot_name(def, (int)i), "1"), 0);
    assert_int_equal(audit_def_check_record(def, rec, err, sizeof err), 0);
    /* one field the audit does not have */
    ncap_record_remove(rec, "asa_grade");
    assert_int_equal(ncap_record_set(rec, "asa_grad", "3"), 0);
    assert_int_equal(audit_def_check_record(def, rec, err, sizeof err), -1);
    assert_string_equal(err, "the record has the field \"asa_grad\", expected only fields, linked "
                             "fields and derived fields of audit nhfd");
    /* a long name is cut, never in the middle of a UTF-8 character (the message is stored) */
    ncap_record_clear(rec);
    char name[200];
    memset(name, 'a', 59);
    strcpy(name + 59, "\xc3\xa9 and more");
    assert_int_equal(ncap_record_set(rec, name, "1"), 0);
    assert_int_equal(audit_def_check_record(def, rec, err, sizeof err), -1);
    char want[300];
    snprintf(want, sizeof want,
             "the record has the field \"%.59s...\", expected only fields, linked fields and "
             "derived fields of audit nhfd",
             name);
    assert_string_equal(err, want);
    /* more fields than the audit has: refused on the count */
    ncap_record_clear(rec);
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "extra_%d", i);
        assert_int_equal(ncap_record_set(rec, name, "x"), 0);
    }
    assert_int_equal(audit_def_check_record(def, rec, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "the record has 100000 fields, expected at most %zu (the fields, linked fields and "
             "derived fields of audit nhfd)",
             audit_def_n_slots(def));
    assert_string_equal(err, want);
    ncap_record_destroy(&rec);
    audit_def_destroy(&def);
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
        cmocka_unit_test(test_long_values_among_short_ones),
        cmocka_unit_test(test_a_record_of_100000_fields),
        cmocka_unit_test(test_a_record_is_checked_against_its_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
