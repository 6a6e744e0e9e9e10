/* validate_record.c - required fields, types, then the definition's rules */
#include "validate_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int validation_result_add(validation_result_t *r, const char *field, const char *rule,
                          const char *severity, const char *value, const char *message)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        validation_problem_t *p = realloc(r->problems, cap * sizeof *p);
        if (!p)
            return -1;
        r->problems = p;
        r->cap = cap;
    }
    validation_problem_t *p = &r->problems[r->n++];
    snprintf(p->field, sizeof p->field, "%s", field);
    snprintf(p->rule, sizeof p->rule, "%s", rule);
    snprintf(p->severity, sizeof p->severity, "%s", severity);
    snprintf(p->value, sizeof p->value, "%s", value);
    snprintf(p->message, sizeof p->message, "%s", message);
    if (strcmp(severity, "error") == 0)
        r->valid = 0;
    return 0;
}

/* A rule is skipped for a record when it uses a field whose value failed its type check. */
typedef struct {
    const audit_def_t *def;
    const bool *type_failed; /* by field index */
} skip_ctx_t;

static int uses_failed_field(void *ctx, const char *name)
{
    const skip_ctx_t *c = ctx;
    const audit_field_t *f = audit_def_field(c->def, name);
    if (f)
        return c->type_failed[f - c->def->fields];
    f = audit_def_linked(c->def, name);
    return f && c->type_failed[c->def->n_fields + (size_t)(f - c->def->linked)];
}

static bool rule_skipped(const audit_rule_t *rule, skip_ctx_t *skip)
{
    const expr_t *used[] = {rule->check, rule->when, rule->require};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++)
        if (used[i] && expr_each_field(used[i], uses_failed_field, skip))
            return true;
    return uses_failed_field(skip, rule->field) != 0;
}

/* 1 when the record breaks the rule, 0 when it does not, -1 when the rule cannot be evaluated
 * (err says why). Null counts as fine: a missing value is the required check's business. */
static int rule_broken(const audit_def_t *def, const ncap_record_t *rec, const audit_rule_t *rule,
                       char *err, size_t errlen)
{
    audit_eval_ctx_t ctx = {def, rec};
    expr_value_t v;
    if (rule->when) {
        if (expr_eval(rule->when, audit_eval_lookup, &ctx, &v, err, errlen) != 0)
            return -1;
        if (!expr_truthy(&v))
            return 0;
    }
    const expr_t *test = rule->check ? rule->check : rule->require;
    if (expr_eval(test, audit_eval_lookup, &ctx, &v, err, errlen) != 0)
        return -1;
    return v.kind == EXPR_BOOL && !v.b;
}

static int apply_rules(const audit_def_t *def, const ncap_record_t *rec, skip_ctx_t *skip,
                       validation_result_t *out)
{
    for (size_t i = 0; i < def->n_rules; i++) {
        const audit_rule_t *rule = &def->rules[i];
        if (rule->history || rule_skipped(rule, skip))
            continue;
        char err[200], msg[320];
        const char *v = ncap_record_get(rec, rule->field);
        int broken = rule_broken(def, rec, rule, err, sizeof err);
        if (broken < 0) {
            /* a fault of the definition, not of the record: said, but never a rejection */
            snprintf(msg, sizeof msg, "rule \"%s\" could not be checked: %s", rule->id, err);
            if (validation_result_add(out, rule->field, rule->id, "warning", v ? v : "", msg) != 0)
                return -1;
        } else if (broken) {
            audit_rule_message(rule, rec, msg, sizeof msg);
            if (validation_result_add(out, rule->field, rule->id,
                                      rule->severity == RULE_ERROR ? "error" : "warning",
                                      v ? v : "", msg) != 0)
                return -1;
        }
    }
    return 0;
}

int validate_record(const audit_def_t *def, const ncap_record_t *rec, validation_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->valid = 1;
    size_t n_slots = def->n_fields + def->n_linked;
    bool *type_failed = calloc(n_slots ? n_slots : 1, sizeof *type_failed);
    if (!type_failed)
        return -1;
    int rc = 0;
    /* the fields the trust sent, then the values linkage added (never required) */
    for (size_t i = 0; i < n_slots && rc == 0; i++) {
        const audit_field_t *f =
            i < def->n_fields ? &def->fields[i] : &def->linked[i - def->n_fields];
        if (f->identifier)
            continue;
        if (ncap_record_missing(rec, f->name)) {
            if (f->required) {
                char msg[320];
                snprintf(msg, sizeof msg, "\"%s\" (%s) is required but empty", f->name,
                         f->label ? f->label : f->name);
                rc = validation_result_add(out, f->name, "required", "error", "", msg);
            }
            continue;
        }
        const char *v = ncap_record_get(rec, f->name);
        char rule[32], msg[320];
        int found = audit_field_check(f, v, rule, sizeof rule, msg, sizeof msg);
        if (found == 1)
            type_failed[i] = true;
        if (found != 0)
            rc =
                validation_result_add(out, f->name, rule, found == 1 ? "error" : "warning", v, msg);
    }
    skip_ctx_t skip = {def, type_failed};
    if (rc == 0)
        rc = apply_rules(def, rec, &skip, out);
    free(type_failed);
    return rc;
}

void validation_result_free(validation_result_t *r)
{
    free(r->problems);
    memset(r, 0, sizeof *r);
}
