/* cluster_score.h - how well a linkage found the people: two clusterings of the same records, the
 * truth and a result, compared pair by pair and record by record. Pure; no pair is enumerated:
 * everything follows from the clusters' sizes and the contingency table of (truth cluster, result
 * cluster) cells, so 5 million records take a sort of 5 million numbers.
 *
 *   pairwise (over all pairs of records within one cluster): precision = pairs the result puts
 *   together that the truth does too / pairs the result puts together; recall = the same / pairs
 *   the truth puts together. With n the records of a cell, a of a truth cluster and b of a result
 *   cluster: agreeing = sum C(n, 2), truth = sum C(a, 2), result = sum C(b, 2).
 *   B-cubed (Bagga and Baldwin 1998; Amigo et al. 2009), the mean over records of the share of
 *   the record's result cluster in its truth cluster (precision) and of its truth cluster in its
 *   result cluster (recall): precision = sum n^2 / b / N, recall = sum n^2 / a / N over cells.
 *   F1 is the harmonic mean of precision and recall. A ratio of no pairs to no pairs (nothing
 *   claimed, or nothing to find) counts as 1: nothing was got wrong. */
#ifndef NCAP_CLUSTER_SCORE_H
#define NCAP_CLUSTER_SCORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t records, truth_clusters, result_clusters;
    uint64_t truth_pairs, result_pairs, agreeing_pairs;
    double precision, recall, f1;                      /* pairwise */
    double bcubed_precision, bcubed_recall, bcubed_f1; /* per record */
} cluster_score_t;

/* truth[i] and result[i]: the clusters of record i of n, numbered below n (only equality
 * matters: n records make at most n clusters). Returns 0, -1 when out of memory, or -2 when a
 * number is n or more. */
int cluster_score(const uint32_t *truth, const uint32_t *result, size_t n, cluster_score_t *out);

#endif
