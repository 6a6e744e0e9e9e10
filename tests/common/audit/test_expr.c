/* test_expr.c - the definition expression language: precedence, null, functions, errors */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "expr.h"

/* ---- a tiny record: fields with fixed typed values */

typedef struct {
    const char *name;
    expr_value_t value;
} var_t;

static var_t vars[16];
static size_t n_vars;

static void set_null(const char *name)
{
    vars[n_vars].name = name;
    vars[n_vars].value = (expr_value_t){.kind = EXPR_NULL};
    n_vars++;
}

static void set_number(const char *name, double num)
{
    vars[n_vars].name = name;
    vars[n_vars].value = (expr_value_t){.kind = EXPR_NUMBER, .num = num};
    n_vars++;
}

static void set_string(const char *name, const char *s)
{
    vars[n_vars].name = name;
    vars[n_vars].value = (expr_value_t){.kind = EXPR_STRING, .str = s};
    n_vars++;
}

static void set_time(const char *name, const char *text)
{
    int64_t t;
    assert_int_equal(ncap_datetime_parse(text, &t, NULL), 0);
    vars[n_vars].name = name;
    vars[n_vars].value = (expr_value_t){.kind = EXPR_TIME, .time = t};
    n_vars++;
}

static void set_bool(const char *name, bool b)
{
    vars[n_vars].name = name;
    vars[n_vars].value = (expr_value_t){.kind = EXPR_BOOL, .b = b};
    n_vars++;
}

static int lookup(void *ctx, const char *name, expr_value_t *out)
{
    (void)ctx;
    for (size_t i = 0; i < n_vars; i++)
        if (strcmp(vars[i].name, name) == 0) {
            *out = vars[i].value;
            return 0;
        }
    return -1;
}

static int setup(void **state)
{
    (void)state;
    n_vars = 0;
    set_number("asa_grade", 3);
    set_number("zero", 0);
    set_null("missing");
    set_string("sex", "2");
    set_string("fracture_type", "ICD");
    set_string("blank", "");
    set_time("arrival_datetime", "2026-03-01T10:00");
    set_time("surgery_datetime", "2026-03-02T22:00"); /* 36 h later */
    set_time("date_of_birth", "1940-03-02");
    set_bool("never_admitted_to_ward", false);
    return 0;
}

/* Evaluates src; the value's text form is returned in a static buffer, "null" for null,
 * "error: ..." for an evaluation error. Parse failure fails the test. */
static const char *run(const char *src)
{
    static char out[300];
    char err[200];
    expr_t *e = expr_parse(src, err, sizeof err);
    if (!e)
        fail_msg("\"%s\" did not parse: %s", src, err);
    expr_value_t v;
    if (expr_eval(e, lookup, NULL, &v, err, sizeof err) != 0) {
        snprintf(out, sizeof out, "error: %s", err);
    } else if (v.kind == EXPR_NULL) {
        snprintf(out, sizeof out, "null");
    } else {
        expr_value_format(&v, out, sizeof out);
    }
    expr_destroy(&e);
    assert_null(e);
    return out;
}

/* The parse error for src. */
static const char *parse_error(const char *src)
{
    static char err[200];
    err[0] = '\0';
    expr_t *e = expr_parse(src, err, sizeof err);
    if (e) {
        expr_destroy(&e);
        fail_msg("\"%s\" parsed but should not", src);
    }
    return err;
}

