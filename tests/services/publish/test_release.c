/* test_release.c - a quarterly release's published figures from per-trust sums: the national row
 * of each metric, the value and its 95% Wilson interval, the order of rows, empty figures where
 * there is no denominator, and the CSV text exactly as published */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "release.h"

static release_row_t sum(const char *unit, const char *metric, long long num, long long den)
{
    release_row_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.unit_level, sizeof r.unit_level, "ignored");
    snprintf(r.unit, sizeof r.unit, "%s", unit);
    snprintf(r.metric, sizeof r.metric, "%s", metric);
    r.numerator = num;
    r.denominator = den;
    r.has_value = 1; /* unset on input: must be worked out */
    r.value = 99;
    return r;
}

/* Two trusts, two metrics, given out of order; RBB had no patient in ortho_72h's denominator.
 *   surgery_36h  RAA 8/10, RBB 30/40  -> national 38/50
 *   ortho_72h    RAA 3/4,  RBB 0/0    -> national 3/4 */
static int build(release_row_t **rows)
{
    release_row_t in[] = {
        sum("RBB", "surgery_36h", 30, 40),
        sum("RAA", "surgery_36h", 8, 10),
        sum("RBB", "ortho_72h", 0, 0),
        sum("RAA", "ortho_72h", 3, 4),
    };
    return release_build(in, 4, rows);
}

static void assert_row(const release_row_t *r, const char *level, const char *unit,
                       const char *metric, long long num, long long den)
{
    assert_string_equal(r->unit_level, level);
    assert_string_equal(r->unit, unit);
    assert_string_equal(r->metric, metric);
    assert_int_equal(r->numerator, num);
    assert_int_equal(r->denominator, den);
}

/* The figures as published (6 decimal places), Wilson 95% computed independently with
 * (2x + z^2 -+ z*sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)), z = Phi^-1(0.975) = 1.9599639845...
 * (in 60-digit decimal arithmetic; z rounded to 1.959964 gives the same six decimals). */
static void assert_figures(const release_row_t *r, const char *value, const char *lo,
                           const char *hi)
{
    char v[32], l[32], h[32];
    release_format(v, sizeof v, r->has_value, r->value);
    release_format(l, sizeof l, r->has_value, r->lower95);
    release_format(h, sizeof h, r->has_value, r->upper95);
    assert_string_equal(v, value);
    assert_string_equal(l, lo);
    assert_string_equal(h, hi);
}

static void test_rows_sorted_with_national_rows_last(void **state)
{
    (void)state;
    release_row_t *rows = NULL;
    int n = build(&rows);
    assert_int_equal(n, 6);
    assert_row(&rows[0], "trust", "RAA", "ortho_72h", 3, 4);
    assert_row(&rows[1], "trust", "RAA", "surgery_36h", 8, 10);
    assert_row(&rows[2], "trust", "RBB", "ortho_72h", 0, 0);
    assert_row(&rows[3], "trust", "RBB", "surgery_36h", 30, 40);
    assert_row(&rows[4], "national", "ENGLAND", "ortho_72h", 3, 4);
    assert_row(&rows[5], "national", "ENGLAND", "surgery_36h", 38, 50);
    free(rows);
}

static void test_values_and_wilson_intervals(void **state)
{
    (void)state;
    release_row_t *rows = NULL;
    int n = build(&rows);
    assert_int_equal(n, 6);
    assert_figures(&rows[0], "0.750000", "0.300642", "0.954413"); /* 3/4 */
    assert_figures(&rows[1], "0.800000", "0.490162", "0.943318"); /* 8/10 */
    assert_figures(&rows[3], "0.750000", "0.598060", "0.858129"); /* 30/40 */
    assert_figures(&rows[4], "0.750000", "0.300642", "0.954413"); /* 3/4 */
    assert_figures(&rows[5], "0.760000", "0.625873", "0.857026"); /* 38/50 */
    assert_true(rows[5].has_value);
    assert_true(rows[5].value == 0.76);
    free(rows);
}

static void test_zero_denominator_has_no_value(void **state)
{
    (void)state;
    release_row_t *rows = NULL;
    int n = build(&rows);
    assert_int_equal(n, 6);
    assert_false(rows[2].has_value);
    assert_figures(&rows[2], "", "", "");
    free(rows);
    /* a metric no trust had any patient for: the national row is empty too */
    release_row_t in[] = {sum("RAA", "ortho_72h", 0, 0), sum("RBB", "ortho_72h", 0, 0)};
    n = release_build(in, 2, &rows);
    assert_int_equal(n, 3);
    assert_row(&rows[2], "national", "ENGLAND", "ortho_72h", 0, 0);
    assert_false(rows[2].has_value);
    assert_figures(&rows[2], "", "", "");
    free(rows);
}

static void test_all_and_none_meet_the_standard(void **state)
{
    (void)state;
    release_row_t in[] = {sum("RAA", "m", 5, 5), sum("RBB", "m", 0, 5)};
    release_row_t *rows = NULL;
    int n = release_build(in, 2, &rows);
    assert_int_equal(n, 3);
    assert_figures(&rows[0], "1.000000", "0.565518", "1.000000");
    assert_figures(&rows[1], "0.000000", "0.000000", "0.434482");
    assert_figures(&rows[2], "0.500000", "0.236593", "0.763407"); /* 5/10 */
    free(rows);
}

