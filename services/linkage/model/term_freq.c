/* term_freq.c - values' frequencies: a string map of values per field, frequencies by index */
#include "term_freq.h"

#include <assert.h>
#include <stdlib.h>

#include "str_map.h"

/* The values of one field and their frequencies, freq[i] that of str_map_key(values, i). */
typedef struct {
    str_map_t *values; /* NULL until the field gets a value */
    double *freq;
    size_t cap;
} field_t;

/* A value, as added: its field and its index there. */
typedef struct {
    size_t field, index;
} entry_t;

struct term_freq_t {
    field_t *fields;
    size_t nfields;
    entry_t *entries; /* in the order added */
    size_t n, cap;
};

term_freq_t *term_freq_new(void)
{
    return calloc(1, sizeof(term_freq_t));
}

void term_freq_destroy(term_freq_t **self_p)
{
    assert(self_p);
    term_freq_t *self = *self_p;
    if (!self)
        return;
    for (size_t f = 0; f < self->nfields; f++) {
        str_map_destroy(&self->fields[f].values);
        free(self->fields[f].freq);
    }
    free(self->fields);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

/* Field f, made when it is new; NULL when out of memory. */
static field_t *field_of(term_freq_t *self, size_t field)
{
    if (field >= self->nfields) {
        if (field >= SIZE_MAX / sizeof(field_t) - 1)
            return NULL;
        field_t *more = realloc(self->fields, (field + 1) * sizeof *more);
        if (!more)
            return NULL;
        for (size_t f = self->nfields; f <= field; f++)
            more[f] = (field_t){0};
        self->fields = more;
        self->nfields = field + 1;
    }
    field_t *fd = &self->fields[field];
    if (!fd->values && !(fd->values = str_map_new(0)))
        return NULL;
    return fd;
}

int term_freq_add(term_freq_t *self, size_t field, const char *value, double amount)
{
    assert(self && value);
    field_t *fd = field_of(self, field);
    if (!fd)
        return -1;
    size_t i = str_map_get(fd->values, value);
    if (i != STR_MAP_MISSING) {
        fd->freq[i] += amount;
        return 0;
    }
    /* room first, so that a value is never held without its frequency */
    size_t n = str_map_size(fd->values);
    if (n == fd->cap) {
        size_t cap = fd->cap ? fd->cap * 2 : 16;
        double *freq = realloc(fd->freq, cap * sizeof *freq);
        if (!freq)
            return -1;
        fd->freq = freq;
        fd->cap = cap;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        entry_t *e = realloc(self->entries, cap * sizeof *e);
        if (!e)
            return -1;
        self->entries = e;
        self->cap = cap;
    }
    if (str_map_put(fd->values, value, &i) != 1)
        return -1;
    fd->freq[i] = amount;
    self->entries[self->n++] = (entry_t){field, i};
    return 0;
}

double term_freq_get(const term_freq_t *self, size_t field, const char *value)
{
    assert(self && value);
    if (field >= self->nfields || !self->fields[field].values)
        return 0;
    size_t i = str_map_get(self->fields[field].values, value);
    return i != STR_MAP_MISSING ? self->fields[field].freq[i] : 0;
}

size_t term_freq_size(const term_freq_t *self)
{
    assert(self);
    return self->n;
}

void term_freq_entry(const term_freq_t *self, size_t i, size_t *field, const char **value,
                     double *frequency)
{
    assert(self && i < self->n);
    const entry_t *e = &self->entries[i];
    const field_t *fd = &self->fields[e->field];
    *field = e->field;
    *value = str_map_key(fd->values, e->index);
    *frequency = fd->freq[e->index];
}
