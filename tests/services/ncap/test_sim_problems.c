/* test_sim_problems.c - the simulator's problems on purpose, checked against the engine of `ncap
 * validate`: 10,000 rows of every kind, each reported at its row, field, rule and severity, and
 * nothing reported that the simulator's truth does not list (warnings included), so clean rows
 * stay clean. Pure: no database. */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "csv.h"
#include "sim.h"

#include "cmd_run.h"

/* Runs the subcommand with the arguments up to a NULL, output captured. */
static result_t run(int (*cmd)(int, char **), const char *name, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd, name, arg, ap);
    va_end(ap);
    return r;
}

#define AUDIT_DIR NCAP_SOURCE_DIR "/deploy/audits"
#define PER_KIND 10000

/* ---------- a sorted set of strings ---------- */

typedef struct {
    char **keys;
    size_t n, cap;
} keys_t;

static void keys_add(keys_t *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void keys_add(keys_t *k, const char *fmt, ...)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 1024;
        k->keys = realloc(k->keys, k->cap * sizeof *k->keys);
        assert_non_null(k->keys);
    }
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    k->keys[k->n] = strdup(buf);
    assert_non_null(k->keys[k->n]);
    k->n++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void keys_sort(keys_t *k)
{
    qsort(k->keys, k->n, sizeof *k->keys, cmp_str);
}

static bool keys_has(const keys_t *k, const char *key)
{
    return k->n && bsearch(&key, k->keys, k->n, sizeof *k->keys, cmp_str) != NULL;
}

static void keys_free(keys_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    memset(k, 0, sizeof *k);
}

/* ---------- the simulator's outputs ---------- */

static char *to_text(const sim_t *sim, int (*write)(const sim_t *, FILE *, bool))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(write(sim, f, false), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Calls row(fields, n, ctx) for every data row of a CSV text. */
static void each_row(const char *text, void (*row)(const char *const *, size_t, void *), void *ctx)
{
    csv_reader_t *csv = csv_reader_new(text, strlen(text), false);
    assert_non_null(csv);
    assert_int_equal(csv_reader_next(csv), 1); /* header */
    int rc;
    const char *f[16];
    while ((rc = csv_reader_next(csv)) != 0) {
        assert_int_equal(rc, 1);
        size_t n = csv_reader_nfields(csv);
        assert_true(n <= 16);
        for (size_t i = 0; i < n; i++)
            f[i] = csv_reader_field(csv, i);
        row(f, n, ctx);
    }
    csv_reader_destroy(&csv);
}

/* truth: local_record_id,trust_code,row,patient_id,invalid,reason,... -> "trust,row,reason" */
static void add_reason(const char *const *f, size_t n, void *ctx)
{
    assert_true(n >= 6);
    keys_add(ctx, "%s,%s,%s", f[1], f[2], f[5]);
}

/* problems truth: row,field,rule,severity,trust_code -> "trust,row,field,rule,severity" */
static void add_truth_problem(const char *const *f, size_t n, void *ctx)
{
    assert_int_equal(n, 5);
    keys_add(ctx, "%s,%s,%s,%s,%s", f[4], f[0], f[1], f[2], f[3]);
}

typedef struct {
    keys_t *keys;
    const char *trust;
} report_ctx_t;

/* ncap validate: row,field,rule,severity,value,message */
static void add_reported(const char *const *f, size_t n, void *ctx)
{
    report_ctx_t *c = ctx;
    assert_int_equal(n, 6);
    keys_add(c->keys, "%s,%s,%s,%s,%s", c->trust, f[0], f[1], f[2], f[3]);
}

/* Runs `ncap validate` on trust t's file as the simulator writes it, adding what it reports. */
static void validate_trust(const sim_t *sim, size_t t, keys_t *reported)
{
    char *buf;
    size_t len;
    assert_int_equal(sim_trust_buffer(sim, t, &buf, &len), 0);
    assert_int_equal(strlen(buf), len);
    char path[64];
    temp_file(path, buf);
    free(buf);
    result_t r =
        run(cmd_validate, "validate", "--audit", "nhfd", "--audit-dir", AUDIT_DIR, path, NULL);
    unlink(path);
    assert_true(r.rc == 0 || r.rc == 1);
    report_ctx_t ctx = {reported, sim_trust_code(sim, t)};
    each_row(r.out, add_reported, &ctx);
    result_free(&r);
}

static void test_every_kind_reported_and_nothing_else(void **state)
{
    (void)state;
    sim_opts_t opts;
    sim_opts_default(&opts);
    opts.trusts = 3;
    opts.seed = 2026;
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++)
        opts.problems[k] = PER_KIND;
    opts.records = (unsigned)sim_min_records(&opts);
    char err[256];
    sim_t *sim = sim_new(&opts, err, sizeof err);
    assert_non_null(sim);

    /* the kind of each row, and every problem the truth lists */
    keys_t reasons = {0}, truth = {0}, reported = {0}, rows_with_problems = {0};
    char *text = to_text(sim, sim_write_truth);
    each_row(text, add_reason, &reasons);
    free(text);
    text = to_text(sim, sim_write_problems_truth);
    each_row(text, add_truth_problem, &truth);
    free(text);
    keys_sort(&truth);
    for (size_t i = 0; i < truth.n; i++) { /* "trust,row" */
        const char *second = strchr(truth.keys[i], ',') + 1;
        keys_add(&rows_with_problems, "%.*s", (int)(strchr(second, ',') - truth.keys[i]),
                 truth.keys[i]);
    }
    keys_sort(&rows_with_problems);

    for (size_t t = 0; t < sim_ntrusts(sim); t++)
        validate_trust(sim, t, &reported);
    keys_sort(&reported);

    /* nothing reported that the truth does not list: clean rows stay clean, warnings included */
    size_t false_reports = 0, on_clean_rows = 0;
    for (size_t i = 0; i < reported.n; i++) {
        if (keys_has(&truth, reported.keys[i]))
            continue;
        if (false_reports++ < 10)
            print_message("reported, not in the truth: %s\n", reported.keys[i]);
        char row[64];
        const char *second = strchr(reported.keys[i], ',') + 1;
        snprintf(row, sizeof row, "%.*s", (int)(strchr(second, ',') - reported.keys[i]),
                 reported.keys[i]);
        on_clean_rows += !keys_has(&rows_with_problems, row);
    }

    /* every problem of the truth reported at its row, field, rule and severity */
    size_t missed = 0;
    for (size_t i = 0; i < truth.n; i++) {
        if (keys_has(&reported, truth.keys[i]))
            continue;
        if (missed++ < 10)
            print_message("in the truth, not reported: %s\n", truth.keys[i]);
    }

    /* each kind has its 10,000 rows (the truth's reason names the kind of a row) */
    size_t clean = 0;
    for (size_t i = 0; i < reasons.n; i++)
        clean += reasons.keys[i][strlen(reasons.keys[i]) - 1] == ',';
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++) {
        const char *name = sim_problem_kind_name((sim_problem_kind_t)k);
        size_t rows = 0;
        for (size_t i = 0; i < reasons.n; i++) {
            const char *reason = strrchr(reasons.keys[i], ',') + 1;
            rows += strcmp(reason, name) == 0;
        }
        if (rows != PER_KIND)
            print_message("kind %s: %zu rows, expected %d\n", name, rows, PER_KIND);
        assert_int_equal(rows, PER_KIND);
    }
    print_message("%zu rows, %zu problems in the truth, %zu reported, %zu missed, %zu false "
                  "reports (%zu on rows without problems)\n",
                  reasons.n, truth.n, reported.n, missed, false_reports, on_clean_rows);
    assert_true(clean > 0);
    assert_int_equal(false_reports, 0);
    assert_int_equal(missed, 0);

    keys_free(&reasons);
    keys_free(&truth);
    keys_free(&reported);
    keys_free(&rows_with_problems);
    sim_destroy(&sim);
}

