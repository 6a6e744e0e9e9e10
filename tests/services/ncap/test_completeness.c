/* test_completeness.c - completeness counted per field, trust and month: which fields are
 * reported, what is missing or invalid, months of every date form trusts send, and the rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "assert_double.h"
#include "completeness.h"
#include "nhfd_fixture.h"

static void test_months_of_every_date_form(void **state)
{
    (void)state;
    char m[8];
    assert_int_equal(completeness_month("2026-07-31", m), 0);
    assert_string_equal(m, "2026-07");
    assert_int_equal(completeness_month("2026-09-30T23:59", m), 0);
    assert_string_equal(m, "2026-09");
    assert_int_equal(completeness_month("2026-08-01T00:30+01:00", m), 0); /* ward clock time */
    assert_string_equal(m, "2026-08");
    assert_int_equal(completeness_month("31/12/2025 08:15", m), 0);
    assert_string_equal(m, "2025-12");
    assert_int_equal(completeness_month("1969-12-31T23:00", m), 0);
    assert_string_equal(m, "1969-12");
    assert_int_equal(completeness_month("2025-02-30T10:00", m), -1); /* no 30 February */
    assert_string_equal(m, "");
    assert_int_equal(completeness_month("", m), -1);
    assert_int_equal(completeness_month(NULL, m), -1);
}

static void test_quarter_months(void **state)
{
    (void)state;
    char m[3][8];
    assert_int_equal(completeness_quarter_months("2026Q3", m), 0);
    assert_string_equal(m[0], "2026-07");
    assert_string_equal(m[1], "2026-08");
    assert_string_equal(m[2], "2026-09");
    assert_int_equal(completeness_quarter_months("2025Q1", m), 0);
    assert_string_equal(m[0], "2025-01");
    assert_string_equal(m[2], "2025-03");
    assert_int_equal(completeness_quarter_months("2026Q5", m), -1);
    assert_int_equal(completeness_quarter_months("2026Q", m), -1);
    assert_int_equal(completeness_quarter_months("2026Q31", m), -1);
    assert_int_equal(completeness_quarter_months("2026-07", m), -1);
}

static void test_missing_and_invalid(void **state)
{
    (void)state;
    assert_int_equal(completeness_state_of_value(NULL, false), COMPLETENESS_MISSING);
    assert_int_equal(completeness_state_of_value("", true), COMPLETENESS_MISSING);
    assert_int_equal(completeness_state_of_value("7", true), COMPLETENESS_INVALID);
    assert_int_equal(completeness_state_of_value("3", false), COMPLETENESS_PRESENT);
    assert_int_equal(completeness_state_of_linkage_rule("nhs_number_missing"),
                     COMPLETENESS_MISSING);
    assert_int_equal(completeness_state_of_linkage_rule("dob_missing"), COMPLETENESS_MISSING);
    assert_int_equal(completeness_state_of_linkage_rule("required"), COMPLETENESS_MISSING);
    assert_int_equal(completeness_state_of_linkage_rule("nhs_number_invalid"),
                     COMPLETENESS_INVALID);
    assert_int_equal(completeness_state_of_linkage_rule("nhs_number_placeholder"),
                     COMPLETENESS_INVALID);
    assert_int_equal(completeness_state_of_linkage_rule("missing"), COMPLETENESS_INVALID);
}

static void test_reported_fields_of_nhfd(void **state)
{
    const audit_def_t *def = *state;
    const char *want_in[] = {"nhs_number", "date_of_birth", "site_code",
                             "sex",        "asa_grade",     "arrival_datetime"};
    const char *want_out[] = {"local_record_id", "trust_code", "forename", "surname", "postcode"};
    for (size_t i = 0; i < sizeof want_in / sizeof *want_in; i++) {
        const audit_field_t *f = audit_def_field(def, want_in[i]);
        assert_non_null(f);
        assert_true(completeness_reported(def, f));
    }
    for (size_t i = 0; i < sizeof want_out / sizeof *want_out; i++) {
        const audit_field_t *f = audit_def_field(def, want_out[i]);
        assert_non_null(f);
        assert_false(completeness_reported(def, f));
    }
}

