/* test_submission.c - a trust's CSV file checked against the real NHFD definition: which files
 * are refused and why, which rows are refused with which row number and message, what is stored
 * for the others, that the content hash does not depend on the column order; the limits (rows,
 * columns, field and record key length) and the file-level problems kept once per rule with their
 * count and first rows, while record-level problems are all given */
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
#include "submission.h"
#include "utf8.h"

/* 14 columns: the required fields, plus nhs_number and surgery_datetime */
#define HEADER                                                                                     \
    "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,arrival_datetime,"          \
    "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,fracture_side,"         \
    "pathological_fracture,surgery_datetime\n"
#define ROW(id, trust, site)                                                                       \
    id "," trust "," site ",9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N,"               \
       "2026-01-11T09:00\n"

/* The problems the last parse gave its sink, copied. */
typedef struct {
    int row;
    char field[64], rule[32], severity[8], message[640];
    unsigned count;
    int rows[SUBMISSION_LISTED_ROWS];
    size_t n_rows;
} got_t;

static struct {
    got_t *p;
    size_t n, cap;
    size_t stop_after; /* the sink stops at this many (0: never) */
} got;

static int collect(void *ctx, const submission_problem_t *p)
{
    (void)ctx;
    if (got.stop_after && got.n == got.stop_after)
        return -1;
    if (got.n == got.cap) {
        got.cap = got.cap ? got.cap * 2 : 16;
        got.p = realloc(got.p, got.cap * sizeof *got.p);
        assert_non_null(got.p);
    }
    got_t *g = &got.p[got.n++];
    memset(g, 0, sizeof *g);
    g->row = p->row;
    snprintf(g->field, sizeof g->field, "%s", p->field);
    snprintf(g->rule, sizeof g->rule, "%s", p->rule);
    snprintf(g->severity, sizeof g->severity, "%s", p->severity);
    snprintf(g->message, sizeof g->message, "%s", p->message);
    g->count = p->count;
    assert_true(p->n_rows <= SUBMISSION_LISTED_ROWS);
    assert_true(p->count > 1 ? p->rows != NULL && p->n_rows > 0 : p->rows == NULL);
    if (p->n_rows)
        memcpy(g->rows, p->rows, p->n_rows * sizeof *p->rows);
    g->n_rows = p->n_rows;
    return 0;
}

/* Parses with problems kept once per rule (aggregate) or not, into got. */
static submission_t *parse_n(void **state, const char *trust, const char *csv, size_t len,
                             bool aggregate)
{
    got.n = 0;
    submission_sink_t sink = {collect, NULL, aggregate};
    submission_t *s = submission_parse_csv(*state, trust, csv, len, &sink);
    assert_non_null(s);
    assert_int_equal(s->n_problems, got.n);
    return s;
}

static submission_t *parse(void **state, const char *trust, const char *csv)
{
    return parse_n(state, trust, csv, strlen(csv), true);
}

/* The problem reported for row, or NULL. */
static const got_t *problem_at(const submission_t *s, int row)
{
    (void)s;
    for (size_t i = 0; i < got.n; i++)
        if (got.p[i].row == row)
            return &got.p[i];
    return NULL;
}

static int teardown_all(void **state)
{
    free(got.p);
    return teardown(state);
}

/* ---------------------------------------------------------------- a good file */

static void test_good_file_gives_one_row_per_record(void **state)
{
    submission_t *s =
        parse(state, "RR8", HEADER ROW("HF-0001", "RR8", "RR801") ROW("HF-0002", "RR8", "RR802"));
    assert_string_equal(s->file_error, "");
    assert_int_equal(s->data_rows, 2);
    assert_int_equal(s->rejected, 0);
    assert_int_equal(s->n_problems, 0);
    assert_int_equal(s->n_rows, 2);
    /* rows are numbered as in the file: the header is line 1 */
    assert_int_equal(s->rows[0].row, 2);
    assert_string_equal(s->rows[0].local_id, "HF-0001");
    assert_string_equal(s->rows[0].site, "RR801");
    assert_int_equal(s->rows[1].row, 3);
    assert_string_equal(s->rows[1].local_id, "HF-0002");
    assert_string_equal(s->rows[1].site, "RR802");
    /* the stored record is every column as sent */
    const ncap_record_t *rec = s->rows[0].rec;
    assert_int_equal(rec->n, 14);
    assert_string_equal(ncap_record_get(rec, "nhs_number"), "9434765919");
    assert_string_equal(ncap_record_get(rec, "arrival_datetime"), "2026-01-10T08:00");
    assert_string_equal(ncap_record_get(rec, "fracture_type"), "ICD");
    assert_string_equal(ncap_record_get(rec, "trust_code"), "RR8");
    /* its canonical JSON (sorted keys) and the SHA-256 of that text, computed independently */
    assert_string_equal(s->rows[0].json,
                        "{\"amts_pre_op\":\"8\",\"arrival_datetime\":\"2026-01-10T08:00\","
                        "\"date_of_birth\":\"1940-05-12\",\"fracture_side\":\"L\","
                        "\"fracture_type\":\"ICD\",\"local_record_id\":\"HF-0001\","
                        "\"nhs_number\":\"9434765919\",\"pathological_fracture\":\"N\","
                        "\"pre_fracture_mobility\":\"2\",\"residence_at_fracture\":\"1\","
                        "\"sex\":\"2\",\"site_code\":\"RR801\","
                        "\"surgery_datetime\":\"2026-01-11T09:00\",\"trust_code\":\"RR8\"}");
    assert_string_equal(s->rows[0].hash,
                        "d76447e5903ab6925abe0534928100b12b52afaa94c36e14a0c3631c4b4cc340");
    assert_string_not_equal(s->rows[0].hash, s->rows[1].hash);
    submission_destroy(&s);
    assert_null(s);
}