static void test_literals_and_arithmetic(void **state)
{
    (void)state;
    assert_string_equal(run("12"), "12");
    assert_string_equal(run("3.5"), "3.5");
    assert_string_equal(run("'text'"), "text");
    assert_string_equal(run("'it''s'"), "it's");
    assert_string_equal(run("''"), "");
    assert_string_equal(run("true"), "true");
    assert_string_equal(run("false"), "false");
    assert_string_equal(run("null"), "null");
    assert_string_equal(run("1 + 2 * 3"), "7");
    assert_string_equal(run("(1 + 2) * 3"), "9");
    assert_string_equal(run("10 - 4 - 3"), "3"); /* left associative */
    assert_string_equal(run("12 / 4 / 3"), "1");
    assert_string_equal(run("7 / 2"), "3.5");
    assert_string_equal(run("-2 * 3"), "-6");
    assert_string_equal(run("- -2"), "2");
    assert_string_equal(run("2 - -2"), "4");
    assert_string_equal(run("asa_grade * 2 + 1"), "7");
    assert_string_equal(run("1 / zero"), "null"); /* division by zero is null */
}

static void test_precedence_of_logic_and_comparison(void **state)
{
    (void)state;
    assert_string_equal(run("1 + 1 == 2"), "true");
    assert_string_equal(run("2 * 3 > 5 and 1 < 2"), "true");
    /* and binds tighter than or */
    assert_string_equal(run("true or false and false"), "true");
    assert_string_equal(run("(true or false) and false"), "false");
    /* not binds looser than comparison, tighter than and */
    assert_string_equal(run("not 1 == 2"), "true");
    assert_string_equal(run("not false and false"), "false");
    assert_string_equal(run("not not true"), "true");
    assert_string_equal(run("1 != 2"), "true");
    assert_string_equal(run("2 <= 2 and 2 >= 3"), "false");
    assert_string_equal(run("'abc' < 'abd'"), "true");
    assert_string_equal(run("never_admitted_to_ward == false"), "true");
}

static void test_null_propagates(void **state)
{
    (void)state;
    assert_string_equal(run("missing + 1"), "null");
    assert_string_equal(run("-missing"), "null");
    assert_string_equal(run("missing == 1"), "null");
    assert_string_equal(run("missing == null"), "null"); /* SQL-like: use empty() */
    assert_string_equal(run("not missing"), "null");
    assert_string_equal(run("missing > 1 and true"), "null");
    assert_string_equal(run("missing > 1 and false"), "false");
    assert_string_equal(run("missing > 1 or true"), "true");
    assert_string_equal(run("missing > 1 or false"), "null");
    assert_string_equal(run("hours_between(arrival_datetime, missing)"), "null");
    assert_string_equal(run("hours_between(arrival_datetime, missing) <= 36"), "null");

    expr_value_t v = {.kind = EXPR_NULL};
    assert_false(expr_truthy(&v)); /* null is false in a boolean context */
    v = (expr_value_t){.kind = EXPR_BOOL, .b = true};
    assert_true(expr_truthy(&v));
    v = (expr_value_t){.kind = EXPR_BOOL, .b = false};
    assert_false(expr_truthy(&v));
}

static void test_string_and_number_compare_as_codes(void **state)
{
    (void)state;
    assert_string_equal(run("sex == 2"), "true");
    assert_string_equal(run("sex == '2'"), "true");
    assert_string_equal(run("2 == sex"), "true");
    assert_string_equal(run("sex != 1"), "true");
    assert_string_equal(run("fracture_type == 'ICD'"), "true");
    assert_string_equal(run("in(sex, 1, 2)"), "true");
    assert_string_equal(run("in(fracture_type, 'IT', 'ST')"), "false");
    assert_string_equal(run("in(missing, 1, 2)"), "null");
}

