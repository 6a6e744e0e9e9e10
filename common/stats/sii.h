/* sii.h - the slope index of inequality (SII) across ordered deprivation groups, as
 * PHEindicatormethods' phe_sii computes it: a weighted regression of each group's value on its
 * cumulative rank (the midpoint of its share of the population, most deprived first), the SII the
 * regression's slope (the value at rank 1 minus the value at rank 0), and its 95% interval by
 * simulation: each group's value drawn from a normal distribution whose standard error comes from
 * the group's own 95% interval, with a fixed seed so that a release is reproducible. Pure. */
#ifndef NCAP_SII_H
#define NCAP_SII_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double population; /* the group's denominator, > 0 */
    double value;      /* e.g. a proportion */
    double lower95;    /* the group's own 95% interval (Wilson for proportions) */
    double upper95;
} sii_group_t;

typedef struct {
    double sii;
    double lower95, upper95;
} sii_result_t;

/* groups[0..n) ordered from most to least deprived (IMD decile 1 first). reps simulations (phe_sii's
 * default 100,000), drawn from seed. Returns 0, or -1 with err (fewer than 2 groups, a population
 * <= 0, a value or limit not finite, lower95 > value or upper95 < value, reps 0). */
int sii_compute(const sii_group_t *groups, size_t n, unsigned reps, uint64_t seed, sii_result_t *out,
                char *err, size_t errlen);

#endif