static void test_crlf_and_no_final_newline(void **state)
{
    const char *csv = "local_record_id,trust_code,site_code,date_of_birth,sex,arrival_datetime,"
                      "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,"
                      "fracture_side,pathological_fracture\r\n"
                      "A1,RR8,RR801,12/05/1940,1,10/01/2026 08:00,1,1,10,IT,R,N\r\n"
                      "A2,RR8,RR801,12/05/1941,2,11/01/2026 08:00,2,3,ND,ST,L,U";
    submission_t *s = parse(state, "RR8", csv);
    assert_string_equal(s->file_error, "");
    assert_int_equal(s->n_rows, 2);
    assert_int_equal(s->rows[1].row, 3);
    assert_string_equal(ncap_record_get(s->rows[1].rec, "pathological_fracture"), "U");
    assert_string_equal(ncap_record_get(s->rows[0].rec, "arrival_datetime"), "10/01/2026 08:00");
    submission_destroy(&s);
}

/* ---------------------------------------------------------------- the header */

static void test_empty_file_is_refused(void **state)
{
    submission_t *s = parse(state, "RR8", "");
    assert_string_equal(s->file_error,
                        "the file is empty: expected a header row naming the audit's fields");
    assert_int_equal(s->n_rows, 0);
    submission_destroy(&s);
}

static void test_missing_required_column_refuses_the_file(void **state)
{
    /* fracture_side left out of the header and of the row */
    const char *csv = "local_record_id,trust_code,site_code,date_of_birth,sex,arrival_datetime,"
                      "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,"
                      "pathological_fracture\n"
                      "A1,RR8,RR801,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,N\n";
    submission_t *s = parse(state, "RR8", csv);
    assert_string_equal(s->file_error, "the header has no column \"fracture_side\", a required "
                                       "field of the nhfd dataset 2026.1");
    assert_int_equal(s->n_rows, 0);
    assert_int_equal(s->data_rows, 0);
    submission_destroy(&s);
}

static void test_missing_record_key_column_refuses_the_file(void **state)
{
    const char *csv = "trust_code,site_code,date_of_birth,sex,arrival_datetime,"
                      "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,"
                      "fracture_side,pathological_fracture\n"
                      "RR8,RR801,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N\n";
    submission_t *s = parse(state, "RR8", csv);
    assert_non_null(strstr(s->file_error, "\"local_record_id\""));
    assert_int_equal(s->n_rows, 0);
    submission_destroy(&s);
}

static void test_duplicated_column_refuses_the_file(void **state)
{
    const char *csv = "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,"
                      "arrival_datetime,residence_at_fracture,pre_fracture_mobility,amts_pre_op,"
                      "fracture_type,fracture_side,pathological_fracture,sex\n"
                      "A1,RR8,RR801,,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N,2\n";
    submission_t *s = parse(state, "RR8", csv);
    assert_string_equal(s->file_error,
                        "column \"sex\" appears twice in the header (columns 6 and 14)");
    assert_int_equal(s->n_rows, 0);
    submission_destroy(&s);
}

