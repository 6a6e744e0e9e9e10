/* fuzz_expr.c - the expression language (common/audit/expr.c): parse, type-check, bind and
 * evaluate any text. The input's first line is the expression; the next lines are the values, as
 * sent, of its fields, in this order (a missing line is an empty value, null):
 *   n integer, x decimal, d date, t datetime, s string, k code, b boolean
 * each typed as a record's value of that type is (audit_typed_value: unparseable is null).
 *
 * Checked: expr_parse and expr_parse_problem agree; the problem's column lies within the text;
 * evaluation by name (expr_eval) and by bound slot (expr_eval_bound) give the same answer; and an
 * expression the checker accepts (expr_check: no problem) evaluates without failing, to a value
 * of the kind the checker said (or null; text that reads as a date where the checker said a date,
 * as a literal '2026-03-01' does): the promise that lets a definition be refused at load
 * and never fail record by record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "datetime.h"
#include "harness.h"

static const struct {
    const char *name;
    audit_field_type_t type;
    expr_kind_t kind;
} fields[] = {
    {"n", FT_INTEGER, EXPR_NUMBER}, {"x", FT_DECIMAL, EXPR_NUMBER}, {"d", FT_DATE, EXPR_TIME},
    {"t", FT_DATETIME, EXPR_TIME},  {"s", FT_STRING, EXPR_STRING},  {"k", FT_CODE, EXPR_STRING},
    {"b", FT_BOOLEAN, EXPR_BOOL},
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

static expr_value_t values[N_FIELDS];

static int field_index(const char *name)
{
    for (int i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].name, name) == 0)
            return i;
    return -1;
}

static int lookup(void *ctx, const char *name, expr_value_t *out)
{
    (void)ctx;
    int i = field_index(name);
    if (i < 0)
        return -1;
    *out = values[i];
    return 0;
}

static int resolve(void *ctx, const char *name)
{
    (void)ctx;
    return field_index(name);
}

static void slot_value(void *ctx, int slot, expr_value_t *out)
{
    (void)ctx;
    *out = values[slot];
}

static int check_field(void *ctx, const char *name, expr_kind_t *kind, char *why, size_t whylen)
{
    (void)ctx;
    int i = field_index(name);
    if (i < 0) {
        snprintf(why, whylen, "found the unknown field \"%s\", expected n, x, d, t, s, k or b",
                 name);
        return -1;
    }
    *kind = fields[i].kind;
    return 0;
}

typedef struct {
    int n;
    size_t src_len;
} problems_t;

static void on_problem(void *ctx, const expr_problem_t *p)
{
    problems_t *pr = ctx;
    pr->n++;
    HARNESS_CHECK(p->message[0], "a problem without a message");
    HARNESS_CHECK(p->column >= 0 && (size_t)p->column <= pr->src_len + 1,
                  "problem at column %d of %zu bytes: %s", p->column, pr->src_len, p->message);
}

static bool same_value(const expr_value_t *a, const expr_value_t *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case EXPR_NULL:
        return true;
    case EXPR_BOOL:
        return a->b == b->b;
    case EXPR_NUMBER:
        return a->num == b->num || (isnan(a->num) && isnan(b->num));
    case EXPR_STRING:
        return strcmp(a->str, b->str) == 0;
    case EXPR_TIME:
        return a->time == b->time;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = harness_text(data, size);
    char *lines[1 + N_FIELDS];
    size_t nl = harness_split(text, '\n', lines, 1 + N_FIELDS);
    const char *src = lines[0];
    for (int i = 0; i < N_FIELDS; i++) {
        const char *v = (size_t)(i + 1) < nl ? lines[i + 1] : "";
        if (*v)
            audit_typed_value(fields[i].type, v, &values[i]);
        else
            values[i] = (expr_value_t){.kind = EXPR_NULL};
    }

    expr_problem_t problem;
    expr_t *e = expr_parse_problem(src, &problem);
    char err[512];
    expr_t *again = expr_parse(src, err, sizeof err);
    HARNESS_CHECK((e != NULL) == (again != NULL), "expr_parse and expr_parse_problem disagree");
    expr_destroy(&again);
    if (!e) {
        HARNESS_CHECK(problem.message[0] && problem.column >= 0 &&
                          (size_t)problem.column <= strlen(src) + 1,
                      "parse problem at column %d of %zu bytes: \"%s\"", problem.column,
                      strlen(src), problem.message);
        free(text);
        return 0;
    }

    problems_t pr = {0, strlen(src)};
    expr_check_t env = {.field = check_field,
                        .problem = on_problem,
                        .ctx = &pr,
                        .want = EXPR_NULL,
                        .what = "expression"};
    expr_kind_t type = EXPR_NULL;
    int n_problems = expr_check(e, &env, &type);
    HARNESS_CHECK(n_problems == pr.n, "expr_check returned %d, reported %d", n_problems, pr.n);
    env.want = EXPR_BOOL;
    pr.n = 0;
    expr_check(e, &env, NULL);

    expr_value_t by_name, by_slot;
    char err2[512];
    int rc = expr_eval(e, lookup, NULL, &by_name, err, sizeof err);
    if (n_problems == 0) {
        HARNESS_CHECK(rc == 0, "\"%s\" passed the type check but fails: %s", src, err);
        /* where a date/time goes, text that reads as one is one (a literal '2026-03-01') */
        int64_t when;
        bool has_time;
        bool time_text = type == EXPR_TIME && by_name.kind == EXPR_STRING &&
                         ncap_datetime_parse(by_name.str, &when, &has_time) == 0;
        HARNESS_CHECK(by_name.kind == EXPR_NULL || type == EXPR_NULL || by_name.kind == type ||
                          time_text,
                      "\"%s\" checked as kind %d evaluates to kind %d", src, type, by_name.kind);
    }
    char formatted[128];
    expr_value_format(&by_name, formatted, sizeof formatted);
    if (expr_bind(e, resolve, NULL) == 0) {
        int rc2 = expr_eval_bound(e, slot_value, NULL, &by_slot, err2, sizeof err2);
        HARNESS_CHECK(rc2 == rc && (rc != 0 || same_value(&by_name, &by_slot)),
                      "\"%s\": by name %d (%s), by slot %d (%s)", src, rc, err, rc2, err2);
    }
    expr_destroy(&e);
    free(text);
    return 0;
}
