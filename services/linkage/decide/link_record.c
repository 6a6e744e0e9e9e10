/* link_record.c - identifiers for linking, identifier checks, derived fields, identifiers removed
 */
#include "link_record.h"

#include <stdio.h>
#include <string.h>

#include "datetime.h"
#include "nhs_number.h"

static void add_problem(link_outcome_t *out, const char *field, const char *rule,
                        const char *severity, const char *message)
{
    if (out->n_problems >= LINK_MAX_PROBLEMS)
        return;
    link_problem_t *p = &out->problems[out->n_problems++];
    snprintf(p->field, sizeof p->field, "%s", field);
    snprintf(p->rule, sizeof p->rule, "%s", rule);
    snprintf(p->severity, sizeof p->severity, "%s", severity);
    snprintf(p->message, sizeof p->message, "%s", message);
}

static const audit_field_t *field_linked_as(const audit_def_t *def, const char *role)
{
    for (size_t i = 0; i < def->n_fields; i++)
        if (def->fields[i].link_as && strcmp(def->fields[i].link_as, role) == 0)
            return &def->fields[i];
    return NULL;
}

void link_record_ident(const audit_def_t *def, const ncap_record_t *raw, link_ident_t *out)
{
    const char *v[LI_NFIELDS];
    for (size_t f = 0; f < LI_NFIELDS; f++) {
        const audit_field_t *af = field_linked_as(def, link_field_name(f));
        v[f] = af ? ncap_record_get(raw, af->name) : NULL;
    }
    link_ident_from_values(v[LI_NHS], v[LI_FORENAME], v[LI_SURNAME], v[LI_DOB], v[LI_SEX],
                           v[LI_POSTCODE], out);
}

void link_record_check_identifiers(const audit_def_t *def, const ncap_record_t *raw,
                                   link_outcome_t *out)
{
    char digits[11] = "";
    const audit_field_t *nf = field_linked_as(def, "nhs_number");
    if (nf) {
        const char *v = ncap_record_get(raw, nf->name);
        nhs_number_status_t st = nhs_number_check(v ? v : "", digits);
        char msg[256];
        switch (st) {
        case NHS_NUMBER_VALID:
            break;
        case NHS_NUMBER_EMPTY:
            snprintf(msg, sizeof msg, "\"%s\" is empty: the record cannot be linked by NHS number",
                     nf->name);
            add_problem(out, nf->name, "nhs_number_missing", "warning", msg);
            break;
        case NHS_NUMBER_FORMAT:
        case NHS_NUMBER_CHECKSUM:
            snprintf(msg, sizeof msg,
                     "\"%s\" is not a valid NHS number (%s): the record cannot be linked by it",
                     nf->name, nhs_number_status_text(st));
            add_problem(out, nf->name, "nhs_number_invalid", "warning", msg);
            break;
        case NHS_NUMBER_PLACEHOLDER:
        case NHS_NUMBER_TEST:
            snprintf(msg, sizeof msg, "\"%s\" is a %s, not a patient's number", nf->name,
                     nhs_number_status_text(st));
            add_problem(out, nf->name,
                        st == NHS_NUMBER_TEST ? "nhs_number_test" : "nhs_number_placeholder",
                        "warning", msg);
            break;
        }
    }
    const audit_field_t *df = field_linked_as(def, "dob");
    if (df) {
        const char *v = ncap_record_get(raw, df->name);
        int y, m, d;
        if (!v || !*v || ncap_date_parse(v, &y, &m, &d) != 0) {
            char msg[256];
            snprintf(
                msg, sizeof msg,
                "\"%s\" is %s: the record cannot be aged, and is linked on its other identifiers",
                df->name, v && *v ? "not a valid date" : "empty");
            add_problem(out, df->name, v && *v ? "dob_invalid" : "dob_missing", "warning", msg);
        }
    }
}

