/* audit_def.c - loads an audit definition from YAML (libyaml's document API, so every node knows
 * its line), checks it whole, and checks values against its fields. */
#include "audit_def.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "datetime.h"
#include "file_read.h"
#include "nhs_number.h"
#include "ods_code.h"
#include "postcode.h"
#include "utf8.h"

static const char *type_names[] = {
    [FT_STRING] = "string",     [FT_INTEGER] = "integer",
    [FT_DECIMAL] = "decimal",   [FT_DATE] = "date",
    [FT_DATETIME] = "datetime", [FT_CODE] = "code",
    [FT_BOOLEAN] = "boolean",   [FT_NHS_NUMBER] = "nhs_number",
    [FT_POSTCODE] = "postcode", [FT_ODS_CODE] = "ods_code",
    [FT_LSOA] = "lsoa",
};
#define N_TYPES (sizeof type_names / sizeof type_names[0])

static const char *link_roles[] = {"nhs_number", "forename", "surname", "dob",
                                   "sex",        "postcode", "lsoa"};
#define N_LINK_ROLES (sizeof link_roles / sizeof link_roles[0])

const char *audit_field_type_name(audit_field_type_t t)
{
    return (size_t)t < N_TYPES ? type_names[t] : "unknown";
}

static int type_from_name(const char *s, audit_field_type_t *t)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *t = (audit_field_type_t)i;
            return 0;
        }
    return -1;
}

/* ---------------------------------------------------------------- destroy and look up */

static void field_free(audit_field_t *f)
{
    free(f->name);
    free(f->label);
    free(f->link_as);
    for (size_t i = 0; i < f->n_codes; i++) {
        free(f->codes[i].code);
        free(f->codes[i].label);
    }
    free(f->codes);
    free(f->pattern);
    if (f->pattern_re) {
        regfree(f->pattern_re);
        free(f->pattern_re);
    }
}

void audit_def_destroy(audit_def_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_def_t *self = *self_p;
    for (size_t i = 0; i < self->n_fields; i++)
        field_free(&self->fields[i]);
    free(self->fields);
    for (size_t i = 0; i < self->n_linked; i++)
        field_free(&self->linked[i]);
    free(self->linked);
    for (size_t i = 0; i < self->n_derived; i++) {
        free(self->derived[i].name);
        free(self->derived[i].expr_src);
        expr_destroy(&self->derived[i].expr);
    }
    free(self->derived);
    for (size_t i = 0; i < self->n_metrics; i++) {
        audit_metric_t *m = &self->metrics[i];
        free(m->id);
        free(m->label);
        free(m->numerator_src);
        free(m->denominator_src);
        expr_destroy(&m->numerator);
        expr_destroy(&m->denominator);
        free(m->unit);
        free(m->period);
        free(m->observed_src);
        expr_destroy(&m->observed);
        free(m->expected_model_id);
        free(m->value_src);
        expr_destroy(&m->value);
    }
    free(self->metrics);
    for (size_t i = 0; i < self->n_risk_models; i++) {
        audit_risk_model_t *rm = &self->risk_models[i];
        free(rm->id);
        free(rm->label);
        free(rm->source);
        for (size_t j = 0; j < rm->n_terms; j++) {
            free(rm->terms[j].src);
            expr_destroy(&rm->terms[j].expr);
        }
        free(rm->terms);
    }
    free(self->risk_models);
    for (size_t i = 0; i < self->n_rules; i++) {
        audit_rule_t *r = &self->rules[i];
        free(r->id);
        free(r->message);
        free(r->field);
        free(r->check_src);
        free(r->when_src);
        free(r->require_src);
        expr_destroy(&r->check);
        expr_destroy(&r->when);
        expr_destroy(&r->require);
        free(r->uses);
        if (r->history) {
            for (size_t j = 0; j < r->history->n_same; j++)
                free(r->history->same[j]);
            free(r->history->same);
            free(r->history->date);
            free(r->history);
        }
    }
    free(self->rules);
    free(self->breakdowns.deprivation);
    free(self->breakdowns.ethnicity);
    free(self->breakdowns.sex);
    free(self->breakdowns.age);
    free(self->breakdowns.age_bands);
    free(self->path);
    free(self->audit);
    free(self->name);
    free(self->dataset_version);
    free(self->speciality);
    free(self->record_key_field);
    free(self->trust_field);
    free(self->site_field);
    free(self->period_field);
    str_map_destroy(&self->slot_index);
    free(self);
    *self_p = NULL;
}

/* The slot of name through the index, which must cover slots [0, upto): -1 when the name is not
 * one of its slots, -2 when it does not cover them (a definition put together by hand, or one
 * being loaded: the fields are indexed once they have loaded, then the linked ones, ...). */
static int indexed_slot(const audit_def_t *self, const char *name, size_t upto)
{
    if (!self->slot_index || str_map_size(self->slot_index) < upto)
        return -2;
    size_t i = str_map_get(self->slot_index, name);
    return i == STR_MAP_MISSING ? -1 : (int)i;
}

const audit_field_t *audit_def_field(const audit_def_t *self, const char *name)
{
    assert(self);
    int slot = indexed_slot(self, name, self->n_fields);
    if (slot != -2)
        return slot >= 0 && (size_t)slot < self->n_fields ? &self->fields[slot] : NULL;
    for (size_t i = 0; i < self->n_fields; i++)
        if (self->fields[i].name && strcmp(self->fields[i].name, name) == 0)
            return &self->fields[i];
    return NULL;
}

const audit_field_t *audit_def_linked(const audit_def_t *self, const char *name)
{
    assert(self);
    int slot = indexed_slot(self, name, self->n_fields + self->n_linked);
    if (slot != -2) {
        size_t i = (size_t)slot - self->n_fields;
        return slot >= 0 && (size_t)slot >= self->n_fields && i < self->n_linked ? &self->linked[i]
                                                                                 : NULL;
    }
    for (size_t i = 0; i < self->n_linked; i++)
        if (self->linked[i].name && strcmp(self->linked[i].name, name) == 0)
            return &self->linked[i];
    return NULL;
}

const audit_risk_model_t *audit_def_risk_model(const audit_def_t *self, const char *id)
{
    assert(self);
    for (size_t i = 0; i < self->n_risk_models; i++)
        if (self->risk_models[i].id && id && strcmp(self->risk_models[i].id, id) == 0)
            return &self->risk_models[i];
    return NULL;
}

const audit_metric_t *audit_def_metric(const audit_def_t *self, const char *id)
{
    assert(self);
    for (size_t i = 0; i < self->n_metrics; i++)
        if (self->metrics[i].id && id && strcmp(self->metrics[i].id, id) == 0)
            return &self->metrics[i];
    return NULL;
}

size_t audit_def_n_slots(const audit_def_t *self)
{
    assert(self);
    return self->n_fields + self->n_linked + self->n_derived;
}

int audit_def_slot(const audit_def_t *self, const char *name)
{
    assert(self);
    int slot = indexed_slot(self, name, audit_def_n_slots(self));
    if (slot != -2)
        return slot;
    for (size_t i = 0; i < audit_def_n_slots(self); i++) {
        const char *n = audit_def_slot_name(self, (int)i);
        if (n && strcmp(n, name) == 0)
            return (int)i;
    }
    return -1;
}

const audit_field_t *audit_def_slot_field(const audit_def_t *self, int slot)
{
    assert(self);
    size_t i = (size_t)slot;
    if (slot < 0)
        return NULL;
    if (i < self->n_fields)
        return &self->fields[i];
    if (i - self->n_fields < self->n_linked)
        return &self->linked[i - self->n_fields];
    return NULL;
}

const char *audit_def_slot_name(const audit_def_t *self, int slot)
{
    assert(self);
    const audit_field_t *f = audit_def_slot_field(self, slot);
    if (f)
        return f->name;
    size_t d = (size_t)slot - self->n_fields - self->n_linked;
    return slot >= 0 && d < self->n_derived ? self->derived[d].name : NULL;
}

audit_field_type_t audit_def_slot_type(const audit_def_t *self, int slot)
{
    assert(self);
    const audit_field_t *f = audit_def_slot_field(self, slot);
    if (f)
        return f->type;
    size_t d = (size_t)slot - self->n_fields - self->n_linked;
    return slot >= 0 && d < self->n_derived ? self->derived[d].type : FT_STRING;
}

static const audit_derived_t *find_derived(const audit_def_t *self, const char *name)
{
    int slot = indexed_slot(self, name, audit_def_n_slots(self));
    if (slot != -2) {
        size_t i = (size_t)slot - self->n_fields - self->n_linked;
        return slot >= 0 && (size_t)slot >= self->n_fields + self->n_linked && i < self->n_derived
                   ? &self->derived[i]
                   : NULL;
    }
    for (size_t i = 0; i < self->n_derived; i++)
        if (self->derived[i].name && strcmp(self->derived[i].name, name) == 0)
            return &self->derived[i];
    return NULL;
}

/* ---------------------------------------------------------------- YAML reading */

typedef struct {
    int line, column; /* column 0: the problem has none */
    size_t seq;       /* the order it was found in */
    char *text;       /* "FILE:LINE[:COLUMN]: message" */
} problem_t;

/* The loader goes on after a problem, to report every problem of the file at once: an item of a
 * list (a field, a metric, ...) stops at its first problem but the next item is read, and each
 * expression is checked whole. */
typedef struct {
    const char *path;
    const char *text;   /* the file itself, for the columns of expressions */
    size_t *line_start; /* byte offset of each line of text (line i + 1 at [i]) */
    size_t n_lines;
    yaml_document_t *doc;
    audit_def_t *def;
    problem_t *problems;
    size_t n_problems, cap_problems;
    size_t n_dropped;           /* problems beyond AUDIT_MAX_PROBLEMS */
    const yaml_node_t *derived; /* the list of derived fields, or NULL */
    const char **broken; /* names whose declaration was refused: what uses them is not blamed */
    size_t n_broken, cap_broken;
    char ctx[120]; /* what is being read, e.g. "field \"asa_grade\": " */
} loader_t;

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static int column_of(const yaml_node_t *n)
{
    return (int)n->start_mark.column + 1;
}

/* items (room for *cap of size bytes each) with room for item n, doubled when full: the array
 * to use from now on, or NULL when out of memory (items is then left as it was). */
static void *grow(void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    size_t more = *cap ? *cap * 2 : 8;
    void *bigger = realloc(items, more * size);
    if (bigger)
        *cap = more;
    return bigger;
}

