/* validate_record.c - required fields and types */
#include "validate_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(validation_result_t *r, const char *field, const char *rule, const char *severity,
               const char *value, const char *message)
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

int validate_record(const audit_def_t *def, const ncap_record_t *rec, validation_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->valid = 1;
    for (size_t i = 0; i < def->n_fields; i++) {
        const audit_field_t *f = &def->fields[i];
        if (f->identifier)
            continue;
        if (ncap_record_missing(rec, f->name)) {
            if (f->required) {
                char msg[320];
                snprintf(msg, sizeof msg, "\"%s\" (%s) is required but empty", f->name,
                         f->label ? f->label : f->name);
                if (add(out, f->name, "required", "error", "", msg) != 0)
                    return -1;
            }
            continue;
        }
        const char *v = ncap_record_get(rec, f->name);
        char rule[32], msg[320];
        if (audit_field_check(f, v, rule, sizeof rule, msg, sizeof msg) != 0 &&
            add(out, f->name, rule, "error", v, msg) != 0)
            return -1;
    }
    return 0;
}

void validation_result_free(validation_result_t *r)
{
    free(r->problems);
    memset(r, 0, sizeof *r);
}
