/* trust_rate.c - token buckets by trust */
#include "trust_rate.h"

#include <assert.h>
#include <stdlib.h>

#include "str_map.h"

typedef struct {
    double tokens;
    long long at_ms; /* when tokens was computed */
} bucket_t;

struct trust_rate_t {
    unsigned limit, window_s;
    str_map_t *trusts; /* trust -> index into buckets */
    bucket_t *buckets;
    size_t cap;
    size_t rebuild_at; /* the map's size at which forget_full runs next */
};

trust_rate_t *trust_rate_new(unsigned limit, unsigned window_s)
{
    trust_rate_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->limit = limit;
    self->window_s = window_s ? window_s : 1;
    self->rebuild_at = TRUST_RATE_MAX_TRUSTS;
    if (!(self->trusts = str_map_new(0))) {
        free(self);
        return NULL;
    }
    return self;
}

void trust_rate_destroy(trust_rate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    trust_rate_t *self = *self_p;
    str_map_destroy(&self->trusts);
    free(self->buckets);
    free(self);
    *self_p = NULL;
}

/* Tokens per millisecond. */
static double rate(const trust_rate_t *self)
{
    return (double)self->limit / (1000.0 * self->window_s);
}

/* b's tokens at now_ms. */
static double level(const trust_rate_t *self, const bucket_t *b, long long now_ms)
{
    double t = b->tokens + (double)(now_ms - b->at_ms) * rate(self);
    return t < self->limit ? t : self->limit;
}

/* A new map of the trusts whose bucket is not full at now_ms. Returns 0, or -1 (unchanged). */
static int forget_full(trust_rate_t *self, long long now_ms)
{
    str_map_t *kept = str_map_new(0);
    bucket_t *buckets = calloc(self->cap, sizeof *buckets);
    int rc = kept && buckets ? 0 : -1;
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < str_map_size(self->trusts); i++) {
        if (level(self, &self->buckets[i], now_ms) >= self->limit)
            continue;
        if (str_map_put(kept, str_map_key(self->trusts, i), NULL) < 0)
            rc = -1;
        else
            buckets[n++] = self->buckets[i];
    }
    if (rc != 0) {
        str_map_destroy(&kept);
        free(buckets);
        return -1;
    }
    str_map_destroy(&self->trusts);
    free(self->buckets);
    self->trusts = kept;
    self->buckets = buckets;
    return 0;
}

long long trust_rate_take(trust_rate_t *self, const char *trust, long long now_ms)
{
    assert(self);
    if (self->limit == 0)
        return 0;
    size_t at = str_map_get(self->trusts, trust);
    if (at == STR_MAP_MISSING) {
        /* The next rebuild once the map has doubled from what this one kept: when most trusts
         * are not full (many took a submission within the window) a rebuild forgets few of them,
         * and one at every new trust would cost O(trusts) each, quadratic in all. */
        if (str_map_size(self->trusts) >= self->rebuild_at) {
            forget_full(self, now_ms);
            size_t twice = 2 * str_map_size(self->trusts);
            self->rebuild_at = twice > TRUST_RATE_MAX_TRUSTS ? twice : TRUST_RATE_MAX_TRUSTS;
        }
        if (str_map_put(self->trusts, trust, &at) < 0)
            return 0;
        if (at >= self->cap) {
            size_t cap = self->cap ? self->cap * 2 : 64;
            bucket_t *b = realloc(self->buckets, cap * sizeof *b);
            if (!b)
                return 0; /* the key stays with a full bucket below when memory returns */
            self->buckets = b;
            self->cap = cap;
        }
        self->buckets[at] = (bucket_t){self->limit, now_ms};
    }
    if (at >= self->cap)
        return 0; /* its bucket could not be made: not limited */
    bucket_t *b = &self->buckets[at];
    double t = level(self, b, now_ms);
    if (t < 1.0)
        return (long long)((1.0 - t) / rate(self) - 1e-6) + 1; /* rounded up, at least 1 */
    b->tokens = t - 1.0;
    b->at_ms = now_ms;
    return 0;
}

unsigned trust_rate_limit(const trust_rate_t *self)
{
    return self->limit;
}

unsigned trust_rate_window(const trust_rate_t *self)
{
    return self->window_s;
}
