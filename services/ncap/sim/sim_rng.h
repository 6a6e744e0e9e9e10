/* sim_rng.h - the simulator's draws from the project's seeded generator (rng.h: xoshiro256**
 * seeded through splitmix64). Each step of the simulation seeds its own stream (rng_seed's stream),
 * so that one step drawing more or fewer numbers leaves the others' draws as they were.
 * Header-only: the draws are in the innermost loops.
 */
#ifndef NCAP_SIM_RNG_H
#define NCAP_SIM_RNG_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* 0..n-1 (n > 0) */
static inline uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* lo..hi inclusive */
static inline int rng_range(rng_t *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static inline bool rng_per_mille(rng_t *r, unsigned p)
{
    return rng_below(r, 1000) < p;
}

static inline size_t rng_pick(rng_t *r, const unsigned *w, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    unsigned x = rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* A uniform number in (0, 1), never 0 or 1. */
static inline double rng_uniform(rng_t *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53;
}

/* A standard normal number (Box-Muller, one of the pair: two draws). */
static inline double rng_normal(rng_t *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* An index of w (n weights), drawn in proportion to the weights. */
#define PICK(r, w) rng_pick((r), (w), sizeof(w) / sizeof((w)[0]))

/* Puts k distinct indices of 0..n-1 in the first k slots of perm (n slots). */
static inline void rng_choose(rng_t *r, uint32_t *perm, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = 0; i < k && i < n; i++) {
        size_t j = i + rng_below(r, (uint32_t)(n - i));
        uint32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

#endif
