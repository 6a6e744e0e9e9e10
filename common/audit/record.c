/* record.c - one record as named text values, found by a scan or an index (record.h) */
#include "record.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

ncap_record_t *ncap_record_new(void)
{
    return calloc(1, sizeof(ncap_record_t));
}

void ncap_record_destroy(ncap_record_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ncap_record_clear(*self_p);
    free((*self_p)->fields);
    free(*self_p);
    *self_p = NULL;
}

/* FNV-1a: a scan compares a field's name only where the hashes agree (one name in a record's
 * 30 or so, not each of them: a record's fields are looked up hundreds of times a record) */
static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static ncap_field_t *find(const ncap_record_t *self, const char *name)
{
    if (self->index) {
        size_t i = str_map_get(self->index, name);
        return i == STR_MAP_MISSING ? NULL : &self->fields[i];
    }
    uint32_t h = name_hash(name);
    for (size_t i = 0; i < self->n; i++)
        if (self->fields[i].hash == h && strcmp(self->fields[i].name, name) == 0)
            return &self->fields[i];
    return NULL;
}

/* Indexes every field (position i is index i: names are distinct); out of memory, none. */
static void index_all(ncap_record_t *self)
{
    str_map_destroy(&self->index);
    self->index = str_map_new(self->n);
    for (size_t i = 0; self->index && i < self->n; i++)
        if (str_map_put(self->index, self->fields[i].name, NULL) != 1)
            str_map_destroy(&self->index);
}

int ncap_record_set(ncap_record_t *self, const char *name, const char *value)
{
    assert(self);
    char *v = strdup(value ? value : "");
    if (!v)
        return -1;
    ncap_field_t *f = find(self, name);
    if (f) {
        free(f->value);
        f->value = v;
        return 0;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 32;
        ncap_field_t *nf = realloc(self->fields, cap * sizeof *nf);
        if (!nf) {
            free(v);
            return -1;
        }
        self->fields = nf;
        self->cap = cap;
    }
    char *n = strdup(name);
    if (!n || (self->index && str_map_put(self->index, name, NULL) != 1)) {
        free(n);
        free(v);
        str_map_destroy(&self->index); /* it may lack name now: without it, the record is scanned */
        return -1;
    }
    self->fields[self->n] = (ncap_field_t){.name = n, .value = v, .hash = name_hash(n)};
    self->n++;
    if (!self->index && self->n > RECORD_SCAN_MAX)
        index_all(self); /* out of memory: scanned, slower but right */
    return 0;
}

const char *ncap_record_get(const ncap_record_t *self, const char *name)
{
    assert(self);
    ncap_field_t *f = find(self, name);
    return f ? f->value : NULL;
}

int ncap_record_missing(const ncap_record_t *self, const char *name)
{
    const char *v = ncap_record_get(self, name);
    if (!v)
        return 1;
    for (; *v; v++)
        if (!isspace((unsigned char)*v))
            return 0;
    return 1;
}

void ncap_record_remove(ncap_record_t *self, const char *name)
{
    assert(self);
    ncap_field_t *f = find(self, name);
    if (!f)
        return;
    free(f->name);
    free(f->value);
    size_t i = (size_t)(f - self->fields);
    memmove(&self->fields[i], &self->fields[i + 1], (self->n - i - 1) * sizeof *f);
    self->n--;
    str_map_destroy(&self->index);
    if (self->n > RECORD_SCAN_MAX)
        index_all(self);
}

void ncap_record_clear(ncap_record_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->n; i++) {
        free(self->fields[i].name);
        free(self->fields[i].value);
    }
    self->n = 0;
    str_map_destroy(&self->index);
}
