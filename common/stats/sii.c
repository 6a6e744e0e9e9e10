/* sii.c - the slope index of inequality and its simulated interval, as PHEindicatormethods'
 * phe_sii (value_type = 2, transform = FALSE) computes them (R/SII_function.R and R/utils.R,
 * FindXValues and SimulationFunc, of the package; Low & Low 2004, J Public Health 26:388).
 *
 * The regression. Group i has the share a_i = N_i / sum N of the population and the rank
 * b_i = a_1 + ... + a_{i-1} + a_i / 2, the midpoint of its slice of [0, 1]. phe_sii fits
 * sqrt(a) y = alpha sqrt(a) + beta b sqrt(a) by least squares without an intercept, which is
 * weighted least squares of y on b with weights a; its slope, with bbar = sum a_i b_i and
 * S = sum a_i (b_i - bbar)^2, is
 *     beta = sum k_i y_i,   k_i = a_i (b_i - bbar) / S,
 * a fixed linear combination of the values. That is the SII: the fitted value at rank 1 (least
 * deprived end) minus the fitted value at rank 0 (most deprived end).
 *
 * The interval. phe_sii logit-transforms every proportion and its limits (whatever `transform`
 * says: that flag only decides the scale of the regression), takes the standard error on the
 * logit scale from the group's 95% limits, se_i = (logit U_i - logit L_i) / (2 z), z =
 * qnorm(0.975), draws logit p_i + se_i Z for every group in every repetition, maps each draw back
 * with the inverse logit, and fits the same regression to the draws. The limits are the order
 * statistics round(reps * 0.025) and round(reps * 0.975) (1-based, R's round: half to even) of
 * the sorted simulated slopes. With k_i fixed, one repetition costs n normal draws, n exp and n
 * multiply-adds; 100,000 repetitions over 10 deciles take ~12 ms on one core, sort included:
 * ~7 ms to make the draws, ~5 ms from them (sii_draws_t keeps them for a caller that computes
 * many; apart from the generator's chain of dependent steps, the exps pipeline).
 *
 * The random numbers come from the seed alone, so that a release is the same on every run: the
 * project's generator (rng.h: xoshiro256**, Blackman & Vigna 2018, its state from splitmix64 of
 * the seed, stream 0), a uniform on [-1, 1) from its top 53 bits, and normals by Marsaglia's
 * polar method (Marsaglia & Bray 1964), both of each pair used, group after group within a
 * repetition (R's rnorm fills its quantile-by-repetition matrix in the same order, from another
 * generator). Of libm only log, sqrt and exp are involved: the same seed gives the same bits on one
 * platform; another libm may differ in a last digit. */
#include "sii.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ci.h"
#include "order_select.h"
#include "rng.h"

/* ---- normal draws from the project's generator (rng.h) ---- */

typedef struct {
    rng_t rng;
    int has_spare;
    double spare;
} normal_gen_t;

static void normal_seed(normal_gen_t *g, uint64_t seed)
{
    rng_seed(&g->rng, seed, 0);
    g->has_spare = 0;
    g->spare = 0;
}

/* uniform on [-1, 1) in steps of 2^-52 */
static double symmetric_uniform(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-52 - 1.0;
}

/* standard normal, Marsaglia's polar method: (v1, v2) uniform in the unit disc (the square's
 * points outside, or the centre, redrawn: 21.5% of pairs), then v * sqrt(-2 ln s / s), s = |v|^2,
 * are two independent normals. */
static double normal_next(normal_gen_t *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double v1, v2, s;
    do {
        v1 = symmetric_uniform(&g->rng);
        v2 = symmetric_uniform(&g->rng);
        s = v1 * v1 + v2 * v2;
    } while (s >= 1 || s == 0);
    double f = sqrt(-2 * log(s) / s);
    g->spare = v2 * f;
    g->has_spare = 1;
    return v1 * f;
}

/* ---- the statistic ---- */

static double logit(double p)
{
    return log(p / (1 - p));
}

/* 1 / (1 + e^-t), without overflow for any t */
static double inv_logit(double t)
{
    if (t >= 0)
        return 1 / (1 + exp(-t));
    double e = exp(t);
    return e / (1 + e);
}

static int check(const sii_group_t *groups, size_t n, unsigned reps, char *err, size_t errlen)
{
    if (!groups && n > 0) {
        snprintf(err, errlen, "no groups given for %zu", n);
        return -1;
    }
    if (n < 2) {
        snprintf(err, errlen, "%zu group%s, expected at least 2 ordered groups", n,
                 n == 1 ? "" : "s");
        return -1;
    }
    if (reps < SII_REPS_MIN) {
        snprintf(err, errlen, "%u repetitions, expected at least %u (as phe_sii)", reps,
                 SII_REPS_MIN);
        return -1;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const sii_group_t *g = &groups[i];
        if (!(g->population > 0) || !isfinite(g->population)) {
            snprintf(err, errlen, "group %zu: population %g, expected a finite number > 0", i + 1,
                     g->population);
            return -1;
        }
        total += g->population;
        if (!isfinite(total)) {
            snprintf(err, errlen, "groups 1-%zu: the populations add up past %g", i + 1, DBL_MAX);
            return -1;
        }
        if (!isfinite(g->value) || !isfinite(g->lower95) || !isfinite(g->upper95)) {
            snprintf(err, errlen,
                     "group %zu: value %g, 95%% interval %g-%g, expected finite numbers", i + 1,
                     g->value, g->lower95, g->upper95);
            return -1;
        }
        if (!(g->lower95 <= g->value && g->value <= g->upper95)) {
            snprintf(err, errlen,
                     "group %zu: value %g lies outside its 95%% interval %g-%g, expected "
                     "lower95 <= value <= upper95",
                     i + 1, g->value, g->lower95, g->upper95);
            return -1;
        }
        if (!(g->lower95 > 0 && g->upper95 < 1)) {
            snprintf(err, errlen,
                     "group %zu: value %g with 95%% interval %g-%g, expected 0 < lower95 and "
                     "upper95 < 1: the interval is simulated on the logit scale, which a "
                     "proportion of 0 or 1 (a numerator of 0 or of the whole denominator) "
                     "does not have",
                     i + 1, g->value, g->lower95, g->upper95);
            return -1;
        }
    }
    return 0;
}

