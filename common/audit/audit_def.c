/* audit_def.c - loads an audit definition from YAML (libyaml's document API, so every node knows
 * its line), checks it whole, and checks values against its fields. */
#include "audit_def.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "datetime.h"
#include "nhs_number.h"
#include "ods_code.h"
#include "postcode.h"

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
    }
    free(self->metrics);
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
    free(self->path);
    free(self->audit);
    free(self->name);
    free(self->dataset_version);
    free(self->record_key_field);
    free(self->trust_field);
    free(self->site_field);
    free(self->period_field);
    free(self);
    *self_p = NULL;
}

const audit_field_t *audit_def_field(const audit_def_t *self, const char *name)
{
    assert(self);
    for (size_t i = 0; i < self->n_fields; i++)
        if (self->fields[i].name && strcmp(self->fields[i].name, name) == 0)
            return &self->fields[i];
    return NULL;
}

const audit_field_t *audit_def_linked(const audit_def_t *self, const char *name)
{
    assert(self);
    for (size_t i = 0; i < self->n_linked; i++)
        if (self->linked[i].name && strcmp(self->linked[i].name, name) == 0)
            return &self->linked[i];
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
    for (size_t i = 0; i < self->n_derived; i++)
        if (self->derived[i].name && strcmp(self->derived[i].name, name) == 0)
            return &self->derived[i];
    return NULL;
}

/* ---------------------------------------------------------------- YAML reading */

typedef struct {
    const char *path;
    yaml_document_t *doc;
    audit_def_t *def;
    char *err;
    size_t errlen;
    char ctx[120]; /* what is being read, e.g. "field \"asa_grade\": " */
} loader_t;

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static int lfail(loader_t *L, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int lfail(loader_t *L, int line, const char *fmt, ...)
{
    if (L->err && L->errlen) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(L->err, L->errlen, "%s:%d: %s%s", L->path, line, L->ctx, msg);
    }
    return -1;
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
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(L, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return lfail(L, line_of(k), "keys must be plain names");
        bool known = false;
        for (size_t i = 0; i < n_allowed && !known; i++)
            known = strcmp(scalar(k), allowed[i]) == 0;
        if (!known) {
            char list[300] = "";
            for (size_t i = 0; i < n_allowed; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
            }
            return lfail(L, line_of(k), "unknown key \"%.60s\" (expected one of: %s)", scalar(k),
                         list);
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
            if (strcmp(scalar(node(L, q->key)), scalar(k)) == 0)
                return lfail(L, line_of(k), "duplicate key \"%s\"", scalar(k));
    }
    return 0;
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
    if (v->type != YAML_SCALAR_NODE || end == scalar(v) || *end != '\0' || errno)
        return lfail(L, line_of(v), "\"%s\" must be a number", key);
    *has = true;
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
    f->codes = calloc(n, sizeof *f->codes);
    if (!f->codes)
        return lfail(L, line_of(codes), "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &codes->data.mapping.pairs.start[i];
        yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
        if (k->type != YAML_SCALAR_NODE || scalar(k)[0] == '\0')
            return lfail(L, line_of(k), "a code must be a single non-empty value");
        if (v->type != YAML_SCALAR_NODE || is_null(v))
            return lfail(L, line_of(v), "code \"%s\" has no label", scalar(k));
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->codes[j].code, scalar(k)) == 0)
                return lfail(L, line_of(k), "duplicate code \"%s\"", scalar(k));
        f->codes[i].code = strdup(scalar(k));
        f->codes[i].label = strdup(scalar(v));
        f->n_codes = i + 1;
        if (!f->codes[i].code || !f->codes[i].label)
            return lfail(L, line_of(k), "out of memory");
    }
    return 0;
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
                     "unknown standard \"%.40s\" (expected ethnic_category or "
                     "stated_gender)",
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
                         bool linked)
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
    if ((linked ? check_keys(L, map, "a linked field", linked_keys,
                             sizeof linked_keys / sizeof linked_keys[0])
                : check_keys(L, map, "a field", keys, sizeof keys / sizeof keys[0])) ||
        check_name(L, map, "name", f->name))
        return -1;
    for (size_t i = 0; i < index; i++)
        if (strcmp(list[i].name, f->name) == 0)
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
        for (size_t i = 0; i < index; i++)
            if (def->fields[i].link_as && strcmp(def->fields[i].link_as, f->link_as) == 0)
                return lfail(L, line_of(get(L, map, "link_as")),
                             "link_as \"%s\" is already given to field \"%s\"", f->link_as,
                             def->fields[i].name);
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
    return 0;
}

static int load_field(loader_t *L, size_t index, const yaml_node_t *map)
{
    return load_field_in(L, L->def->fields, index, map, false);
}