/* Worked example: two fields, two trusts, two months plus a record with no date. */
static void test_counts_and_rates(void **state)
{
    (void)state;
    const char *fields[] = {"nhs_number", "asa_grade"};
    completeness_t *t = completeness_new(fields, 2);
    assert_non_null(t);
    const completeness_state_t ok_ok[] = {COMPLETENESS_PRESENT, COMPLETENESS_PRESENT};
    const completeness_state_t miss_inv[] = {COMPLETENESS_MISSING, COMPLETENESS_INVALID};
    const completeness_state_t inv_miss[] = {COMPLETENESS_INVALID, COMPLETENESS_MISSING};
    /* RH8 2026-07: 4 records, nhs 1 missing 1 invalid, asa 1 invalid 1 missing */
    assert_int_equal(completeness_add(t, "RH8", "2026-07", ok_ok), 0);
    assert_int_equal(completeness_add(t, "RH8", "2026-07", ok_ok), 0);
    assert_int_equal(completeness_add(t, "RH8", "2026-07", miss_inv), 0);
    assert_int_equal(completeness_add(t, "RH8", "2026-07", inv_miss), 0);
    /* RA1 2026-08: 1 record, all present; RA1 2026-07: 1, nhs missing; RA1 unknown month: 1 */
    assert_int_equal(completeness_add(t, "RA1", "2026-08", ok_ok), 0);
    assert_int_equal(completeness_add(t, "RA1", "2026-07", miss_inv), 0);
    assert_int_equal(completeness_add(t, "RA1", "", ok_ok), 0);
    const completeness_row_t *rows;
    size_t n = completeness_rows(t, &rows);
    assert_int_equal(n, 8); /* 2 fields x 4 trust-months */
    const struct {
        const char *field, *trust, *month;
        unsigned long records, missing, invalid;
    } want[] = {
        {"nhs_number", "RA1", "2026-07", 1, 1, 0}, {"nhs_number", "RA1", "2026-08", 1, 0, 0},
        {"nhs_number", "RA1", "unknown", 1, 0, 0}, {"nhs_number", "RH8", "2026-07", 4, 1, 1},
        {"asa_grade", "RA1", "2026-07", 1, 0, 1},  {"asa_grade", "RA1", "2026-08", 1, 0, 0},
        {"asa_grade", "RA1", "unknown", 1, 0, 0},  {"asa_grade", "RH8", "2026-07", 4, 1, 1},
    };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rows[i].field, want[i].field);
        assert_string_equal(rows[i].trust, want[i].trust);
        assert_string_equal(rows[i].month, want[i].month);
        assert_int_equal(rows[i].records, want[i].records);
        assert_int_equal(rows[i].missing, want[i].missing);
        assert_int_equal(rows[i].invalid, want[i].invalid);
    }
    assert_near(rows[3].missing_rate, 0.25, 1e-12);
    assert_near(rows[3].invalid_rate, 0.25, 1e-12);
    assert_near(rows[4].invalid_rate, 1.0, 1e-12);
    completeness_destroy(&t);
    assert_null(t);
    completeness_destroy(&t); /* harmless twice */
}

static void test_empty_table(void **state)
{
    (void)state;
    const char *fields[] = {"asa_grade"};
    completeness_t *t = completeness_new(fields, 1);
    const completeness_row_t *rows;
    assert_int_equal(completeness_rows(t, &rows), 0);
    assert_non_null(rows);
    completeness_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months_of_every_date_form),
        cmocka_unit_test(test_quarter_months),
        cmocka_unit_test(test_missing_and_invalid),
        cmocka_unit_test(test_reported_fields_of_nhfd),
        cmocka_unit_test(test_counts_and_rates),
        cmocka_unit_test(test_empty_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