/* Records a problem at line and column (0: none), message fmt; returns -1. */
static int vlfail(loader_t *L, int line, int column, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vlfail(loader_t *L, int line, int column, const char *fmt, va_list ap)
{
    if (L->n_problems == AUDIT_MAX_PROBLEMS) {
        L->n_dropped++;
        return -1;
    }
    problem_t *problems = grow(L->problems, L->n_problems, &L->cap_problems, sizeof *problems);
    if (!problems)
        return -1;
    L->problems = problems;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char where[40];
    if (column > 0)
        snprintf(where, sizeof where, "%d:%d", line, column);
    else
        snprintf(where, sizeof where, "%d", line);
    size_t len = strlen(L->path) + strlen(where) + strlen(L->ctx) + strlen(msg) + 5;
    char *text = malloc(len);
    if (!text)
        return -1;
    snprintf(text, len, "%s:%s: %s%s", L->path, where, L->ctx, msg);
    L->problems[L->n_problems] = (problem_t){line, column, L->n_problems, text};
    L->n_problems++;
    return -1;
}

static int lfail_at(loader_t *L, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int lfail_at(loader_t *L, int line, int column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlfail(L, line, column, fmt, ap);
    va_end(ap);
    return -1;
}

static int lfail(loader_t *L, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int lfail(loader_t *L, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlfail(L, line, 0, fmt, ap);
    va_end(ap);
    return -1;
}

/* Notes that the declaration of name was refused (name stays owned by the definition). */
static void mark_broken(loader_t *L, const char *name)
{
    if (!name)
        return;
    const char **broken = grow(L->broken, L->n_broken, &L->cap_broken, sizeof *broken);
    if (!broken)
        return; /* out of memory: what uses it is blamed too, which is harmless */
    L->broken = broken;
    L->broken[L->n_broken++] = name;
}

static bool is_broken(const loader_t *L, const char *name)
{
    for (size_t i = 0; i < L->n_broken; i++)
        if (strcmp(L->broken[i], name) == 0)
            return true;
    return false;
}

static yaml_node_t *node(loader_t *L, int id)
{
    return yaml_document_get_node(L->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain empty scalar, ~ or null: YAML's ways of writing nothing. */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

/* Checks that map is a mapping whose keys are distinct scalars from allowed. */
static int check_keys(loader_t *L, const yaml_node_t *map, const char *what,
                      const char *const *allowed, size_t n_allowed)
{
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "%s must be a mapping of keys to values", what);
    int rc = 0;
    bool seen[32] = {false}; /* by index in allowed: a key seen, so that a second is refused in
                                O(keys), however many keys the mapping has */
    assert(n_allowed <= sizeof seen / sizeof seen[0]);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(L, p->key);
        if (k->type != YAML_SCALAR_NODE) {
            rc = lfail(L, line_of(k), "keys must be plain names");
            continue;
        }
        size_t known = n_allowed;
        for (size_t i = 0; i < n_allowed && known == n_allowed; i++)
            if (strcmp(scalar(k), allowed[i]) == 0)
                known = i;
        if (known == n_allowed) {
            char list[300] = "";
            for (size_t i = 0; i < n_allowed; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
            }
            rc = lfail(L, line_of(k), "unknown key \"%.60s\" (expected one of: %s)", scalar(k),
                       list);
            continue;
        }
        if (seen[known])
            rc = lfail(L, line_of(k), "duplicate key \"%s\"", scalar(k));
        seen[known] = true;
    }
    return rc;
}

static yaml_node_t *get(loader_t *L, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(L, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
            return node(L, p->value);
    }
    return NULL;
}

/* The text of map[key] (copied to *out). A missing or empty required key is an error; a missing
 * optional key leaves *out NULL. */
static int get_string(loader_t *L, const yaml_node_t *map, const char *key, bool required,
                      char **out)
{
    *out = NULL;
    yaml_node_t *v = get(L, map, key);
    if (!v || is_null(v)) {
        if (required)
            return lfail(L, v ? line_of(v) : line_of(map), "missing key \"%s\"", key);
        return 0;
    }
    if (v->type != YAML_SCALAR_NODE)
        return lfail(L, line_of(v), "\"%s\" must be a single value", key);
    if (required && scalar(v)[0] == '\0')
        return lfail(L, line_of(v), "\"%s\" is empty", key);
    *out = strdup(scalar(v));
    if (!*out)
        return lfail(L, line_of(v), "out of memory");
    return 0;
}

static int get_bool(loader_t *L, const yaml_node_t *map, const char *key, bool required, bool dflt,
                    bool *out)
{
    *out = dflt;
    yaml_node_t *v = get(L, map, key);
    if (!v || is_null(v)) {
        if (required)
            return lfail(L, v ? line_of(v) : line_of(map), "missing key \"%s\"", key);
        return 0;
    }
    if (v->type == YAML_SCALAR_NODE && strcmp(scalar(v), "true") == 0)
        *out = true;
    else if (v->type == YAML_SCALAR_NODE && strcmp(scalar(v), "false") == 0)
        *out = false;
    else
        return lfail(L, line_of(v), "\"%s\" must be true or false", key);
    return 0;
}

static int get_number(loader_t *L, const yaml_node_t *map, const char *key, bool *has, double *out)
{
    *has = false;
    yaml_node_t *v = get(L, map, key);
    if (!v || is_null(v))
        return 0;
    char *end = NULL;
    if (v->type == YAML_SCALAR_NODE) {
        errno = 0;
        *out = strtod(scalar(v), &end);
    }
    /* strtod also reads nan, inf and hexadecimal: a bound must be a finite decimal number */
    if (v->type != YAML_SCALAR_NODE || end == scalar(v) || *end != '\0' || errno ||
        !isfinite(*out) || strpbrk(scalar(v), "xXnN"))
        return lfail(L, line_of(v), "\"%s\" is \"%.40s\", expected a number", key,
                     v->type == YAML_SCALAR_NODE ? scalar(v) : "a list or mapping");
    *has = true;
    return 0;
}

/* The whole number of scalar v, from lo to hi, in *out; else a problem at v's line saying what
 * was found and what is expected. */
static int whole_number(loader_t *L, const yaml_node_t *v, const char *key, long lo, long hi,
                        long *out)
{
    const char *s = v->type == YAML_SCALAR_NODE ? scalar(v) : "a list or mapping";
    char *end = NULL;
    errno = 0;
    long x = v->type == YAML_SCALAR_NODE && isdigit((unsigned char)s[0]) ? strtol(s, &end, 10) : 0;
    if (!end || *end != '\0' || errno || x < lo || x > hi)
        return lfail(L, line_of(v), "\"%s\" is \"%.40s\", expected a whole number from %ld to %ld",
                     key, s, lo, hi);
    *out = x;
    return 0;
}

/* Names usable in expressions: [a-z_][a-z0-9_]*, not a word of the language. */
static bool valid_name(const char *s)
{
    static const char *reserved[] = {"true", "false", "null", "and", "or", "not"};
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(s, reserved[i]) == 0)
            return false;
    return true;
}

static int check_name(loader_t *L, const yaml_node_t *map, const char *key, const char *name)
{
    if (valid_name(name))
        return 0;
    return lfail(L, line_of(get(L, map, key)),
                 "\"%s\" is \"%.60s\", expected lower-case letters, digits and _ starting with "
                 "a letter",
                 key, name);
}

/* ---------------------------------------------------------------- fields */

static int load_codes(loader_t *L, audit_field_t *f, const yaml_node_t *codes)
{
    if (codes->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(codes),
                     "\"codes\" must map each code to its label, e.g. "
                     "{\"1\": Male, \"2\": Female}");
    size_t n = (size_t)(codes->data.mapping.pairs.top - codes->data.mapping.pairs.start);
    if (n == 0)
        return lfail(L, line_of(codes), "\"codes\" is empty");
    if (n > AUDIT_MAX_CODES) {
        const yaml_node_t *past = node(L, codes->data.mapping.pairs.start[AUDIT_MAX_CODES].key);
        return lfail_at(L, line_of(past), column_of(past),
                        "found code %d, expected at most %d codes in a field", AUDIT_MAX_CODES + 1,
                        AUDIT_MAX_CODES);
    }
    f->codes = calloc(n, sizeof *f->codes);
    str_map_t *seen = str_map_new(n); /* duplicates found in O(n) */
    int rc = 0;
    if (!f->codes || !seen)
        rc = lfail(L, line_of(codes), "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        yaml_node_pair_t *p = &codes->data.mapping.pairs.start[i];
        yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
        size_t first = 0;
        if (k->type != YAML_SCALAR_NODE || scalar(k)[0] == '\0')
            rc = lfail(L, line_of(k), "a code must be a single non-empty value");
        else if (v->type != YAML_SCALAR_NODE || is_null(v))
            rc = lfail(L, line_of(v), "code \"%s\" has no label", scalar(k));
        else if ((rc = str_map_put(seen, scalar(k), &first)) <= 0)
            rc = rc < 0
                     ? lfail(L, line_of(k), "out of memory")
                     : lfail(L, line_of(k), "duplicate code \"%s\" (first on line %d)", scalar(k),
                             line_of(node(L, codes->data.mapping.pairs.start[first].key)));
        else if (!(f->codes[i].code = strdup(scalar(k))) ||
                 !(f->codes[i].label = strdup(scalar(v))))
            rc = lfail(L, line_of(k), "out of memory");
        else
            rc = 0;
        f->n_codes = i + 1;
    }
    str_map_destroy(&seen);
    return rc;
}

/* `standard: ethnic_category`: a code field whose list, labels and check are the NHS Data
 * Dictionary's, shared by every audit (the labels are copied so that messages list them). */
static int load_standard(loader_t *L, audit_field_t *f, const yaml_node_t *map,
                         const yaml_node_t *codes)
{
    char *name = NULL;
    if (get_string(L, map, "standard", false, &name))
        return -1;
    if (!name)
        return 0;
    int line = line_of(get(L, map, "standard"));
    int unknown = nhs_code_list_from_name(name, &f->standard);
    free(name);
    if (unknown)
        return lfail(L, line,
                     "unknown standard \"%.40s\" (expected ethnic_category, stated_gender "
                     "or national_grouping)",
                     scalar(get(L, map, "standard")));
    if (f->type != FT_CODE)
        return lfail(L, line, "\"standard\" applies only to type code, not %s",
                     type_names[f->type]);
    if (codes && !is_null(codes))
        return lfail(L, line_of(codes),
                     "give either \"standard\" or \"codes\", not both: the standard brings "
                     "its codes and labels");
    size_t n = 0;
    const nhs_code_t *list = nhs_code_list_codes(f->standard, &n);
    f->codes = calloc(n, sizeof *f->codes);
    if (!f->codes)
        return lfail(L, line, "out of memory");
    for (size_t i = 0; i < n; i++) {
        f->codes[i].code = strdup(list[i].code);
        f->codes[i].label = strdup(list[i].label);
        f->n_codes = i + 1;
        if (!f->codes[i].code || !f->codes[i].label)
            return lfail(L, line, "out of memory");
    }
    return 0;
}

/* "[...]{m,n}", "[...]{m}", "[...]+" or "[...]*" with plain characters and a-z ranges in the
 * bracket (no ^, no [:classes:], no backslash): kept as a byte set, which gives the same answer
 * as the regex engine far faster. Leaves f->pattern_simple false for any other pattern. */
static void simple_pattern(audit_field_t *f)
{
    const char *p = f->pattern;
    if (*p++ != '[' || *p == '^' || *p == ']')
        return;
    unsigned char set[32] = {0};
    while (*p && *p != ']') {
        unsigned char lo = (unsigned char)*p, hi = lo;
        if (lo == '[' || lo == '\\' || lo >= 0x80)
            return;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = (unsigned char)p[2];
            if (hi < lo || hi == '[' || hi == '\\' || hi >= 0x80)
                return;
            p += 3;
        } else
            p++;
        for (unsigned c = lo; c <= hi; c++)
            set[c / 8] |= (unsigned char)(1u << (c % 8));
    }
    if (*p++ != ']')
        return;
    unsigned long min = 0, max = (unsigned long)-1;
    char *end = NULL;
    if (strcmp(p, "+") == 0)
        min = 1;
    else if (strcmp(p, "*") == 0)
        min = 0;
    else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
        min = strtoul(p + 1, &end, 10);
        if (*end == '}' && end[1] == '\0')
            max = min;
        else if (*end == ',' && end[1] >= '0' && end[1] <= '9') {
            max = strtoul(end + 1, &end, 10);
            if (*end != '}' || end[1] != '\0' || max < min)
                return;
        } else
            return;
    } else
        return;
    memcpy(f->pattern_set, set, sizeof set);
    f->pattern_min = min;
    f->pattern_max = max;
    f->pattern_simple = true;
}

/* Compiles the field's pattern, anchored, once: values are matched against it on every row. */
static int check_pattern(loader_t *L, const yaml_node_t *at, audit_field_t *f)
{
    size_t len = strlen(f->pattern) + 5;
    char *anchored = malloc(len);
    regex_t *re = malloc(sizeof *re);
    if (!anchored || !re) {
        free(anchored);
        free(re);
        return lfail(L, line_of(at), "out of memory");
    }
    snprintf(anchored, len, "^(%s)$", f->pattern);
    int rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
        char why[160];
        regerror(rc, re, why, sizeof why);
        free(re);
        return lfail(L, line_of(at), "bad pattern \"%.80s\": %s", f->pattern, why);
    }
    f->pattern_re = re;
    simple_pattern(f);
    return 0;
}

/* A field trusts send (list = def->fields), or a linked value linkage supplies from reference data
 * (list = def->linked: name, label, type, min and max only). */
