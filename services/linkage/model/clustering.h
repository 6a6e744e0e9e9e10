/* clustering.h - records into people: connected components of the pairs at or above a match
 * probability threshold, or a one-to-one assignment (a death links to at most one patient). */
#ifndef NCAP_CLUSTERING_H
#define NCAP_CLUSTERING_H

#include <stddef.h>
#include <stdint.h>

/* cluster[r] = the smallest record index in r's component, over pairs (FS_PAIR) whose
 * probability is >= threshold. The same for the same input, whatever the order of pairs.
 * Returns 0, or -1 when out of memory. */
int clustering_components(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster);

/* One-to-one: pairs at or above threshold taken from the most probable down (ties: the smaller
 * pair first), each record in at most one taken pair. cluster[r] = the smaller index of r's pair,
 * or r. Returns 0, or -1 when out of memory. */
int clustering_one_to_one(size_t nrecords, const uint64_t *pairs, const double *probability,
                          size_t npairs, double threshold, size_t *cluster);

#endif
