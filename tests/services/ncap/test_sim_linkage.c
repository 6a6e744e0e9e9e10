/* test_sim_linkage.c - `ncap sim linkage`: the same options give the same bytes, and the
 * population has the structure its help declares: each person seen 1 to 20 times, blanks near
 * the rates asked for, every person their own NHS number, twins present and written as twins
 * (same surname, date of birth and address, another forename), and its usage errors. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "csv.h"
#include "nhs_number.h"

#include "cmd_run.h"

#define N 2000
#define NCOLS 10

enum { C_ID, C_NHS, C_FIRST, C_SUR, C_DOB, C_SEX, C_POSTCODE, C_CITY, C_EMAIL, C_CLUSTER };

static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_sim, "sim", arg, ap);
    va_end(ap);
    return r;
}

typedef struct {
    char *f[NCOLS];
} row_t;

/* The rows of the CSV text (header checked), in rows[N]. */
static void parse(const char *text, row_t *rows, size_t *nrows)
{
    csv_reader_t *csv = csv_reader_new(text, strlen(text), false);
    assert_non_null(csv);
    assert_int_equal(csv_reader_next(csv), 1);
    static const char *const header[NCOLS] = {"unique_id", "nhs_number", "first_name", "surname",
                                              "dob",       "sex",        "postcode",   "city",
                                              "email",     "cluster"};
    assert_int_equal(csv_reader_nfields(csv), NCOLS);
    for (size_t c = 0; c < NCOLS; c++)
        assert_string_equal(csv_reader_field(csv, c), header[c]);
    size_t n = 0;
    while (csv_reader_next(csv) == 1) {
        assert_true(n < N);
        assert_int_equal(csv_reader_nfields(csv), NCOLS);
        for (size_t c = 0; c < NCOLS; c++)
            rows[n].f[c] = strdup(csv_reader_field(csv, c));
        n++;
    }
    csv_reader_destroy(&csv);
    *nrows = n;
}

static void rows_free(row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < NCOLS; c++)
            free(rows[i].f[c]);
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    result_t a = run("linkage", "--records", "2000", "--seed", "1", NULL);
    result_t b = run("linkage", "--records", "2000", "--seed", "1", NULL);
    result_t c = run("linkage", "--records", "2000", "--seed", "2", NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(c.rc, 0);
    assert_string_equal(a.out, b.out);
    assert_string_equal(a.err, b.err);
    assert_true(strcmp(a.out, c.out) != 0);
    assert_non_null(strstr(a.err, "ncap sim linkage: 2000 records of "));
    result_free(&a);
    result_free(&b);
    result_free(&c);
}

/* |got - p| within 4 standard errors of a share of N records */
static void assert_rate_near(size_t got, double p, const char *what)
{
    double share = (double)got / N, se = sqrt(p * (1 - p) / N);
    if (fabs(share - p) > 4 * se + 1e-9)
        fail_msg("%s blank in %.4f of records, expected about %.4f", what, share, p);
}

