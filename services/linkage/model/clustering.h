/* clustering.h - records into people: groups that hold together (clustering_cohesive, the
 * default), plain connected components of the pairs at or above a match probability threshold,
 * or a one-to-one assignment (a death links to at most one patient). */
#ifndef NCAP_CLUSTERING_H
#define NCAP_CLUSTERING_H

#include <stddef.h>
#include <stdint.h>

/* cluster[r] = the smallest record index in r's component, over pairs (FS_PAIR) whose
 * probability is >= threshold. The same for the same input, whatever the order of pairs.
 * Returns 0, or -1 when out of memory. */
int clustering_components(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster);

/* Groups whose members hold together. The pairs at or above threshold are taken from the most
 * probable down (ties: the smaller pair first); each joins its two records' groups only when the
 * groups hold together as a whole:
 *   - two single records: at the pair's probability, as in connected components;
 *   - a record and a group: when the mean match probability of the scored pairs between the
 *     record and the group's records (those a blocking rule put together) is at or above
 *     threshold: it must match the group, not one member of it;
 *   - two groups: when the mean over all pairs across them that could be scored (|A| x |B|; with
 *     two files, only the pairs across the files) is at or above threshold, a pair not scored
 *     counting as 0: most of their records must match each other.
 * So a record that looks like two people (a relative, a typo) joins the one it matches best and
 * cannot chain the other into it: the two groups, not matching each other, stay apart. The same
 * rule as ncap-linkd's (link_assign.h: a record joins the held patient whose identifiers it
 * matches on average), and the same threshold as the pairs': no second setting.
 * apart (NULL for none): per pair, nonzero when its two records are two people whatever their
 * probability (fs_model_apart_trained: two different valid NHS numbers); such a pair is never
 * taken, and no two groups with such a pair across them join.
 * nleft: records [0, nleft) are the first of two files, or 0 for one file. cluster[r] = the
 * smallest record index of r's group. The same for the same input, whatever the order of pairs
 * (but for rounding where a mean falls exactly on the threshold).
 * Cost: O(pairs log pairs) to sort, and per pair at or above threshold that crosses two groups,
 * the scored pairs of the smaller group's records (a person's records and their lookalikes:
 * few). Returns 0, or -1 when out of memory. */
int clustering_cohesive(size_t nrecords, size_t nleft, const uint64_t *pairs,
                        const double *probability, const uint8_t *apart, size_t npairs,
                        double threshold, size_t *cluster);

/* One-to-one: pairs at or above threshold taken from the most probable down (ties: the smaller
 * pair first), each record in at most one taken pair. cluster[r] = the smaller index of r's pair,
 * or r. Returns 0, or -1 when out of memory. */
int clustering_one_to_one(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster);

#endif
