/* rng.h - the one seeded pseudo-random generator: xoshiro256** 1.0 (Blackman & Vigna 2018,
 * "Scrambled linear pseudorandom number generators"), its state filled by splitmix64 as its authors
 * recommend. Streams: rng_seed mixes a stream number into the seed, so that independent users of
 * one seed (the simulator's steps) draw independent sequences; stream 0 is splitmix64 of the seed
 * itself. Not for secrets (libsodium is). Header-only: the draws sit in innermost loops. Used by
 * the simulator (services/ncap/sim/sim_rng.h adds its helpers) and the SII's simulated interval
 * (common/stats/sii.c): what they draw for a seed must not change, so neither may this. */
#ifndef NCAP_RNG_H
#define NCAP_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* splitmix64 never gives four zero words in a row, so the state is never all zero */
static inline void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95u);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

#endif
