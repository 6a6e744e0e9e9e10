/* test_cmd_validate.c - `ncap validate` on small files: the exact CSV rows a data clerk gets, the
 * exit status, and the usage and I/O errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validate_text.h"

#define REPORT_HEADER "row,field,rule,severity,value,message\n"

/* 14 columns: the required fields, plus nhs_number and surgery_datetime. 4010232137 and
 * 4857773457 are valid NHS numbers outside the test range (9...), so they draw no warning. */
#define HEADER                                                                                     \
    "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,arrival_datetime,"          \
    "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,fracture_side,"         \
    "pathological_fracture,surgery_datetime\n"
#define ROW_1                                                                                      \
    "HF-0001,RR8,RR801,4010232137,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N,2026-01-11T09:00\n"
#define ROW_2                                                                                      \
    "HF-0002,RR8,RR801,4857773457,1941-06-01,1,2026-01-12T08:00,1,2,8,IT,R,N,2026-01-13T09:00\n"

static void test_clean_file(void **state)
{
    (void)state;
    result_t r = validate_text("nhfd", HEADER ROW_1 ROW_2);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, REPORT_HEADER);
    assert_non_null(strstr(r.err, ": 2 data rows, 0 errors, 0 warnings\n"));
    result_free(&r);

    /* UK-style dates and CRLF line ends are as clean */
    r = validate_text("nhfd",
                      "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,"
                      "arrival_datetime,residence_at_fracture,pre_fracture_mobility,amts_pre_op,"
                      "fracture_type,fracture_side,pathological_fracture,surgery_datetime\r\n"
                      "HF-0001,RR8,RR801,4010232137,12/05/1940,2,10/01/2026 08:00,1,2,ND,ICD,L,N,"
                      "11/01/2026 09:00\r\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, REPORT_HEADER);
    result_free(&r);
}

static void test_bad_code(void **state)
{
    (void)state;
    result_t r =
        validate_text("nhfd", HEADER ROW_1 ROW_2 "HF-0003,RR8,RR801,4010232137,1940-05-12,2,2026-"
                                                 "02-10T08:00,1,2,8,XX,L,N,2026-02-11T09:00\n");
    assert_int_equal(r.rc, 1);
    /* the header is line 1, so the third data row is line 4; the value is shown as sent */
    assert_string_equal(r.out, REPORT_HEADER
                        "4,fracture_type,code,error,XX,\"\"\"fracture_type\"\" is \"\"XX\"\", "
                        "expected one of ICD (Intracapsular displaced), ICU (Intracapsular "
                        "undisplaced), IT (Intertrochanteric), ST (Subtrochanteric)\"\n");
    assert_non_null(strstr(r.err, ": 3 data rows, 1 errors, 0 warnings\n"));
    result_free(&r);
}

static void test_identifier_problem_hides_value(void **state)
{
    (void)state;
    /* 4010232138: the check digit does not match. A warning (the record is kept, unlinked), and
     * the value column is empty: identifier values are never printed. */
    result_t r =
        validate_text("nhfd", HEADER ROW_1 "HF-0002,RR8,RR801,4010232138,1941-06-01,1,2026-01-"
                                           "12T08:00,1,2,8,IT,R,N,2026-01-13T09:00\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, REPORT_HEADER
                        "3,nhs_number,nhs_number_invalid,warning,,\"\"\"nhs_number\"\" is not a "
                        "valid NHS number (check digit does not match): the record cannot be "
                        "linked by it\"\n");
    assert_null(strstr(r.out, "4010232138"));
    assert_null(strstr(r.err, "4010232138"));
    result_free(&r);

    /* a test-range number (9...) is a warning too, and not printed either */
    r = validate_text("nhfd",
                      HEADER "HF-0001,RR8,RR801,9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,"
                             "L,N,2026-01-11T09:00\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out,
                        REPORT_HEADER "2,nhs_number,nhs_number_test,warning,,\"\"\"nhs_number"
                                      "\"\" is a test-range number (starts with 9), not a "
                                      "patient's number\"\n");
    result_free(&r);
}