static void test_no_trusts_no_rows(void **state)
{
    (void)state;
    release_row_t *rows = NULL;
    assert_int_equal(release_build(NULL, 0, &rows), 0);
    free(rows);
}

static void test_national_row_sums_every_trust(void **state)
{
    (void)state;
    /* many trusts: the national figure is the sum, not an average of the trusts' percentages */
    release_row_t in[30];
    long long num = 0, den = 0;
    for (int i = 0; i < 30; i++) {
        char unit[16];
        snprintf(unit, sizeof unit, "R%02d", 29 - i);
        in[i] = sum(unit, "surgery_36h", i, 2 * i + 1);
        num += i;
        den += 2 * i + 1;
    }
    release_row_t *rows = NULL;
    int n = release_build(in, 30, &rows);
    assert_int_equal(n, 31);
    assert_string_equal(rows[0].unit, "R00");
    assert_int_equal(rows[0].numerator, 29);
    assert_string_equal(rows[29].unit, "R29");
    assert_row(&rows[30], "national", "ENGLAND", "surgery_36h", num, den);
    assert_int_equal(num, 435);
    assert_int_equal(den, 900);
    assert_figures(&rows[30], "0.483333", "0.450826", "0.515983");
    free(rows);
}

/* The release CSV of rows (freed) as text of *len bytes, which the caller frees. */
static char *csv_text(const char *audit, const char *period, release_row_t *rows, int n,
                      size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    assert_non_null(f);
    release_write_csv(f, audit, period, rows, n);
    fclose(f);
    free(rows);
    return text;
}

static void test_csv_text_exact(void **state)
{
    (void)state;
    release_row_t *rows = NULL;
    int n = build(&rows);
    size_t len;
    char *text = csv_text("nhfd", "2026Q1", rows, n, &len);
    assert_string_equal(
        text, "audit,period,unit_level,unit,metric,numerator,denominator,value,lower95,upper95\n"
              "nhfd,2026Q1,trust,RAA,ortho_72h,3,4,0.750000,0.300642,0.954413\n"
              "nhfd,2026Q1,trust,RAA,surgery_36h,8,10,0.800000,0.490162,0.943318\n"
              "nhfd,2026Q1,trust,RBB,ortho_72h,0,0,,,\n"
              "nhfd,2026Q1,trust,RBB,surgery_36h,30,40,0.750000,0.598060,0.858129\n"
              "nhfd,2026Q1,national,ENGLAND,ortho_72h,3,4,0.750000,0.300642,0.954413\n"
              "nhfd,2026Q1,national,ENGLAND,surgery_36h,38,50,0.760000,0.625873,0.857026\n");
    free(text);
}

/* A unit or metric holding a comma, a quote, CR or LF is quoted, its quotes doubled (RFC 4180):
 * the expected text is written out by hand, and read back with csv.h's reader field by field. */
static void test_csv_fields_are_quoted_where_needed(void **state)
{
    (void)state;
    release_row_t in[] = {sum("A,B", "m\"x", 1, 2), sum("C\r\nD", "plain", 2, 2)};
    release_row_t *rows = NULL;
    int n = release_build(in, 2, &rows);
    assert_int_equal(n, 4);
    size_t len;
    char *text = csv_text("a\"udit", "2026,Q1", rows, n, &len);
    assert_string_equal(
        text, "audit,period,unit_level,unit,metric,numerator,denominator,value,lower95,upper95\n"
              "\"a\"\"udit\",\"2026,Q1\",trust,\"A,B\",\"m\"\"x\",1,2,0.500000,0.094531,0.905469\n"
              "\"a\"\"udit\",\"2026,Q1\",trust,\"C\r\nD\",plain,2,2,1.000000,0.342380,1.000000\n"
              "\"a\"\"udit\",\"2026,Q1\",national,ENGLAND,\"m\"\"x\",1,2,0.500000,0.094531,"
              "0.905469\n"
              "\"a\"\"udit\",\"2026,Q1\",national,ENGLAND,plain,2,2,1.000000,0.342380,1.000000\n");

    csv_reader_t *csv = csv_reader_new(text, len, true);
    assert_non_null(csv);
    assert_int_equal(csv_reader_next(csv), 1); /* the header */
    assert_int_equal(csv_reader_next(csv), 1);
    assert_int_equal(csv_reader_nfields(csv), 10);
    assert_string_equal(csv_reader_field(csv, 0), "a\"udit");
    assert_string_equal(csv_reader_field(csv, 1), "2026,Q1");
    assert_string_equal(csv_reader_field(csv, 3), "A,B");
    assert_string_equal(csv_reader_field(csv, 4), "m\"x");
    assert_int_equal(csv_reader_next(csv), 1);
    assert_int_equal(csv_reader_nfields(csv), 10);
    assert_string_equal(csv_reader_field(csv, 3), "C\r\nD");
    csv_reader_destroy(&csv);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_sorted_with_national_rows_last),
        cmocka_unit_test(test_values_and_wilson_intervals),
        cmocka_unit_test(test_zero_denominator_has_no_value),
        cmocka_unit_test(test_all_and_none_meet_the_standard),
        cmocka_unit_test(test_no_trusts_no_rows),
        cmocka_unit_test(test_national_row_sums_every_trust),
        cmocka_unit_test(test_csv_text_exact),
        cmocka_unit_test(test_csv_fields_are_quoted_where_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
