/* term_freq.c - an open-addressing hash table of values' frequencies */
#include "term_freq.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "str_hash.h"

typedef struct {
    char *value;
    size_t field;
    double frequency;
} entry_t;

struct term_freq_t {
    entry_t *entries; /* in the order added */
    size_t n, cap;
    uint32_t *slots; /* index + 1 into entries, 0 for empty; nslots a power of two */
    size_t nslots;
};

term_freq_t *term_freq_new(void)
{
    term_freq_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->nslots = 64;
    self->slots = calloc(self->nslots, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    return self;
}

void term_freq_destroy(term_freq_t **self_p)
{
    assert(self_p);
    term_freq_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        free(self->entries[i].value);
    free(self->entries);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static size_t slot_of(size_t field, const char *value, size_t nslots)
{
    return (str_hash(value) ^ (field * (size_t)0x9E3779B97F4A7C15ULL)) & (nslots - 1);
}

/* The slot holding (field, value), or the empty slot where it would go. */
static size_t find(const term_freq_t *self, size_t field, const char *value)
{
    size_t h = slot_of(field, value, self->nslots);
    for (;; h = (h + 1) & (self->nslots - 1)) {
        uint32_t s = self->slots[h];
        if (!s)
            return h;
        const entry_t *e = &self->entries[s - 1];
        if (e->field == field && strcmp(e->value, value) == 0)
            return h;
    }
}

static int grow(term_freq_t *self)
{
    size_t nslots = self->nslots * 2;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->n; i++) {
        size_t h = slot_of(self->entries[i].field, self->entries[i].value, nslots);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)(i + 1);
    }
    free(self->slots);
    self->slots = slots;
    self->nslots = nslots;
    return 0;
}

int term_freq_add(term_freq_t *self, size_t field, const char *value, double amount)
{
    assert(self && value);
    size_t h = find(self, field, value);
    if (self->slots[h]) {
        self->entries[self->slots[h] - 1].frequency += amount;
        return 0;
    }
    if (self->n >= UINT32_MAX - 1)
        return -1;
    /* at most half full, so that a miss ends soon */
    if ((self->n + 1) * 2 > self->nslots) {
        if (grow(self) != 0)
            return -1;
        h = find(self, field, value);
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        entry_t *e = realloc(self->entries, cap * sizeof *e);
        if (!e)
            return -1;
        self->entries = e;
        self->cap = cap;
    }
    char *copy = strdup(value);
    if (!copy)
        return -1;
    self->entries[self->n] = (entry_t){.value = copy, .field = field, .frequency = amount};
    self->slots[h] = (uint32_t)++self->n;
    return 0;
}

double term_freq_get(const term_freq_t *self, size_t field, const char *value)
{
    assert(self && value);
    uint32_t s = self->slots[find(self, field, value)];
    return s ? self->entries[s - 1].frequency : 0;
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
    *field = self->entries[i].field;
    *value = self->entries[i].value;
    *frequency = self->entries[i].frequency;
}