static int load_field_in(loader_t *L, audit_field_t *list, size_t index, const yaml_node_t *map,
                         bool linked, bool *typed)
{
    static const char *keys[] = {"name",  "label", "type", "required", "identifier", "link_as",
                                 "codes", "min",   "max",  "pattern",  "standard"};
    static const char *linked_keys[] = {"name", "label", "type", "min", "max"};
    const char *what = linked ? "linked field" : "field";
    audit_def_t *def = L->def;
    audit_field_t *f = &list[index];
    snprintf(L->ctx, sizeof L->ctx, "%s %zu: ", what, index + 1);
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "each %s must be a mapping with name, type, ...", what);
    f->line = line_of(map);
    char *type = NULL;
    if (get_string(L, map, "name", true, &f->name))
        return -1;
    snprintf(L->ctx, sizeof L->ctx, "%s \"%.60s\": ", what, f->name);
    if (check_name(L, map, "name", f->name))
        return -1;
    int rc = linked ? check_keys(L, map, "a linked field", linked_keys,
                                 sizeof linked_keys / sizeof linked_keys[0])
                    : check_keys(L, map, "a field", keys, sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < index; i++)
        if (list[i].name && strcmp(list[i].name, f->name) == 0)
            return lfail(L, line_of(get(L, map, "name")),
                         "duplicate field name (first declared on line %d)", list[i].line);
    const audit_field_t *sent = linked ? audit_def_field(def, f->name) : NULL;
    if (sent)
        return lfail(L, line_of(get(L, map, "name")),
                     "duplicate field name (declared as a field on line %d): a linked value comes "
                     "from reference data, never from the trust",
                     sent->line);
    if (get_string(L, map, "label", false, &f->label) || get_string(L, map, "type", true, &type))
        return -1;
    int bad_type = type_from_name(type, &f->type);
    if (bad_type) {
        lfail(L, line_of(get(L, map, "type")),
              "unknown type \"%.40s\" (expected one of: string, "
              "integer, decimal, date, datetime, code, boolean, "
              "nhs_number, postcode, ods_code, lsoa)",
              type);
        free(type);
        return -1;
    }
    free(type);
    *typed = true;
    if (!f->label && !(f->label = strdup(f->name)))
        return lfail(L, f->line, "out of memory");
    if (get_bool(L, map, "required", false, false, &f->required) ||
        get_bool(L, map, "identifier", false, false, &f->identifier) ||
        get_string(L, map, "link_as", false, &f->link_as))
        return -1;
    if (f->link_as) {
        bool known = false;
        for (size_t i = 0; i < N_LINK_ROLES && !known; i++)
            known = strcmp(f->link_as, link_roles[i]) == 0;
        if (!known)
            return lfail(L, line_of(get(L, map, "link_as")),
                         "unknown link_as \"%.40s\" (expected one of: nhs_number, forename, "
                         "surname, dob, sex, postcode, lsoa)",
                         f->link_as);
        for (size_t i = 0; i < index; i++) /* the items before this one, of its own list */
            if (list[i].link_as && strcmp(list[i].link_as, f->link_as) == 0)
                return lfail(L, line_of(get(L, map, "link_as")),
                             "link_as \"%s\" is already given to field \"%s\"", f->link_as,
                             list[i].name);
    }

    yaml_node_t *codes = get(L, map, "codes");
    if (load_standard(L, f, map, codes))
        return -1;
    if (f->standard != NHS_CODE_LIST_NONE)
        codes = NULL;
    else if (f->type == FT_CODE && (!codes || is_null(codes)))
        return lfail(L, f->line, "type code needs \"codes\", mapping each code to its label");
    if (codes && !is_null(codes)) {
        if (f->type != FT_CODE)
            return lfail(L, line_of(codes), "\"codes\" applies only to type code, not %s",
                         type_names[f->type]);
        if (load_codes(L, f, codes))
            return -1;
    }

    if (get_number(L, map, "min", &f->has_min, &f->min) ||
        get_number(L, map, "max", &f->has_max, &f->max))
        return -1;
    if ((f->has_min || f->has_max) && f->type != FT_INTEGER && f->type != FT_DECIMAL)
        return lfail(L, line_of(get(L, map, f->has_min ? "min" : "max")),
                     "min and max apply only to types integer and decimal, not %s",
                     type_names[f->type]);
    if (f->has_min && f->has_max && f->min > f->max)
        return lfail(L, line_of(get(L, map, "min")), "bad range: min %g is greater than max %g",
                     f->min, f->max);

    if (get_string(L, map, "pattern", false, &f->pattern))
        return -1;
    if (f->pattern) {
        if (f->type != FT_STRING)
            return lfail(L, line_of(get(L, map, "pattern")),
                         "\"pattern\" applies only to type string, not %s", type_names[f->type]);
        if (check_pattern(L, get(L, map, "pattern"), f))
            return -1;
    }
    return rc;
}

/* Loads item index of list; a field whose type is not known is marked broken, so that what
 * uses it is not blamed as well. */
static int load_field_of(loader_t *L, audit_field_t *list, size_t index, const yaml_node_t *map,
                         bool linked)
{
    bool typed = false;
    int rc = load_field_in(L, list, index, map, linked, &typed);
    if (!typed)
        mark_broken(L, list[index].name);
    return rc;
}

static int load_field(loader_t *L, size_t index, const yaml_node_t *map)
{
    return load_field_of(L, L->def->fields, index, map, false);
}

static int load_linked(loader_t *L, size_t index, const yaml_node_t *map)
{
    return load_field_of(L, L->def->linked, index, map, true);
}

/* ---------------------------------------------------------------- expressions */

/* The kind of value expressions see for a field of type t (audit_typed_value gives it). */
static expr_kind_t kind_of_type(audit_field_type_t t)
{
    switch (t) {
    case FT_DATE:
    case FT_DATETIME:
        return EXPR_TIME;
    case FT_INTEGER:
    case FT_DECIMAL:
        return EXPR_NUMBER;
    case FT_BOOLEAN:
        return EXPR_BOOL;
    default:
        return EXPR_STRING;
    }
}

typedef enum { NAME_OK, NAME_BROKEN, NAME_UNKNOWN, NAME_IDENTIFIER, NAME_NOT_YET } name_use_t;

/* Whether name may be used: in a rule (rule: identifiers are removed before validation), or in a
 * derived field or metric (only the first n_known derived fields are computed before it). */
static name_use_t name_use(loader_t *L, const char *name, bool rule, size_t n_known,
                           audit_field_type_t *type)
{
    const audit_field_t *f = audit_def_field(L->def, name);
    if (!f)
        f = audit_def_linked(L->def, name);
    if (f && rule && f->identifier)
        return NAME_IDENTIFIER;
    if (f) {
        *type = f->type;
        return is_broken(L, name) ? NAME_BROKEN : NAME_OK;
    }
    for (size_t i = 0; i < L->def->n_derived; i++) {
        const audit_derived_t *d = &L->def->derived[i];
        if (!d->name || strcmp(d->name, name) != 0)
            continue;
        if (!rule && i >= n_known)
            return NAME_NOT_YET;
        *type = d->type;
        return is_broken(L, name) ? NAME_BROKEN : NAME_OK;
    }
    /* a derived field not read yet, further down the list */
    const yaml_node_t *list = L->derived;
    for (size_t i = n_known;
         !rule && list && list->type == YAML_SEQUENCE_NODE &&
         i < (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
         i++) {
        const yaml_node_t *item = node(L, list->data.sequence.items.start[i]);
        const yaml_node_t *n = item->type == YAML_MAPPING_NODE ? get(L, item, "name") : NULL;
        if (n && n->type == YAML_SCALAR_NODE && strcmp(scalar(n), name) == 0)
            return NAME_NOT_YET;
    }
    return is_broken(L, name) ? NAME_BROKEN : NAME_UNKNOWN;
}

/* One expression of the definition being checked: where it is and what it may use. */
typedef struct {
    loader_t *L;
    const yaml_node_t *at;  /* its scalar */
    const char *key;        /* "numerator" */
    bool rule;              /* a rule's: no identifiers */
    size_t n_derived_known; /* otherwise: the derived fields declared before it */
} expr_site_t;

static int site_field(void *ctx, const char *name, expr_kind_t *kind, char *why, size_t whylen)
{
    const expr_site_t *site = ctx;
    audit_field_type_t type = FT_STRING;
    switch (name_use(site->L, name, site->rule, site->n_derived_known, &type)) {
    case NAME_OK:
        *kind = kind_of_type(type);
        return 0;
    case NAME_BROKEN:
        return 1;
    case NAME_IDENTIFIER:
        snprintf(why, whylen,
                 "found \"%.60s\", an identifier, expected a field that is not one: identifiers "
                 "are removed before validation (use a derived field such as age_at_arrival)",
                 name);
        return -1;
    case NAME_NOT_YET:
        snprintf(why, whylen,
                 "found \"%.60s\", a derived field computed after this expression, expected a "
                 "field or a derived field declared before it",
                 name);
        return -1;
    case NAME_UNKNOWN:
        break;
    }
    snprintf(why, whylen, "found \"%.60s\", expected a field, linked field or derived field%s",
             name, site->rule ? "" : " declared before this expression");
    return -1;
}

/* A place in the file, advanced a byte at a time; columns count characters, as libyaml's do. */
typedef struct {
    const char *text;
    size_t pos;
    int line, column;
} cursor_t;

static void cursor_step(cursor_t *c)
{
    if (!c->text[c->pos])
        return;
    bool newline = c->text[c->pos++] == '\n';
    if (newline) {
        c->line++;
        c->column = 1;
    } else if (((unsigned char)c->text[c->pos] & 0xC0) != 0x80)
        c->column++;
}

static bool cursor_blank(const cursor_t *c, bool double_quoted)
{
    const char *r = c->text + c->pos;
    if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
        return true;
    /* an escaped line break, tab or space of a double-quoted scalar */
    return double_quoted && r[0] == '\\' && r[1] && strchr("\n\r \tntr", r[1]);
}

/* The line and column in the file of byte offset of scalar n's value (the value's length: just
 * after its end), for plain, quoted and block scalars, over several lines too: the value's
 * characters are found again, in order, in the file, blanks and line breaks aside. Returns false
 * where that fails (a double-quoted escape other than \" \\ \/ or a blank one). */
static bool find_position(const loader_t *L, const yaml_node_t *n, size_t offset, int *line,
                          int *column)
{
    const char *v = scalar(n);
    size_t len = strlen(v);
    if (offset > 0 && offset == len) {
        if (!find_position(L, n, offset - 1, line, column))
            return false;
        ++*column;
        return true;
    }
    if (!L->text || offset >= len)
        return false;
    cursor_t c = {L->text, 0, 1, 1};
    if (L->line_start && (size_t)line_of(n) <= L->n_lines) /* else step from the first line */
        c = (cursor_t){L->text, L->line_start[line_of(n) - 1], line_of(n), 1};
    while (c.text[c.pos] && c.line < line_of(n))
        cursor_step(&c);
    while (c.text[c.pos] && c.text[c.pos] != '\n' && c.column < column_of(n))
        cursor_step(&c);
    yaml_scalar_style_t style = n->data.scalar.style;
    bool sq = style == YAML_SINGLE_QUOTED_SCALAR_STYLE,
         dq = style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (sq || dq)
        cursor_step(&c); /* the opening quote */
    else if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) {
        while (c.text[c.pos] && c.text[c.pos] != '\n') /* the > or | line */
            cursor_step(&c);
    }
    for (size_t i = 0; i <= offset; i++) {
        char ch = v[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        while (cursor_blank(&c, dq))
            cursor_step(&c);
        const char *r = c.text + c.pos;
        bool escaped = dq && r[0] == '\\' && r[1] == ch && strchr("\"\\/", ch);
        if (!escaped && r[0] != ch)
            return false;
        if (i == offset) {
            *line = c.line;
            *column = c.column;
            return true;
        }
        cursor_step(&c);
        if (escaped || (sq && ch == '\''))
            cursor_step(&c); /* \" in double quotes, '' in single quotes */
    }
    return false; /* offset is at a blank */
}

/* As find_position; where it fails, the scalar's own start (its quote, or its > or |). */
static void value_position(const loader_t *L, const yaml_node_t *n, size_t offset, int *line,
                           int *column)
{
    if (!find_position(L, n, offset, line, column)) {
        *line = line_of(n);
        *column = column_of(n);
    }
}

static void site_problem(void *ctx, const expr_problem_t *problem)
{
    const expr_site_t *site = ctx;
    int line = line_of(site->at), column = 0;
    if (problem->column > 0 && site->L->n_problems < AUDIT_MAX_PROBLEMS) /* else only counted */
        value_position(site->L, site->at, (size_t)problem->column - 1, &line, &column);
    /* "numerator: found ...", but "numerator gives a number, ..." as it is */
    size_t klen = strlen(site->key);
    bool named = strncmp(problem->message, site->key, klen) == 0 && problem->message[klen] == ' ';
    lfail_at(site->L, line, column, "%s%s%s", named ? "" : site->key, named ? "" : ": ",
             problem->message);
}

/* Parses map[key] into *expr (its source copied to *src) and checks its names and types; the
 * whole must give want (EXPR_NULL: any kind). Every problem in it is reported. */
static int load_expr(loader_t *L, const yaml_node_t *map, const char *key, expr_site_t site,
                     expr_kind_t want, char **src, expr_t **expr)
{
    if (get_string(L, map, key, true, src))
        return -1;
    site.L = L;
    site.at = get(L, map, key);
    site.key = key;
    expr_problem_t problem;
    *expr = expr_parse_problem(*src, &problem);
    if (!*expr) {
        site_problem(&site, &problem);
        return -1;
    }
    expr_check_t env = {
        .field = site_field, .problem = site_problem, .ctx = &site, .want = want, .what = key};
    return expr_check(*expr, &env, NULL) ? -1 : 0;
}

/* A derived field; *typed is set once its type is known (else what uses it is not blamed). */
static int load_derived_item(loader_t *L, size_t index, const yaml_node_t *map, bool *typed)
{
    static const char *keys[] = {"name", "type", "expr"};
    audit_def_t *def = L->def;
    audit_derived_t *d = &def->derived[index];
    snprintf(L->ctx, sizeof L->ctx, "derived field %zu: ", index + 1);
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "each derived field must be a mapping with name, type, expr");
    d->line = line_of(map);
    if (get_string(L, map, "name", true, &d->name))
        return -1;
    snprintf(L->ctx, sizeof L->ctx, "derived field \"%.60s\": ", d->name);
    if (check_name(L, map, "name", d->name))
        return -1;
    int rc = check_keys(L, map, "a derived field", keys, sizeof keys / sizeof keys[0]);
    const audit_field_t *clash = audit_def_field(def, d->name);
    if (!clash)
        clash = audit_def_linked(def, d->name);
    if (clash)
        return lfail(L, line_of(get(L, map, "name")),
                     "duplicate field name (declared as a field on line %d)", clash->line);
    for (size_t i = 0; i < index; i++)
        if (def->derived[i].name && strcmp(def->derived[i].name, d->name) == 0)
            return lfail(L, line_of(get(L, map, "name")),
                         "duplicate field name (first declared on line %d)", def->derived[i].line);
    char *type = NULL;
    if (get_string(L, map, "type", true, &type))
        rc = -1;
    else if (type_from_name(type, &d->type) == 0)
        *typed = true;
    else
        rc = lfail(L, line_of(get(L, map, "type")), "unknown type \"%.40s\"", type);
    free(type);
    /* its value is stored as text and read back as its type: the expression must give that */
    expr_site_t site = {.n_derived_known = index};
    return load_expr(L, map, "expr", site, *typed ? kind_of_type(d->type) : EXPR_NULL, &d->expr_src,
                     &d->expr) |
           rc;
}