static void test_unknown_column_is_a_warning_and_dropped(void **state)
{
    const char *csv = "local_record_id,favourite_colour,trust_code,site_code,date_of_birth,sex,"
                      "arrival_datetime,residence_at_fracture,pre_fracture_mobility,amts_pre_op,"
                      "fracture_type,fracture_side,pathological_fracture\n"
                      "A1,blue,RR8,RR801,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N\n";
    submission_t *s = parse(state, "RR8", csv);
    assert_string_equal(s->file_error, "");
    assert_int_equal(s->n_problems, 1);
    const got_t *p = &got.p[0];
    assert_int_equal(p->row, 1);
    assert_string_equal(p->field, "favourite_colour");
    assert_string_equal(p->rule, "unknown_column");
    assert_string_equal(p->severity, "warning");
    assert_string_equal(p->message, "column \"favourite_colour\" is not a field of the nhfd "
                                    "dataset 2026.1 and was ignored");
    assert_int_equal(s->rejected, 0);
    assert_int_equal(s->n_rows, 1);
    assert_null(ncap_record_get(s->rows[0].rec, "favourite_colour"));
    assert_string_equal(ncap_record_get(s->rows[0].rec, "trust_code"), "RR8");
    assert_null(strstr(s->rows[0].json, "blue"));
    submission_destroy(&s);
}

/* ---------------------------------------------------------------- rows refused */

static void test_row_with_wrong_field_count_is_refused(void **state)
{
    const char *csv = HEADER ROW("A1", "RR8", "RR801")
        /* line 3: one field short */
        "A2,RR8,RR801,9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N\n"
        /* line 4: one field too many */
        "A3,RR8,RR801,9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N,,extra\n" ROW(
            "A4", "RR8", "RR801");
    /* every problem as found (ncap validate) */
    submission_t *s = parse_n(state, "RR8", csv, strlen(csv), false);
    assert_int_equal(s->data_rows, 4);
    assert_int_equal(s->rejected, 2);
    assert_int_equal(s->n_rows, 2);
    assert_string_equal(s->rows[0].local_id, "A1");
    assert_string_equal(s->rows[1].local_id, "A4");
    assert_int_equal(s->rows[1].row, 5);
    const got_t *p = problem_at(s, 3);
    assert_non_null(p);
    assert_string_equal(p->rule, "columns");
    assert_string_equal(p->severity, "error");
    assert_string_equal(p->message, "row has 13 fields but the header has 14 columns");
    assert_int_equal(p->count, 1);
    p = problem_at(s, 4);
    assert_non_null(p);
    assert_string_equal(p->message, "row has 15 fields but the header has 14 columns");
    submission_destroy(&s);
    /* kept once per rule (ncap-ingestd): one problem at the first row, with both rows */
    s = parse(state, "RR8", csv);
    assert_int_equal(s->rejected, 2);
    assert_int_equal(s->n_rows, 2);
    assert_int_equal(got.n, 1);
    p = &got.p[0];
    assert_int_equal(p->row, 3);
    assert_string_equal(p->rule, "columns");
    assert_string_equal(p->message, "wrong number of columns (the first: row has 13 fields but "
                                    "the header has 14 columns)");
    assert_int_equal(p->count, 2);
    assert_int_equal(p->n_rows, 2);
    assert_int_equal(p->rows[0], 3);
    assert_int_equal(p->rows[1], 4);
    submission_destroy(&s);
}

/* A file of n lines "x" under the header, then a row of another trust; the caller frees it. */
static char *one_column_lines(size_t n, size_t *len)
{
    size_t cap = strlen(HEADER) + 2 * n + 256;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t at = (size_t)snprintf(csv, cap, "%s", HEADER);
    for (size_t i = 0; i < n; i++) {
        csv[at++] = 'x';
        csv[at++] = '\n';
    }
    at += (size_t)snprintf(csv + at, cap - at, ROW("B1", "RX1", "RX101"));
    *len = at;
    return csv;
}

static void test_a_problem_on_every_row_is_kept_once_with_its_count_and_first_rows(void **state)
{
    /* the attack of issue 11 at a smaller scale: lines of one column, each a wrong column count */
    size_t len, n = 50000;
    char *csv = one_column_lines(n, &len);
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    assert_int_equal(s->data_rows, n + 1);
    assert_int_equal(s->rejected, n + 1);
    /* the record-level problem of the last row, and the columns problem once */
    assert_int_equal(got.n, 2);
    const got_t *p = &got.p[0];
    assert_string_equal(p->rule, "trust_mismatch");
    assert_int_equal(p->row, (int)n + 2);
    assert_int_equal(p->count, 1);
    p = &got.p[1];
    assert_string_equal(p->rule, "columns");
    assert_string_equal(p->severity, "error");
    assert_int_equal(p->row, 2);
    assert_int_equal(p->count, n);
    assert_int_equal(p->n_rows, SUBMISSION_LISTED_ROWS);
    for (int i = 0; i < SUBMISSION_LISTED_ROWS; i++)
        assert_int_equal(p->rows[i], i + 2);
    assert_string_equal(p->message, "wrong number of columns (the first: row has 1 fields but "
                                    "the header has 14 columns)");
    submission_destroy(&s);
    /* without keeping once per rule, each row's */
    s = parse_n(state, "RR8", csv, len, false);
    assert_int_equal(got.n, n + 1);
    submission_destroy(&s);
    free(csv);
}

