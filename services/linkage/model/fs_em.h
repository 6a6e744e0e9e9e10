/* fs_em.h - expectation-maximisation for Fellegi-Sunter linkage: m (the chance of each comparison
 * level among matches) and the prior (the share of matches) estimated with u (the same among
 * non-matches) fixed, from comparison vectors or from distinct vectors with counts. */
#ifndef NCAP_FS_EM_H
#define NCAP_FS_EM_H

#include <stddef.h>
#include <stdint.h>

#define FS_MAX_LEVELS 6
#define FS_MAX_FIELDS 32

/* Expectation-maximisation of m and the prior with u fixed. gamma[p * nfields + f] is pair p's
 * level for field f; u[f * FS_MAX_LEVELS + l] and m likewise (m holds the starting values and
 * receives the estimates; null levels are ignored). *prior holds the starting proportion of
 * matches among the pairs and receives the estimate. Runs until no parameter moves by more than
 * 1e-6 or max_iter rounds; returns the rounds run. */
size_t fs_em(const uint8_t *gamma, size_t npairs, size_t nfields, const size_t *nlevels,
             const double *u, double *m, double *prior, size_t max_iter);

/* The same over distinct comparison vectors: gamma[p * nfields + f] is pattern p's level and
 * count[p] the number of pairs with it (NULL: one each). */
size_t fs_em_counts(const uint8_t *gamma, const double *count, size_t npatterns, size_t nfields,
                    const size_t *nlevels, const double *u, double *m, double *prior,
                    size_t max_iter);

/* Distinct comparison vectors and how many pairs have each: EM over a few thousand patterns
 * instead of every pair. */
typedef struct {
    size_t nfields, n, cap, nslots;
    uint8_t *gamma;  /* n * nfields */
    double *count;   /* n */
    uint32_t *slots; /* open addressing, pattern index + 1, 0 empty */
} fs_patterns_t;

/* Adds one pair with comparison vector g (pt->nfields levels) to pt, which starts zeroed with
 * nfields set; *index receives its pattern. Returns 0, or -1 when out of memory. */
int fs_patterns_add(fs_patterns_t *pt, const uint8_t *g, size_t *index);
void fs_patterns_free(fs_patterns_t *pt);

#endif
