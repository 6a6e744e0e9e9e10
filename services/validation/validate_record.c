/* validate_record.c - required fields, types, then the definition's rules, over a record view:
 * names were bound to slots at load, values are typed once, messages written only for problems */
#include "validate_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

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
    /* cut to their fields, perhaps through a character: '?' (stored as text in PostgreSQL) */
    utf8_mend(p->value);
    utf8_mend(p->message);
    if (strcmp(severity, "error") == 0)
        r->valid = 0;
    return 0;
}

void validation_result_reset(validation_result_t *r)
{
    r->n = 0;
    r->valid = 1;
}

/* A rule is skipped for a record when it uses a field whose value failed its type check. */
static bool rule_skipped(const audit_rule_t *rule, const record_view_t *view)
{
    for (size_t i = 0; i < rule->n_uses; i++)
        if (record_view_marked(view, rule->uses[i]))
            return true;
    return false;
}

/* 1 when the record breaks the rule, 0 when it does not, -1 when the rule cannot be evaluated
 * (err says why). Null counts as fine: a missing value is the required check's business. */
static int rule_broken(record_view_t *view, const audit_rule_t *rule, char *err, size_t errlen)
{
    expr_value_t v;
    if (rule->when) {
        if (expr_eval_bound(rule->when, record_view_slot_value, view, &v, err, errlen) != 0)
            return -1;
        if (!expr_truthy(&v))
            return 0;
    }
    const expr_t *test = rule->check ? rule->check : rule->require;
    if (expr_eval_bound(test, record_view_slot_value, view, &v, err, errlen) != 0)
        return -1;
    return v.kind == EXPR_BOOL && !v.b;
}

static int apply_rules(const audit_def_t *def, record_view_t *view, validation_result_t *out)
{
    for (size_t i = 0; i < def->n_rules; i++) {
        const audit_rule_t *rule = &def->rules[i];
        if (rule->history || rule_skipped(rule, view))
            continue;
        char err[200], msg[320];
        int broken = rule_broken(view, rule, err, sizeof err);
        if (broken == 0)
            continue;
        const char *v = record_view_text(view, audit_def_slot(def, rule->field));
        int rc;
        if (broken < 0) {
            /* a fault of the definition, not of the record: said, but never a rejection */
            snprintf(msg, sizeof msg, "rule \"%s\" could not be checked: %s", rule->id, err);
            rc = validation_result_add(out, rule->field, rule->id, "warning", v ? v : "", msg);
        } else {
            audit_rule_message_with(rule, record_view_text_of, view, msg, sizeof msg);
            rc = validation_result_add(out, rule->field, rule->id,
                                       rule->severity == RULE_ERROR ? "error" : "warning",
                                       v ? v : "", msg);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

int validate_view(record_view_t *view, validation_result_t *out)
{
    const audit_def_t *def = record_view_def(view);
    /* the fields the trust sent, then the values linkage added (never required) */
    size_t n_slots = def->n_fields + def->n_linked;
    for (size_t i = 0; i < n_slots; i++) {
        const audit_field_t *f = audit_def_slot_field(def, (int)i);
        if (f->identifier)
            continue;
        if (record_view_missing(view, (int)i)) {
            if (f->required) {
                char msg[320];
                snprintf(msg, sizeof msg, "\"%s\" (%s) is required but empty", f->name,
                         f->label ? f->label : f->name);
                if (validation_result_add(out, f->name, "required", "error", "", msg) != 0)
                    return -1;
            }
            continue;
        }
        const char *v = record_view_text(view, (int)i);
        char rule[32], msg[320];
        int found = audit_field_check(f, v, rule, sizeof rule, msg, sizeof msg);
        if (found == 1)
            record_view_mark(view, (int)i);
        if (found != 0 &&
            validation_result_add(out, f->name, rule, found == 1 ? "error" : "warning", v, msg))
            return -1;
    }
    return apply_rules(def, view, out);
}

int validate_record(const audit_def_t *def, const ncap_record_t *rec, validation_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->valid = 1;
    record_view_t *view = record_view_new(def);
    if (!view)
        return -1;
    record_view_set_record(view, rec);
    int rc = validate_view(view, out);
    record_view_destroy(&view);
    return rc;
}

void validation_result_free(validation_result_t *r)
{
    free(r->problems);
    memset(r, 0, sizeof *r);
}