static void test_time_functions(void **state)
{
    (void)state;
    assert_string_equal(run("hours_between(arrival_datetime, surgery_datetime)"), "36");
    assert_string_equal(run("hours_between(surgery_datetime, arrival_datetime)"), "-36");
    assert_string_equal(run("days_between(arrival_datetime, surgery_datetime)"), "1.5");
    assert_string_equal(run("hours_between(arrival_datetime, surgery_datetime) <= 36"), "true");
    assert_string_equal(run("hours_between(arrival_datetime, surgery_datetime) < 36"), "false");
    /* text that reads as a time can stand for one */
    assert_string_equal(run("hours_between('2026-03-01T00:00', '2026-03-01T01:30')"), "1.5");
    assert_string_equal(run("arrival_datetime < surgery_datetime"), "true");
    assert_string_equal(run("arrival_datetime == '2026-03-01T10:00Z'"), "true");
    /* the day before the 86th birthday */
    assert_string_equal(run("age_years(date_of_birth, arrival_datetime)"), "85");
    assert_string_equal(run("age_years(date_of_birth, surgery_datetime)"), "86");
    assert_string_equal(run("age_years(missing, surgery_datetime)"), "null");
    assert_string_equal(run("year(arrival_datetime)"), "2026");
    assert_string_equal(run("month(arrival_datetime)"), "3");
    assert_string_equal(run("month(missing)"), "null");
}

static void test_present_empty_coalesce(void **state)
{
    (void)state;
    assert_string_equal(run("present(surgery_datetime)"), "true");
    assert_string_equal(run("present(missing)"), "false");
    assert_string_equal(run("present(blank)"), "false");
    assert_string_equal(run("empty(missing)"), "true");
    assert_string_equal(run("empty(sex)"), "false");
    assert_string_equal(run("coalesce(missing, blank, fracture_type, sex)"), "ICD");
    assert_string_equal(run("coalesce(missing, null)"), "null");
    assert_string_equal(run("coalesce(missing, 4) + 1"), "5");
    assert_string_equal(run("present(missing) and hours_between(arrival_datetime, missing) <= 72"),
                        "false");
}

static void test_band(void **state)
{
    (void)state;
    assert_string_equal(run("band(59, 60, 70, 80, 90)"), "<60");
    assert_string_equal(run("band(60, 60, 70, 80, 90)"), "60-69");
    assert_string_equal(run("band(69, 60, 70, 80, 90)"), "60-69");
    assert_string_equal(run("band(79.5, 60, 70, 80, 90)"), "70-79");
    assert_string_equal(run("band(89, 60, 70, 80, 90)"), "80-89");
    assert_string_equal(run("band(90, 60, 70, 80, 90)"), "90+");
    assert_string_equal(run("band(104, 60, 70, 80, 90)"), "90+");
    assert_string_equal(run("band(missing, 60, 70, 80, 90)"), "null");
    assert_string_equal(run("band(5, 18)"), "<18");
    assert_string_equal(run("band(age_years(date_of_birth, arrival_datetime), 60, 70, 80, 90)"),
                        "80-89");
    assert_string_equal(run("band(asa_grade, 2, 4) == '2-3'"), "true");
}

static void test_mathematical_functions(void **state)
{
    (void)state;
    assert_string_equal(run("ln(1)"), "0");
    assert_string_equal(run("exp(0)"), "1");
    assert_string_equal(run("sqrt(asa_grade * 3)"), "3");
    assert_string_equal(run("pow(asa_grade, 2)"), "9");
    assert_string_equal(run("pow(2, -1)"), "0.5");
    assert_string_equal(run("clamp(asa_grade, 1, 2)"), "2");
    assert_string_equal(run("clamp(asa_grade, 4, 5)"), "4");
    assert_string_equal(run("clamp(asa_grade, 1, 5)"), "3");
    assert_string_equal(run("min(asa_grade, 7, -1)"), "-1");
    assert_string_equal(run("max(asa_grade, 2)"), "3");
    assert_string_equal(run("ln(exp(2.5))"), "2.5");
    assert_string_equal(run("if(asa_grade >= 3, asa_grade - 64, 0)"), "-61");
    assert_string_equal(run("if(asa_grade > 3, 1, 0)"), "0");
    assert_string_equal(run("if(sex == '2', 'f', 'm')"), "f");
    /* null in, null out; no finite result, null (a data fault, as division by zero) */
    assert_string_equal(run("ln(missing)"), "null");
    assert_string_equal(run("min(1, missing)"), "null");
    assert_string_equal(run("max(missing, 1)"), "null");
    assert_string_equal(run("clamp(missing, 1, 2)"), "null");
    assert_string_equal(run("if(missing > 1, 1, 0)"), "null");
    assert_string_equal(run("ln(0)"), "null");
    assert_string_equal(run("ln(-1)"), "null");
    assert_string_equal(run("sqrt(-4)"), "null");
    assert_string_equal(run("pow(-8, 0.5)"), "null");
    assert_string_equal(run("exp(1000)"), "null");
    assert_string_equal(run("pow(10, 400)"), "null");
    assert_string_equal(run("clamp(3, 5, 1)"), "null");
    /* numbers only */
    assert_string_equal(run("ln(sex)"), "error: ln() needs numbers, got text");
    assert_string_equal(run("max(1, never_admitted_to_ward)"),
                        "error: max() needs numbers, got true/false");
    assert_string_equal(run("if(asa_grade, 1, 0)"), "error: if() needs true/false first, got a "
                                                    "number");
    assert_string_equal(parse_error("pow(2)"), "column 1: pow() has 1 argument, expected 2");
    assert_string_equal(parse_error("min(2)"),
                        "column 1: min() has 1 argument, expected at least 2");
    assert_string_equal(parse_error("clamp(1, 2)"),
                        "column 1: clamp() has 2 arguments, expected 3");
}