static void test_declared_structure(void **state)
{
    (void)state;
    char relations[64];
    temp_file(relations, "");
    result_t r = run("linkage", "--records", "2000", "--seed", "1", "--relations", relations,
                     "--blank", "email=0.25", NULL);
    assert_int_equal(r.rc, 0);
    static row_t rows[N];
    size_t n;
    parse(r.out, rows, &n);
    assert_int_equal(n, N);

    /* ids 0..N-1 in order; clusters numbered from 0, each seen 1-20 times */
    static unsigned size[N];
    memset(size, 0, sizeof size);
    size_t people = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strtoul(rows[i].f[C_ID], NULL, 10), i);
        unsigned long c = strtoul(rows[i].f[C_CLUSTER], NULL, 10);
        assert_true(c < N);
        if (size[c]++ == 0)
            people++;
    }
    size_t once = 0, three_plus = 0, max = 0;
    for (size_t c = 0; c < people; c++) {
        assert_true(size[c] >= 1 && size[c] <= 20); /* clusters numbered 0..people-1 */
        once += size[c] == 1;
        three_plus += size[c] >= 3;
        max = size[c] > max ? size[c] : max;
    }
    /* skewed as declared: 46% seen once, 38% three times or more, some many times */
    assert_true(once > people * 40 / 100 && once < people * 52 / 100);
    assert_true(three_plus > people * 32 / 100 && three_plus < people * 44 / 100);
    assert_true(max >= 15);

    /* blanks near the defaults, email as asked */
    static const double rate[NCOLS] = {0, 0.3, 0.02, 0.02, 0.05, 0.02, 0.1, 0.1, 0.25, 0};
    static const char *const name[NCOLS] = {"",    "nhs_number", "first_name", "surname", "dob",
                                            "sex", "postcode",   "city",       "email"};
    for (size_t c = C_NHS; c <= C_EMAIL; c++) {
        size_t blank = 0;
        for (size_t i = 0; i < n; i++)
            blank += rows[i].f[c][0] == '\0';
        assert_rate_near(blank, rate[c], name[c]);
    }

    /* every NHS number written with a good check digit is one person's (1% are mistyped) */
    size_t good = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].f[C_NHS][0])
            continue;
        if (nhs_number_check(rows[i].f[C_NHS], NULL) != NHS_NUMBER_VALID) {
            bad++;
            continue;
        }
        good++;
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(rows[i].f[C_NHS], rows[j].f[C_NHS]) == 0)
                assert_string_equal(rows[i].f[C_CLUSTER], rows[j].f[C_CLUSTER]);
    }
    assert_true(bad > 0 && bad < good / 30);

    /* twins: listed, and some record of each of a pair written alike but for the forename */
    FILE *f = fopen(relations, "r");
    assert_non_null(f);
    char line[128];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "cluster,related_to,relation\n");
    size_t twins = 0, twins_seen_alike = 0, spouses = 0;
    unsigned long a, b;
    char rel[16];
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(sscanf(line, "%lu,%lu,%15s", &a, &b, rel), 3);
        assert_int_equal(a, b + 1);
        spouses += strcmp(rel, "spouse") == 0;
        if (strcmp(rel, "twin") != 0)
            continue;
        twins++;
        bool alike = false;
        for (size_t i = 0; i < n && !alike; i++)
            for (size_t j = 0; j < n && !alike; j++)
                if (strtoul(rows[i].f[C_CLUSTER], NULL, 10) == a &&
                    strtoul(rows[j].f[C_CLUSTER], NULL, 10) == b && rows[i].f[C_DOB][0] &&
                    strcmp(rows[i].f[C_SUR], rows[j].f[C_SUR]) == 0 &&
                    strcmp(rows[i].f[C_DOB], rows[j].f[C_DOB]) == 0 &&
                    strcmp(rows[i].f[C_FIRST], rows[j].f[C_FIRST]) != 0)
                    alike = true;
        twins_seen_alike += alike;
    }
    fclose(f);
    assert_true(twins >= 3);
    assert_true(twins_seen_alike * 2 >= twins);
    assert_true(spouses >= 10);

    rows_free(rows, n);
    result_free(&r);
    unlink(relations);
}

static void test_blank_all_or_none(void **state)
{
    (void)state;
    result_t r =
        run("linkage", "--records", "300", "--blank", "dob=1", "--blank", "nhs_number=0", NULL);
    assert_int_equal(r.rc, 0);
    static row_t rows[N];
    size_t n;
    parse(r.out, rows, &n);
    assert_int_equal(n, 300);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rows[i].f[C_DOB], "");
        assert_true(strlen(rows[i].f[C_NHS]) == 10);
    }
    rows_free(rows, n);
    result_free(&r);
}

static void test_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *want;
    } bad[] = {
        {"--records", "0", "invalid value \"0\" for --records, expected 1-5000000"},
        {"--blank", "phone=0.1", "unknown field \"phone\" in --blank"},
        {"--blank", "dob=1.5", "invalid rate \"1.5\" in --blank dob=1.5, expected 0-1"},
        {"--blank", "dob", "--blank takes FIELD=RATE, not \"dob\""},
        {"--seed", "-1", "invalid value \"-1\" for --seed"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        result_t r = run("linkage", bad[k].a, bad[k].b, NULL);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.out, "");
        if (!strstr(r.err, bad[k].want))
            fail_msg("stderr \"%s\" lacks \"%s\"", r.err, bad[k].want);
        result_free(&r);
    }
    result_t r = run("linkage", "--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap sim linkage"));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_declared_structure),
        cmocka_unit_test(test_blank_all_or_none),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