static void test_record_level_problems_are_all_given(void **state)
{
    /* 3,000 rows of another trust: each its own problem, none kept once per rule */
    size_t cap = 3000 * 160;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)snprintf(csv, cap, "%s", HEADER);
    for (int i = 1; i <= 3000; i++)
        len += (size_t)snprintf(csv + len, cap - len, ROW("R%d", "RX1", "RX101"), i);
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_int_equal(got.n, 3000);
    for (size_t i = 0; i < got.n; i++) {
        assert_int_equal(got.p[i].row, (int)i + 2);
        assert_string_equal(got.p[i].rule, "trust_mismatch");
        assert_int_equal(got.p[i].count, 1);
    }
    submission_destroy(&s);
}

static void test_a_sink_that_stops_stops_the_parse(void **state)
{
    size_t cap = 100 * 160;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)snprintf(csv, cap, "%s", HEADER);
    for (int i = 1; i <= 100; i++)
        len += (size_t)snprintf(csv + len, cap - len, ROW("R%d", "RX1", "RX101"), i);
    got.n = 0;
    got.stop_after = 10;
    submission_sink_t sink = {collect, NULL, true};
    submission_t *s = submission_parse_csv(*state, "RR8", csv, len, &sink);
    got.stop_after = 0;
    free(csv);
    assert_null(s);
    assert_int_equal(got.n, 10);
}

/* ---------------------------------------------------------------- limits */

static void test_more_rows_than_the_limit_refuse_the_file(void **state)
{
    size_t len;
    char *csv = one_column_lines(SUBMISSION_MAX_ROWS, &len); /* the limit, then one more row */
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_string_equal(s->file_error,
                        "the file has more than 1000000 data rows, the most one file may have: "
                        "split it into files of at most 1000000 rows");
    assert_int_equal(s->data_rows, SUBMISSION_MAX_ROWS);
    submission_destroy(&s);
}

static void test_a_header_over_the_column_limit_refuses_the_file(void **state)
{
    /* 40,000 duplicated columns (2.8 s when the duplicate check was quadratic) */
    size_t cap = 40000 * 6 + 16, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    for (int i = 0; i < 40000; i++)
        len += (size_t)snprintf(csv + len, cap - len, i ? ",sex" : "sex");
    csv[len++] = '\n';
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_string_equal(s->file_error, "the header has more than 1000 columns, the most a file "
                                       "may have: send only the columns of the nhfd dataset "
                                       "2026.1");
    assert_int_equal(got.n, 0);
    submission_destroy(&s);
}

static void test_duplicated_columns_within_the_limit_refuse_the_file_at_the_first(void **state)
{
    /* 999 unknown columns and the same known one twice: refused at the second, each unknown
     * column a warning (the header's problems are bounded by the column limit) */
    size_t cap = 1000 * 12 + 64, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv + len, cap - len, "sex");
    for (int i = 0; i < 997; i++)
        len += (size_t)snprintf(csv + len, cap - len, ",x%d", i);
    len += (size_t)snprintf(csv + len, cap - len, ",sex,sex\n");
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_string_equal(s->file_error,
                        "column \"sex\" appears twice in the header (columns 1 and 999)");
    assert_int_equal(got.n, 997);
    submission_destroy(&s);
}

static void test_a_field_over_the_length_limit_refuses_its_row(void **state)
{
    size_t big = SUBMISSION_MAX_FIELD_BYTES + 1;
    size_t cap = strlen(HEADER) + big + 1024, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv, cap, "%s", HEADER);
    /* line 2: fracture_type (column 11) one byte over the limit, quoted, with a line break */
    len += (size_t)snprintf(csv + len, cap - len,
                            "A1,RR8,RR801,9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,\"");
    memset(csv + len, 'y', big);
    csv[len + 10] = '\n';
    len += big;
    len += (size_t)snprintf(csv + len, cap - len,
                            "\",L,N,2026-01-11T09:00\n" ROW("A2", "RR8", "RR801"));
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_string_equal(s->file_error, "");
    assert_int_equal(s->rejected, 1);
    assert_int_equal(s->n_rows, 1);
    assert_string_equal(s->rows[0].local_id, "A2");
    assert_int_equal(s->rows[0].row, 4); /* the long field spans lines 2 and 3 */
    const got_t *p = problem_at(s, 2);
    assert_non_null(p);
    assert_string_equal(p->field, "fracture_type");
    assert_string_equal(p->rule, "field_length");
    assert_string_equal(p->message, "column 11 (\"fracture_type\") is longer than 32768 bytes, "
                                    "the most a value may have: shorten it");
    submission_destroy(&s);
}

