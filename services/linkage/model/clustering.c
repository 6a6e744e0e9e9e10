/* clustering.c - union-find with the smallest index as root; groups that hold together; greedy
 * one-to-one. */
#include "clustering.h"

#include <stdbool.h>
#include <stdint.h>
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

/* The scored pairs of each record: start[r] .. start[r + 1] in other and prob. */
typedef struct {
    size_t *start;
    uint32_t *other; /* records are fewer than 2^32 (fs_model_new) */
    float *prob;     /* a sum of them only decides a join: float's 24 bits are plenty */
} adjacency_t;

static void adjacency_free(adjacency_t *adj)
{
    free(adj->start);
    free(adj->other);
    free(adj->prob);
}

/* apart (NULL for none): pairs whose records are two people whatever their probability, kept as
 * probability -1 */
static int adjacency_build(adjacency_t *adj, size_t nrecords, const uint64_t *pairs,
                           const double *probability, const uint8_t *apart, size_t npairs)
{
    size_t n = npairs;
    adj->start = calloc(nrecords + 2, sizeof *adj->start);
    adj->other = malloc((2 * n + 1) * sizeof *adj->other);
    adj->prob = malloc((2 * n + 1) * sizeof *adj->prob);
    if (!adj->start || !adj->other || !adj->prob)
        return -1;
    for (size_t p = 0; p < npairs; p++) {
        adj->start[FS_PAIR_LEFT(pairs[p]) + 2]++;
        adj->start[FS_PAIR_RIGHT(pairs[p]) + 2]++;
    }
    for (size_t r = 2; r < nrecords + 2; r++)
        adj->start[r] += adj->start[r - 1];
    /* start[r + 1] is now where r's go: filling moves it to r's end, which is r + 1's start */
    for (size_t p = 0; p < npairs; p++) {
        size_t i = FS_PAIR_LEFT(pairs[p]), j = FS_PAIR_RIGHT(pairs[p]);
        float prob = apart && apart[p] ? -1.0f : (float)probability[p];
        size_t at = adj->start[i + 1]++;
        adj->other[at] = (uint32_t)j, adj->prob[at] = prob;
        at = adj->start[j + 1]++;
        adj->other[at] = (uint32_t)i, adj->prob[at] = prob;
    }
    return 0;
}

/* Groups as union-find with sizes, and each group's records as a list. */
typedef struct {
    size_t *parent, *size, *next, *last;
    size_t *left; /* two files: records of the first */
} groups_t;

/* The sum of the probabilities of the scored pairs between group a's records and group b, and
 * how many there are; -1 when a pair between them is apart. */
static double between(groups_t *g, const adjacency_t *adj, size_t a, size_t b, size_t *count)
{
    double sum = 0;
    *count = 0;
    for (size_t r = a; r != SIZE_MAX; r = g->next[r])
        for (size_t k = adj->start[r]; k < adj->start[r + 1]; k++)
            if (find(g->parent, adj->other[k]) == b) {
                if (adj->prob[k] < 0)
                    return -1;
                sum += adj->prob[k];
                ++*count;
            }
    return sum;
}

/* How many pairs between groups a and b could be scored: all, or with two files those across. */
static double pairs_across(const groups_t *g, size_t a, size_t b, size_t nleft)
{
    if (!nleft)
        return (double)g->size[a] * (double)g->size[b];
    return (double)g->left[a] * (double)(g->size[b] - g->left[b]) +
           (double)(g->size[a] - g->left[a]) * (double)g->left[b];
}

int clustering_cohesive(size_t nrecords, size_t nleft, const uint64_t *pairs,
                        const double *probability, const uint8_t *apart, size_t npairs,
                        double threshold, size_t *cluster)
{
    ranked_t *ranked = malloc((npairs + 1) * sizeof *ranked);
    adjacency_t adj = {0};
    groups_t g = {malloc((nrecords + 1) * sizeof(size_t)), malloc((nrecords + 1) * sizeof(size_t)),
                  malloc((nrecords + 1) * sizeof(size_t)), malloc((nrecords + 1) * sizeof(size_t)),
                  malloc((nrecords + 1) * sizeof(size_t))};
    int rc = ranked && g.parent && g.size && g.next && g.last && g.left ? 0 : -1;
    if (rc == 0)
        rc = adjacency_build(&adj, nrecords, pairs, probability, apart, npairs);
    if (rc == 0) {
        size_t n = 0;
        for (size_t p = 0; p < npairs; p++)
            if (probability[p] >= threshold && !(apart && apart[p]))
                ranked[n++] = (ranked_t){probability[p], pairs[p]};
        qsort(ranked, n, sizeof *ranked, by_rank);
        for (size_t r = 0; r < nrecords; r++) {
            g.parent[r] = g.last[r] = r;
            g.size[r] = 1;
            g.left[r] = r < nleft;
            g.next[r] = SIZE_MAX;
        }
        for (size_t k = 0; k < n; k++) {
            size_t a = find(g.parent, FS_PAIR_LEFT(ranked[k].pair));
            size_t b = find(g.parent, FS_PAIR_RIGHT(ranked[k].pair));
            if (a == b)
                continue;
            if (g.size[a] > g.size[b] || (g.size[a] == g.size[b] && a > b)) {
                size_t t = a;
                a = b, b = t;
            }
            /* a is the smaller group: its records' pairs are the fewer to look at */
            if (g.size[b] > 1) {
                size_t count;
                double sum = between(&g, &adj, a, b, &count);
                if (sum < 0)
                    continue; /* two people: a pair across them is apart */
                /* a record joining a group: over the pairs scored; two groups: over all pairs
                 * that could be */
                double over = g.size[a] == 1 ? (double)count : pairs_across(&g, a, b, nleft);
                if (sum < threshold * over)
                    continue;
            }
            g.parent[a] = b;
            g.size[b] += g.size[a];
            g.left[b] += g.left[a];
            g.next[g.last[b]] = a;
            g.last[b] = g.last[a];
        }
        /* each record's group by its smallest record */
        for (size_t r = 0; r < nrecords; r++)
            cluster[r] = SIZE_MAX;
        for (size_t r = 0; r < nrecords; r++) {
            size_t root = find(g.parent, r);
            if (cluster[root] == SIZE_MAX || cluster[root] > r)
                cluster[root] = r;
        }
        for (size_t r = 0; r < nrecords; r++)
            if (g.parent[r] != r)
                cluster[r] = cluster[find(g.parent, r)];
    }
    free(ranked);
    adjacency_free(&adj);
    free(g.parent);
    free(g.size);
    free(g.next);
    free(g.last);
    free(g.left);
    return rc;
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
