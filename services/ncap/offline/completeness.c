/* completeness.c - missing and invalid values counted per field, trust and month */
#include "completeness.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"

/* Identifier roles whose checks linkage reports as problems (services/linkage/decide/link_record.c). */
static const char *const linkage_checked[] = {"nhs_number", "dob"};

bool completeness_reported(const audit_def_t *def, const audit_field_t *f)
{
    if (!f->identifier)
        return !(def->record_key_field && strcmp(f->name, def->record_key_field) == 0) &&
               !(def->trust_field && strcmp(f->name, def->trust_field) == 0);
    for (size_t i = 0; f->link_as && i < sizeof linkage_checked / sizeof *linkage_checked; i++)
        if (strcmp(f->link_as, linkage_checked[i]) == 0)
            return true;
    return false;
}

completeness_state_t completeness_state_of_value(const char *value, bool has_error)
{
    if (!value || !*value)
        return COMPLETENESS_MISSING;
    return has_error ? COMPLETENESS_INVALID : COMPLETENESS_PRESENT;
}

completeness_state_t completeness_state_of_linkage_rule(const char *rule)
{
    size_t n = strlen(rule), k = strlen("_missing");
    if (strcmp(rule, "required") == 0 || (n >= k && strcmp(rule + n - k, "_missing") == 0))
        return COMPLETENESS_MISSING;
    return COMPLETENESS_INVALID;
}

int completeness_month(const char *value, char out[8])
{
    out[0] = '\0';
    int64_t t;
    bool has_time;
    if (!value || ncap_datetime_parse(value, &t, &has_time) != 0)
        return -1;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int y, m, d;
    ncap_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return -1;
    snprintf(out, 8, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
    return 0;
}

int completeness_quarter_months(const char *period, char months[3][8])
{
    int y, q;
    char tail;
    if (!period || strlen(period) != 6 || sscanf(period, "%4dQ%1d%c", &y, &q, &tail) != 2 ||
        y < 1900 || q < 1 || q > 4)
        return -1;
    for (int i = 0; i < 3; i++)
        snprintf(months[i], 8, "%04u-%02u", (unsigned)y % 10000u,
                 (unsigned)((q - 1) * 3 + i + 1) % 100u);
    return 0;
}

/* One trust-month: counts for every field. */
typedef struct {
    char *trust;
    char month[8];
    unsigned long records;
    unsigned long *missing, *invalid; /* per field */
} cell_t;

struct completeness_t {
    char **fields;
    size_t n_fields;
    cell_t *cells;
    size_t n_cells, cap_cells;
    completeness_row_t *rows;
    size_t n_rows;
};

completeness_t *completeness_new(const char *const *fields, size_t n_fields)
{
    completeness_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fields = calloc(n_fields + 1, sizeof *self->fields);
    if (!self->fields) {
        free(self);
        return NULL;
    }
    self->n_fields = n_fields;
    for (size_t i = 0; i < n_fields; i++)
        if (!(self->fields[i] = strdup(fields[i]))) {
            completeness_destroy(&self);
            return NULL;
        }
    return self;
}

void completeness_destroy(completeness_t **self_p)
{
    completeness_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_fields; i++)
        free(self->fields[i]);
    free(self->fields);
    for (size_t i = 0; i < self->n_cells; i++) {
        free(self->cells[i].trust);
        free(self->cells[i].missing);
        free(self->cells[i].invalid);
    }
    free(self->cells);
    free(self->rows);
    free(self);
    *self_p = NULL;
}

static int cell_cmp(const char *trust_a, const char *month_a, const cell_t *b)
{
    int c = strcmp(trust_a, b->trust);
    return c ? c : strcmp(month_a, b->month);
}

/* The cell of trust and month, kept sorted; created when new. NULL when out of memory. */
static cell_t *cell_of(completeness_t *self, const char *trust, const char *month)
{
    size_t lo = 0, hi = self->n_cells;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cell_cmp(trust, month, &self->cells[mid]);
        if (c == 0)
            return &self->cells[mid];
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (self->n_cells == self->cap_cells) {
        size_t cap = self->cap_cells ? self->cap_cells * 2 : 64;
        cell_t *cells = realloc(self->cells, cap * sizeof *cells);
        if (!cells)
            return NULL;
        self->cells = cells;
        self->cap_cells = cap;
    }
    cell_t c = {0};
    c.trust = strdup(trust);
    snprintf(c.month, sizeof c.month, "%s", month);
    c.missing = calloc(self->n_fields + 1, sizeof *c.missing);
    c.invalid = calloc(self->n_fields + 1, sizeof *c.invalid);
    if (!c.trust || !c.missing || !c.invalid) {
        free(c.trust);
        free(c.missing);
        free(c.invalid);
        return NULL;
    }
    memmove(&self->cells[lo + 1], &self->cells[lo], (self->n_cells - lo) * sizeof *self->cells);
    self->cells[lo] = c;
    self->n_cells++;
    return &self->cells[lo];
}

int completeness_add(completeness_t *self, const char *trust, const char *month,
                     const completeness_state_t *state)
{
    assert(self);
    cell_t *c = cell_of(self, trust ? trust : "", month && *month ? month : "unknown");
    if (!c)
        return -1;
    c->records++;
    for (size_t i = 0; i < self->n_fields; i++) {
        if (state[i] == COMPLETENESS_MISSING)
            c->missing[i]++;
        else if (state[i] == COMPLETENESS_INVALID)
            c->invalid[i]++;
    }
    return 0;
}

size_t completeness_rows(completeness_t *self, const completeness_row_t **rows)
{
    assert(self);
    size_t n = self->n_fields * self->n_cells;
    free(self->rows);
    self->rows = calloc(n + 1, sizeof *self->rows);
    self->n_rows = 0;
    *rows = self->rows;
    if (!self->rows)
        return 0;
    for (size_t f = 0; f < self->n_fields; f++)
        for (size_t i = 0; i < self->n_cells; i++) {
            const cell_t *c = &self->cells[i];
            completeness_row_t *r = &self->rows[self->n_rows++];
            r->field = self->fields[f];
            r->trust = c->trust;
            r->month = c->month;
            r->records = c->records;
            r->missing = c->missing[f];
            r->invalid = c->invalid[f];
            r->missing_rate = (double)r->missing / (double)c->records;
            r->invalid_rate = (double)r->invalid / (double)c->records;
        }
    return self->n_rows;
}