static int load_derived(loader_t *L, size_t index, const yaml_node_t *map)
{
    bool typed = false;
    int rc = load_derived_item(L, index, map, &typed);
    if (!typed)
        mark_broken(L, L->def->derived[index].name);
    return rc;
}

/* funnel: {overdispersion: none | multiplicative | additive} */
static int load_funnel(loader_t *L, audit_metric_t *m, const yaml_node_t *map)
{
    static const char *keys[] = {"overdispersion"};
    static const char *methods[] = {[AUDIT_OVERDISPERSION_NONE] = "none",
                                    [AUDIT_OVERDISPERSION_MULTIPLICATIVE] = "multiplicative",
                                    [AUDIT_OVERDISPERSION_ADDITIVE] = "additive"};
    m->overdispersion = AUDIT_OVERDISPERSION_NONE;
    const yaml_node_t *f = get(L, map, "funnel");
    if (!f || is_null(f))
        return 0;
    if (f->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(f),
                     "\"funnel\" must be a mapping, e.g. {overdispersion: multiplicative}");
    if (check_keys(L, f, "\"funnel\"", keys, sizeof keys / sizeof keys[0]))
        return -1;
    char *method = NULL;
    if (get_string(L, f, "overdispersion", false, &method))
        return -1;
    if (!method)
        return 0;
    size_t i = 0;
    while (i < sizeof methods / sizeof methods[0] && strcmp(method, methods[i]) != 0)
        i++;
    int rc = 0;
    if (i < sizeof methods / sizeof methods[0])
        m->overdispersion = (audit_overdispersion_t)i;
    else
        rc = lfail(L, line_of(get(L, f, "overdispersion")),
                   "unknown overdispersion \"%.40s\" (expected none, multiplicative or additive)",
                   method);
    free(method);
    return rc;
}

/* ---------------------------------------------------------------- risk models */

/* An expression that must give a number or a boolean (counted 1/0): a risk model's term, a
 * ratio's observed. */
static int load_numeric_expr(loader_t *L, const yaml_node_t *map, const char *key, char **src,
                             expr_t **expr)
{
    if (get_string(L, map, key, true, src))
        return -1;
    expr_site_t site = {
        .L = L, .at = get(L, map, key), .key = key, .n_derived_known = L->def->n_derived};
    expr_problem_t problem;
    *expr = expr_parse_problem(*src, &problem);
    if (!*expr) {
        site_problem(&site, &problem);
        return -1;
    }
    expr_check_t env = {.field = site_field, .problem = site_problem, .ctx = &site, .what = key};
    expr_kind_t type = EXPR_NULL;
    if (expr_check(*expr, &env, &type))
        return -1;
    if (type == EXPR_STRING || type == EXPR_TIME)
        return lfail(L, line_of(site.at), "%s gives %s, expected a number or a boolean (1/0)", key,
                     type == EXPR_STRING ? "a string" : "a date/time");
    return 0;
}

/* A required finite number map[key]. */
static int required_number(loader_t *L, const yaml_node_t *map, const char *key, double *out)
{
    bool has = false;
    if (get_number(L, map, key, &has, out))
        return -1;
    return has ? 0 : lfail(L, line_of(map), "missing key \"%s\"", key);
}

/* terms: [{expr, coefficient, default?}, ...] */
static int load_risk_terms(loader_t *L, audit_risk_model_t *rm, const yaml_node_t *map)
{
    static const char *keys[] = {"expr", "coefficient", "default"};
    const yaml_node_t *list = get(L, map, "terms");
    if (!list || is_null(list))
        return lfail(L, line_of(map), "missing key \"terms\" (a list of {expr, coefficient})");
    if (list->type != YAML_SEQUENCE_NODE)
        return lfail(L, line_of(list), "\"terms\" must be a list (items starting with -)");
    size_t count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    int rc = 0;
    if (count > AUDIT_MAX_RISK_TERMS) {
        const yaml_node_t *past = node(L, list->data.sequence.items.start[AUDIT_MAX_RISK_TERMS]);
        rc = lfail_at(L, line_of(past), column_of(past),
                      "found term %d, expected at most %d terms in a risk model",
                      AUDIT_MAX_RISK_TERMS + 1, AUDIT_MAX_RISK_TERMS);
        count = AUDIT_MAX_RISK_TERMS;
    }
    if (count == 0)
        return lfail(L, line_of(list), "\"terms\" is empty, expected at least one term");
    if (!(rm->terms = calloc(count, sizeof *rm->terms)))
        return lfail(L, line_of(list), "out of memory");
    rm->n_terms = count;
    size_t ctx_len = strlen(L->ctx);
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = node(L, list->data.sequence.items.start[i]);
        audit_risk_term_t *t = &rm->terms[i];
        t->line = line_of(item);
        snprintf(L->ctx + ctx_len, sizeof L->ctx - ctx_len, "term %zu: ", i + 1);
        if (item->type != YAML_MAPPING_NODE) {
            rc = lfail(L, line_of(item), "each term must be a mapping with expr and coefficient");
            continue;
        }
        if (check_keys(L, item, "a term", keys, sizeof keys / sizeof keys[0]) |
            load_numeric_expr(L, item, "expr", &t->src, &t->expr) |
            required_number(L, item, "coefficient", &t->coefficient) |
            get_number(L, item, "default", &t->has_default, &t->default_value))
            rc = -1;
    }
    L->ctx[ctx_len] = '\0';
    return rc;
}

static int load_risk_model(loader_t *L, size_t index, const yaml_node_t *map)
{
    static const char *keys[] = {"id", "label", "kind", "intercept", "source", "terms"};
    audit_def_t *def = L->def;
    audit_risk_model_t *rm = &def->risk_models[index];
    snprintf(L->ctx, sizeof L->ctx, "risk model %zu: ", index + 1);
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map),
                     "each risk model must be a mapping with id, kind, terms, ...");
    rm->line = line_of(map);
    if (get_string(L, map, "id", true, &rm->id))
        return -1;
    snprintf(L->ctx, sizeof L->ctx, "risk model \"%.60s\": ", rm->id);
    if (check_name(L, map, "id", rm->id))
        return -1;
    int rc = check_keys(L, map, "a risk model", keys, sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < index; i++)
        if (def->risk_models[i].id && strcmp(def->risk_models[i].id, rm->id) == 0)
            rc = lfail(L, line_of(get(L, map, "id")),
                       "duplicate risk model id (first declared on line %d)",
                       def->risk_models[i].line);
    char *kind = NULL;
    if (get_string(L, map, "label", true, &rm->label) |
        get_string(L, map, "source", false, &rm->source) | get_string(L, map, "kind", true, &kind) |
        required_number(L, map, "intercept", &rm->intercept))
        rc = -1;
    if (kind && strcmp(kind, "logistic") == 0)
        rm->kind = AUDIT_RISK_LOGISTIC;
    else if (kind && strcmp(kind, "poisson") == 0)
        rm->kind = AUDIT_RISK_POISSON;
    else if (kind)
        rc = lfail(L, line_of(get(L, map, "kind")),
                   "unknown kind \"%.40s\" (expected logistic or poisson)", kind);
    free(kind);
    return load_risk_terms(L, rm, map) | rc;
}

/* ---------------------------------------------------------------- metrics */

static const char *metric_kinds[] = {[AUDIT_METRIC_PROPORTION] = "proportion",
                                     [AUDIT_METRIC_RATIO] = "ratio",
                                     [AUDIT_METRIC_MEDIAN] = "median",
                                     [AUDIT_METRIC_MEAN] = "mean"};

/* expected: risk(ID), ID a model of risk_models */
static int load_expected(loader_t *L, audit_metric_t *m, const yaml_node_t *map)
{
    if (get_string(L, map, "expected", true, &m->expected_model_id))
        return -1;
    const yaml_node_t *v = get(L, map, "expected");
    const char *s = m->expected_model_id;
    while (*s == ' ')
        s++;
    size_t at = strncmp(s, "risk", 4) == 0 ? 4 : 0;
    while (at && s[at] == ' ')
        at++;
    const char *open = at && s[at] == '(' ? s + at + 1 : NULL;
    const char *close = open ? strchr(open, ')') : NULL;
    const char *rest = close ? close + 1 : NULL;
    while (rest && *rest == ' ')
        rest++;
    if (!open || !close || *rest != '\0')
        return lfail(L, line_of(v), "\"expected\" is \"%.60s\", expected risk(MODEL_ID)",
                     m->expected_model_id);
    while (*open == ' ')
        open++;
    while (close > open && close[-1] == ' ')
        close--;
    char id[128];
    snprintf(id, sizeof id, "%.*s", (int)(close - open < 127 ? close - open : 127), open);
    m->expected_model = audit_def_risk_model(L->def, id);
    if (m->expected_model) {
        free(m->expected_model_id);
        if (!(m->expected_model_id = strdup(id)))
            return lfail(L, line_of(v), "out of memory");
        return 0;
    }
    char list[200] = "";
    for (size_t i = 0, used = 0; i < L->def->n_risk_models && used < sizeof list; i++) {
        const char *rid = L->def->risk_models[i].id ? L->def->risk_models[i].id : "?";
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", rid);
        used += w > 0 ? (size_t)w : 0;
    }
    if (is_broken(L, id))
        return -1;
    return lfail(L, line_of(v),
                 "\"expected\" names the risk model \"%.60s\", expected one of "
                 "risk_models: %s",
                 id, list[0] ? list : "(none declared)");
}

/* The keys of other kinds are refused: "numerator" on a ratio would be silently ignored. */
static int refuse_keys(loader_t *L, const yaml_node_t *map, const char *kind,
                       const char *const *keys, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *v = get(L, map, keys[i]);
        if (v)
            rc = lfail(L, line_of(v), "\"%s\" is not a key of a metric of kind %s", keys[i], kind);
    }
    return rc;
}

/* follow_up_days and target */
static int load_follow_up(loader_t *L, audit_metric_t *m, const yaml_node_t *map)
{
    int rc = 0;
    const yaml_node_t *v = get(L, map, "follow_up_days");
    if (v && !is_null(v)) {
        long days = 0;
        if (whole_number(L, v, "follow_up_days", 1, AUDIT_MAX_FOLLOW_UP_DAYS, &days))
            rc = -1;
        m->follow_up_days = (int)days;
        const audit_field_t *f = audit_def_linked(L->def, AUDIT_FOLLOW_UP_FIELD);
        if (!f && !is_broken(L, AUDIT_FOLLOW_UP_FIELD))
            rc = lfail(L, line_of(v),
                       "\"follow_up_days\" needs the linked field \"%s\" (type date: the last day "
                       "the register of deaths covers), which the definition does not declare",
                       AUDIT_FOLLOW_UP_FIELD);
        else if (f && f->type != FT_DATE)
            rc = lfail(L, line_of(v),
                       "\"follow_up_days\" needs the linked field \"%s\" to be a date, it is %s",
                       AUDIT_FOLLOW_UP_FIELD, type_names[f->type]);
    }
    if (get_number(L, map, "target", &m->has_target, &m->target))
        rc = -1;
    return rc;
}