static int load_linked(loader_t *L, size_t index, const yaml_node_t *map)
{
    return load_field_in(L, L->def->linked, index, map, true);
}

/* ---------------------------------------------------------------- expressions */

typedef struct {
    const audit_def_t *def;
    size_t n_derived_known; /* derived fields declared before this expression */
    const char *unknown;    /* the first name that is not declared */
} refs_t;

static int check_ref(void *ctx, const char *name)
{
    refs_t *r = ctx;
    if (audit_def_field(r->def, name) || audit_def_linked(r->def, name))
        return 0;
    for (size_t i = 0; i < r->n_derived_known; i++)
        if (strcmp(r->def->derived[i].name, name) == 0)
            return 0;
    r->unknown = name;
    return 1;
}

/* Parses map[key] into *expr (source copied to *src) and checks its field names. */
static int load_expr(loader_t *L, const yaml_node_t *map, const char *key, size_t n_derived_known,
                     char **src, expr_t **expr)
{
    if (get_string(L, map, key, true, src))
        return -1;
    yaml_node_t *at = get(L, map, key);
    char why[200];
    *expr = expr_parse(*src, why, sizeof why);
    if (!*expr)
        return lfail(L, line_of(at), "%s \"%.80s\" does not parse: %s", key, *src, why);
    refs_t refs = {.def = L->def, .n_derived_known = n_derived_known};
    if (expr_each_field(*expr, check_ref, &refs))
        return lfail(L, line_of(at),
                     "%s refers to \"%.60s\", which is not a field declared before it", key,
                     refs.unknown);
    return 0;
}

static int load_derived(loader_t *L, size_t index, const yaml_node_t *map)
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
    if (check_keys(L, map, "a derived field", keys, sizeof keys / sizeof keys[0]) ||
        check_name(L, map, "name", d->name))
        return -1;
    const audit_field_t *clash = audit_def_field(def, d->name);
    if (!clash)
        clash = audit_def_linked(def, d->name);
    if (clash)
        return lfail(L, line_of(get(L, map, "name")),
                     "duplicate field name (declared as a field on line %d)", clash->line);
    for (size_t i = 0; i < index; i++)
        if (strcmp(def->derived[i].name, d->name) == 0)
            return lfail(L, line_of(get(L, map, "name")),
                         "duplicate field name (first declared on line %d)", def->derived[i].line);
    char *type = NULL;
    if (get_string(L, map, "type", true, &type))
        return -1;
    int bad_type = type_from_name(type, &d->type);
    if (bad_type)
        lfail(L, line_of(get(L, map, "type")), "unknown type \"%.40s\"", type);
    free(type);
    if (bad_type)
        return -1;
    return load_expr(L, map, "expr", index, &d->expr_src, &d->expr);
}

static int load_metric(loader_t *L, size_t index, const yaml_node_t *map)
{
    static const char *keys[] = {"id",          "label",    "unit", "period", "higher_is_better",
                                 "denominator", "numerator"};
    audit_def_t *def = L->def;
    audit_metric_t *m = &def->metrics[index];
    snprintf(L->ctx, sizeof L->ctx, "metric %zu: ", index + 1);
    if (map->type != YAML_MAPPING_NODE)
        return lfail(L, line_of(map), "each metric must be a mapping with id, label, ...");
    m->line = line_of(map);
    if (get_string(L, map, "id", true, &m->id))
        return -1;
    snprintf(L->ctx, sizeof L->ctx, "metric \"%.60s\": ", m->id);
    if (check_keys(L, map, "a metric", keys, sizeof keys / sizeof keys[0]) ||
        check_name(L, map, "id", m->id))
        return -1;
    for (size_t i = 0; i < index; i++)
        if (strcmp(def->metrics[i].id, m->id) == 0)
            return lfail(L, line_of(get(L, map, "id")),
                         "duplicate metric id (first declared on line %d)", def->metrics[i].line);
    if (get_string(L, map, "label", true, &m->label) ||
        get_string(L, map, "unit", false, &m->unit) ||
        get_string(L, map, "period", false, &m->period) ||
        get_bool(L, map, "higher_is_better", true, true, &m->higher_is_better))
        return -1;
    if (!m->unit && !(m->unit = strdup("trust")))
        return lfail(L, m->line, "out of memory");
    if (!m->period && !(m->period = strdup("quarter")))
        return lfail(L, m->line, "out of memory");
    if (strcmp(m->unit, "trust") != 0 && strcmp(m->unit, "site") != 0)
        return lfail(L, line_of(get(L, map, "unit")),
                     "unknown unit \"%.40s\" (expected trust or site)", m->unit);
    if (strcmp(m->period, "quarter") != 0)
        return lfail(L, line_of(get(L, map, "period")),
                     "unknown period \"%.40s\" (expected quarter)", m->period);
    return load_expr(L, map, "denominator", def->n_derived, &m->denominator_src, &m->denominator) ||
                   load_expr(L, map, "numerator", def->n_derived, &m->numerator_src, &m->numerator)
               ? -1
               : 0;
}

