/* test_feedback_report.c - what a trust reads from `ncap feedback`: the CSV (quoted as RFC 4180
 * wants), the readable lines (a problem ingest kept once per rule with its count and rows), the
 * summary and the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feedback_report.h"

static char *captured(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static const feedback_problem_t range = {
    12,           "asa_grade", "range", "error", "7", "\"asa_grade\" is \"7\", expected 1-5",
    "validation", 0,           NULL,    0};
static const feedback_problem_t nhs = {
    14,
    "nhs_number",
    "nhs_number_invalid",
    "warning",
    "",
    "\"nhs_number\" is not a valid NHS number (checksum): the record cannot be linked by it",
    "linkage",
    1,
    NULL,
    0};
static const feedback_problem_t columns = {
    3,        "", "columns", "error", "", "row has 3 fields but the header has 30 columns",
    "ingest", 1,  NULL,      0};
static const uint32_t first_rows[] = {2, 3, 4};
/* kept once per rule: 999,998 rows, the first three listed (ingest lists up to 1,000) */
static const feedback_problem_t many = {2,
                                        "",
                                        "columns",
                                        "error",
                                        "",
                                        "wrong number of columns (the first: row has 1 fields but "
                                        "the header has 30 columns)",
                                        "ingest",
                                        999998,
                                        first_rows,
                                        3};
static const feedback_problem_t all_listed = {
    2, "", "csv", "error", "", "rows that could not be read as CSV", "ingest", 3, first_rows, 3};

static void test_csv(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    feedback_report_csv_header(f);
    feedback_report_csv_row(f, 42, &columns);
    feedback_report_csv_row(f, 42, &range);
    feedback_report_csv_row(f, 42, &nhs);
    feedback_report_csv_row(f, 42, &many);
    char *s = captured(f);
    assert_string_equal(
        s, "submission_id,row,field,rule,severity,value,message\n"
           "42,3,,columns,error,,row has 3 fields but the header has 30 columns\n"
           "42,12,asa_grade,range,error,7,\"\"\"asa_grade\"\" is \"\"7\"\", expected 1-5\"\n"
           "42,14,nhs_number,nhs_number_invalid,warning,,\"\"\"nhs_number\"\" is not a valid NHS "
           "number (checksum): the record cannot be linked by it\"\n"
           "42,2,,columns,error,,\"wrong number of columns (the first: row has 1 fields but the "
           "header has 30 columns); 999,998 rows (first 3 listed: 2, 3, 4, ...)\"\n");
    free(s);
}

static void test_text_rows(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    feedback_report_text_row(f, &columns);
    feedback_report_text_row(f, &range);
    feedback_report_text_row(f, &many);
    feedback_report_text_row(f, &all_listed);
    char *s = captured(f);
    assert_string_equal(s, "row 3: row has 3 fields but the header has 30 columns (error, "
                           "columns)\n"
                           "row 12: asa_grade: \"asa_grade\" is \"7\", expected 1-5 (error, "
                           "range, value \"7\")\n"
                           "row 2: wrong number of columns (the first: row has 1 fields but the "
                           "header has 30 columns) (error, columns): 999,998 rows (first 3 "
                           "listed: 2, 3, 4, ...)\n"
                           "row 2: rows that could not be read as CSV (error, csv): 3 rows: 2, 3, "
                           "4\n");
    free(s);
}

static void test_summary_finished_and_in_flight(void **state)
{
    (void)state;
    feedback_summary_t s = {.audit = "nhfd",
                            .trust = "RH8",
                            .filename = "RH8.csv",
                            .received_at = "2026-11-23T13:10:00Z",
                            .rows = 1000,
                            .stored = 990,
                            .unchanged = 2,
                            .rejected_ingest = 8,
                            .validated = 990,
                            .rejected_validation = 40,
                            .in_flight = 0,
                            .errors = 52,
                            .warnings = 1};
    assert_int_equal(feedback_accepted(&s), 950);
    assert_int_equal(feedback_exit_status(&s), 1);
    FILE *f = tmpfile();
    feedback_report_text_summary(f, 7, &s);
    char *out = captured(f);
    assert_string_equal(
        out, "submission 7: nhfd, trust RH8, file \"RH8.csv\", received 2026-11-23T13:10:00Z\n"
             "rows: 1000 in the file; 950 accepted, 48 rejected (8 by ingest, 40 by validation), "
             "2 unchanged (identical to a version already sent: their feedback is with that "
             "submission)\n"
             "problems: 52 errors, 1 warning\n"
             "pipeline: finished with this submission\n");
    free(out);

    s.unchanged = 0;
    s.validated = 900;
    s.in_flight = 90;
    s.errors = 0;
    assert_int_equal(feedback_accepted(&s), 860);
    assert_int_equal(feedback_exit_status(&s), 0);
    f = tmpfile();
    feedback_report_text_summary(f, 7, &s);
    out = captured(f);
    assert_non_null(strstr(out, "rows: 1000 in the file; 860 accepted, 48 rejected"));
    assert_non_null(strstr(out, "problems: 0 errors, 1 warning\n"));
    assert_non_null(
        strstr(out, "pipeline: still working: 90 records not yet validated; ask again"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_text_rows),
        cmocka_unit_test(test_summary_finished_and_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