static int load_metric(loader_t *L, size_t index, const yaml_node_t *map)
{
    static const char *keys[] = {
        "id",          "label",     "unit",     "period",   "kind",  "higher_is_better", "funnel",
        "denominator", "numerator", "observed", "expected", "value", "follow_up_days",   "target"};
    static const char *proportion_only[] = {"numerator"};
    static const char *ratio_only[] = {"observed", "expected"};
    static const char *value_only[] = {"value"};
    audit_def_t *def = L->def;
    audit_metric_t *m = &def->metrics[index];
    snprintf(L->ctx, sizeof L->ctx, "metric %zu: ", index + 1);
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "each metric must be a mapping with id, label, ...");
    m->line = line_of(map);
    if (get_string(L, map, "id", true, &m->id))
        return -1;
    snprintf(L->ctx, sizeof L->ctx, "metric \"%.60s\": ", m->id);
    if (check_name(L, map, "id", m->id))
        return -1;
    int rc = check_keys(L, map, "a metric", keys, sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < index; i++)
        if (def->metrics[i].id && strcmp(def->metrics[i].id, m->id) == 0)
            rc = lfail(L, line_of(get(L, map, "id")),
                       "duplicate metric id (first declared on line %d)", def->metrics[i].line);
    bool higher = false;
    char *kind = NULL;
    if (get_string(L, map, "label", true, &m->label) | get_string(L, map, "unit", false, &m->unit) |
        get_string(L, map, "period", false, &m->period) | get_string(L, map, "kind", false, &kind) |
        get_bool(L, map, "higher_is_better", false, false, &higher) | load_funnel(L, m, map) |
        load_follow_up(L, m, map))
        rc = -1;
    m->kind = AUDIT_METRIC_PROPORTION;
    if (kind) {
        size_t k = 0;
        while (k < sizeof metric_kinds / sizeof metric_kinds[0] && strcmp(kind, metric_kinds[k]))
            k++;
        if (k < sizeof metric_kinds / sizeof metric_kinds[0])
            m->kind = (audit_metric_kind_t)k;
        else
            rc = lfail(L, line_of(get(L, map, "kind")),
                       "unknown kind \"%.40s\" (expected proportion, ratio, median or mean)", kind);
        free(kind);
    }
    /* absent (or null): no polarity */
    const yaml_node_t *hib = get(L, map, "higher_is_better");
    m->polarity = !hib || is_null(hib) ? AUDIT_POLARITY_NONE
                  : higher             ? AUDIT_POLARITY_HIGHER_BETTER
                                       : AUDIT_POLARITY_LOWER_BETTER;
    if (!m->unit && !(m->unit = strdup("trust")))
        return lfail(L, m->line, "out of memory");
    if (!m->period && !(m->period = strdup("quarter")))
        return lfail(L, m->line, "out of memory");
    if (strcmp(m->unit, "trust") != 0 && strcmp(m->unit, "site") != 0)
        rc = lfail(L, line_of(get(L, map, "unit")),
                   "unknown unit \"%.40s\" (expected trust or site)", m->unit);
    if (strcmp(m->period, "quarter") != 0)
        rc = lfail(L, line_of(get(L, map, "period")), "unknown period \"%.40s\" (expected quarter)",
                   m->period);
    /* a record counts where an expression is true; null counts as false */
    expr_site_t site = {.n_derived_known = def->n_derived};
    rc |= load_expr(L, map, "denominator", site, EXPR_BOOL, &m->denominator_src, &m->denominator);
    const char *kname = metric_kinds[m->kind];
    switch (m->kind) {
    case AUDIT_METRIC_PROPORTION:
        rc |= refuse_keys(L, map, kname, ratio_only, 2) | refuse_keys(L, map, kname, value_only, 1);
        rc |= load_expr(L, map, "numerator", site, EXPR_BOOL, &m->numerator_src, &m->numerator);
        break;
    case AUDIT_METRIC_RATIO:
        rc |= refuse_keys(L, map, kname, proportion_only, 1) |
              refuse_keys(L, map, kname, value_only, 1);
        rc |= load_numeric_expr(L, map, "observed", &m->observed_src, &m->observed) |
              load_expected(L, m, map);
        break;
    case AUDIT_METRIC_MEDIAN:
    case AUDIT_METRIC_MEAN:
        rc |= refuse_keys(L, map, kname, proportion_only, 1) |
              refuse_keys(L, map, kname, ratio_only, 2);
        rc |= load_expr(L, map, "value", site, EXPR_NUMBER, &m->value_src, &m->value);
        break;
    }
    return rc;
}

/* ---------------------------------------------------------------- rules */

/* A name a rule may use: a non-identifier field, or any linked or derived field. */
static int rule_name_ok(loader_t *L, int line, const char *what, const char *name)
{
    audit_field_type_t type;
    switch (name_use(L, name, true, 0, &type)) {
    case NAME_IDENTIFIER:
        return lfail(L, line,
                     "%s names \"%.60s\", an identifier: identifiers are removed before "
                     "validation (use a derived field such as age_at_arrival)",
                     what, name);
    case NAME_UNKNOWN:
        return lfail(L, line,
                     "%s names \"%.60s\", which is not a field, linked field or derived field",
                     what, name);
    default:
        return 0;
    }
}

/* Each {name} in the template must be a field a rule may use; braces must pair. */
static int check_template(loader_t *L, int line, const char *t)
{
    for (const char *p = t; *p; p++) {
        if (*p == '}')
            return lfail(L, line, "message has a \'}\' without its \'{\'");
        if (*p != '{')
            continue;
        const char *end = strchr(p + 1, '}');
        if (!end)
            return lfail(L, line, "message has a \'{\' without its \'}\'");
        char name[64];
        size_t n = (size_t)(end - p - 1);
        if (n == 0 || n >= sizeof name)
            return lfail(L, line, "message has \"{}\" or a name too long between braces");
        memcpy(name, p + 1, n);
        name[n] = '\0';
        if (rule_name_ok(L, line, "message", name))
            return -1;
        p = end;
    }
    return 0;
}

static bool is_time_type(audit_field_type_t t)
{
    return t == FT_DATE || t == FT_DATETIME;
}

/* history: {same: [f, ...], date: f, within_days: N} */
static int load_history(loader_t *L, audit_rule_t *r, const yaml_node_t *map)
{
    static const char *keys[] = {"same", "date", "within_days"};
    const yaml_node_t *h = get(L, map, "history");
    if (h->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(h),
                     "\"history\" must be a mapping, e.g. {same: [fracture_side], date: "
                     "arrival_datetime, within_days: 30}");
    if (check_keys(L, h, "\"history\"", keys, sizeof keys / sizeof keys[0]))
        return -1;
    audit_history_t *hist = calloc(1, sizeof *hist);
    if (!hist)
        return lfail(L, line_of(h), "out of memory");
    r->history = hist;
    if (get_string(L, h, "date", true, &hist->date) ||
        rule_name_ok(L, line_of(get(L, h, "date")), "history date", hist->date))
        return -1;
    const audit_field_t *df = audit_def_field(L->def, hist->date);
    if (!df)
        df = audit_def_linked(L->def, hist->date);
    const audit_derived_t *dd = df ? NULL : find_derived(L->def, hist->date);
    if ((df || dd) && !is_broken(L, hist->date) && !is_time_type(df ? df->type : dd->type))
        return lfail(L, line_of(get(L, h, "date")),
                     "history date \"%s\" must be a date or datetime field", hist->date);
    bool has_days = false;
    if (get_number(L, h, "within_days", &has_days, &hist->within_days))
        return -1;
    if (!has_days || hist->within_days < 0)
        return lfail(L, line_of(has_days ? get(L, h, "within_days") : h),
                     "history needs \"within_days\", a number of days of 0 or more");
    const yaml_node_t *same = get(L, h, "same");
    if (!same || is_null(same))
        return 0;
    if (same->type != YAML_SEQUENCE_NODE)
        return lfail(L, line_of(same), "\"same\" must be a list of fields, e.g. [fracture_side]");
    size_t n = (size_t)(same->data.sequence.items.top - same->data.sequence.items.start);
    if (n > AUDIT_MAX_FIELDS)
        return lfail(L, line_of(same), "\"same\" lists %zu fields, expected at most %d", n,
                     AUDIT_MAX_FIELDS);
    hist->same = calloc(n ? n : 1, sizeof *hist->same);
    if (!hist->same)
        return lfail(L, line_of(same), "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = node(L, same->data.sequence.items.start[i]);
        if (item->type != YAML_SCALAR_NODE || is_null(item))
            return lfail(L, line_of(item), "\"same\" must list field names");
        if (rule_name_ok(L, line_of(item), "history same", scalar(item)))
            return -1;
        if (!(hist->same[i] = strdup(scalar(item))))
            return lfail(L, line_of(item), "out of memory");
        hist->n_same = i + 1;
    }
    return 0;
}

static int load_rule(loader_t *L, size_t index, const yaml_node_t *map)
{
    static const char *keys[] = {"id",    "severity", "message", "field",
                                 "check", "when",     "require", "history"};
    audit_def_t *def = L->def;
    audit_rule_t *r = &def->rules[index];
    snprintf(L->ctx, sizeof L->ctx, "rule %zu: ", index + 1);
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "each rule must be a mapping with id, severity, ...");
    r->line = line_of(map);
    if (get_string(L, map, "id", true, &r->id))
        return -1;
    snprintf(L->ctx, sizeof L->ctx, "rule \"%.60s\": ", r->id);
    if (check_name(L, map, "id", r->id))
        return -1;
    int rc = check_keys(L, map, "a rule", keys, sizeof keys / sizeof keys[0]);
    if (strlen(r->id) > 31)
        rc = lfail(L, line_of(get(L, map, "id")), "id is longer than 31 characters");
    for (size_t i = 0; i < index; i++)
        if (def->rules[i].id && strcmp(def->rules[i].id, r->id) == 0)
            rc = lfail(L, line_of(get(L, map, "id")),
                       "duplicate rule id (first declared on line %d)", def->rules[i].line);
    char *severity = NULL;
    bool known = false;
    if (get_string(L, map, "severity", true, &severity) == 0) {
        known = strcmp(severity, "error") == 0 || strcmp(severity, "warning") == 0;
        r->severity = strcmp(severity, "error") == 0 ? RULE_ERROR : RULE_WARNING;
        if (!known)
            lfail(L, line_of(get(L, map, "severity")),
                  "unknown severity \"%.40s\" (expected error or warning)", severity);
        free(severity);
    }
    if (!known)
        rc = -1;
    if (get_string(L, map, "message", true, &r->message) ||
        check_template(L, line_of(get(L, map, "message")), r->message))
        rc = -1;
    if (get_string(L, map, "field", true, &r->field) ||
        rule_name_ok(L, line_of(get(L, map, "field")), "field", r->field))
        rc = -1;
    bool has_check = get(L, map, "check") != NULL, has_when = get(L, map, "when") != NULL,
         has_require = get(L, map, "require") != NULL;
    if (get(L, map, "history")) {
        if (has_check || has_when || has_require)
            return lfail(L, r->line,
                         "give either \"history\" or \"check\" (or \"when\" with "
                         "\"require\"), not both");
        if (known && r->severity != RULE_WARNING)
            rc = lfail(L, line_of(get(L, map, "severity")),
                       "a history rule must have severity warning: a record is never "
                       "rejected for what another record says");
        return load_history(L, r, map) | rc;
    }
    if (has_check && (has_when || has_require))
        return lfail(L, r->line, "give either \"check\" or \"when\" with \"require\", not both");
    /* broken where an expression is false; true and null are fine */
    expr_site_t site = {.rule = true};
    if (has_check)
        return load_expr(L, map, "check", site, EXPR_BOOL, &r->check_src, &r->check) | rc;
    if (!has_when || !has_require)
        return lfail(L, r->line,
                     "missing key \"%s\" (a rule has \"check\", or \"when\" with \"require\")",
                     has_when      ? "require"
                     : has_require ? "when"
                                   : "check");
    return load_expr(L, map, "when", site, EXPR_BOOL, &r->when_src, &r->when) |
           load_expr(L, map, "require", site, EXPR_BOOL, &r->require_src, &r->require) | rc;
}

/* What a list of the definition holds: its key, what one item is called, at most how many. */
typedef struct {
    const char *key;  /* "fields" */
    const char *item; /* "field" */
    size_t max;
    bool required;
} list_spec_t;

/* Runs load(L, i, item) for each item of the list map[spec.key]; *n is set to the list's length
 * before loading so that destroy frees partly loaded items. Past spec.max items, the first
 * spec.max are loaded and the next is refused where it starts. */
static int load_list(loader_t *L, const yaml_node_t *root, list_spec_t spec, void **items,
                     size_t item_size, size_t *n,
                     int (*load)(loader_t *, size_t, const yaml_node_t *))
{
    const char *key = spec.key;
    bool required = spec.required;
    yaml_node_t *list = get(L, root, key);
    if (!list || is_null(list)) {
        if (required)
            return lfail(L, list ? line_of(list) : line_of(root), "missing key \"%s\"", key);
        return 0;
    }
    if (list->type != YAML_SEQUENCE_NODE)
        return lfail(L, line_of(list), "\"%s\" must be a list (items starting with -)", key);
    size_t count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (count == 0)
        return 0;
    int rc = 0;
    if (count > spec.max) {
        const yaml_node_t *past = node(L, list->data.sequence.items.start[spec.max]);
        rc = lfail_at(L, line_of(past), column_of(past),
                      "found %s %zu, expected at most %zu %ss in an audit", spec.item, spec.max + 1,
                      spec.max, spec.item);
        count = spec.max;
    }
    *items = calloc(count, item_size);
    if (!*items)
        return lfail(L, line_of(list), "out of memory");
    *n = count;
    for (size_t i = 0; i < count; i++)
        rc |= load(L, i, node(L, list->data.sequence.items.start[i]));
    L->ctx[0] = '\0';
    return rc;
}