static void test_type_errors_are_reported(void **state)
{
    (void)state;
    assert_string_equal(run("sex + 1"), "error: '+' needs numbers, got text");
    assert_string_equal(run("fracture_type < 3"),
                        "error: cannot compare text with a number using '<'");
    assert_string_equal(run("hours_between(sex, arrival_datetime)"),
                        "error: hours_between() needs dates or times, got text");
    assert_string_equal(run("asa_grade and true"), "error: 'and' needs true/false values, got a "
                                                   "number");
    assert_string_equal(run("not 'x'"), "error: 'not' needs true/false, got text");
    assert_string_equal(run("band(sex, 60, 70)"), "error: band() needs a number, got text");
    assert_string_equal(run("year(asa_grade)"), "error: year() needs a date or time, got a number");
    assert_string_equal(run("nonexistent == 1"), "error: unknown field \"nonexistent\"");
    assert_string_equal(run("arrival_datetime == 1"),
                        "error: cannot compare a date/time with a number using '=='");
}

static void test_parse_errors_name_the_column(void **state)
{
    (void)state;
    assert_string_equal(parse_error("present(surgery_datetime))"),
                        "column 26: found ')', expected an operator or the end of the expression");
    assert_string_equal(parse_error("1 +"),
                        "column 4: found the end of the expression, expected a value (a number, "
                        "'text', a field, a call or a bracket)");
    assert_string_equal(parse_error(""), "column 1: found the end of the expression, expected a "
                                         "value (a number, 'text', a field, a call or a bracket)");
    assert_string_equal(parse_error("(1 + 2"),
                        "column 7: found the end of the expression, expected ')'");
    assert_string_equal(parse_error("1 < 2 < 3"),
                        "column 7: found '<', expected the end of the expression (comparisons do "
                        "not chain: join them with and)");
    assert_string_equal(parse_error("asa_grade = 1"), "column 11: found '=', expected '==' to "
                                                      "compare");
    assert_string_equal(parse_error("sex == \"1\""),
                        "column 8: found '\"', expected text in single quotes such as 'NOP'");
    assert_string_equal(parse_error("sex == 'abc"),
                        "column 8: found text without its closing quote, expected ' at its end");
    assert_string_equal(parse_error("median(asa_grade)"),
                        "column 1: found the unknown function \"median\", expected one of: "
                        "present, empty, hours_between, days_between, in, age_years, band, "
                        "coalesce, year, month, ln, exp, sqrt, pow, clamp, min, max, if");
    assert_string_equal(parse_error("present(a, b)"),
                        "column 1: present() has 2 arguments, expected 1");
    assert_string_equal(parse_error("in(sex)"),
                        "column 1: in() has 1 argument, expected at least 2");
    assert_string_equal(parse_error("hours_between()"),
                        "column 1: hours_between() has 0 arguments, expected 2");
    assert_string_equal(parse_error("band(age, 70, 60)"),
                        "column 15: argument 3 of band() is 60, expected a number greater than "
                        "70 (cut points ascend)");
    assert_string_equal(
        parse_error("band(age, x)"),
        "column 11: argument 2 of band() is x, expected a whole number written in the expression");
    assert_string_equal(parse_error("band(age, 60.5)"),
                        "column 11: argument 2 of band() is 60.5, expected a whole number");
    assert_string_equal(parse_error("Asa_grade > 1"),
                        "column 1: found the capital letter 'A', expected lower-case names");
    assert_string_equal(parse_error("1 and or 2"),
                        "column 7: found 'or', expected a value (a number, 'text', a field, a "
                        "call or a bracket)");
    assert_string_equal(parse_error("1.5.2 > 1"), "column 1: found the malformed number '1.5.2', "
                                                  "expected digits with at most one decimal point");
    assert_string_equal(parse_error("f(1,)"),
                        "column 1: found the unknown function \"f\", expected one of: present, "
                        "empty, hours_between, days_between, in, age_years, band, coalesce, "
                        "year, month, ln, exp, sqrt, pow, clamp, min, max, if");
    assert_string_equal(parse_error("in(sex, 1,)"),
                        "column 11: found ')', expected a value (a number, 'text', a field, a "
                        "call or a bracket)");
    assert_string_equal(parse_error("in(sex, 1 2)"), "column 11: found '2', expected ',' or ')'");
    assert_string_equal(parse_error("a # b"), "column 3: found the character '#', expected a "
                                              "value, an operator or a bracket");
}

