/* test_expr_types.c - the static type checker of the expression language: what it refuses, with
 * the column and the words an analyst reads, and that what expr_eval accepts it accepts too */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"

/* ---- fields of every kind, as a definition declares them */

static const struct {
    const char *name;
    expr_kind_t kind;
} fields[] = {
    {"age", EXPR_NUMBER},      {"asa_grade", EXPR_NUMBER}, {"sex", EXPR_STRING},
    {"postcode", EXPR_STRING}, {"arrived", EXPR_TIME},     {"operated", EXPR_TIME},
    {"dob", EXPR_TIME},        {"ward", EXPR_BOOL},        {"refused_field", EXPR_NULL},
};

static int field(void *ctx, const char *name, expr_kind_t *kind, char *why, size_t whylen)
{
    (void)ctx;
    if (strcmp(name, "broken") == 0)
        return 1; /* declared, but its declaration was refused */
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].name, name) == 0) {
            *kind = fields[i].kind;
            return 0;
        }
    snprintf(why, whylen, "found \"%s\", expected a field", name);
    return -1;
}

/* Values for expr_eval: each field non-null of its kind, or (all_null) every one null. */
static bool all_null;

static int lookup(void *ctx, const char *name, expr_value_t *out)
{
    (void)ctx;
    expr_kind_t kind;
    char why[100];
    if (field(NULL, name, &kind, why, sizeof why) != 0)
        return -1;
    *out = (expr_value_t){.kind = all_null ? EXPR_NULL : kind};
    out->num = 3;
    out->time = 1772360000; /* 2026-03-01 */
    out->b = true;
    out->str = "1";
    return 0;
}

/* Whether expr_eval gives src a value (with every field null when nulls). */
static bool evaluates(const char *src, bool nulls)
{
    char err[300];
    expr_t *e = expr_parse(src, err, sizeof err);
    assert_non_null(e);
    all_null = nulls;
    expr_value_t v;
    int rc = expr_eval(e, lookup, NULL, &v, err, sizeof err);
    expr_destroy(&e);
    return rc == 0;
}

static char problems[2048];

static void problem(void *ctx, const expr_problem_t *p)
{
    (void)ctx;
    size_t used = strlen(problems);
    snprintf(problems + used, sizeof problems - used, "%s%d: %s", used ? "\n" : "", p->column,
             p->message);
}

/* The problems expr_check finds in src, "COLUMN: message" one a line ("" when none); *type the
 * kind it gives. want: as expr_check_t's (EXPR_NULL: any). */
static const char *check_as(const char *src, expr_kind_t want, expr_kind_t *type)
{
    char err[400];
    expr_t *e = expr_parse(src, err, sizeof err);
    if (!e)
        fail_msg("\"%s\" did not parse: %s", src, err);
    problems[0] = '\0';
    expr_check_t env = {.field = field, .problem = problem, .want = want, .what = "numerator"};
    int n = expr_check(e, &env, type);
    expr_destroy(&e);
    size_t lines = problems[0] ? 1 : 0;
    for (const char *p = problems; *p; p++)
        lines += *p == '\n';
    assert_int_equal(n, lines);
    return problems;
}

static const char *check(const char *src)
{
    return check_as(src, EXPR_NULL, NULL);
}

static expr_kind_t type_of(const char *src)
{
    expr_kind_t t;
    const char *p = check_as(src, EXPR_NULL, &t);
    if (p[0])
        fail_msg("\"%s\": %s", src, p);
    return t;
}

/* ---- well typed */

