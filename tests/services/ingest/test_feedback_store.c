/* test_feedback_store.c - the SQL behind `ncap feedback`, on a real PostgreSQL ($NCAP_TEST_PG),
 * run as ingest's own role: a trust finds only its own submissions, the summary counts what the
 * stages did, and every problem of every stage comes back once, in order, page by page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "feedback_store.h"
#include "nhfd_fixture.h"
#include "pg_fixture.h"

/* Submission 1 of RH8: 5 data rows (lines 2-6); line 3 refused by ingest; lines 2, 4, 5, 6 stored
 * as records 1-4; 1-3 validated (record 2 rejected), record 4 still in flight. Submission 2 is
 * RA1's. */
static const char *const seed_sql =
    "INSERT INTO ingest.submission (submission_id, audit, trust, filename, rows, accepted,"
    "  unchanged, rejected) VALUES (1, 'nhfd', 'RH8', 'RH8.csv', 5, 4, 0, 1),"
    "  (2, 'nhfd', 'RA1', 'RA1.csv', 1, 1, 0, 0);"
    "INSERT INTO ingest.record (record_id, audit, trust, local_id, latest_version) VALUES"
    "  (1, 'nhfd', 'RH8', 'a', 1), (2, 'nhfd', 'RH8', 'b', 1), (3, 'nhfd', 'RH8', 'c', 1),"
    "  (4, 'nhfd', 'RH8', 'd', 1), (5, 'nhfd', 'RA1', 'e', 1);"
    "INSERT INTO ingest.raw_record (record_id, version, submission_id, row_number, payload,"
    "  content_hash) VALUES (1, 1, 1, 2, '{}', 'h1'), (2, 1, 1, 4, '{}', 'h2'),"
    "  (3, 1, 1, 5, '{}', 'h3'), (4, 1, 1, 6, '{}', 'h4'), (5, 1, 2, 2, '{}', 'h5');"
    "INSERT INTO ingest.problem (submission_id, row_number, field, rule, severity, message)"
    "  VALUES (1, 3, '', 'columns', 'error', 'row has 3 fields but the header has 30 columns');"
    "INSERT INTO linkage.problem (record_id, version, submission_id, row_number, field, rule,"
    "  severity, message) VALUES"
    "  (1, 1, 1, 2, 'nhs_number', 'nhs_number_invalid', 'warning', 'not a valid NHS number'),"
    "  (2, 1, 1, 4, 'date_of_birth', 'dob_missing', 'warning', 'date of birth is empty'),"
    "  (5, 1, 2, 2, 'nhs_number', 'nhs_number_missing', 'warning', 'RA1 problem');"
    "INSERT INTO validation.record (record_id, version, audit, trust, site, local_id,"
    "  submission_id, row_number, pseudonym, valid, payload) VALUES"
    "  (1, 1, 'nhfd', 'RH8', 'RH801', 'a', 1, 2, 'p1', true, '{}'),"
    "  (2, 1, 'nhfd', 'RH8', 'RH801', 'b', 1, 4, 'p2', false, '{}'),"
    "  (3, 1, 'nhfd', 'RH8', 'RH801', 'c', 1, 5, 'p3', true, '{}');"
    "INSERT INTO validation.problem (record_id, version, submission_id, row_number, field, rule,"
    "  severity, value, message) VALUES"
    "  (2, 1, 1, 4, 'asa_grade', 'range', 'error', '7', 'asa_grade is 7, expected 1-5'),"
    "  (2, 1, 1, 4, 'arrival_datetime', 'type', 'error', '2025-02-30T10:00', 'not a date'),"
    "  (3, 1, 1, 5, 'age_at_arrival', 'plausible_age', 'warning', '111', 'over 110'),"
    /* no stage stores an identifier's value; if one ever did, feedback would not pass it on */
    "  (3, 1, 1, 5, 'nhs_number', 'made_up', 'warning', '9434765919', 'never shown');"
    "SET ROLE ncap_ingest";

static const char *const want[] = {
    /* row field rule stage value */
    "2|nhs_number|nhs_number_invalid|linkage||warning",
    "3||columns|ingest||error",
    "4|arrival_datetime|type|validation|2025-02-30T10:00|error",
    "4|asa_grade|range|validation|7|error",
    "4|date_of_birth|dob_missing|linkage||warning",
    "5|age_at_arrival|plausible_age|validation|111|warning",
    "5|nhs_number|made_up|validation||warning",
};

static PGconn *open_seeded(void)
{
    PGconn *db = pg_fixture_open("ncap_test_feedback_store");
    pg_fixture_exec(db, seed_sql);
    return db;
}

static void test_only_the_owner_finds_it(void **state)
{
    (void)state;
    PGconn *db = open_seeded();
    char err[1024];
    feedback_summary_t s;
    assert_int_equal(feedback_store_find(db, 1, "RH8", 1, &s, err, sizeof err), 1);
    assert_string_equal(s.audit, "nhfd");
    assert_string_equal(s.filename, "RH8.csv");
    assert_int_equal(strlen(s.received_at), 20);
    assert_int_equal(s.rows, 5);
    assert_int_equal(s.stored, 4);
    assert_int_equal(s.rejected_ingest, 1);
    assert_int_equal(s.validated, 3);
    assert_int_equal(s.rejected_validation, 1);
    assert_int_equal(s.in_flight, 1);
    assert_int_equal(s.errors, 3);
    assert_int_equal(s.warnings, 4);
    /* another trust's submission and one that does not exist look the same */
    assert_int_equal(feedback_store_find(db, 1, "RA1", 1, &s, err, sizeof err), 0);
    assert_int_equal(feedback_store_find(db, 99, "RH8", 1, &s, err, sizeof err), 0);
    assert_int_equal(feedback_store_find(db, 2, "RA1", 0, &s, err, sizeof err), 1);
    assert_int_equal(s.errors + s.warnings, 0); /* not counted when not asked */
    PQfinish(db);
}

static void test_every_problem_once_in_order_by_pages(void **state)
{
    const audit_def_t *def = *state;
    PGconn *db = open_seeded();
    char err[1024];
    for (unsigned limit = 1; limit <= 8; limit++) {
        size_t got = 0;
        feedback_page_t page;
        feedback_cursor_t cur = {0};
        char field[64], rule[64], stage[16], message[256];
        int first = 1;
        for (;;) {
            assert_int_equal(
                feedback_store_page(db, 1, def, first ? NULL : &cur, limit, &page, err, sizeof err),
                0);
            first = 0;
            assert_true(page.n <= limit);
            for (size_t i = 0; i < page.n; i++) {
                const feedback_problem_t *p = &page.problems[i];
                char line[400];
                snprintf(line, sizeof line, "%u|%s|%s|%s|%s|%s", p->row, p->field, p->rule,
                         p->stage, p->value, p->severity);
                assert_true(got < sizeof want / sizeof *want);
                assert_string_equal(line, want[got]);
                got++;
            }
            if (!page.more) {
                feedback_page_clear(&page);
                break;
            }
            const feedback_problem_t *last = &page.problems[page.n - 1];
            snprintf(field, sizeof field, "%s", last->field);
            snprintf(rule, sizeof rule, "%s", last->rule);
            snprintf(stage, sizeof stage, "%s", last->stage);
            snprintf(message, sizeof message, "%s", last->message);
            cur = (feedback_cursor_t){last->row, field, rule, stage, message};
            feedback_page_clear(&page);
        }
        assert_int_equal(got, sizeof want / sizeof *want);
    }
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_owner_finds_it),
        cmocka_unit_test(test_every_problem_once_in_order_by_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