/* Expressions past EXPR_MAX_LENGTH or EXPR_MAX_DEPTH are refused, where they pass it. */
static void test_limits(void **state)
{
    (void)state;
    char src[EXPR_MAX_LENGTH + 8];
    char want[200];

    /* brackets: 64 levels parse, 65 do not */
    int n = 0;
    for (int i = 0; i < EXPR_MAX_DEPTH - 1; i++)
        src[n++] = '(';
    src[n++] = '1';
    for (int i = 0; i < EXPR_MAX_DEPTH - 1; i++)
        src[n++] = ')';
    src[n] = '\0';
    assert_string_equal(run(src), "1");
    memmove(src + 1, src, (size_t)n + 1);
    src[0] = '(';
    strcat(src, ")");
    snprintf(want, sizeof want,
             "column %d: found operators, calls and brackets nested more than %d deep, expected "
             "at most %d (a derived field can hold a part)",
             EXPR_MAX_DEPTH + 1, EXPR_MAX_DEPTH, EXPR_MAX_DEPTH);
    assert_string_equal(parse_error(src), want);

    /* a chain of operators is as deep as it is long: 1 + 1 + ... */
    n = 0;
    src[n++] = '1';
    for (int i = 0; i < EXPR_MAX_DEPTH; i++)
        n += snprintf(src + n, sizeof src - (size_t)n, "+1");
    snprintf(want, sizeof want,
             "column %d: found operators, calls and brackets nested more than %d deep, expected "
             "at most %d (a derived field can hold a part)",
             n - 1, EXPR_MAX_DEPTH, EXPR_MAX_DEPTH);
    assert_string_equal(parse_error(src), want);
    src[n - 2] = '\0';
    assert_string_equal(run(src), "64");

    /* not not not ... */
    n = 0;
    for (int i = 0; i < 100; i++)
        n += snprintf(src + n, sizeof src - (size_t)n, "not ");
    strcat(src, "true");
    assert_non_null(strstr(parse_error(src), "nested more than 64 deep"));

    memset(src, ' ', EXPR_MAX_LENGTH);
    src[0] = '1';
    src[EXPR_MAX_LENGTH] = '\0';
    assert_string_equal(run(src), "1");
    strcat(src, " ");
    snprintf(want, sizeof want,
             "column 1: found an expression of %d characters, expected at most %d (a derived "
             "field can hold a part)",
             EXPR_MAX_LENGTH + 1, EXPR_MAX_LENGTH);
    assert_string_equal(parse_error(src), want);
}

