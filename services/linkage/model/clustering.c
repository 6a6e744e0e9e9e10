/* clustering.c - union-find with the smallest index as root; greedy one-to-one. */
#include "clustering.h"

#include <stdbool.h>
#include <stdlib.h>

#include "fs_model.h"

static size_t find(size_t *parent, size_t r)
{
    while (parent[r] != r) {
        parent[r] = parent[parent[r]];
        r = parent[r];
    }
    return r;
}

int clustering_components(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster)
{
    for (size_t r = 0; r < nrecords; r++)
        cluster[r] = r;
    for (size_t p = 0; p < npairs; p++) {
        if (probability[p] < threshold)
            continue;
        size_t a = find(cluster, FS_PAIR_LEFT(pairs[p]));
        size_t b = find(cluster, FS_PAIR_RIGHT(pairs[p]));
        if (a < b)
            cluster[b] = a;
        else if (b < a)
            cluster[a] = b;
    }
    for (size_t r = 0; r < nrecords; r++)
        cluster[r] = find(cluster, r);
    return 0;
}

typedef struct {
    double probability;
    uint64_t pair;
} ranked_t;

static int by_rank(const void *x, const void *y)
{
    const ranked_t *a = x, *b = y;
    if (a->probability != b->probability)
        return a->probability > b->probability ? -1 : 1;
    return (a->pair > b->pair) - (a->pair < b->pair);
}

int clustering_one_to_one(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster)
{
    ranked_t *ranked = malloc((npairs + 1) * sizeof *ranked);
    bool *taken = calloc(nrecords + 1, sizeof *taken);
    if (!ranked || !taken) {
        free(ranked);
        free(taken);
        return -1;
    }
    size_t n = 0;
    for (size_t p = 0; p < npairs; p++)
        if (probability[p] >= threshold)
            ranked[n++] = (ranked_t){probability[p], pairs[p]};
    qsort(ranked, n, sizeof *ranked, by_rank);
    for (size_t r = 0; r < nrecords; r++)
        cluster[r] = r;
    for (size_t k = 0; k < n; k++) {
        size_t i = FS_PAIR_LEFT(ranked[k].pair), j = FS_PAIR_RIGHT(ranked[k].pair);
        if (taken[i] || taken[j])
            continue;
        taken[i] = taken[j] = true;
        cluster[i] = cluster[j] = i < j ? i : j;
    }
    free(ranked);
    free(taken);
    return 0;
}