static void test_surgery_before_arrival(void **state)
{
    (void)state;
    result_t r =
        validate_text("nhfd", HEADER ROW_1 "HF-0002,RR8,RR801,4857773457,1941-06-01,1,2026-01-"
                                           "12T08:00,1,2,8,IT,R,N,2026-01-11T09:00\n");
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, REPORT_HEADER
                        "3,surgery_datetime,surgery_before_arrival,error,2026-01-11T09:00,"
                        "surgery (2026-01-11T09:00) is before arrival (2026-01-12T08:00)\n");
    result_free(&r);
}

static void test_problems_in_row_order(void **state)
{
    (void)state;
    /* a bad code on line 3 and a rule broken on line 2: reported line 2 first */
    result_t r =
        validate_text("nhfd", HEADER "HF-0001,RR8,RR801,4010232137,1940-05-12,2,2026-01-10T08:00,"
                                     "1,2,8,ICD,L,N,2026-01-09T09:00\n"
                                     "HF-0002,RR8,RR801,4857773457,1941-06-01,1,2026-01-12T08:00,"
                                     "1,2,8,IT,X,N,2026-01-13T09:00\n");
    assert_int_equal(r.rc, 1);
    const char *a = strstr(r.out, "\n2,surgery_datetime,surgery_before_arrival,error,");
    const char *b = strstr(r.out, "\n3,fracture_side,code,error,X,");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    result_free(&r);
}

static void test_probable_duplicate_episode(void **state)
{
    (void)state;
    /* one patient (same NHS number and date of birth), left hip on 10 Jan and again on 15 Jan,
     * the later episode written first: the later one is the probable duplicate, whatever the
     * order of the rows. The right hip on 20 Jan is another episode. */
    result_t r = validate_text(
        "nhfd",
        HEADER "HF-0002,RR8,RR801,4010232137,1940-05-12,2,2026-01-15T08:00,1,2,8,ICD,L,N,"
               "2026-01-16T09:00\n"
               "HF-0001,RR8,RR801,4010232137,12/05/1940,2,2026-01-10T08:00,1,2,8,ICD,L,N,"
               "2026-01-11T09:00\n"
               "HF-0003,RR8,RR801,401 023 2137,1940-05-12,2,2026-01-20T08:00,1,2,8,ICD,R,N,"
               "2026-01-21T09:00\n"
               /* another patient (other date of birth), same number, same side: not linked */
               "HF-0004,RR8,RR801,4010232137,1940-05-13,2,2026-01-16T08:00,1,2,8,ICD,L,N,"
               "2026-01-17T09:00\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, REPORT_HEADER
                        "2,arrival_datetime,probable_duplicate_episode,warning,2026-01-15T08:00,"
                        "another record of this patient from this trust has a fracture on the "
                        "same side (L) with arrival in the 30 days up to this one "
                        "(2026-01-15T08:00): probably the same episode sent twice\n");
    assert_non_null(strstr(r.err, ": 4 data rows, 0 errors, 1 warnings\n"));
    result_free(&r);
}

static void test_io_and_usage(void **state)
{
    (void)state;
    result_t r =
        validate_run("--audit", "nhfd", "--audit-dir", AUDIT_DIR, "/nonexistent/trust.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "ncap validate: could not read \"/nonexistent/trust.csv\": No such "
                               "file or directory\n");
    result_free(&r);

    r = validate_run("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap validate"));
    assert_non_null(strstr(r.out, "row,field,rule,severity,value,message"));
    assert_string_equal(r.err, "");
    result_free(&r);

    r = validate_run("--audit-dir", AUDIT_DIR, "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing --audit"));
    result_free(&r);

    r = validate_run("--audit", "nhfd", "--audit-dir", AUDIT_DIR, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing FILE"));
    result_free(&r);

    r = validate_run("--audit", "nosuch", "--audit-dir", AUDIT_DIR, "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "nosuch"));
    result_free(&r);

    r = validate_run("--bogus", "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown option \"--bogus\""));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_file),
        cmocka_unit_test(test_bad_code),
        cmocka_unit_test(test_identifier_problem_hides_value),
        cmocka_unit_test(test_surgery_before_arrival),
        cmocka_unit_test(test_problems_in_row_order),
        cmocka_unit_test(test_probable_duplicate_episode),
        cmocka_unit_test(test_io_and_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