/* Numbers that do not fit: band()'s cut points and literals are range-checked before anything
 * converts them (a double out of long long's range, or NaN, converted to it is undefined
 * behaviour), and arithmetic or field values that are not finite are null, never NaN. */
static void test_numbers_out_of_range(void **state)
{
    (void)state;
    /* cut points: 1e300, a number past the largest double (inf), and the largest allowed */
    char src[600];
    snprintf(src, sizeof src, "band(asa_grade, 1%0300d)", 0);
    assert_string_equal(parse_error(src),
                        "column 17: found the number '10000000000000000000...' (301 characters), "
                        "expected at most 1000000000000000");
    snprintf(src, sizeof src, "band(asa_grade, -1%0400d)", 0);
    assert_string_equal(parse_error(src),
                        "column 18: found the number '10000000000000000000...' (401 characters), "
                        "expected at most 1000000000000000");
    assert_string_equal(parse_error("band(asa_grade, 1000000000000001)"),
                        "column 17: found the number '1000000000000001' (16 characters), expected "
                        "at most 1000000000000000");
    assert_string_equal(run("band(asa_grade, -1000000000000000, 1000000000000000)"),
                        "-1000000000000000-999999999999999");
    assert_string_equal(parse_error("band(asa_grade, 999999999999999.5)"),
                        "column 17: argument 2 of band() is 999999999999999.5, expected a whole "
                        "number");
    /* a literal anywhere */
    snprintf(src, sizeof src, "asa_grade * 9%0400d", 0);
    assert_non_null(strstr(parse_error(src), "column 13: found the number '9000"));

    /* overflow and no-value arithmetic give null, as division by zero does */
    set_number("big", 1e300);
    assert_string_equal(run("big * big"), "null");
    assert_string_equal(run("big * big - big * big"), "null");
    assert_string_equal(run("-big * big < 0"), "null");
    assert_string_equal(run("band(big * big, 60, 70)"), "null");
    assert_string_equal(run("big > 1"), "true");
    assert_string_equal(run("band(big, 60, 70)"), "70+");

    /* a field value that is not finite (a lookup may give any double) is null */
    set_number("nan", NAN);
    set_number("inf", INFINITY);
    set_number("minus_inf", -INFINITY);
    assert_string_equal(run("nan"), "null");
    assert_string_equal(run("nan == 5"), "null");
    assert_string_equal(run("band(nan, 60, 70)"), "null");
    assert_string_equal(run("band(inf, 60, 70)"), "null");
    assert_string_equal(run("band(minus_inf, 60, 70)"), "null");
    assert_string_equal(run("coalesce(inf, 7)"), "7");
    assert_string_equal(run("in(nan, 1, 2)"), "null");
}

/* 1,000,000 nested brackets are refused with a message, not a crash (the length is checked
 * first); within the length, past EXPR_MAX_DEPTH at the bracket that passes it, whatever mix of
 * brackets, unary operators and calls does it. */
