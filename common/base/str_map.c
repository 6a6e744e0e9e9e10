/* str_map.c - strings to dense indexes: open addressing over SipHash-2-4 (see str_map.h) */
#include "str_map.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 16
#define MIN_BLOCK 1024
#define MAX_BLOCK 65536

typedef struct {
    uint32_t index; /* the key's index + 1; 0 for an empty slot */
    uint32_t hash;  /* low 32 bits of the key's hash: its home slot, and a quick test for unequal
                       keys that spares most string comparisons */
} slot_t;

/* Copies of the keys, in blocks that never move (str_map_key hands out pointers into them). */
typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block_t;

struct str_map_t {
    unsigned char seed[crypto_shorthash_KEYBYTES];
    slot_t *slots;
    size_t nslots;     /* a power of two, at least twice the keys held */
    const char **keys; /* by index */
    size_t n, cap;
    block_t *blocks; /* the newest first */
};

str_map_t *str_map_new(size_t expected)
{
    str_map_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (expected > STR_MAP_MAX_KEYS)
        expected = STR_MAP_MAX_KEYS;
    self->nslots = MIN_SLOTS;
    while (self->nslots < 2 * expected)
        self->nslots *= 2;
    self->slots = calloc(self->nslots, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    randombytes_buf(self->seed, sizeof self->seed);
    return self;
}

void str_map_destroy(str_map_t **self_p)
{
    assert(self_p);
    str_map_t *self = *self_p;
    if (!self)
        return;
    for (block_t *b = self->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(self->keys);
    free(self->slots);
    sodium_memzero(self->seed, sizeof self->seed);
    free(self);
    *self_p = NULL;
}

static uint32_t hash_of(const str_map_t *self, const char *key, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)key, len, self->seed);
    uint32_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find(const str_map_t *self, const char *key, uint32_t h)
{
    size_t mask = self->nslots - 1;
    for (size_t at = h & mask;; at = (at + 1) & mask) {
        const slot_t *s = &self->slots[at];
        if (!s->index || (s->hash == h && strcmp(self->keys[s->index - 1], key) == 0))
            return at;
    }
}

/* Twice the slots; the hashes kept in them say where each goes, no key is hashed again. */
static int grow_slots(str_map_t *self)
{
    size_t nslots = self->nslots * 2, mask = nslots - 1;
    slot_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->nslots; i++) {
        slot_t s = self->slots[i];
        if (!s.index)
            continue;
        size_t at = s.hash & mask;
        while (slots[at].index)
            at = (at + 1) & mask;
        slots[at] = s;
    }
    free(self->slots);
    self->slots = slots;
    self->nslots = nslots;
    return 0;
}

static const char *keep(str_map_t *self, const char *key, size_t len)
{
    block_t *b = self->blocks;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = b ? (b->cap < MAX_BLOCK ? b->cap * 2 : MAX_BLOCK) : MIN_BLOCK;
        if (cap < len + 1)
            cap = len + 1;
        block_t *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        self->blocks = b = nb;
    }
    char *copy = b->data + b->used;
    memcpy(copy, key, len + 1);
    b->used += len + 1;
    return copy;
}

int str_map_put(str_map_t *self, const char *key, size_t *index)
{
    assert(self);
    assert(key);
    size_t len = strlen(key);
    uint32_t h = hash_of(self, key, len);
    size_t at = find(self, key, h);
    if (self->slots[at].index) {
        if (index)
            *index = self->slots[at].index - 1;
        return 0;
    }
    if (self->n >= STR_MAP_MAX_KEYS)
        return -1;
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        const char **keys = realloc(self->keys, cap * sizeof *keys);
        if (!keys)
            return -1;
        self->keys = keys;
        self->cap = cap;
    }
    if (2 * (self->n + 1) > self->nslots) {
        if (grow_slots(self) != 0)
            return -1;
        at = find(self, key, h);
    }
    const char *copy = keep(self, key, len);
    if (!copy)
        return -1;
    self->keys[self->n] = copy;
    self->slots[at] = (slot_t){(uint32_t)(self->n + 1), h};
    if (index)
        *index = self->n;
    self->n++;
    return 1;
}

size_t str_map_get(const str_map_t *self, const char *key)
{
    assert(self);
    assert(key);
    uint32_t i = self->slots[find(self, key, hash_of(self, key, strlen(key)))].index;
    return i ? (size_t)i - 1 : STR_MAP_MISSING;
}

size_t str_map_size(const str_map_t *self)
{
    assert(self);
    return self->n;
}

const char *str_map_key(const str_map_t *self, size_t index)
{
    assert(self);
    assert(index < self->n);
    return self->keys[index];
}
