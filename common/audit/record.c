/* record.c - one record as named text values, found by a scan or an index (record.h) */
#include "record.h"

#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fnv1a.h"

ncap_record_t *ncap_record_new(void)
{
    return calloc(1, sizeof(ncap_record_t));
}

/* A block of a record's names and values: bytes used of cap. */
struct ncap_record_block {
    ncap_record_block_t *next;
    size_t used, cap;
    char bytes[];
};

/* The room in a record's ordinary block (2 KiB with its header): NHFD's 30-odd fields and their
 * names fit in one. */
#define RECORD_BLOCK_BYTES (2048 - sizeof(ncap_record_block_t))

void ncap_record_destroy(ncap_record_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ncap_record_t *self = *self_p;
    ncap_record_clear(self);
    free(self->blocks); /* clear kept the first */
    free(self->fields);
    free(self);
    *self_p = NULL;
}

/* A copy of the len bytes of s and a NUL in the record's blocks; NULL when out of memory. */
static char *copy_in(ncap_record_t *self, const char *s, size_t len)
{
    ncap_record_block_t *b = self->blocks;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > RECORD_BLOCK_BYTES ? len + 1 : RECORD_BLOCK_BYTES;
        ncap_record_block_t *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        *nb = (ncap_record_block_t){.cap = cap};
        /* a block made for one long value goes behind the current one, which keeps its room */
        if (b && cap > RECORD_BLOCK_BYTES) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            self->blocks = nb;
        }
        b = nb;
    }
    char *out = b->bytes + b->used;
    memcpy(out, s, len);
    out[len] = '\0';
    b->used += len + 1;
    return out;
}

/* FNV-1a (fnv1a.h), its low 32 bits: a scan compares a field's name only where the hashes agree
 * (one name in a record's 30 or so, not each of them: a record's fields are looked up hundreds of
 * times a record) */
static uint32_t name_hash(const char *name)
{
    return (uint32_t)fnv1a64(name);
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
    if (!value)
        value = "";
    ncap_field_t *f = find(self, name);
    if (f) {
        char *v = copy_in(self, value, strlen(value));
        if (!v)
            return -1;
        f->value = v;
        return 0;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 32;
        ncap_field_t *nf = realloc(self->fields, cap * sizeof *nf);
        if (!nf)
            return -1;
        self->fields = nf;
        self->cap = cap;
    }
    char *n = copy_in(self, name, strlen(name));
    char *v = n ? copy_in(self, value, strlen(value)) : NULL;
    if (!v || (self->index && str_map_put(self->index, name, NULL) != 1)) {
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
    /* the newest ordinary block is kept (the first, or the one behind a long value's) */
    ncap_record_block_t *keep = NULL;
    for (ncap_record_block_t *b = self->blocks, *next; b; b = next) {
        next = b->next;
        if (!keep && b->cap == RECORD_BLOCK_BYTES)
            keep = b;
        else
            free(b);
    }
    if (keep)
        *keep = (ncap_record_block_t){.cap = RECORD_BLOCK_BYTES};
    self->blocks = keep;
    self->n = 0;
    str_map_destroy(&self->index);
}
