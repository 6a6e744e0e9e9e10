/* record_view.c - a record by slot, typed lazily */
#include "record_view.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DERIVED_TEXT 128 /* as linkage formats a derived value */

struct record_view_t {
    const audit_def_t *def;
    size_t n;
    const char **text;
    expr_value_t *typed;
    unsigned char *typed_done;
    unsigned char *marked;
    char (*derived)[DERIVED_TEXT]; /* the texts of derived slots, by derived index */
};

record_view_t *record_view_new(const audit_def_t *def)
{
    assert(def);
    record_view_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->def = def;
    self->n = audit_def_n_slots(def);
    size_t n = self->n ? self->n : 1;
    self->text = calloc(n, sizeof *self->text);
    self->typed = calloc(n, sizeof *self->typed);
    self->typed_done = calloc(n, 1);
    self->marked = calloc(n, 1);
    self->derived = calloc(def->n_derived ? def->n_derived : 1, sizeof *self->derived);
    if (!self->text || !self->typed || !self->typed_done || !self->marked || !self->derived)
        record_view_destroy(&self);
    return self;
}

void record_view_destroy(record_view_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    record_view_t *self = *self_p;
    free(self->text);
    free(self->typed);
    free(self->typed_done);
    free(self->marked);
    free(self->derived);
    free(self);
    *self_p = NULL;
}

const audit_def_t *record_view_def(const record_view_t *self)
{
    assert(self);
    return self->def;
}

void record_view_reset(record_view_t *self)
{
    assert(self);
    memset(self->text, 0, self->n * sizeof *self->text);
    memset(self->typed_done, 0, self->n);
    memset(self->marked, 0, self->n);
}

void record_view_mark(record_view_t *self, int slot)
{
    assert(self);
    if (slot >= 0 && (size_t)slot < self->n)
        self->marked[slot] = 1;
}

bool record_view_marked(const record_view_t *self, int slot)
{
    assert(self);
    return slot >= 0 && (size_t)slot < self->n && self->marked[slot];
}

void record_view_set(record_view_t *self, int slot, const char *text)
{
    assert(self);
    if (slot < 0 || (size_t)slot >= self->n)
        return;
    self->text[slot] = text;
    self->typed_done[slot] = 0;
}

void record_view_set_record(record_view_t *self, const ncap_record_t *rec)
{
    assert(self);
    record_view_reset(self);
    for (size_t i = 0; rec && i < rec->n; i++)
        record_view_set(self, audit_def_slot(self->def, rec->fields[i].name), rec->fields[i].value);
}

const char *record_view_text(const record_view_t *self, int slot)
{
    assert(self);
    return slot >= 0 && (size_t)slot < self->n ? self->text[slot] : NULL;
}

bool record_view_missing(const record_view_t *self, int slot)
{
    const char *v = record_view_text(self, slot);
    if (!v)
        return true;
    for (; *v; v++)
        if (!isspace((unsigned char)*v))
            return false;
    return true;
}

void record_view_value(record_view_t *self, int slot, expr_value_t *out)
{
    assert(self);
    if (slot < 0 || (size_t)slot >= self->n) {
        memset(out, 0, sizeof *out);
        return;
    }
    if (!self->typed_done[slot]) {
        expr_value_t *v = &self->typed[slot];
        memset(v, 0, sizeof *v);
        if (!record_view_missing(self, slot))
            audit_typed_value(audit_def_slot_type(self->def, slot), self->text[slot], v);
        self->typed_done[slot] = 1;
    }
    *out = self->typed[slot];
}

void record_view_slot_value(void *ctx, int slot, expr_value_t *out)
{
    record_view_value(ctx, slot, out);
}

void record_view_derive(record_view_t *self)
{
    assert(self);
    const audit_def_t *def = self->def;
    int first = (int)(def->n_fields + def->n_linked);
    for (size_t i = 0; i < def->n_derived; i++) {
        expr_value_t v;
        char *text = self->derived[i];
        text[0] = '\0';
        if (expr_eval_bound(def->derived[i].expr, record_view_slot_value, self, &v, NULL, 0) == 0)
            expr_value_format(&v, text, DERIVED_TEXT);
        record_view_set(self, first + (int)i, text);
    }
}

const char *record_view_text_of(void *ctx, const char *name)
{
    record_view_t *self = ctx;
    int slot = audit_def_slot(self->def, name);
    return record_view_missing(self, slot) ? NULL : self->text[slot];
}
