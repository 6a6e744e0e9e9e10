/* fs_em.c - expectation-maximisation of m and the prior with u fixed, over distinct comparison
 * vectors with counts. */
#include "fs_em.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROB_FLOOR 1e-6

static uint32_t hash_bytes(const uint8_t *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

size_t fs_em_counts(const uint8_t *gamma, const double *count, size_t npatterns, size_t nfields,
                    const size_t *nlevels, const double *u, double *m, double *prior,
                    size_t max_iter)
{
    double num[FS_MAX_FIELDS * FS_MAX_LEVELS];
    double npairs = 0;
    for (size_t p = 0; p < npatterns; p++)
        npairs += count ? count[p] : 1;
    size_t iter = 0;
    while (iter < max_iter && npairs > 0) {
        iter++;
        memset(num, 0, sizeof(double) * nfields * FS_MAX_LEVELS);
        double total = 0, lambda = *prior;
        for (size_t p = 0; p < npatterns; p++) {
            const uint8_t *g = gamma + p * nfields;
            double pm = lambda, pu = 1 - lambda;
            for (size_t f = 0; f < nfields; f++) {
                if (g[f] == 0)
                    continue;
                pm *= m[f * FS_MAX_LEVELS + g[f]];
                pu *= u[f * FS_MAX_LEVELS + g[f]];
            }
            double post = (pm + pu > 0 ? pm / (pm + pu) : 0) * (count ? count[p] : 1);
            total += post;
            for (size_t f = 0; f < nfields; f++)
                num[f * FS_MAX_LEVELS + g[f]] += post;
        }
        double change = fabs(total / npairs - *prior);
        *prior = total / npairs;
        for (size_t f = 0; f < nfields; f++) {
            double sum = 0;
            for (size_t l = 1; l < nlevels[f]; l++)
                sum += num[f * FS_MAX_LEVELS + l];
            if (!(sum > 0))
                continue; /* no evidence about this field: m stays */
            for (size_t l = 1; l < nlevels[f]; l++) {
                double v = num[f * FS_MAX_LEVELS + l] / sum;
                if (v < PROB_FLOOR)
                    v = PROB_FLOOR;
                double d = fabs(v - m[f * FS_MAX_LEVELS + l]);
                if (d > change)
                    change = d;
                m[f * FS_MAX_LEVELS + l] = v;
            }
        }
        if (change < 1e-6)
            break;
    }
    return iter;
}

size_t fs_em(const uint8_t *gamma, size_t npairs, size_t nfields, const size_t *nlevels,
             const double *u, double *m, double *prior, size_t max_iter)
{
    return fs_em_counts(gamma, NULL, npairs, nfields, nlevels, u, m, prior, max_iter);
}

void fs_patterns_free(fs_patterns_t *pt)
{
    free(pt->gamma);
    free(pt->count);
    free(pt->slots);
    memset(pt, 0, sizeof *pt);
}

static int patterns_grow(fs_patterns_t *pt)
{
    size_t cap = pt->cap ? pt->cap * 2 : 256, nslots = cap * 2;
    uint8_t *g = realloc(pt->gamma, cap * pt->nfields);
    if (g)
        pt->gamma = g;
    double *c = realloc(pt->count, cap * sizeof *c);
    if (c)
        pt->count = c;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!g || !c || !slots) {
        free(slots);
        return -1;
    }
    free(pt->slots);
    pt->slots = slots;
    pt->nslots = nslots;
    pt->cap = cap;
    for (size_t p = 0; p < pt->n; p++) {
        size_t h = hash_bytes(pt->gamma + p * pt->nfields, pt->nfields) & (nslots - 1);
        while (pt->slots[h])
            h = (h + 1) & (nslots - 1);
        pt->slots[h] = (uint32_t)(p + 1);
    }
    return 0;
}

int fs_patterns_add(fs_patterns_t *pt, const uint8_t *g, size_t *index)
{
    if (pt->n == pt->cap && patterns_grow(pt) != 0)
        return -1;
    size_t h = hash_bytes(g, pt->nfields) & (pt->nslots - 1);
    for (; pt->slots[h]; h = (h + 1) & (pt->nslots - 1)) {
        size_t p = pt->slots[h] - 1;
        if (memcmp(pt->gamma + p * pt->nfields, g, pt->nfields) == 0) {
            pt->count[p] += 1;
            *index = p;
            return 0;
        }
    }
    memcpy(pt->gamma + pt->n * pt->nfields, g, pt->nfields);
    pt->count[pt->n] = 1;
    pt->slots[h] = (uint32_t)(pt->n + 1);
    *index = pt->n++;
    return 0;
}
