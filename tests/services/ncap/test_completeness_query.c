/* test_completeness_query.c - the records behind `ncap report completeness`, on a real PostgreSQL
 * ($NCAP_TEST_PG): only the latest version of each record of the audit counts; values missing from
 * the payload, validation's errors and linkage's identifier problems make the figures; --trust
 * and --period narrow them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "completeness_query.h"
#include "nhfd_fixture.h"
#include "pg_fixture.h"

static const char *const seed_sql =
    "INSERT INTO validation.record (record_id, version, audit, trust, site, local_id,"
    "  submission_id, row_number, pseudonym, valid, payload) VALUES"
    /* record 1: version 1 had asa_grade 7 and a bad NHS number, version 2 corrected both */
    "  (1, 1, 'nhfd', 'RH8', 'RH801', 'a', 1, 2, 'p1', false,"
    "   '{\"arrival_datetime\": \"2026-07-05T10:00\", \"asa_grade\": \"7\"}'),"
    "  (1, 2, 'nhfd', 'RH8', 'RH801', 'a', 2, 2, 'p1', true,"
    "   '{\"arrival_datetime\": \"2026-07-05T10:00\", \"asa_grade\": \"3\"}'),"
    /* record 2: UK date in August, asa_grade empty, NHS number missing */
    "  (2, 1, 'nhfd', 'RH8', 'RH801', 'b', 1, 3, 'p2', false,"
    "   '{\"arrival_datetime\": \"15/08/2026 09:00\", \"asa_grade\": \"\"}'),"
    /* record 3: no such date, so no month; NHS number invalid, date of birth missing */
    "  (3, 1, 'nhfd', 'RH8', 'RH801', 'c', 1, 4, 'p3', false,"
    "   '{\"arrival_datetime\": \"2026-02-30T10:00\", \"asa_grade\": \"2\"}'),"
    /* record 4: another trust, October; asa_grade absent altogether */
    "  (4, 1, 'nhfd', 'RA1', 'RA101', 'd', 3, 2, 'p4', true,"
    "   '{\"arrival_datetime\": \"2026-10-01T00:10\"}'),"
    /* record 5: another audit */
    "  (5, 1, 'nela', 'RH8', 'RH801', 'e', 4, 2, 'p5', true,"
    "   '{\"arrival_datetime\": \"2026-07-01T00:10\", \"asa_grade\": \"\"}');"
    "INSERT INTO validation.problem (record_id, version, submission_id, row_number, field, rule,"
    "  severity, value, message) VALUES"
    "  (1, 1, 1, 2, 'asa_grade', 'range', 'error', '7', 'expected 1-5'),"
    "  (2, 1, 1, 3, 'asa_grade', 'required', 'error', '', 'asa_grade is empty'),"
    "  (3, 1, 1, 4, 'arrival_datetime', 'type', 'error', '2026-02-30T10:00', 'not a date'),"
    "  (3, 1, 1, 4, 'arrival_datetime', 'surgery_after_arrival', 'error', '', 'order'),"
    "  (3, 1, 1, 4, 'asa_grade', 'asa_plausible', 'warning', '2', 'a warning is not invalid');"
    "INSERT INTO linkage.problem (record_id, version, submission_id, row_number, field, rule,"
    "  severity, message) VALUES"
    "  (1, 1, 1, 2, 'nhs_number', 'nhs_number_invalid', 'warning', 'old version'),"
    "  (2, 1, 1, 3, 'nhs_number', 'nhs_number_missing', 'warning', 'empty'),"
    "  (3, 1, 1, 4, 'nhs_number', 'nhs_number_invalid', 'warning', 'checksum'),"
    "  (3, 1, 1, 4, 'date_of_birth', 'dob_missing', 'warning', 'empty')";

static const char *const field_names[] = {"nhs_number", "date_of_birth", "asa_grade",
                                          "arrival_datetime"};
#define NF 4

/* Reads into a table over field_names and returns its rows as "field trust month records missing
 * invalid" lines, one string. */
static void report(PGconn *db, const audit_def_t *def, const char *trust, const char *period,
                   char *out, size_t outlen)
{
    const audit_field_t *fields[NF];
    for (int i = 0; i < NF; i++)
        assert_non_null(fields[i] = audit_def_field(def, field_names[i]));
    char months[3][8];
    if (period)
        assert_int_equal(completeness_quarter_months(period, months), 0);
    completeness_query_t q = {
        def, fields, NF, trust, period ? (const char(*)[8])months : NULL, period ? 3 : 0};
    completeness_t *t = completeness_new(field_names, NF);
    char err[1024];
    if (completeness_read(db, &q, t, err, sizeof err) != 0)
        fail_msg("%s", err);
    const completeness_row_t *rows;
    size_t n = completeness_rows(t, &rows);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s %s %s %lu %lu %lu\n", rows[i].field, rows[i].trust,
                 rows[i].month, rows[i].records, rows[i].missing, rows[i].invalid);
    }
    completeness_destroy(&t);
}

static void test_latest_versions_every_trust_and_month(void **state)
{
    const audit_def_t *def = *state;
    PGconn *db = pg_fixture_open("ncap_test_completeness_query");
    pg_fixture_exec(db, seed_sql);
    char out[4096];
    report(db, def, NULL, NULL, out, sizeof out);
    assert_string_equal(out, "nhs_number RA1 2026-10 1 0 0\n"
                             "nhs_number RH8 2026-07 1 0 0\n"
                             "nhs_number RH8 2026-08 1 1 0\n"
                             "nhs_number RH8 unknown 1 0 1\n"
                             "date_of_birth RA1 2026-10 1 0 0\n"
                             "date_of_birth RH8 2026-07 1 0 0\n"
                             "date_of_birth RH8 2026-08 1 0 0\n"
                             "date_of_birth RH8 unknown 1 1 0\n"
                             "asa_grade RA1 2026-10 1 1 0\n"
                             "asa_grade RH8 2026-07 1 0 0\n"
                             "asa_grade RH8 2026-08 1 1 0\n"
                             "asa_grade RH8 unknown 1 0 0\n"
                             "arrival_datetime RA1 2026-10 1 0 0\n"
                             "arrival_datetime RH8 2026-07 1 0 0\n"
                             "arrival_datetime RH8 2026-08 1 0 0\n"
                             "arrival_datetime RH8 unknown 1 0 1\n");

    report(db, def, "RA1", NULL, out, sizeof out);
    assert_string_equal(out, "nhs_number RA1 2026-10 1 0 0\n"
                             "date_of_birth RA1 2026-10 1 0 0\n"
                             "asa_grade RA1 2026-10 1 1 0\n"
                             "arrival_datetime RA1 2026-10 1 0 0\n");

    report(db, def, NULL, "2026Q3", out, sizeof out);
    assert_string_equal(out, "nhs_number RH8 2026-07 1 0 0\n"
                             "nhs_number RH8 2026-08 1 1 0\n"
                             "date_of_birth RH8 2026-07 1 0 0\n"
                             "date_of_birth RH8 2026-08 1 0 0\n"
                             "asa_grade RH8 2026-07 1 0 0\n"
                             "asa_grade RH8 2026-08 1 1 0\n"
                             "arrival_datetime RH8 2026-07 1 0 0\n"
                             "arrival_datetime RH8 2026-08 1 0 0\n");

    report(db, def, "RA1", "2026Q3", out, sizeof out);
    assert_string_equal(out, "");
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latest_versions_every_trust_and_month),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