static void test_a_row_with_far_too_many_fields_is_a_columns_problem(void **state)
{
    size_t cap = strlen(HEADER) + 8 * 5000, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv, cap, "%s", HEADER);
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(csv + len, cap - len, i ? ",%d" : "%d", i);
    len += (size_t)snprintf(csv + len, cap - len, "\n" ROW("A2", "RR8", "RR801"));
    submission_t *s = parse_n(state, "RR8", csv, len, false);
    free(csv);
    assert_int_equal(s->n_rows, 1);
    const got_t *p = problem_at(s, 2);
    assert_non_null(p);
    assert_string_equal(p->rule, "columns");
    assert_string_equal(p->message, "row has more than 15 fields but the header has 14 columns");
    submission_destroy(&s);
}

static void test_a_record_key_too_long_or_with_control_characters_refuses_its_row(void **state)
{
    /* 3 KB: once sank the whole submission with a btree index error */
    char id[3001];
    memset(id, 'k', 3000);
    id[3000] = '\0';
    char longest[SUBMISSION_MAX_LOCAL_ID_BYTES + 1];
    memset(longest, 'L', SUBMISSION_MAX_LOCAL_ID_BYTES);
    longest[SUBMISSION_MAX_LOCAL_ID_BYTES] = '\0';
    size_t cap = 8192, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv, cap, "%s", HEADER);
    len += (size_t)snprintf(csv + len, cap - len, ROW("%s", "RR8", "RR801"), id);
    len += (size_t)snprintf(csv + len, cap - len, ROW("%s", "RR8", "RR801"), longest);
    len += (size_t)snprintf(csv + len, cap - len, ROW("\"A\tB\"", "RR8", "RR801"));
    len += (size_t)snprintf(csv + len, cap - len, ROW("RH8/1.2+3", "RR8", "RR801"));
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_int_equal(s->rejected, 2);
    assert_int_equal(s->n_rows, 2);
    assert_string_equal(s->rows[0].local_id, longest); /* at the limit: kept */
    /* the audit's own pattern is validation's business: kept here */
    assert_string_equal(s->rows[1].local_id, "RH8/1.2+3");
    const got_t *p = problem_at(s, 2);
    assert_non_null(p);
    assert_string_equal(p->field, "local_record_id");
    assert_string_equal(p->rule, "key_length");
    assert_string_equal(p->message,
                        "\"local_record_id\" is 3000 bytes long, longer than 128, the most a "
                        "record identifier may have: use the trust's own short record identifier");
    p = problem_at(s, 4);
    assert_non_null(p);
    assert_string_equal(p->rule, "key_characters");
    assert_string_equal(p->message, "\"local_record_id\" has a control character (byte 2, "
                                    "0x09): a record identifier is printable text");
    submission_destroy(&s);
}

static void test_row_of_another_trust_is_refused(void **state)
{
    const char *csv = HEADER ROW("A1", "RR8", "RR801") ROW("A2", "RX1", "RX101");
    submission_t *s = parse(state, "RR8", csv);
    assert_int_equal(s->n_rows, 1);
    assert_int_equal(s->rejected, 1);
    const got_t *p = problem_at(s, 3);
    assert_non_null(p);
    assert_string_equal(p->field, "trust_code");
    assert_string_equal(p->rule, "trust_mismatch");
    assert_string_equal(p->severity, "error");
    assert_string_equal(p->message,
                        "\"trust_code\" is \"RX1\" but the file was submitted by trust \"RR8\"");
    submission_destroy(&s);
}

static void test_site_not_of_the_trust_is_refused(void **state)
{
    const char *csv = HEADER ROW("A1", "RR8", "RX101") ROW("A2", "RR8", "RR8");
    submission_t *s = parse(state, "RR8", csv);
    assert_int_equal(s->rejected, 2);
    const got_t *p = problem_at(s, 2);
    assert_non_null(p);
    assert_string_equal(p->field, "site_code");
    assert_string_equal(p->rule, "site_trust");
    assert_string_equal(p->message, "site \"RX101\" is not a site of trust \"RR8\": a site code "
                                    "is the trust's code and two more characters, e.g. \"RR801\"");
    /* the trust's own code is not a site code (sites have 5 characters) */
    p = problem_at(s, 3);
    assert_non_null(p);
    assert_string_equal(p->rule, "site_trust");
    assert_int_equal(s->n_rows, 0);
    submission_destroy(&s);
}

