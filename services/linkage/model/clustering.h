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
 * probable down (ties: the smaller pair first); each joins its two records' groups A and B only
 * when the mean match probability over all |A| x |B| pairs across them is at or above threshold,
 * a pair that was not scored (no blocking rule put its records together) or scored below
 * CLUSTERING_FLOOR counting as 0. Two single records join at their pair's probability, as in
 * connected components; a record joins a group when it matches the group as a whole, not one
 * member; two groups join only when most of their records match each other. So a record that
 * looks like two different people (a relative, a typo) cannot chain them into one: it goes to the
 * one it matches best, and the other stays apart. Same threshold as the pairs', so no second
 * setting. cluster[r] = the smallest record index of r's group. Cost: O(pairs log pairs) to sort,
 * and per pair at or above threshold that crosses two groups, the scored pairs of the smaller
 * group's records (a group's records and their lookalikes: small). Returns 0, or -1 when out of
 * memory. */
#define CLUSTERING_FLOOR 1e-3
int clustering_cohesive(size_t nrecords, const uint64_t *pairs, const double *probability,
                        size_t npairs, double threshold, size_t *cluster);

/* One-to-one: pairs at or above threshold taken from the most probable down (ties: the smaller
 * pair first), each record in at most one taken pair. cluster[r] = the smaller index of r's pair,
 * or r. Returns 0, or -1 when out of memory. */
int clustering_one_to_one(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster);

#endif