static void test_the_shipped_kinds_of_expression_are_accepted(void **state)
{
    (void)state;
    static const char *ok[] = {
        "hours_between(arrived, operated) <= 36",
        "present(operated) and hours_between(arrived, operated) <= 72",
        "age_years(dob, arrived)",
        "band(age, 60, 70, 80, 90)",
        "days_between(arrived, operated) > -1",
        "ward == true",
        "empty(operated)",
        "(sex == 'NOP') == empty(operated)",
        "in(sex, '1', '2A', '2B') and present(arrived)",
        "sex == 1",                  /* a code against a number: compared as text */
        "in(sex, 1, 2) or sex != 9", /* likewise */
        "asa_grade == 1 and age < 20",
        "arrived >= '2026-03-01'", /* text that reads as a date */
        "operated < '2026-03-01T10:00'",
        "hours_between('2026-03-01', arrived) > 0",
        "year(arrived) == 2026 and month('2026-03-01') == 3",
        "coalesce(operated, arrived) > arrived",
        "coalesce(operated, '2026-01-01') > arrived",
        "coalesce(sex, 'unknown') != 'x'",
        "age + 1 > asa_grade * 2 / 3 - -1",
        "not (ward or age > 3)",
        "sex < postcode",
        "present(ward) and empty(age) and present(arrived) and empty(1)",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *p = check_as(ok[i], EXPR_NULL, NULL);
        if (p[0])
            fail_msg("\"%s\" was refused: %s", ok[i], p);
        /* and expr_eval takes it, with values and with nulls */
        if (!evaluates(ok[i], false) || !evaluates(ok[i], true))
            fail_msg("\"%s\" was accepted but does not evaluate", ok[i]);
    }
    /* a refused declaration is not blamed again */
    assert_string_equal(check("broken > 'x' and not broken"), "");
}

/* What the checker refuses, expr_eval refuses too, for a record with every field filled. */
static void test_what_is_refused_fails_at_run_time(void **state)
{
    (void)state;
    static const char *refused[] = {
        "hours_between(arrived, operated) + 'x' <= 36",
        "operated - arrived > 3",
        "age * ward",
        "null / sex",
        "-sex",
        "age and ward",
        "'yes' or ward", /* (ward or 'yes' is skipped on the right where ward is true) */
        "not age",
        "arrived > 'yesterday'",
        "arrived == sex", /* "1" does not read as a date */
        "arrived < 3",
        "age < '3'",
        "ward > false",
        "ward == 1",
        "hours_between(arrived, age) < 3",
        "days_between(sex, 'soon')",
        "year(age + 1)",
        "band(sex, 60, 70)",
        "in(arrived, 3)",
        "in(arrived, ward)",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (!check(refused[i])[0])
            fail_msg("\"%s\" was accepted", refused[i]);
        if (evaluates(refused[i], false))
            fail_msg("\"%s\" was refused but evaluates", refused[i]);
    }
}

static void test_types_given(void **state)
{
    (void)state;
    assert_int_equal(type_of("age + 1"), EXPR_NUMBER);
    assert_int_equal(type_of("hours_between(arrived, operated)"), EXPR_NUMBER);
    assert_int_equal(type_of("band(age, 60)"), EXPR_STRING);
    assert_int_equal(type_of("age > 1 or ward"), EXPR_BOOL);
    assert_int_equal(type_of("coalesce(operated, arrived)"), EXPR_TIME);
    assert_int_equal(type_of("coalesce(null, 'x')"), EXPR_STRING);
    assert_int_equal(type_of("arrived"), EXPR_TIME);
    assert_int_equal(type_of("'2026-03-01'"), EXPR_STRING);
    /* null propagates: an expression that is always null says so */
    assert_int_equal(type_of("null"), EXPR_NULL);
    assert_int_equal(type_of("age + null"), EXPR_NULL);
    assert_int_equal(type_of("null > 'x'"), EXPR_NULL);
    assert_int_equal(type_of("hours_between(null, arrived)"), EXPR_NULL);
    assert_int_equal(type_of("null and null"), EXPR_NULL);
    assert_int_equal(type_of("null and ward"), EXPR_BOOL);
    assert_int_equal(type_of("present(null)"), EXPR_BOOL);
    assert_int_equal(type_of("pow(clamp(age, 55, 145) - 91, 2)"), EXPR_NUMBER);
    assert_int_equal(type_of("min(age, asa_grade, 3) + ln(age) * exp(1) - sqrt(4)"), EXPR_NUMBER);
    assert_int_equal(type_of("ln(null)"), EXPR_NULL);
    assert_int_equal(type_of("if(asa_grade >= 3, age - 64, 0)"), EXPR_NUMBER);
    assert_int_equal(type_of("if(ward, null, 'x')"), EXPR_STRING);
}

/* ---- refused, each with the column of the token at fault */