static void test_empty_local_id_is_refused(void **state)
{
    const char *csv = HEADER ROW("", "RR8", "RR801");
    submission_t *s = parse(state, "RR8", csv);
    assert_int_equal(s->n_rows, 0);
    assert_int_equal(s->rejected, 1);
    const got_t *p = problem_at(s, 2);
    assert_non_null(p);
    assert_string_equal(p->field, "local_record_id");
    assert_string_equal(p->rule, "required");
    submission_destroy(&s);
}

static void test_duplicate_local_id_refuses_the_second(void **state)
{
    const char *csv = HEADER ROW("A1", "RR8", "RR801") ROW("A2", "RR8", "RR801")
        ROW("A1", "RR8", "RR802") ROW("A3", "RR8", "RR801");
    submission_t *s = parse(state, "RR8", csv);
    assert_int_equal(s->data_rows, 4);
    assert_int_equal(s->rejected, 1);
    assert_int_equal(s->n_rows, 3);
    /* the first is kept, as sent */
    assert_string_equal(s->rows[0].local_id, "A1");
    assert_string_equal(s->rows[0].site, "RR801");
    assert_string_equal(s->rows[2].local_id, "A3");
    assert_int_equal(s->rows[2].row, 5);
    const got_t *p = problem_at(s, 4);
    assert_non_null(p);
    assert_string_equal(p->field, "local_record_id");
    assert_string_equal(p->rule, "duplicate");
    assert_string_equal(p->severity, "error");
    assert_string_equal(p->message, "record \"A1\" appears twice in this file (first at row 2); "
                                    "send each record once");
    submission_destroy(&s);
}

static void test_many_rows_with_a_late_duplicate(void **state)
{
    /* more rows than the first sizes of the row array and the id set */
    size_t cap = 3000 * 160;
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t len = (size_t)snprintf(csv, cap, "%s", HEADER);
    for (int i = 1; i <= 3000; i++)
        len += (size_t)snprintf(csv + len, cap - len, ROW("R%d", "RR8", "RR801"), i);
    len += (size_t)snprintf(csv + len, cap - len, ROW("R%d", "RR8", "RR801"), 17);
    submission_t *s = parse_n(state, "RR8", csv, len, true);
    free(csv);
    assert_int_equal(s->data_rows, 3001);
    assert_int_equal(s->n_rows, 3000);
    assert_int_equal(s->rejected, 1);
    assert_string_equal(s->rows[2999].local_id, "R3000");
    assert_int_equal(s->rows[2999].row, 3001);
    const got_t *p = problem_at(s, 3002);
    assert_non_null(p);
    assert_string_equal(p->message, "record \"R17\" appears twice in this file (first at row 18); "
                                    "send each record once");
    submission_destroy(&s);
}

/* What a stream gave: each row compared with the parse's row at the same place. */
typedef struct {
    const submission_t *parsed;
    size_t n;
    size_t stop_at; /* on_row stops at this row (0: never) */
} streamed_t;

static int compare_row(void *ctx, const submission_row_t *r)
{
    streamed_t *st = ctx;
    if (st->stop_at && st->n == st->stop_at)
        return -1;
    assert_true(st->n < st->parsed->n_rows);
    const submission_row_t *p = &st->parsed->rows[st->n++];
    assert_int_equal(r->row, p->row);
    assert_string_equal(r->local_id, p->local_id);
    assert_string_equal(r->site, p->site);
    assert_string_equal(r->json, p->json);
    assert_string_equal(r->hash, p->hash);
    return 0;
}

static void test_a_stream_gives_the_parsed_rows_one_at_a_time_and_keeps_none(void **state)
{
    const char *csv = HEADER ROW("A1", "RR8", "RR801") ROW("A2", "RX1", "RX101")
        ROW("A3", "RR8", "RR802") ROW("A1", "RR8", "RR801") ROW("A4", "RR8", "");
    submission_t *parsed = parse(state, "RR8", csv);
    assert_int_equal(parsed->n_rows, 3);
    size_t problems = got.n;
    streamed_t st = {parsed, 0, 0};
    got.n = 0;
    submission_sink_t sink = {collect, NULL, true};
    submission_t *s =
        submission_stream_csv(*state, "RR8", csv, strlen(csv), compare_row, &st, &sink);
    assert_non_null(s);
    assert_int_equal(st.n, 3);
    assert_int_equal(s->n_rows, 0);
    assert_null(s->rows);
    assert_int_equal(s->data_rows, parsed->data_rows);
    assert_int_equal(s->rejected, parsed->rejected);
    assert_int_equal(got.n, problems);
    submission_destroy(&s);
    /* a row the callee refuses stops the stream */
    st = (streamed_t){parsed, 0, 1};
    assert_null(submission_stream_csv(*state, "RR8", csv, strlen(csv), compare_row, &st, NULL));
    submission_destroy(&parsed);
}

