/* test_cmd_spc.c - `ncap spc` on files: the CSV it prints, its summary, and its errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assert_double.h"
#include "commands.h"
#include "spc.h"

#include "cmd_run.h"

/* Runs cmd_spc with the given arguments (NULL-terminated), stdout and stderr captured. */
static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_spc, "spc", arg, ap);
    va_end(ap);
    return r;
}

/* Line i (from 0) of text, copied into buf. */
static const char *line(const char *text, size_t i, char *buf, size_t size)
{
    const char *p = text;
    for (; i > 0 && p; i--) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    assert_true(n < size);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* Field f (from 0) of a CSV line without quotes, as a number. */
static double field_number(const char *csv_line, size_t f)
{
    const char *p = csv_line;
    for (; f > 0; f--) {
        p = strchr(p, ',');
        assert_non_null(p);
        p++;
    }
    char *end;
    double v = strtod(p, &end);
    assert_true(end != p);
    return v;
}

static const char *rnorm20 =
    "period,value\n"
    "2024-01,-0.560475646552213\n2024-02,-0.23017748948328\n2024-03,1.55870831414912\n"
    "2024-04,0.070508391424576\n2024-05,0.129287735160946\n2024-06,1.71506498688328\n"
    "2024-07,0.460916205989202\n2024-08,-1.26506123460653\n2024-09,-0.686852851893526\n"
    "2024-10,-0.445661970099958\n2024-11,1.22408179743946\n2024-12,0.359813827057364\n"
    "2025-01,0.400771450594052\n2025-02,0.11068271594512\n2025-03,10\n"
    "2025-04,1.78691313680308\n2025-05,0.497850478229239\n2025-06,-1.96661715662964\n"
    "2025-07,0.701355901563686\n2025-08,-0.472791407727934\n";

static void test_worked_example(void **state)
{
    (void)state;
    char path[64], buf[256];
    temp_file(path, rnorm20);
    result_t r = run(path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(count_lines(r.out), 21);
    assert_string_equal(line(r.out, 0, buf, sizeof buf),
                        "series,period,value,mean,lpl,upl,special_cause,point_type");
    for (size_t i = 1; i <= 20; i++) {
        line(r.out, i, buf, sizeof buf);
        assert_true(buf[0] == ','); /* no series column in the input: empty */
        assert_near(field_number(buf, 3), 0.6694159, 1e-6);
        assert_near(field_number(buf, 4), -2.383666, 1e-6);
        assert_near(field_number(buf, 5), 3.722497, 1e-6);
        if (i == 15)
            assert_non_null(strstr(buf, ",2025-03,10,"));
        const char *tail = i == 15 ? ",outside_limits,special_cause_improvement" : ",,common_cause";
        assert_string_equal(buf + strlen(buf) - strlen(tail), tail);
    }
    result_free(&r);
    unlink(path);

    /* the 15th value back to -0.555841134754075; values printed with 17 significant digits */
    const char *ten = strstr(rnorm20, "2025-03,10\n");
    assert_non_null(ten);
    char text[2048];
    snprintf(text, sizeof text, "%.*s2025-03,-0.555841134754075\n%s", (int)(ten - rnorm20), rnorm20,
             ten + strlen("2025-03,10\n"));
    temp_file(path, text);
    r = run(path, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(count_lines(r.out), 21);
    for (size_t i = 1; i <= 20; i++) {
        line(r.out, i, buf, sizeof buf);
        assert_near(field_number(buf, 3), 0.1416238, 1e-6);
        assert_near(field_number(buf, 4), -3.01138, 1e-6);
        assert_near(field_number(buf, 5), 3.294627, 1e-6);
        assert_non_null(strstr(buf, ",,common_cause"));
    }
    /* every number with 17 significant digits, so it reads back as the same double */
    double y[20];
    const char *p = strchr(text, '\n') + 1;
    for (size_t i = 0; i < 20; i++) {
        y[i] = strtod(strchr(p, ',') + 1, NULL);
        p = strchr(p, '\n') + 1;
    }
    spc_options_t o;
    spc_options_init(&o);
    spc_point_t pt[20];
    char err[128];
    assert_int_equal(spc_compute(y, 20, &o, pt, NULL, err, sizeof err), 0);
    char want[256];
    snprintf(want, sizeof want, ",2024-01,%.17g,%.17g,%.17g,%.17g,,common_cause", y[0], pt[0].mean,
             pt[0].lpl, pt[0].upl);
    assert_string_equal(line(r.out, 1, buf, sizeof buf), want);
    assert_non_null(strstr(buf, ",-0.56047564655221305,"));
    result_free(&r);
    unlink(path);
}

static void test_series_in_order_of_first_appearance(void **state)
{
    (void)state;
    char path[64], buf[256];
    temp_file(path, "series,period,value\n"
                    "B,1,1\nA,1,5\nB,2,3\nA,2,7\nB,3,1\n");
    result_t r = run(path, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(count_lines(r.out), 6);
    assert_string_equal(line(r.out, 1, buf, sizeof buf),
                        "B,1,1,1.6666666666666667,-3.6533333333333333,6.9866666666666672,,"
                        "common_cause");
    assert_string_equal(line(r.out, 2, buf, sizeof buf), "B,2,3,1.6666666666666667,"
                                                         "-3.6533333333333333,6.9866666666666672,,"
                                                         "common_cause");
    assert_string_equal(line(r.out, 4, buf, sizeof buf), "A,1,5,6,0.67999999999999972,"
                                                         "11.32,,common_cause");
    assert_string_equal(line(r.out, 5, buf, sizeof buf), "A,2,7,6,0.67999999999999972,"
                                                         "11.32,,common_cause");
    result_free(&r);
    unlink(path);
}

static void test_summary(void **state)
{
    (void)state;
    char path[64], summary[64], buf[256];
    temp_file(path, "series,period,value\n"
                    "x,1,9\nx,2,11\nx,3,9\nx,4,11\nx,5,30\n"
                    "y,1,4\n"
                    "z,1,1\nz,2,3\nz,3,1\nz,4,3\n");
    temp_file(summary, "");
    result_t r = run("--target", "20", "--fix-after", "4", "--summary", summary, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    /* a series of one point: no limits, printed empty, never NaN */
    assert_string_equal(line(r.out, 6, buf, sizeof buf), "y,1,4,4,,,,common_cause");
    assert_null(strstr(r.out, "nan"));
    FILE *f = fopen(summary, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    char *text = slurp(f);
    fclose(f);
    assert_string_equal(text, "series,mean,lpl,upl,n,variation,assurance\n"
                              "x,10,4.6799999999999997,15.32,5,special_cause_improvement,"
                              "consistent_fail\n"
                              "y,4,,,1,common_cause,\n"
                              "z,2,-3.3200000000000003,7.3200000000000003,4,common_cause,"
                              "consistent_fail\n");
    free(text);
    result_free(&r);
    unlink(summary);
    unlink(path);
}

static void test_rebase_and_all_equal(void **state)
{
    (void)state;
    char path[64], buf[256];
    temp_file(path, "period,value\n1,5\n2,5\n3,5\n4,5\n5,8\n6,8\n7,8\n");
    result_t r = run("--rebase", "5", path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(line(r.out, 4, buf, sizeof buf), ",4,5,5,5,5,,common_cause");
    assert_string_equal(line(r.out, 5, buf, sizeof buf), ",5,8,8,8,8,,common_cause");
    result_free(&r);

    r = run("--rebase", "8", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "ncap spc: rebase row 8 is beyond the series (7 points)\n");
    result_free(&r);
    unlink(path);

    temp_file(path, "series,period,value\nlong,1,1\nlong,2,2\nlong,3,3\nshort,1,4\n");
    r = run("--rebase", "2,3", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap spc: rebase row 2 is beyond series \"short\" (1 point)\n");
    result_free(&r);
    unlink(path);
}

static void test_screening_switch(void **state)
{
    (void)state;
    char path[64], buf[256];
    temp_file(path, rnorm20);
    result_t r = run("--no-screen", path, NULL);
    assert_int_equal(r.rc, 0);
    line(r.out, 1, buf, sizeof buf);
    assert_near(field_number(buf, 5), 5.935457, 1e-6);
    result_free(&r);
    unlink(path);
}

static void test_input_errors(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, "period,value\n1,2\n2,3\n3,4\n4,5\n5,6\n6,abc\n");
    result_t r = run(path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "ncap spc: row 7: \"value\" is \"abc\", expected a number\n");
    result_free(&r);
    unlink(path);

    temp_file(path, "period,value\n1,2\n2\n");
    r = run(path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "ncap spc: row 3: expected 2 fields, found 1\n");
    result_free(&r);
    unlink(path);

    temp_file(path, "when,value\n1,2\n");
    r = run(path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "row 1: unexpected column \"when\""));
    result_free(&r);
    unlink(path);

    temp_file(path, "period,value\n1,inf\n");
    r = run(path, NULL);
    assert_int_equal(r.rc, 2);
    result_free(&r);
    unlink(path);

    r = run("/nonexistent/spc.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read file \"/nonexistent/spc.csv\""));
    result_free(&r);
}

static void test_usage(void **state)
{
    (void)state;
    result_t r = run("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap spc"));
    result_free(&r);

    r = run(NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "no input file"));
    result_free(&r);

    r = run("--improvement", "up", "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--improvement is \"up\""));
    result_free(&r);

    r = run("--rebase", "0", "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    result_free(&r);

    r = run("--fix-after", "1", "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    result_free(&r);

    r = run("--bogus", "x.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown option \"--bogus\""));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_series_in_order_of_first_appearance),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_rebase_and_all_equal),
        cmocka_unit_test(test_screening_switch),
        cmocka_unit_test(test_input_errors),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