/* `ncap sim --problems KIND=N` asks for one kind; records default to what the problems need;
 * unknown kinds are refused. */
static void test_problems_option(void **state)
{
    (void)state;
    char dir[] = "/tmp/ncap_test_sim_problems_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[128], ptruth[128];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(ptruth, sizeof ptruth, "%s/problems.csv", dir);
    result_t r = run(cmd_sim, "sim", "--audit", "nhfd", "--trusts", "2", "--invalid-rate", "0",
                     "--problems", "age_over_110=7", "--problems", "code_sex=3", "--out", out,
                     "--problems-truth", ptruth, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(
        strstr(r.err, "rows with a problem on purpose: 10 (3 code_sex, 7 age_over_110)"));
    result_free(&r);
    char *text;
    size_t len;
    FILE *f = fopen(ptruth, "r");
    assert_non_null(f);
    text = calloc(1, 1 << 20);
    len = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    assert_true(len > 0);
    assert_int_equal(strncmp(text, "row,field,rule,severity,trust_code\n", 35), 0);
    size_t age = 0, sex = 0;
    for (char *p = text; (p = strstr(p, ",age_at_arrival,age_over_110,warning,")); p++)
        age++;
    for (char *p = text; (p = strstr(p, ",sex,code,error,")); p++)
        sex++;
    assert_int_equal(age, 7);
    assert_int_equal(sex, 3);
    free(text);

    r = run(cmd_sim, "sim", "--audit", "nhfd", "--problems", "no_such_kind=3", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "unknown kind of problem \"no_such_kind\""));
    result_free(&r);
    r = run(cmd_sim, "sim", "--audit", "nhfd", "--records", "10", "--problems", "5", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "too few for the problems asked for"));
    result_free(&r);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_problems_option),
        cmocka_unit_test(test_every_kind_reported_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