/* ---------------------------------------------------------------- line numbers */

static void test_line_numbers_count_quoted_newlines(void **state)
{
    const char *csv =
        "local_record_id,trust_code,site_code,surname,date_of_birth,sex,"
        "arrival_datetime,residence_at_fracture,pre_fracture_mobility,amts_pre_op,"
        "fracture_type,fracture_side,pathological_fracture\n"
        /* line 2-3: a surname with a line break, quoted */
        "A1,RR8,RR801,\"Smith\nJones\",1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N\n"
        /* line 4: refused, another trust */
        "A2,RX1,RX101,Brown,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N\n"
        /* line 5: empty, skipped */
        "\n"
        /* line 6-8: two line breaks in a quoted field, then a short row */
        "A3,RR8,RR801,\"a\n\nb\",1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L\n"
        /* line 9 */
        "A4,RR8,RR801,\"Say \"\"Hi\"\"\",1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N\n";
    submission_t *s = parse(state, "RR8", csv);
    assert_string_equal(s->file_error, "");
    assert_int_equal(s->n_rows, 2);
    assert_int_equal(s->rows[0].row, 2);
    assert_string_equal(ncap_record_get(s->rows[0].rec, "surname"), "Smith\nJones");
    assert_non_null(problem_at(s, 4));
    assert_string_equal(problem_at(s, 4)->rule, "trust_mismatch");
    assert_non_null(problem_at(s, 6));
    assert_string_equal(problem_at(s, 6)->rule, "columns");
    assert_int_equal(s->rows[1].row, 9);
    assert_string_equal(ncap_record_get(s->rows[1].rec, "surname"), "Say \"Hi\"");
    submission_destroy(&s);
}

static void test_malformed_quote_refuses_the_row_only(void **state)
{
    const char *csv = HEADER ROW("A1", "RR8", "RR801")
        /* line 3: text after a closing quote */
        "A2,RR8,RR801,\"943\"4765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N,\n" ROW(
            "A3", "RR8", "RR801");
    submission_t *s = parse(state, "RR8", csv);
    assert_int_equal(s->data_rows, 3);
    assert_int_equal(s->rejected, 1);
    assert_int_equal(s->n_rows, 2);
    const got_t *p = problem_at(s, 3);
    assert_non_null(p);
    assert_string_equal(p->rule, "csv");
    assert_string_equal(p->severity, "error");
    assert_int_equal(strncmp(p->message, "could not read row: ", 20), 0);
    assert_string_equal(s->rows[1].local_id, "A3");
    assert_int_equal(s->rows[1].row, 4);
    submission_destroy(&s);
}

static void test_text_not_in_utf8_is_not_lost(void **state)
{
    /* Excel on Windows saves CSV as Windows-1252: "Zoë" arrives as the bytes Zo\xeb. The row may
     * be refused (with a message saying why) or stored with its surname, but it must not be stored
     * without it. */
    const char *csv = "local_record_id,trust_code,site_code,surname,date_of_birth,sex,"
                      "arrival_datetime,residence_at_fracture,pre_fracture_mobility,amts_pre_op,"
                      "fracture_type,fracture_side,pathological_fracture\n"
                      "A1,RR8,RR801,Zo\xeb,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N\n";
    submission_t *s = parse(state, "RR8", csv);
    int refused = s->n_rows == 0 && s->rejected == 1 && problem_at(s, 2) != NULL;
    int kept = s->n_rows == 1 && strstr(s->rows[0].json, "\"surname\"") != NULL;
    submission_destroy(&s);
    assert_true(refused || kept);
}

/* Problems quote what the file holds, cut to a length ("%.40s"): a cut through a character, or a
 * column's name in another encoding, is mended ('?'), so that every problem is UTF-8 text that
 * PostgreSQL stores (a malformed one made it refuse the file's problems). */
#define ROW_MORE(id, trust, site)                                                                  \
    id "," trust "," site ",9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N,"               \
       "2026-01-11T09:00,1,2\n"
static void test_problems_quoting_long_values_are_utf8(void **state)
{
    /* é (2 bytes) across byte 60 of an unknown column's name, byte 40 of a trust and of a site */
    const char *csv =
        "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,arrival_datetime,"
        "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,fracture_side,"
        "pathological_fracture,surgery_datetime,"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9,Zo\xeb\n" ROW_MORE(
            "A1", "RR8", "RR801")
            ROW_MORE("A2", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\xc3\xa9", "RR801")
                ROW_MORE("A3", "RR8", "RR8XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\xc3\xa9");
    submission_t *s = parse(state, "RR8", csv);
    assert_string_equal(s->file_error, "");
    assert_int_equal(s->rejected, 2);
    assert_int_equal(got.n, 4);
    for (size_t i = 0; i < got.n; i++) {
        assert_int_equal(utf8_invalid_at(got.p[i].message), 0);
        assert_int_equal(utf8_invalid_at(got.p[i].field), 0);
    }
    assert_string_equal(got.p[1].field, "Zo?");
    const got_t *p = problem_at(s, 3);
    assert_non_null(p);
    assert_string_equal(p->message, "\"trust_code\" is \"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX?\""
                                    " but the file was submitted by trust \"RR8\"");
    submission_destroy(&s);
}