static void test_arithmetic_needs_numbers(void **state)
{
    (void)state;
    assert_string_equal(check("hours_between(arrived, operated) + 'x' <= 36"),
                        "34: \"+\" has a number on the left and a string ('x') on the right, "
                        "expected two numbers");
    assert_string_equal(check("operated - arrived > 3"),
                        "10: \"-\" has a date/time (operated) on the left and a date/time "
                        "(arrived) on the right, expected two numbers (hours_between or "
                        "days_between gives the time between)");
    assert_string_equal(check("age * ward"), "5: \"*\" has a number (age) on the left and a "
                                             "boolean (ward) on the right, expected two numbers");
    assert_string_equal(check("null / sex"),
                        "6: \"/\" has null on the left and a string (sex) on the right, expected "
                        "two numbers");
    assert_string_equal(check("-sex"), "1: \"-\" has a string (sex), expected a number");
}

static void test_logic_needs_booleans(void **state)
{
    (void)state;
    assert_string_equal(check("age and ward"),
                        "5: \"and\" has a number (age) on the left and a boolean (ward) on the "
                        "right, expected two booleans");
    assert_string_equal(check("ward or 'yes'"),
                        "6: \"or\" has a boolean (ward) on the left and a string ('yes') on the "
                        "right, expected two booleans");
    /* expr_eval skips the right of "false and ..." but it could never be a boolean */
    assert_string_equal(check("false and 5"),
                        "7: \"and\" has a boolean (false) on the left and a number (5) on the "
                        "right, expected two booleans");
    assert_string_equal(check("not age"), "1: \"not\" has a number (age), expected a boolean");
}

static void test_comparisons_need_comparable_values(void **state)
{
    (void)state;
    assert_string_equal(check("arrived > 'yesterday'"),
                        "9: \">\" has a date/time (arrived) on the left and a string "
                        "('yesterday') on the right, expected two dates/times (text compared "
                        "with a date/time must be written as one, such as '2026-03-01')");
    assert_string_equal(check("arrived == sex"),
                        "9: \"==\" has a date/time (arrived) on the left and a string (sex) on "
                        "the right, expected two dates/times (text compared with a date/time "
                        "must be written as one, such as '2026-03-01')");
    assert_string_equal(check("arrived < 3"),
                        "9: \"<\" has a date/time (arrived) on the left and a number (3) on the "
                        "right, expected two dates/times (text compared with a date/time must "
                        "be written as one, such as '2026-03-01')");
    assert_string_equal(check("age < '3'"),
                        "5: \"<\" has a number (age) on the left and a string ('3') on the "
                        "right, expected two numbers, two strings or two dates/times");
    assert_string_equal(check("ward > false"),
                        "6: \">\" has a boolean (ward) on the left and a boolean (false) on the "
                        "right, expected two numbers, two strings or two dates/times");
    assert_string_equal(check("ward == 1"),
                        "6: \"==\" has a boolean (ward) on the left and a number (1) on the "
                        "right, expected two values of one type (or a number and a code)");
    /* null on one side: always null, never an error */
    assert_string_equal(check("ward > null"), "");
}