/* What a derived field's expression sees: the raw record with the derived fields computed before
 * it set over it (a derived field first, then the record), as a copy of the record with each
 * derived value set in turn would hold, without copying every field of every record. */
typedef struct {
    const audit_def_t *def;
    const ncap_record_t *raw, *derived;
} derive_ctx_t;

static int derive_lookup(void *ctx, const char *name, expr_value_t *out)
{
    const derive_ctx_t *c = ctx;
    audit_eval_ctx_t e = {c->def, ncap_record_get(c->derived, name) ? c->derived : c->raw};
    return audit_eval_lookup(&e, name, out);
}

int link_record_prepare(const audit_def_t *def, int64_t record_id, const ncap_record_t *raw,
                        link_outcome_t *out)
{
    (void)record_id;
    memset(out, 0, sizeof *out);
    out->pseudo = ncap_record_new();
    if (!out->pseudo)
        return -1;
    link_record_check_identifiers(def, raw, out);
    link_record_ident(def, raw, &out->ident);
    const audit_field_t *lf = field_linked_as(def, "lsoa");
    const char *lsoa = lf ? ncap_record_get(raw, lf->name) : NULL;
    snprintf(out->lsoa, sizeof out->lsoa, "%s", lsoa ? lsoa : "");
    /* Derived fields are computed here, while the identifiers they need are still at hand; each
     * sees the record and the derived fields before it (out->pseudo holds only those yet). */
    derive_ctx_t ctx = {def, raw, out->pseudo};
    for (size_t i = 0; i < def->n_derived; i++) {
        const audit_derived_t *dv = &def->derived[i];
        expr_value_t val;
        char err[256], text[128] = "";
        if (expr_eval(dv->expr, derive_lookup, &ctx, &val, err, sizeof err) == 0)
            expr_value_format(&val, text, sizeof text);
        ncap_record_set(out->pseudo, dv->name, text);
    }
    for (size_t i = 0; i < raw->n; i++) {
        const audit_field_t *f = audit_def_field(def, raw->fields[i].name);
        if (f && f->identifier)
            continue;
        if (!f)
            continue; /* not a field of the audit: never passed on */
        ncap_record_set(out->pseudo, raw->fields[i].name, raw->fields[i].value);
    }
    return 0;
}

void link_outcome_clear(link_outcome_t *out)
{
    ncap_record_destroy(&out->pseudo);
    out->n_problems = 0;
}

bool link_record_wants_linked(const audit_def_t *def, const char *name)
{
    return audit_def_linked(def, name) != NULL;
}

int link_record_add_linked(const audit_def_t *def, link_outcome_t *out, const char *date_of_death,
                           int imd_decile, int imd_quintile)
{
    char v[16];
    int rc = 0;
    if (date_of_death && *date_of_death && link_record_wants_linked(def, "date_of_death"))
        rc |= ncap_record_set(out->pseudo, "date_of_death", date_of_death);
    if (imd_decile > 0 && link_record_wants_linked(def, "imd_decile")) {
        snprintf(v, sizeof v, "%d", imd_decile);
        rc |= ncap_record_set(out->pseudo, "imd_decile", v);
    }
    if (imd_quintile > 0 && link_record_wants_linked(def, "imd_quintile")) {
        snprintf(v, sizeof v, "%d", imd_quintile);
        rc |= ncap_record_set(out->pseudo, "imd_quintile", v);
    }
    return rc ? -1 : 0;
}

int link_record_revise_date_of_death(ncap_record_t *pseudo, const char *date_of_death)
{
    const char *was = ncap_record_get(pseudo, "date_of_death");
    if (strcmp(was ? was : "", date_of_death) == 0)
        return 0;
    if (!date_of_death[0]) {
        ncap_record_remove(pseudo, "date_of_death");
        return 1;
    }
    return ncap_record_set(pseudo, "date_of_death", date_of_death) == 0 ? 1 : -1;
}
