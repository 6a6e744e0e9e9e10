/* cluster_score.c - pairwise and B-cubed precision, recall and F1 of a clustering
 * (cluster_score.h). O(n log n) for the sort of the records' cells, 12 bytes a record besides the
 * input. */
#include "cluster_score.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t pairs_of(uint64_t n)
{
    return n < 2 ? 0 : n * (n - 1) / 2;
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : 1.0;
}

static double harmonic(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

int cluster_score(const uint32_t *truth, const uint32_t *result, size_t n, cluster_score_t *out)
{
    memset(out, 0, sizeof *out);
    out->records = n;
    for (size_t i = 0; i < n; i++)
        if (truth[i] >= n || result[i] >= n)
            return -2;
    size_t alloc = n ? n : 1;
    uint32_t *a = calloc(alloc, sizeof *a); /* records of each truth cluster */
    uint32_t *b = calloc(alloc, sizeof *b); /* ... of each result cluster */
    uint64_t *cells = malloc(alloc * sizeof *cells);
    if (!a || !b || !cells) {
        free(a);
        free(b);
        free(cells);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        a[truth[i]]++;
        b[result[i]]++;
        cells[i] = (uint64_t)truth[i] << 32 | result[i];
    }
    for (size_t c = 0; c < n; c++) {
        out->truth_clusters += a[c] > 0;
        out->result_clusters += b[c] > 0;
        out->truth_pairs += pairs_of(a[c]);
        out->result_pairs += pairs_of(b[c]);
    }
    qsort(cells, n, sizeof *cells, cmp_u64);
    double bp = 0, br = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && cells[j] == cells[i])
            j++;
        double cell = (double)(j - i);
        out->agreeing_pairs += pairs_of(j - i);
        bp += cell * cell / b[cells[i] & 0xffffffffu];
        br += cell * cell / a[cells[i] >> 32];
        i = j;
    }
    out->precision = ratio((double)out->agreeing_pairs, (double)out->result_pairs);
    out->recall = ratio((double)out->agreeing_pairs, (double)out->truth_pairs);
    out->f1 = harmonic(out->precision, out->recall);
    out->bcubed_precision = ratio(bp, (double)n);
    out->bcubed_recall = ratio(br, (double)n);
    out->bcubed_f1 = harmonic(out->bcubed_precision, out->bcubed_recall);
    free(a);
    free(b);
    free(cells);
    return 0;
}