/* A top-level key naming a declared field (not a derived one). */
static int check_field_ref(loader_t *L, const yaml_node_t *root, const char *key, const char *name)
{
    if (!name || is_broken(L, name))
        return name ? 0 : -1; /* both reported already */
    const audit_field_t *f = audit_def_field(L->def, name);
    if (!f)
        return lfail(L, line_of(get(L, root, key)), "\"%s\" names \"%.60s\", which is not a field",
                     key, name);
    if (strcmp(key, "period_field") == 0 && f->type != FT_DATE && f->type != FT_DATETIME)
        return lfail(L, line_of(get(L, root, key)),
                     "\"period_field\" must be a date or datetime field, \"%s\" is %s", name,
                     type_names[f->type]);
    return 0;
}

/* ---------------------------------------------------------------- breakdowns, disclosure */

static void describe_range(const audit_field_t *f, char *out, size_t outlen);

/* "an integer field from 1 to 5", "a code field with standard stated_gender", "a derived code
 * field": what name is, for a message saying it is not what a key needs. */
static void describe_field(loader_t *L, const char *name, char *out, size_t outlen)
{
    const audit_field_t *f = audit_def_field(L->def, name);
    if (!f)
        f = audit_def_linked(L->def, name);
    const audit_derived_t *d = f ? NULL : find_derived(L->def, name);
    const char *type = type_names[f ? f->type : d ? d->type : FT_STRING];
    const char *derived = d ? "derived " : "";
    bool vowel = strchr("aeiou", (d ? derived : type)[0]) != NULL;
    char more[80] = "";
    if (f && f->type == FT_CODE)
        snprintf(more, sizeof more,
                 f->standard != NHS_CODE_LIST_NONE ? " with standard %s" : " with its own codes",
                 nhs_code_list_name(f->standard));
    else if (f)
        describe_range(f, more, sizeof more);
    snprintf(out, outlen, "a%s %s%s field%s", vowel ? "n" : "", derived, type, more);
}

/* breakdowns[key] names a field (not an identifier) that ok() accepts, else a problem saying
 * what it is and what is expected. */
static int check_breakdown(loader_t *L, const yaml_node_t *map, const char *key, const char *name,
                           bool (*ok)(const audit_field_t *f, audit_field_type_t type),
                           const char *expected)
{
    int line = line_of(get(L, map, key));
    audit_field_type_t type = FT_STRING;
    switch (name_use(L, name, true, 0, &type)) {
    case NAME_BROKEN:
        return -1; /* said already */
    case NAME_IDENTIFIER:
        return lfail(L, line,
                     "\"%s\" names \"%.60s\", an identifier, expected %s: identifiers are "
                     "removed before validation",
                     key, name, expected);
    case NAME_OK: {
        const audit_field_t *f = audit_def_field(L->def, name);
        if (ok(f ? f : audit_def_linked(L->def, name), type))
            return 0;
        char what[160];
        describe_field(L, name, what, sizeof what);
        return lfail(L, line, "\"%s\" names \"%.60s\", %s, expected %s", key, name, what, expected);
    }
    default:
        return lfail(L, line,
                     "\"%s\" names \"%.60s\", which is not a field, linked field or derived "
                     "field",
                     key, name);
    }
}

/* A decile: an integer from 1 to 10 (a derived integer has no range: a value outside it falls in
 * "unknown"). */
static bool is_decile(const audit_field_t *f, audit_field_type_t type)
{
    return type == FT_INTEGER && (!f || (f->has_min && f->min == 1 && f->has_max && f->max == 10));
}

static bool is_ethnic_category(const audit_field_t *f, audit_field_type_t type)
{
    return type == FT_CODE && f && f->standard == NHS_CODE_LIST_ETHNIC_CATEGORY;
}

static bool is_stated_gender(const audit_field_t *f, audit_field_type_t type)
{
    return type == FT_CODE && f && f->standard == NHS_CODE_LIST_STATED_GENDER;
}

static bool is_number(const audit_field_t *f, audit_field_type_t type)
{
    (void)f;
    return type == FT_INTEGER || type == FT_DECIMAL;
}

/* age_bands: [60, 70, 80, 90], ascending whole numbers */
static int load_age_bands(loader_t *L, audit_breakdowns_t *b, const yaml_node_t *list)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return lfail(L, line_of(list),
                     "\"age_bands\" must be a list of the ages each band after the first starts "
                     "at, e.g. [60, 70, 80, 90]");
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0)
        return lfail(L, line_of(list),
                     "\"age_bands\" is empty, expected the ages each band "
                     "after the first starts at, e.g. [60, 70, 80, 90]");
    if (n > AUDIT_MAX_AGE_BANDS) {
        const yaml_node_t *past = node(L, list->data.sequence.items.start[AUDIT_MAX_AGE_BANDS]);
        return lfail_at(L, line_of(past), column_of(past),
                        "found age band start %d, expected at most %d in \"age_bands\"",
                        AUDIT_MAX_AGE_BANDS + 1, AUDIT_MAX_AGE_BANDS);
    }
    if (!(b->age_bands = calloc(n, sizeof *b->age_bands)))
        return lfail(L, line_of(list), "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = node(L, list->data.sequence.items.start[i]);
        long age;
        if (whole_number(L, item, "age_bands", 1, AUDIT_MAX_AGE, &age))
            return -1;
        if (i > 0 && age <= b->age_bands[i - 1])
            return lfail(L, line_of(item),
                         "\"age_bands\" has %ld after %d, expected each age greater than the one "
                         "before",
                         age, b->age_bands[i - 1]);
        b->age_bands[i] = (int)age;
        b->n_age_bands = i + 1;
    }
    return 0;
}

/* breakdowns: {deprivation: F, ethnicity: F, sex: F, age: F, age_bands: [...]}, each optional */
static int load_breakdowns(loader_t *L, const yaml_node_t *root)
{
    static const char *keys[] = {"deprivation", "ethnicity", "sex", "age", "age_bands"};
    audit_breakdowns_t *b = &L->def->breakdowns;
    const yaml_node_t *map = get(L, root, "breakdowns");
    if (!map || is_null(map))
        return 0;
    b->line = line_of(map);
    snprintf(L->ctx, sizeof L->ctx, "breakdowns: ");
    int rc = 0;
    if (map->type != YAML_MAPPING_NODE)
        rc = lfail(L, line_of(map),
                   "\"breakdowns\" must be a mapping, e.g. {deprivation: imd_decile, ethnicity: "
                   "ethnic_category, sex: sex, age: age_at_arrival, age_bands: [60, 70, 80, 90]}");
    else if (check_keys(L, map, "\"breakdowns\"", keys, sizeof keys / sizeof keys[0]) |
             get_string(L, map, "deprivation", false, &b->deprivation) |
             get_string(L, map, "ethnicity", false, &b->ethnicity) |
             get_string(L, map, "sex", false, &b->sex) | get_string(L, map, "age", false, &b->age))
        rc = -1;
    else {
        const yaml_node_t *bands = get(L, map, "age_bands");
        bool has_bands = bands && !is_null(bands);
        /* every check runs, so that one load reports every mistake */
        rc = 0;
        if (b->deprivation &&
            check_breakdown(L, map, "deprivation", b->deprivation, is_decile,
                            "an integer field from 1 to 10 (a decile, 1 most deprived), such as "
                            "the linked imd_decile") != 0)
            rc = -1;
        if (b->ethnicity && check_breakdown(L, map, "ethnicity", b->ethnicity, is_ethnic_category,
                                            "a code field with standard ethnic_category") != 0)
            rc = -1;
        if (b->sex && check_breakdown(L, map, "sex", b->sex, is_stated_gender,
                                      "a code field with standard stated_gender") != 0)
            rc = -1;
        if (b->age && check_breakdown(L, map, "age", b->age, is_number,
                                      "an integer or decimal field, such as age_at_arrival") != 0)
            rc = -1;
        if (has_bands && load_age_bands(L, b, bands) != 0)
            rc = -1;
        if (b->age && !has_bands)
            rc = lfail(L, line_of(get(L, map, "age")),
                       "\"age\" needs \"age_bands\", the ages each band after the first starts "
                       "at, e.g. [60, 70, 80, 90]");
        else if (!b->age && has_bands)
            rc = lfail(L, line_of(bands), "\"age_bands\" needs \"age\", the field they band");
    }
    L->ctx[0] = '\0';
    return rc ? -1 : 0;
}

/* disclosure: {min_count: N} */
static int load_disclosure(loader_t *L, const yaml_node_t *root)
{
    static const char *keys[] = {"min_count"};
    const yaml_node_t *map = get(L, root, "disclosure");
    if (!map || is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "\"disclosure\" must be a mapping, e.g. {min_count: 8}");
    snprintf(L->ctx, sizeof L->ctx, "disclosure: ");
    const yaml_node_t *v = get(L, map, "min_count");
    long n = 0;
    int rc = check_keys(L, map, "\"disclosure\"", keys, sizeof keys / sizeof keys[0]);
    if (rc == 0)
        rc = !v || is_null(v) ? lfail(L, line_of(v ? v : map), "missing key \"min_count\"")
                              : whole_number(L, v, "min_count", 1, AUDIT_MAX_MIN_COUNT, &n);
    L->ctx[0] = '\0';
    L->def->disclosure_min_count = (int)n;
    return rc;
}

/* ascertainment_threshold: a share of expected cases, above 0 and at most 1 (e.g. 0.8) */
static int load_ascertainment(loader_t *L, const yaml_node_t *root)
{
    audit_def_t *def = L->def;
    if (get_number(L, root, "ascertainment_threshold", &def->has_ascertainment_threshold,
                   &def->ascertainment_threshold) != 0)
        return -1;
    if (def->has_ascertainment_threshold &&
        !(def->ascertainment_threshold > 0 && def->ascertainment_threshold <= 1))
        return lfail(L, line_of(get(L, root, "ascertainment_threshold")),
                     "\"ascertainment_threshold\" is %g, expected a share of the expected cases "
                     "above 0 and at most 1 (e.g. 0.8)",
                     def->ascertainment_threshold);
    return 0;
}

/* outliers: {notify_within_days: N, respond_within_days: N, publish_within_days: N}, each a
 * whole number of working days from 0 to AUDIT_MAX_OUTLIER_DAYS, every key required. */
static int load_outliers(loader_t *L, const yaml_node_t *root)
{
    static const char *keys[] = {"notify_within_days", "respond_within_days",
                                 "publish_within_days"};
    const yaml_node_t *map = get(L, root, "outliers");
    if (!map || is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map),
                     "\"outliers\" must be a mapping, e.g. {notify_within_days: 5, "
                     "respond_within_days: 10, publish_within_days: 5}");
    snprintf(L->ctx, sizeof L->ctx, "outliers: ");
    int rc = check_keys(L, map, "\"outliers\"", keys, sizeof keys / sizeof keys[0]);
    long days[3] = {0, 0, 0};
    for (size_t i = 0; rc == 0 && i < sizeof keys / sizeof keys[0]; i++) {
        const yaml_node_t *v = get(L, map, keys[i]);
        rc |= !v || is_null(v) ? lfail(L, line_of(v ? v : map), "missing key \"%s\"", keys[i])
                               : whole_number(L, v, keys[i], 0, AUDIT_MAX_OUTLIER_DAYS, &days[i]);
    }
    L->ctx[0] = '\0';
    L->def->outliers = (audit_outliers_t){rc == 0, (int)days[0], (int)days[1], (int)days[2]};
    return rc;
}

/* ---------------------------------------------------------------- binding to slots */

static int resolve_slot(void *ctx, const char *name)
{
    return audit_def_slot(ctx, name);
}

typedef struct {
    int *slots;
    size_t n, cap;
} slot_set_t;

static int add_slot(void *ctx, int slot)
{
    slot_set_t *u = ctx;
    for (size_t i = 0; i < u->n; i++)
        if (u->slots[i] == slot)
            return 0;
    int *slots = grow(u->slots, u->n, &u->cap, sizeof *slots);
    if (!slots)
        return -1;
    u->slots = slots;
    u->slots[u->n++] = slot;
    return 0;
}

/* Binds every expression to slots, and lists the slots each rule uses. Every name was checked
 * while loading, so a failure here is out of memory. */
static int bind_all(loader_t *L)
{
    audit_def_t *def = L->def;
    int rc = 0;
    for (size_t i = 0; i < def->n_derived; i++)
        rc |= expr_bind(def->derived[i].expr, resolve_slot, def);
    for (size_t i = 0; i < def->n_metrics; i++) {
        audit_metric_t *m = &def->metrics[i];
        expr_t *used[] = {m->numerator, m->denominator, m->observed, m->value};
        for (size_t j = 0; j < sizeof used / sizeof used[0]; j++)
            if (used[j])
                rc |= expr_bind(used[j], resolve_slot, def);
    }
    for (size_t i = 0; i < def->n_risk_models; i++)
        for (size_t j = 0; j < def->risk_models[i].n_terms; j++)
            rc |= expr_bind(def->risk_models[i].terms[j].expr, resolve_slot, def);
    for (size_t i = 0; i < def->n_rules && rc == 0; i++) {
        audit_rule_t *r = &def->rules[i];
        const expr_t *used[] = {r->check, r->when, r->require};
        slot_set_t u = {0};
        for (size_t j = 0; j < 3 && rc == 0; j++)
            if (used[j])
                rc = expr_bind((expr_t *)used[j], resolve_slot, def) ||
                     expr_each_slot(used[j], add_slot, &u);
        if (rc == 0)
            rc = add_slot(&u, audit_def_slot(def, r->field));
        r->uses = u.slots;
        r->n_uses = u.n;
    }
    return rc ? lfail(L, 1, "could not bind the expressions: out of memory") : 0;
}