/* ---------------------------------------------------------------- rules */

/* A name a rule may use: a non-identifier field, or any derived field. */
static int rule_name_ok(loader_t *L, int line, const char *what, const char *name)
{
    const audit_field_t *f = audit_def_field(L->def, name);
    if (f && f->identifier)
        return lfail(L, line,
                     "%s names \"%.60s\", an identifier: identifiers are removed before "
                     "validation (use a derived field such as age_at_arrival)",
                     what, name);
    if (!f && !find_derived(L->def, name) && !audit_def_linked(L->def, name))
        return lfail(L, line,
                     "%s names \"%.60s\", which is not a field, linked field or derived field",
                     what, name);
    return 0;
}

typedef struct {
    loader_t *L;
    int line;
    const char *key;
} rule_refs_t;

static int check_rule_ref(void *ctx, const char *name)
{
    rule_refs_t *r = ctx;
    return rule_name_ok(r->L, r->line, r->key, name) ? 1 : 0;
}

static int load_rule_expr(loader_t *L, const yaml_node_t *map, const char *key, char **src,
                          expr_t **expr)
{
    if (get_string(L, map, key, true, src))
        return -1;
    yaml_node_t *at = get(L, map, key);
    char why[200];
    *expr = expr_parse(*src, why, sizeof why);
    if (!*expr)
        return lfail(L, line_of(at), "%s \"%.80s\" does not parse: %s", key, *src, why);
    rule_refs_t refs = {L, line_of(at), key};
    return expr_each_field(*expr, check_rule_ref, &refs) ? -1 : 0;
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
    if (!is_time_type(df ? df->type : dd->type))
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
    if (check_keys(L, map, "a rule", keys, sizeof keys / sizeof keys[0]) ||
        check_name(L, map, "id", r->id))
        return -1;
    if (strlen(r->id) > 31)
        return lfail(L, line_of(get(L, map, "id")), "id is longer than 31 characters");
    for (size_t i = 0; i < index; i++)
        if (strcmp(def->rules[i].id, r->id) == 0)
            return lfail(L, line_of(get(L, map, "id")),
                         "duplicate rule id (first declared on line %d)", def->rules[i].line);
    char *severity = NULL;
    if (get_string(L, map, "severity", true, &severity))
        return -1;
    bool known = strcmp(severity, "error") == 0 || strcmp(severity, "warning") == 0;
    r->severity = strcmp(severity, "error") == 0 ? RULE_ERROR : RULE_WARNING;
    if (!known)
        lfail(L, line_of(get(L, map, "severity")),
              "unknown severity \"%.40s\" (expected error or warning)", severity);
    free(severity);
    if (!known)
        return -1;
    if (get_string(L, map, "message", true, &r->message) ||
        check_template(L, line_of(get(L, map, "message")), r->message) ||
        get_string(L, map, "field", true, &r->field) ||
        rule_name_ok(L, line_of(get(L, map, "field")), "field", r->field))
        return -1;
    bool has_check = get(L, map, "check") != NULL, has_when = get(L, map, "when") != NULL,
         has_require = get(L, map, "require") != NULL;
    if (get(L, map, "history")) {
        if (has_check || has_when || has_require)
            return lfail(L, r->line,
                         "give either \"history\" or \"check\" (or \"when\" with "
                         "\"require\"), not both");
        if (r->severity != RULE_WARNING)
            return lfail(L, line_of(get(L, map, "severity")),
                         "a history rule must have severity warning: a record is never "
                         "rejected for what another record says");
        return load_history(L, r, map);
    }
    if (has_check && (has_when || has_require))
        return lfail(L, r->line, "give either \"check\" or \"when\" with \"require\", not both");
    if (has_check)
        return load_rule_expr(L, map, "check", &r->check_src, &r->check);
    if (!has_when || !has_require)
        return lfail(L, r->line,
                     "missing key \"%s\" (a rule has \"check\", or \"when\" with \"require\")",
                     has_when      ? "require"
                     : has_require ? "when"
                                   : "check");
    return load_rule_expr(L, map, "when", &r->when_src, &r->when) ||
                   load_rule_expr(L, map, "require", &r->require_src, &r->require)
               ? -1
               : 0;
}

/* Runs load(L, i, item) for each item of the list map[key]; *n is set to the list's length
 * before loading so that destroy frees partly loaded items. */