static void test_deep_nesting_is_refused(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *src = malloc(2 * n + 2);
    assert_non_null(src);
    memset(src, '(', n);
    src[n] = '1';
    memset(src + n + 1, ')', n);
    src[2 * n + 1] = '\0';
    char want[200];
    snprintf(want, sizeof want,
             "column 1: found an expression of %zu characters, expected at most %d (a derived "
             "field can hold a part)",
             2 * n + 1, EXPR_MAX_LENGTH);
    assert_string_equal(parse_error(src), want);

    /* "-(" repeated: each level is two deep for the parser, one for the tree */
    size_t k = 0;
    for (int i = 0; i < 1000 && k + 3 < EXPR_MAX_LENGTH; i++) {
        src[k++] = '-';
        src[k++] = '(';
    }
    src[k] = '\0';
    assert_non_null(strstr(parse_error(src), "nested more than 64 deep"));
    /* calls inside calls */
    k = 0;
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(src + k, 20, "coalesce(");
    src[k] = '\0';
    assert_non_null(strstr(parse_error(src), "nested more than 64 deep"));
    /* a unary minus over a chain already EXPR_MAX_DEPTH deep */
    k = (size_t)snprintf(src, 20, "-(1");
    for (int i = 1; i < EXPR_MAX_DEPTH; i++)
        k += (size_t)snprintf(src + k, 20, "+1");
    snprintf(src + k, 20, ")");
    assert_string_equal(parse_error(src),
                        "column 1: found operators, calls and brackets nested more than 64 deep, "
                        "expected at most 64 (a derived field can hold a part)");
    free(src);
}

static int collect(void *ctx, const char *name)
{
    char *buf = ctx;
    strcat(buf, name);
    strcat(buf, ";");
    return 0;
}

static int stop_at_sex(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "sex") == 0 ? 7 : 0;
}

static void test_each_field(void **state)
{
    (void)state;
    char err[100];
    expr_t *e = expr_parse("present(orthogeriatric_assessment_datetime) and "
                           "hours_between(arrival_datetime, orthogeriatric_assessment_datetime) <= "
                           "72 or in(sex, 1) or band(age, 60) == 'x' or present(present)",
                           err, sizeof err);
    assert_non_null(e);
    char names[300] = "";
    assert_int_equal(expr_each_field(e, collect, names), 0);
    assert_string_equal(names, "orthogeriatric_assessment_datetime;arrival_datetime;"
                               "orthogeriatric_assessment_datetime;sex;age;present;");
    assert_int_equal(expr_each_field(e, stop_at_sex, NULL), 7);
    expr_destroy(&e);
    expr_destroy(&e); /* harmless */
}

static void test_value_format(void **state)
{
    (void)state;
    char out[40];
    expr_value_t v = {.kind = EXPR_NULL};
    expr_value_format(&v, out, sizeof out);
    assert_string_equal(out, "");
    v = (expr_value_t){.kind = EXPR_NUMBER, .num = 85};
    expr_value_format(&v, out, sizeof out);
    assert_string_equal(out, "85");
    v = (expr_value_t){.kind = EXPR_NUMBER, .num = 0.25};
    expr_value_format(&v, out, sizeof out);
    assert_string_equal(out, "0.25");
    v = (expr_value_t){.kind = EXPR_TIME, .time = 0};
    expr_value_format(&v, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    v = (expr_value_t){.kind = EXPR_STRING, .str = "80-89"};
    expr_value_format(&v, out, 4);
    assert_string_equal(out, "80-"); /* truncated to fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_literals_and_arithmetic, setup),
        cmocka_unit_test_setup(test_precedence_of_logic_and_comparison, setup),
        cmocka_unit_test_setup(test_null_propagates, setup),
        cmocka_unit_test_setup(test_string_and_number_compare_as_codes, setup),
        cmocka_unit_test_setup(test_time_functions, setup),
        cmocka_unit_test_setup(test_present_empty_coalesce, setup),
        cmocka_unit_test_setup(test_band, setup),
        cmocka_unit_test_setup(test_type_errors_are_reported, setup),
        cmocka_unit_test_setup(test_parse_errors_name_the_column, setup),
        cmocka_unit_test_setup(test_limits, setup),
        cmocka_unit_test_setup(test_numbers_out_of_range, setup),
        cmocka_unit_test_setup(test_deep_nesting_is_refused, setup),
        cmocka_unit_test_setup(test_each_field, setup),
        cmocka_unit_test_setup(test_mathematical_functions, setup),
        cmocka_unit_test_setup(test_value_format, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
