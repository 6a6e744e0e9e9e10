/* sii.h - the slope index of inequality (SII) across ordered deprivation groups, as
 * PHEindicatormethods' phe_sii computes it for a proportion (value_type = 2, transform = FALSE):
 * a weighted regression of each group's value on its cumulative rank (the midpoint of its share of
 * the population, most deprived first; weights the shares), the SII the regression's slope (the
 * fitted value at rank 1, the least deprived end, minus the value at rank 0, the most deprived
 * end: negative when the proportion falls as deprivation falls), and its 95% interval by
 * simulation: each group's value drawn on the logit scale, normal around logit(value) with the
 * standard error (logit(upper95) - logit(lower95)) / (2 * 1.959964), mapped back, the regression
 * refitted, and the 2.5th and 97.5th percentiles of the simulated slopes taken (phe_sii's order
 * statistics round(0.025 reps) and round(0.975 reps)). The draws come from the project's seeded
 * generator (rng.h, xoshiro256**; normals by Marsaglia's polar method), so the same groups, reps
 * and seed give the same interval, bit for bit on one platform. Pure; sii.c says more. */
#ifndef NCAP_SII_H
#define NCAP_SII_H

#include <stddef.h>
#include <stdint.h>

/* phe_sii's default number of repetitions, and its minimum. */
#define SII_REPS_DEFAULT 100000u
#define SII_REPS_MIN 1000u

typedef struct {
    double population; /* the group's denominator, > 0 */
    double value;      /* a proportion: 0 < lower95 <= value <= upper95 < 1 */
    double lower95;    /* the group's own 95% interval (Wilson for proportions) */
    double upper95;
} sii_group_t;

typedef struct {
    double sii;
    double lower95, upper95;
} sii_result_t;

/* groups[0..n) ordered from most to least deprived (IMD decile 1 first). reps simulations, at least
 * SII_REPS_MIN as phe_sii requires (SII_REPS_DEFAULT, phe_sii's default: ~12 ms for 10 groups),
 * drawn from seed. Returns 0, or -1 with err: fewer than 2 groups, reps < 1000, a population <= 0
 * or not finite (or all of them adding up past DBL_MAX), a value or limit not finite, lower95 >
 * value or upper95 < value, or a limit at 0 or 1 (lower95 <= 0 or upper95 >= 1: the logit scale has
 * no such proportion, so a group whose numerator is 0 or its whole denominator has no interval;
 * phe_sii gives NA there), or out of memory. out is written only on success. It makes the draws
 * (sii_draws_make: reps x n doubles, 8 MB for ten groups at the default) and frees them again. */
int sii_compute(const sii_group_t *groups, size_t n, unsigned reps, uint64_t seed,
                sii_result_t *out, char *err, size_t errlen);

/* The normal draws of sii_compute for up to max_groups groups, made once and kept: the draws depend
 * on the seed alone (repetition r's group i takes draw r * n + i of the seed's sequence, whatever
 * the groups), so a caller that computes many SIIs from one seed (publish: one per proportion
 * metric and period in every round) skips the generator: ~5 ms instead of ~12 for ten groups. 8
 * bytes a draw: reps x max_groups (8 MB for phe_sii's default reps and ten deciles). */
typedef struct {
    unsigned reps;
    size_t max_groups;
    uint64_t seed;
    double *z; /* reps x max_groups normals, in the order they were drawn */
} sii_draws_t;

/* Makes d's draws. Returns 0, or -1 with err: reps < SII_REPS_MIN, max_groups < 2 or a product
 * too large, or out of memory (d is then empty). */
int sii_draws_make(sii_draws_t *d, size_t max_groups, unsigned reps, uint64_t seed, char *err,
                   size_t errlen);
void sii_draws_free(sii_draws_t *d);

/* sii_compute(groups, n, d->reps, d->seed, ...) from d's draws: the same result, bit for bit.
 * Returns 0, or -1 with err as sii_compute, or when n exceeds d->max_groups. */
int sii_compute_draws(const sii_group_t *groups, size_t n, const sii_draws_t *d, sii_result_t *out,
                      char *err, size_t errlen);

#endif