/* Indexes slots [from, to) by name (index i is slot i) once they have loaded without a problem,
 * so each name is there and distinct: the names of the lists loaded after them are then looked up
 * in O(1). The index stays partial (lookups go through the lists) once a list has a problem. */
static void index_slots(loader_t *L, size_t from, size_t to)
{
    audit_def_t *def = L->def;
    if (from == 0 && !def->slot_index)
        def->slot_index = str_map_new(to);
    if (!def->slot_index || str_map_size(def->slot_index) != from)
        return;
    for (size_t i = from; i < to && def->slot_index; i++) {
        const char *name = audit_def_slot_name(def, (int)i);
        if (!name || str_map_put(def->slot_index, name, NULL) != 1)
            str_map_destroy(&def->slot_index); /* out of memory */
    }
}

/* Every slot indexed (see index_slots), or -1. */
static int slots_indexed(loader_t *L)
{
    const audit_def_t *def = L->def;
    if (def->slot_index && str_map_size(def->slot_index) == audit_def_n_slots(def))
        return 0;
    return lfail(L, 1, "could not index the fields: out of memory");
}

static int load_root(loader_t *L, const yaml_node_t *root)
{
    static const char *keys[] = {"audit",           "name",
                                 "dataset_version", "record_key",
                                 "trust_field",     "site_field",
                                 "period_field",    "opt_out_applies",
                                 "fields",          "linked",
                                 "derived",         "metrics",
                                 "rules",           "breakdowns",
                                 "disclosure",      "risk_models",
                                 "outliers",        "ascertainment_threshold",
                                 "speciality"};
    audit_def_t *def = L->def;
    if (root->type != YAML_MAPPING_NODE)
        return check_keys(L, root, "the definition", keys, sizeof keys / sizeof keys[0]);
    int rc = check_keys(L, root, "the definition", keys, sizeof keys / sizeof keys[0]);
    if (get_string(L, root, "audit", true, &def->audit) == 0)
        rc |= check_name(L, root, "audit", def->audit);
    else
        rc = -1;
    rc |= get_string(L, root, "name", true, &def->name) |
          get_string(L, root, "dataset_version", true, &def->dataset_version) |
          get_string(L, root, "speciality", false, &def->speciality) |
          get_string(L, root, "record_key", true, &def->record_key_field) |
          get_string(L, root, "trust_field", true, &def->trust_field) |
          get_string(L, root, "site_field", true, &def->site_field) |
          get_string(L, root, "period_field", true, &def->period_field) |
          get_bool(L, root, "opt_out_applies", true, false, &def->opt_out_applies);
    if (!def->speciality || def->speciality[0] == '\0') { /* optional: the portal's "Other" */
        free(def->speciality);
        def->speciality = strdup("Other");
        if (!def->speciality)
            rc |= lfail(L, line_of(root), "out of memory");
    }
    /* in this order: each list may use the names of those before it */
    L->derived = get(L, root, "derived");
    int fields_rc =
        load_list(L, root, (list_spec_t){"fields", "field", AUDIT_MAX_FIELDS, true},
                  (void **)&def->fields, sizeof *def->fields, &def->n_fields, load_field);
    rc |= fields_rc;
    if (rc == 0)
        index_slots(L, 0, def->n_fields);
    rc |= load_list(L, root, (list_spec_t){"linked", "linked field", AUDIT_MAX_LINKED, false},
                    (void **)&def->linked, sizeof *def->linked, &def->n_linked, load_linked);
    if (rc == 0)
        index_slots(L, def->n_fields, def->n_fields + def->n_linked);
    rc |= load_list(L, root, (list_spec_t){"derived", "derived field", AUDIT_MAX_DERIVED, false},
                    (void **)&def->derived, sizeof *def->derived, &def->n_derived, load_derived);
    if (rc == 0)
        index_slots(L, def->n_fields + def->n_linked, audit_def_n_slots(def));
    rc |= load_list(
        L, root, (list_spec_t){"risk_models", "risk model", AUDIT_MAX_RISK_MODELS, false},
        (void **)&def->risk_models, sizeof *def->risk_models, &def->n_risk_models, load_risk_model);
    rc |= load_list(L, root, (list_spec_t){"metrics", "metric", AUDIT_MAX_METRICS, false},
                    (void **)&def->metrics, sizeof *def->metrics, &def->n_metrics, load_metric);
    rc |= load_list(L, root, (list_spec_t){"rules", "rule", AUDIT_MAX_RULES, false},
                    (void **)&def->rules, sizeof *def->rules, &def->n_rules, load_rule);
    if (fields_rc && def->n_fields == 0)
        return -1; /* no fields at all: said once, not again for each key naming one */
    rc |= load_breakdowns(L, root) | load_disclosure(L, root) | load_outliers(L, root) |
          load_ascertainment(L, root);
    rc |= check_field_ref(L, root, "record_key", def->record_key_field) |
          check_field_ref(L, root, "trust_field", def->trust_field) |
          check_field_ref(L, root, "site_field", def->site_field) |
          check_field_ref(L, root, "period_field", def->period_field);
    return rc ? -1 : slots_indexed(L) | bind_all(L);
}

static int problem_order(const void *a, const void *b)
{
    const problem_t *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Loads path with L (path, problems) set; returns the definition, or NULL with the problems in
 * L, in the order of the file. *unreadable is set when the file could not be read. */
/* Records parser's syntax error. */
static void syntax_error(loader_t *L, const yaml_parser_t *parser)
{
    char context[120] = "";
    if (parser->context)
        snprintf(context, sizeof context, " %s started on line %d", parser->context,
                 (int)parser->context_mark.line + 1);
    lfail_at(L, (int)parser->problem_mark.line + 1, (int)parser->problem_mark.column + 1,
             "syntax error: %s%s", parser->problem ? parser->problem : "unreadable YAML", context);
}

/* Goes over the file's YAML events before it is loaded, and stops at the first thing past the
 * limits: nesting (libyaml's scanner takes time quadratic in the depth of [[[...]]], so it is
 * stopped near AUDIT_MAX_NESTING), a key or value longer than AUDIT_MAX_VALUE, or an alias (*a
 * repeats a part without writing it: what reads the definition would do the work again for each).
 * AUDIT_MAX_NODES bounds the memory of the tree loaded next. Returns 0, or -1 with the problem
 * recorded. */
static int check_shape(loader_t *L, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return lfail(L, 1, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    size_t nodes = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(L, &parser);
            rc = -1;
            break;
        }
        int line = (int)ev.start_mark.line + 1, column = (int)ev.start_mark.column + 1;
        bool node = ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
                    ev.type == YAML_MAPPING_START_EVENT;
        if (node && ++nodes > AUDIT_MAX_NODES) {
            rc = lfail_at(L, line, column,
                          "found more than %d keys, values, lists and mappings, expected at most "
                          "%d",
                          AUDIT_MAX_NODES, AUDIT_MAX_NODES);
            yaml_event_delete(&ev);
            break;
        }
        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > AUDIT_MAX_NESTING)
                rc = lfail_at(L, line, column,
                              "found lists and mappings nested more than %d deep, expected at "
                              "most %d",
                              AUDIT_MAX_NESTING, AUDIT_MAX_NESTING);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.length > AUDIT_MAX_VALUE)
                rc = lfail_at(L, line, column,
                              "found a value of %zu characters, expected at most %d",
                              ev.data.scalar.length, AUDIT_MAX_VALUE);
            break;
        case YAML_ALIAS_EVENT:
            rc = lfail_at(L, line, column,
                          "found the alias *%.40s, expected no aliases: write the value out",
                          (const char *)ev.data.alias.anchor);
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Notes where each line starts, so that finding a place in the file for a problem does not go
 * over the file from its start each time (without it, it does). */
static void index_lines(loader_t *L, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += L->text[i] == '\n';
    L->line_start = malloc(n * sizeof *L->line_start);
    if (!L->line_start)
        return;
    L->line_start[0] = 0;
    L->n_lines = 1;
    for (size_t i = 0; i < len; i++)
        if (L->text[i] == '\n')
            L->line_start[L->n_lines++] = i + 1;
}

/* Loads the definition in L->text (len bytes); NULL when it has any problem (in L). */
static audit_def_t *load_text(loader_t *L, size_t len)
{
    if (check_shape(L, L->text, len) != 0)
        return NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        lfail(L, 1, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)L->text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(L, &parser);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_parser_delete(&parser);

    audit_def_t *def = calloc(1, sizeof *def);
    L->doc = &doc;
    L->def = def;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc;
    if (!def)
        rc = lfail(L, 1, "out of memory");
    else if (!(def->path = strdup(L->path)))
        rc = lfail(L, 1, "out of memory");
    else if (!root)
        rc = lfail(L, 1, "the definition is empty");
    else
        rc = load_root(L, root);
    yaml_document_delete(&doc);
    L->doc = NULL;
    if (rc || L->n_problems)
        audit_def_destroy(&def);
    return def;
}

static audit_def_t *load_file(loader_t *L, bool *unreadable)
{
    char *text = NULL;
    size_t len = 0;
    *unreadable = false;
    if (file_read_max(L->path, AUDIT_MAX_FILE_BYTES, &text, &len) != 0) {
        char msg[600];
        if (errno == EFBIG)
            snprintf(msg, sizeof msg,
                     "could not load audit definition \"%s\": found more than %d bytes, "
                     "expected at most %d",
                     L->path, AUDIT_MAX_FILE_BYTES, AUDIT_MAX_FILE_BYTES);
        else
            snprintf(msg, sizeof msg, "could not open audit definition \"%s\": %s", L->path,
                     strerror(errno));
        problem_t *one = calloc(1, sizeof *one);
        if (one && (one->text = strdup(msg))) {
            L->problems = one;
            L->n_problems = L->cap_problems = 1;
        } else
            free(one);
        *unreadable = true;
        return NULL;
    }
    L->text = text;
    index_lines(L, len);
    audit_def_t *def = load_text(L, len);
    free(L->line_start);
    free(text);
    L->text = NULL;
    L->line_start = NULL;
    free(L->broken);
    if (!def && L->n_problems == 0) /* a failure must say why */
        lfail(L, 1, "out of memory");
    if (L->n_problems > 1)
        qsort(L->problems, L->n_problems, sizeof *L->problems, problem_order);
    return def;
}

static void problems_free(loader_t *L)
{
    for (size_t i = 0; i < L->n_problems; i++)
        free(L->problems[i].text);
    free(L->problems);
}

audit_def_t *audit_def_load(const char *path, char *err, size_t errlen)
{
    assert(path);
    if (err && errlen)
        err[0] = '\0';
    loader_t L = {.path = path};
    bool unreadable;
    audit_def_t *def = load_file(&L, &unreadable);
    if (!def && err && errlen) {
        const char *first = L.n_problems ? L.problems[0].text : "out of memory";
        size_t more = L.n_problems + L.n_dropped > 1 ? L.n_problems + L.n_dropped - 1 : 0;
        if (more)
            snprintf(err, errlen, "%s (and %zu more problem%s: \"ncap audit check\" lists them)",
                     first, more, more == 1 ? "" : "s");
        else
            snprintf(err, errlen, "%s", first);
    }
    problems_free(&L);
    return def;
}

audit_def_t *audit_def_load_problems(const char *path, audit_problems_t *problems)
{
    assert(path);
    assert(problems);
    memset(problems, 0, sizeof *problems);
    loader_t L = {.path = path};
    audit_def_t *def = load_file(&L, &problems->unreadable);
    problems->lines = calloc(L.n_problems ? L.n_problems : 1, sizeof *problems->lines);
    for (size_t i = 0; i < L.n_problems; i++) {
        if (problems->lines)
            problems->lines[problems->n++] = L.problems[i].text;
        else
            free(L.problems[i].text);
    }
    problems->n_more = L.n_dropped + (problems->lines ? 0 : L.n_problems);
    free(L.problems);
    return def;
}

void audit_problems_free(audit_problems_t *problems)
{
    if (!problems)
        return;
    for (size_t i = 0; i < problems->n; i++)
        free(problems->lines[i]);
    free(problems->lines);
    memset(problems, 0, sizeof *problems);
}