static void test_functions_check_their_arguments(void **state)
{
    (void)state;
    assert_string_equal(check("hours_between(arrived, age) < 3"),
                        "24: argument 2 of hours_between() is a number (age), expected a "
                        "date/time (text must be written as one, such as '2026-03-01')");
    assert_string_equal(check("days_between(sex, 'soon')"),
                        "14: argument 1 of days_between() is a string (sex), expected a "
                        "date/time (text must be written as one, such as '2026-03-01')\n"
                        "19: argument 2 of days_between() is a string ('soon'), expected a "
                        "date/time (text must be written as one, such as '2026-03-01')");
    assert_string_equal(check("year(age + 1)"),
                        "6: argument 1 of year() is a number, expected a date/time (text must "
                        "be written as one, such as '2026-03-01')");
    assert_string_equal(check("band(sex, 60, 70)"),
                        "6: argument 1 of band() is a string (sex), expected a number");
    assert_string_equal(check("in(arrived, '2026-01-01', 3, ward)"),
                        "27: argument 3 of in() is a number (3) and argument 1 a date/time "
                        "(arrived), expected two dates/times (text compared with a date/time "
                        "must be written as one, such as '2026-03-01')\n"
                        "30: argument 4 of in() is a boolean (ward) and argument 1 a date/time "
                        "(arrived), expected two dates/times (text compared with a date/time "
                        "must be written as one, such as '2026-03-01')");
    assert_string_equal(check("coalesce(age, sex)"),
                        "15: argument 2 of coalesce() is a string (sex) and argument 1 a number "
                        "(age), expected arguments of one type");
    assert_string_equal(check("ln(sex) + pow(age, ward)"),
                        "4: argument 1 of ln() is a string (sex), expected a number\n"
                        "20: argument 2 of pow() is a boolean (ward), expected a number");
    assert_string_equal(check("max(age, arrived) > 1"),
                        "10: argument 2 of max() is a date/time (arrived), expected a number");
    assert_string_equal(check("if(age, 1, 0) + if(ward, 1, 'x')"),
                        "4: argument 1 of if() is a number (age), expected a boolean\n"
                        "29: argument 3 of if() is a string ('x') and argument 2 a number (1), "
                        "expected arguments of one type");
}

static void test_unknown_fields_are_refused_where_they_stand(void **state)
{
    (void)state;
    assert_string_equal(check("age > 1 and surgery_datetime < arrived"),
                        "13: found \"surgery_datetime\", expected a field");
}

static void test_one_mistake_gives_one_message(void **state)
{
    (void)state;
    /* the + is wrong; the <= and the and that use it are not blamed as well */
    assert_string_equal(check("(age + 'x' <= 36) and ward"),
                        "6: \"+\" has a number (age) on the left and a string ('x') on the "
                        "right, expected two numbers");
    assert_string_equal(check("nowhere + 1 > 2"), "1: found \"nowhere\", expected a field");
    /* but independent mistakes are all reported */
    assert_string_equal(check("age + 'x' > 1 or not sex"),
                        "5: \"+\" has a number (age) on the left and a string ('x') on the "
                        "right, expected two numbers\n"
                        "18: \"not\" has a string (sex), expected a boolean");
}

static void test_the_whole_must_give_what_is_wanted(void **state)
{
    (void)state;
    assert_string_equal(check_as("hours_between(arrived, operated)", EXPR_BOOL, NULL),
                        "1: numerator gives a number, expected a boolean");
    assert_string_equal(check_as("  asa_grade", EXPR_BOOL, NULL),
                        "3: numerator gives a number (asa_grade), expected a boolean");
    assert_string_equal(check_as("age > 1", EXPR_BOOL, NULL), "");
    assert_string_equal(check_as("null", EXPR_BOOL, NULL), "");
    assert_string_equal(check_as("band(age, 60)", EXPR_NUMBER, NULL),
                        "1: numerator gives a string, expected a number");
    /* a date field may be given text that reads as a date */
    assert_string_equal(check_as("coalesce(operated, '2026-01-01')", EXPR_TIME, NULL), "");
    assert_string_equal(check_as("'2026-01-01'", EXPR_TIME, NULL), "");
    assert_string_equal(check_as("'soon'", EXPR_TIME, NULL),
                        "1: numerator gives a string ('soon'), expected a date/time");
    /* a part already refused: the whole is not blamed too */
    assert_string_equal(check_as("age + 'x'", EXPR_BOOL, NULL),
                        "5: \"+\" has a number (age) on the left and a string ('x') on the "
                        "right, expected two numbers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_shipped_kinds_of_expression_are_accepted),
        cmocka_unit_test(test_what_is_refused_fails_at_run_time),
        cmocka_unit_test(test_types_given),
        cmocka_unit_test(test_arithmetic_needs_numbers),
        cmocka_unit_test(test_logic_needs_booleans),
        cmocka_unit_test(test_comparisons_need_comparable_values),
        cmocka_unit_test(test_functions_check_their_arguments),
        cmocka_unit_test(test_unknown_fields_are_refused_where_they_stand),
        cmocka_unit_test(test_one_mistake_gives_one_message),
        cmocka_unit_test(test_the_whole_must_give_what_is_wanted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
