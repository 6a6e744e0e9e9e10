/* history_rule.c - a record against the same patient's other records */
#include "history_rule.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* The value of name with spaces around it dropped: start and length; false when empty. */
static bool trimmed(const ncap_record_t *rec, const char *name, const char **start, size_t *len)
{
    const char *v = ncap_record_get(rec, name);
    if (!v)
        return false;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *start = v;
    *len = n;
    return n > 0;
}

static bool time_of(const audit_def_t *def, const ncap_record_t *rec, const char *name, int64_t *t)
{
    audit_eval_ctx_t ctx = {def, rec};
    expr_value_t v;
    if (audit_eval_lookup(&ctx, name, &v) != 0 || v.kind != EXPR_TIME)
        return false;
    *t = v.time;
    return true;
}

bool history_rule_broken_by(const audit_def_t *def, const audit_rule_t *rule,
                            const history_record_t *rec, const history_record_t *other)
{
    assert(def && rule && rec && other);
    const audit_history_t *h = rule->history;
    if (!h || rec->order == other->order)
        return false;
    for (size_t i = 0; i < h->n_same; i++) {
        const char *a, *b;
        size_t na, nb;
        if (!trimmed(rec->rec, h->same[i], &a, &na) || !trimmed(other->rec, h->same[i], &b, &nb) ||
            na != nb || memcmp(a, b, na) != 0)
            return false;
    }
    int64_t t, t_other;
    if (!time_of(def, rec->rec, h->date, &t) || !time_of(def, other->rec, h->date, &t_other))
        return false;
    bool earlier = t_other < t || (t_other == t && other->order < rec->order);
    return earlier && (double)(t - t_other) <= h->within_days * 86400.0;
}

int validate_history(const audit_def_t *def, const history_record_t *rec,
                     const history_record_t *others, size_t n_others, validation_result_t *out)
{
    assert(def && rec && out);
    for (size_t r = 0; r < def->n_rules; r++) {
        const audit_rule_t *rule = &def->rules[r];
        if (!rule->history)
            continue;
        for (size_t i = 0; i < n_others; i++) {
            if (!history_rule_broken_by(def, rule, rec, &others[i]))
                continue;
            char msg[320];
            audit_rule_message(rule, rec->rec, msg, sizeof msg);
            const char *v = ncap_record_get(rec->rec, rule->field);
            if (validation_result_add(out, rule->field, rule->id, "warning", v ? v : "", msg) != 0)
                return -1;
            break; /* one warning per rule, however many records break it */
        }
    }
    return 0;
}

bool audit_has_history_rules(const audit_def_t *def)
{
    assert(def);
    for (size_t r = 0; r < def->n_rules; r++)
        if (def->rules[r].history)
            return true;
    return false;
}