audit_def_t *audit_def_load_named(const char *dir, const char *audit, char *err, size_t errlen)
{
    assert(dir);
    assert(audit);
    if (!valid_name(audit)) {
        if (err && errlen)
            snprintf(err, errlen, "invalid audit name \"%.40s\"", audit);
        return NULL;
    }
    size_t len = strlen(dir) + strlen(audit) + 7;
    char *path = malloc(len);
    if (!path) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(path, len, "%s/%s.yaml", dir, audit);
    audit_def_t *def = audit_def_load(path, err, errlen);
    /* the cache finds a definition again by its audit: another name would load it once a use */
    if (def && strcmp(def->audit, audit) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s:1: \"audit\" is \"%s\", expected \"%s\" as the file is named",
                     path, def->audit, audit);
        audit_def_destroy(&def);
    }
    free(path);
    return def;
}

/* ---------------------------------------------------------------- value checks */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* [+-]digits, or with decimals [+-]digits[.digits] / [+-].digits */
static bool is_number_text(const char *s, bool decimals)
{
    if (*s == '+' || *s == '-')
        s++;
    size_t before = strspn(s, "0123456789");
    s += before;
    size_t after = 0;
    if (decimals && *s == '.') {
        s++;
        after = strspn(s, "0123456789");
        s += after;
        if (after == 0)
            return false;
    }
    return *s == '\0' && before + after > 0;
}

static bool parse_boolean(const char *s, bool *out)
{
    static const char *yes[] = {"y", "yes", "true", "1"};
    static const char *no[] = {"n", "no", "false", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool is_lsoa(const char *s)
{
    return strlen(s) == 9 && (s[0] == 'E' || s[0] == 'W') && s[1] == '0' && s[2] == '1' &&
           all_digits(s + 3, 6);
}

static bool matches(const audit_field_t *f, const char *value)
{
    if (f->pattern_simple) {
        size_t n = 0;
        for (const unsigned char *c = (const unsigned char *)value; *c; c++, n++)
            if (!(f->pattern_set[*c / 8] & (1u << (*c % 8))))
                return false;
        return n >= f->pattern_min && n <= f->pattern_max;
    }
    return f->pattern_re && regexec(f->pattern_re, value, 0, NULL, 0) == 0;
}

/* "from 1 to 5", "of at least 0", "of at most 10" or "" */
static void describe_range(const audit_field_t *f, char *out, size_t outlen)
{
    if (f->has_min && f->has_max)
        snprintf(out, outlen, " from %g to %g", f->min, f->max);
    else if (f->has_min)
        snprintf(out, outlen, " of at least %g", f->min);
    else if (f->has_max)
        snprintf(out, outlen, " of at most %g", f->max);
    else
        out[0] = '\0';
}

static void list_codes(const audit_field_t *f, char *out, size_t outlen)
{
    const size_t shown = 6;
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->n_codes && i < shown && used < outlen; i++) {
        int w = snprintf(out + used, outlen - used, "%s%s (%s)", i ? ", " : "", f->codes[i].code,
                         f->codes[i].label);
        if (w < 0)
            return;
        used += (size_t)w;
    }
    if (f->n_codes > shown && used < outlen)
        snprintf(out + used, outlen - used, ", ... (%zu codes in all)", f->n_codes);
}

/* Fills rule and msg: "<field>" is "<value>", expected <what>; identifiers keep their value out. */
static int reject(const audit_field_t *f, const char *value, const char *rule_id, char *rule,
                  size_t rulelen, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static int reject(const audit_field_t *f, const char *value, const char *rule_id, char *rule,
                  size_t rulelen, char *msg, size_t msglen, const char *fmt, ...)
{
    if (rule && rulelen)
        snprintf(rule, rulelen, "%s", rule_id);
    if (msg && msglen) {
        char what[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        if (f->identifier)
            snprintf(msg, msglen, "\"%s\" is not valid, expected %s", f->name, what);
        else
            snprintf(msg, msglen, "\"%s\" is \"%.60s%s\", expected %s", f->name, value,
                     strlen(value) > 60 ? "..." : "", what);
    }
    return 1;
}

int audit_field_check(const audit_field_t *f, const char *value, char *rule, size_t rulelen,
                      char *msg, size_t msglen)
{
    assert(f);
    assert(value);
    if (rule && rulelen)
        rule[0] = '\0';
    if (msg && msglen)
        msg[0] = '\0';
#define REJECT(id, ...) reject(f, value, id, rule, rulelen, msg, msglen, __VA_ARGS__)

    /* typed values may carry spaces around them; text is checked as given */
    char v[128] = "";
    if (f->type != FT_STRING) {
        const char *s = value;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n >= sizeof v)
            return REJECT("type", "a %s value, not %zu characters", type_names[f->type], n);
        memcpy(v, s, n);
        v[n] = '\0';
    }

    char range[80];
    switch (f->type) {
    case FT_STRING:
        break;
    case FT_INTEGER:
    case FT_DECIMAL: {
        bool integer = f->type == FT_INTEGER;
        bool number = is_number_text(v, !integer);
        double x = number ? strtod(v, NULL) : 0;
        if (number && !(f->has_min && x < f->min) && !(f->has_max && x > f->max))
            break;
        describe_range(f, range, sizeof range); /* only for the message */
        return REJECT(number ? "range" : "type", "%s%s", integer ? "a whole number" : "a number",
                      range);
    }
    case FT_DATE: {
        int y, m, d;
        if (ncap_date_parse(v, &y, &m, &d) != 0)
            return REJECT("type", "a date such as 2026-03-01 or 01/03/2026");
        break;
    }
    case FT_DATETIME: {
        int64_t t;
        bool has_time = false;
        if (ncap_datetime_parse(v, &t, &has_time) != 0 || !has_time)
            return REJECT("type", "a date and time such as 2026-03-01T14:30 or 01/03/2026 14:30");
        break;
    }
    case FT_CODE: {
        if (f->standard != NHS_CODE_LIST_NONE && nhs_code_list_label(f->standard, v))
            return 0;
        for (size_t i = 0; f->standard == NHS_CODE_LIST_NONE && i < f->n_codes; i++)
            if (f->codes[i].code[0] == v[0] && strcmp(f->codes[i].code, v) == 0)
                return 0;
        char codes[320];
        list_codes(f, codes, sizeof codes);
        return REJECT("code", "one of %s", codes);
    }
    case FT_BOOLEAN: {
        bool b;
        if (!parse_boolean(v, &b))
            return REJECT("type", "Y or N");
        break;
    }
    case FT_NHS_NUMBER: {
        nhs_number_status_t st = nhs_number_check(v, NULL);
        switch (st) {
        case NHS_NUMBER_VALID:
            break;
        case NHS_NUMBER_EMPTY:
        case NHS_NUMBER_FORMAT:
            return REJECT("type", "an NHS number of 10 digits");
        case NHS_NUMBER_CHECKSUM:
            if (rule && rulelen)
                snprintf(rule, rulelen, "type");
            if (msg && msglen)
                snprintf(msg, msglen, "\"%s\" is not valid: the NHS number fails its check digit",
                         f->name);
            return 1;
        case NHS_NUMBER_PLACEHOLDER:
        case NHS_NUMBER_TEST:
            if (rule && rulelen)
                snprintf(rule, rulelen, "%s",
                         st == NHS_NUMBER_TEST ? "nhs_number_test" : "nhs_number_placeholder");
            if (msg && msglen)
                snprintf(msg, msglen, "\"%s\" is a %s, not a patient's number", f->name,
                         nhs_number_status_text(st));
            return 2;
        }
        break;
    }
    case FT_POSTCODE: {
        char normal[9];
        postcode_status_t st = postcode_check(v, normal);
        if (st == POSTCODE_EMPTY || st == POSTCODE_FORMAT)
            return REJECT("type", "a UK postcode such as LS1 4AP, or ZZ99 3VZ (no fixed abode) "
                                  "or ZZ99 3WZ (not known)");
        break;
    }
    case FT_ODS_CODE:
        if (ods_code_kind(v) == ODS_CODE_INVALID)
            return REJECT("type", "an ODS code of 3 or 5 capital letters and digits, such as RR8 "
                                  "or RR801");
        break;
    case FT_LSOA:
        if (!is_lsoa(v))
            return REJECT("type", "an LSOA code such as E01000001");
        break;
    }
    if (f->pattern && !matches(f, f->type == FT_STRING ? value : v))
        return REJECT("pattern", "a value matching %.100s", f->pattern);
#undef REJECT
    return 0;
}

/* ---------------------------------------------------------------- records */

int audit_def_check_record(const audit_def_t *def, const ncap_record_t *rec, char *err,
                           size_t errlen)
{
    assert(def);
    assert(rec);
    size_t n = audit_def_n_slots(def);
    if (rec->n > n) {
        snprintf(err, errlen,
                 "the record has %zu fields, expected at most %zu (the fields, linked fields and "
                 "derived fields of audit %s)",
                 rec->n, n, def->audit ? def->audit : "?");
        return -1;
    }
    for (size_t i = 0; i < rec->n; i++)
        if (audit_def_slot(def, rec->fields[i].name) < 0) {
            const char *name = rec->fields[i].name;
            size_t len = strlen(name), shown = len > 60 ? 60 : len;
            while (shown > 0 && shown < len && ((unsigned char)name[shown] & 0xC0) == 0x80)
                shown--; /* not in the middle of a UTF-8 character: the message is stored */
            snprintf(err, errlen,
                     "the record has the field \"%.*s%s\", expected only fields, linked fields "
                     "and derived fields of audit %s",
                     (int)shown, name, shown < len ? "..." : "", def->audit ? def->audit : "?");
            return -1;
        }
    return 0;
}

/* ---------------------------------------------------------------- evaluation context */

void audit_typed_value(audit_field_type_t type, const char *v, expr_value_t *out)
{
    out->kind = EXPR_NULL;
    switch (type) {
    case FT_INTEGER:
    case FT_DECIMAL: {
        char buf[64];
        const char *s = v;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n >= sizeof buf)
            return;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (is_number_text(buf, true)) {
            out->kind = EXPR_NUMBER;
            out->num = strtod(buf, NULL);
        }
        return;
    }
    case FT_DATE:
    case FT_DATETIME:
        if (ncap_datetime_parse(v, &out->time, NULL) == 0)
            out->kind = EXPR_TIME;
        return;
    case FT_BOOLEAN: {
        char buf[16];
        const char *s = v;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n >= sizeof buf)
            return;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (parse_boolean(buf, &out->b))
            out->kind = EXPR_BOOL;
        return;
    }
    default:
        out->kind = EXPR_STRING;
        out->str = v;
        return;
    }
}

int audit_eval_lookup(void *ctx, const char *name, expr_value_t *out)
{
    const audit_eval_ctx_t *c = ctx;
    assert(c && c->def && name && out);
    memset(out, 0, sizeof *out);
    out->kind = EXPR_NULL;

    const audit_field_t *f = audit_def_field(c->def, name);
    if (!f)
        f = audit_def_linked(c->def, name);
    const audit_derived_t *d = f ? NULL : find_derived(c->def, name);
    const char *v = c->rec ? ncap_record_get(c->rec, name) : NULL;
    if (!f && !d && !v)
        return -1;
    if (!v || ncap_record_missing(c->rec, name))
        return 0;
    if (f || d) {
        audit_typed_value(f ? f->type : d->type, v, out);
        return 0;
    }
    /* not declared, but in the record: a number when it reads as one, else text */
    audit_typed_value(FT_DECIMAL, v, out);
    if (out->kind == EXPR_NULL)
        audit_typed_value(FT_STRING, v, out);
    return 0;
}

/* ---------------------------------------------------------------- rule messages */

void audit_rule_message_with(const audit_rule_t *rule,
                             const char *(*text_of)(void *ctx, const char *name), void *ctx,
                             char *out, size_t outlen)
{
    assert(rule);
    if (!out || !outlen)
        return;
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = rule->message; *p && used + 1 < outlen; p++) {
        const char *end = *p == '{' ? strchr(p + 1, '}') : NULL;
        if (!end) {
            out[used++] = *p;
            out[used] = '\0';
            continue;
        }
        char name[64];
        size_t n = (size_t)(end - p - 1);
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, p + 1, n);
        name[n] = '\0';
        const char *v = text_of(ctx, name);
        int w = snprintf(out + used, outlen - used, "%.60s", v && *v ? v : "empty");
        if (w < 0)
            return;
        used += (size_t)w < outlen - used ? (size_t)w : outlen - used - 1;
        p = end;
    }
    /* a value cut to 60 bytes, or the message to outlen, through a character: '?' (problems are
     * stored as text, which PostgreSQL refuses when malformed) */
    utf8_mend(out);
}

static const char *record_text(void *ctx, const char *name)
{
    const ncap_record_t *rec = ctx;
    return rec && !ncap_record_missing(rec, name) ? ncap_record_get(rec, name) : NULL;
}

void audit_rule_message(const audit_rule_t *rule, const ncap_record_t *rec, char *out,
                        size_t outlen)
{
    audit_rule_message_with(rule, record_text, (void *)rec, out, outlen);
}