/* ---------------------------------------------------------------- content hash */

static void test_same_content_same_hash_whatever_the_column_order(void **state)
{
    const char *a = "local_record_id,trust_code,site_code,date_of_birth,sex,arrival_datetime,"
                    "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,"
                    "fracture_side,pathological_fracture,asa_grade\n"
                    "A1,RR8,RR801,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N,3\n";
    const char *b = "asa_grade,pathological_fracture,fracture_side,fracture_type,amts_pre_op,"
                    "pre_fracture_mobility,residence_at_fracture,arrival_datetime,sex,"
                    "date_of_birth,site_code,trust_code,local_record_id\n"
                    "3,N,L,IT,10,1,1,2026-01-10T08:00,1,1940-05-12,RR801,RR8,A1\n";
    /* the same record, one value changed */
    const char *c = "local_record_id,trust_code,site_code,date_of_birth,sex,arrival_datetime,"
                    "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,"
                    "fracture_side,pathological_fracture,asa_grade\n"
                    "A1,RR8,RR801,1940-05-12,1,2026-01-10T08:00,1,1,10,IT,L,N,4\n";
    submission_t *sa = parse(state, "RR8", a), *sb = parse(state, "RR8", b),
                 *sc = parse(state, "RR8", c);
    assert_int_equal(sa->n_rows, 1);
    assert_int_equal(sb->n_rows, 1);
    assert_int_equal(sc->n_rows, 1);
    assert_string_equal(sa->rows[0].json, sb->rows[0].json);
    assert_string_equal(sa->rows[0].hash, sb->rows[0].hash);
    assert_int_equal(strlen(sa->rows[0].hash), 64);
    assert_string_not_equal(sa->rows[0].hash, sc->rows[0].hash);
    submission_destroy(&sa);
    submission_destroy(&sb);
    submission_destroy(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file_gives_one_row_per_record),
        cmocka_unit_test(test_crlf_and_no_final_newline),
        cmocka_unit_test(test_empty_file_is_refused),
        cmocka_unit_test(test_missing_required_column_refuses_the_file),
        cmocka_unit_test(test_missing_record_key_column_refuses_the_file),
        cmocka_unit_test(test_duplicated_column_refuses_the_file),
        cmocka_unit_test(test_unknown_column_is_a_warning_and_dropped),
        cmocka_unit_test(test_problems_quoting_long_values_are_utf8),
        cmocka_unit_test(test_row_with_wrong_field_count_is_refused),
        cmocka_unit_test(test_a_problem_on_every_row_is_kept_once_with_its_count_and_first_rows),
        cmocka_unit_test(test_record_level_problems_are_all_given),
        cmocka_unit_test(test_a_sink_that_stops_stops_the_parse),
        cmocka_unit_test(test_more_rows_than_the_limit_refuse_the_file),
        cmocka_unit_test(test_a_header_over_the_column_limit_refuses_the_file),
        cmocka_unit_test(test_duplicated_columns_within_the_limit_refuse_the_file_at_the_first),
        cmocka_unit_test(test_a_field_over_the_length_limit_refuses_its_row),
        cmocka_unit_test(test_a_row_with_far_too_many_fields_is_a_columns_problem),
        cmocka_unit_test(test_a_record_key_too_long_or_with_control_characters_refuses_its_row),
        cmocka_unit_test(test_row_of_another_trust_is_refused),
        cmocka_unit_test(test_site_not_of_the_trust_is_refused),
        cmocka_unit_test(test_empty_local_id_is_refused),
        cmocka_unit_test(test_duplicate_local_id_refuses_the_second),
        cmocka_unit_test(test_many_rows_with_a_late_duplicate),
        cmocka_unit_test(test_a_stream_gives_the_parsed_rows_one_at_a_time_and_keeps_none),
        cmocka_unit_test(test_line_numbers_count_quoted_newlines),
        cmocka_unit_test(test_malformed_quote_refuses_the_row_only),
        cmocka_unit_test(test_text_not_in_utf8_is_not_lost),
        cmocka_unit_test(test_same_content_same_hash_whatever_the_column_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown_all);
}