/* The SII of n groups and its interval from reps repetitions of the regression, the normal of
 * repetition r and group i the (r * n + i)-th of the draws z (reps x n of them at least, in the
 * order they were drawn), the limits as phe_sii takes them, into out. Returns 0, or -1 when out
 * of memory. */
static int simulate(const sii_group_t *groups, size_t n, unsigned reps, const double *z,
                    sii_result_t *out)
{
    double *k = malloc(n * sizeof *k);
    double *mu = malloc(n * sizeof *mu);
    double *se = malloc(n * sizeof *se);
    double *slopes = malloc((size_t)reps * sizeof *slopes);
    if (!k || !mu || !se || !slopes) {
        free(k);
        free(mu);
        free(se);
        free(slopes);
        return -1;
    }

    /* shares, ranks (kept in k until the weights replace them) and the weighted mean rank */
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += groups[i].population;
    double cum = 0, bbar = 0;
    for (size_t i = 0; i < n; i++) {
        double a = groups[i].population / total;
        k[i] = cum + a / 2;
        cum += a;
        bbar += a * k[i];
    }
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double a = groups[i].population / total, d = k[i] - bbar;
        s += a * d * d;
    }
    double sii = 0;
    for (size_t i = 0; i < n; i++) {
        double a = groups[i].population / total;
        k[i] = a * (k[i] - bbar) / s;
        sii += k[i] * groups[i].value;
        mu[i] = logit(groups[i].value);
        se[i] = (logit(groups[i].upper95) - logit(groups[i].lower95)) / (2 * NCAP_Z95);
    }

    for (unsigned r = 0; r < reps; r++) {
        const double *zr = z + (size_t)r * n;
        double b = 0;
        for (size_t i = 0; i < n; i++)
            b += k[i] * inv_logit(mu[i] + se[i] * zr[i]);
        slopes[r] = b;
    }
    /* phe_sii's positions, computed as it does: confidence_value = 0.95 + (1 - 0.95) / 2; the
     * two order statistics of the sorted slopes, selected (the upper first: then every slope
     * below it is no greater, and the lower is selected among those) */
    double cv = 0.95 + (1 - 0.95) / 2;
    size_t lo = (size_t)nearbyint(reps * (1 - cv));
    size_t hi = (size_t)nearbyint(reps * cv);
    order_select(slopes, reps, hi - 1);
    order_select(slopes, hi - 1, lo - 1);
    out->sii = sii;
    out->lower95 = slopes[lo - 1];
    out->upper95 = slopes[hi - 1];

    free(k);
    free(mu);
    free(se);
    free(slopes);
    return 0;
}

int sii_compute(const sii_group_t *groups, size_t n, unsigned reps, uint64_t seed,
                sii_result_t *out, char *err, size_t errlen)
{
    assert(out);
    if (check(groups, n, reps, err, errlen) != 0)
        return -1;
    /* the draws of these n groups, made for this computation: one way to draw, sii_draws_make's */
    sii_draws_t d;
    if (sii_draws_make(&d, n, reps, seed, err, errlen) != 0)
        return -1;
    int rc = simulate(groups, n, reps, d.z, out);
    sii_draws_free(&d);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

int sii_draws_make(sii_draws_t *d, size_t max_groups, unsigned reps, uint64_t seed, char *err,
                   size_t errlen)
{
    assert(d);
    *d = (sii_draws_t){0};
    if (reps < SII_REPS_MIN || max_groups < 2) {
        snprintf(err, errlen, "%u repetitions of %zu groups, expected at least %u of 2", reps,
                 max_groups, SII_REPS_MIN);
        return -1;
    }
    if (max_groups > SIZE_MAX / sizeof(double) / reps) {
        snprintf(err, errlen, "%u repetitions of %zu groups: too many draws", reps, max_groups);
        return -1;
    }
    size_t count = (size_t)reps * max_groups;
    double *z = malloc(count * sizeof *z);
    if (!z) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    normal_gen_t gen;
    normal_seed(&gen, seed);
    for (size_t j = 0; j < count; j++)
        z[j] = normal_next(&gen);
    *d = (sii_draws_t){.reps = reps, .max_groups = max_groups, .seed = seed, .z = z};
    return 0;
}

void sii_draws_free(sii_draws_t *d)
{
    if (!d)
        return;
    free(d->z);
    *d = (sii_draws_t){0};
}

int sii_compute_draws(const sii_group_t *groups, size_t n, const sii_draws_t *d, sii_result_t *out,
                      char *err, size_t errlen)
{
    assert(d && out);
    if (!d->z) {
        snprintf(err, errlen, "no draws made");
        return -1;
    }
    if (check(groups, n, d->reps, err, errlen) != 0)
        return -1;
    if (n > d->max_groups) {
        snprintf(err, errlen, "%zu groups, the draws were made for at most %zu", n, d->max_groups);
        return -1;
    }
    if (simulate(groups, n, d->reps, d->z, out) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