static int load_list(loader_t *L, const yaml_node_t *root, const char *key, bool required,
                     void **items, size_t item_size, size_t *n,
                     int (*load)(loader_t *, size_t, const yaml_node_t *))
{
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
    *items = calloc(count, item_size);
    if (!*items)
        return lfail(L, line_of(list), "out of memory");
    *n = count;
    for (size_t i = 0; i < count; i++)
        if (load(L, i, node(L, list->data.sequence.items.start[i])))
            return -1;
    L->ctx[0] = '\0';
    return 0;
}

/* A top-level key naming a declared field (not a derived one). */
static int check_field_ref(loader_t *L, const yaml_node_t *root, const char *key, const char *name)
{
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
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        int *more = realloc(u->slots, cap * sizeof *more);
        if (!more)
            return -1;
        u->slots = more;
        u->cap = cap;
    }
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
    for (size_t i = 0; i < def->n_metrics; i++)
        rc |= expr_bind(def->metrics[i].numerator, resolve_slot, def) |
              expr_bind(def->metrics[i].denominator, resolve_slot, def);
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

static int load_root(loader_t *L, const yaml_node_t *root)
{
    static const char *keys[] = {"audit",       "name",       "dataset_version", "record_key",
                                 "trust_field", "site_field", "period_field",    "opt_out_applies",
                                 "fields",      "linked",     "derived",         "metrics",
                                 "rules"};
    audit_def_t *def = L->def;
    if (check_keys(L, root, "the definition", keys, sizeof keys / sizeof keys[0]))
        return -1;
    if (get_string(L, root, "audit", true, &def->audit) ||
        check_name(L, root, "audit", def->audit) || get_string(L, root, "name", true, &def->name) ||
        get_string(L, root, "dataset_version", true, &def->dataset_version) ||
        get_string(L, root, "record_key", true, &def->record_key_field) ||
        get_string(L, root, "trust_field", true, &def->trust_field) ||
        get_string(L, root, "site_field", true, &def->site_field) ||
        get_string(L, root, "period_field", true, &def->period_field) ||
        get_bool(L, root, "opt_out_applies", true, false, &def->opt_out_applies))
        return -1;
    if (load_list(L, root, "fields", true, (void **)&def->fields, sizeof *def->fields,
                  &def->n_fields, load_field) ||
        load_list(L, root, "linked", false, (void **)&def->linked, sizeof *def->linked,
                  &def->n_linked, load_linked) ||
        load_list(L, root, "derived", false, (void **)&def->derived, sizeof *def->derived,
                  &def->n_derived, load_derived) ||
        load_list(L, root, "metrics", false, (void **)&def->metrics, sizeof *def->metrics,
                  &def->n_metrics, load_metric) ||
        load_list(L, root, "rules", false, (void **)&def->rules, sizeof *def->rules, &def->n_rules,
                  load_rule))
        return -1;
    if (check_field_ref(L, root, "record_key", def->record_key_field) ||
        check_field_ref(L, root, "trust_field", def->trust_field) ||
        check_field_ref(L, root, "site_field", def->site_field) ||
        check_field_ref(L, root, "period_field", def->period_field))
        return -1;
    return bind_all(L);
}

audit_def_t *audit_def_load(const char *path, char *err, size_t errlen)
{
    assert(path);
    if (err && errlen)
        err[0] = '\0';
    FILE *in = fopen(path, "rb");
    if (!in) {
        if (err && errlen)
            snprintf(err, errlen, "could not open audit definition \"%s\": %s", path,
                     strerror(errno));
        return NULL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(in);
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    yaml_parser_set_input_file(&parser, in);
    int loaded = yaml_parser_load(&parser, &doc);
    fclose(in);
    if (!loaded) {
        if (err && errlen) {
            char context[120] = "";
            if (parser.context)
                snprintf(context, sizeof context, " %s started on line %d", parser.context,
                         (int)parser.context_mark.line + 1);
            snprintf(err, errlen, "%s:%d: syntax error: %s%s", path,
                     (int)parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "unreadable YAML", context);
        }
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_parser_delete(&parser);

    audit_def_t *def = calloc(1, sizeof *def);
    loader_t L = {.path = path, .doc = &doc, .def = def, .err = err, .errlen = errlen};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc;
    if (!def)
        rc = lfail(&L, 1, "out of memory");
    else if (!(def->path = strdup(path)))
        rc = lfail(&L, 1, "out of memory");
    else if (!root)
        rc = lfail(&L, 1, "the definition is empty");
    else
        rc = load_root(&L, root);
    yaml_document_delete(&doc);
    if (rc)
        audit_def_destroy(&def);
    return def;
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
