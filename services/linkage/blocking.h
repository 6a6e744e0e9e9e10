/* blocking.h - candidate pairs for record linkage: the union of several blocking rules, each pair
 * once. A rule puts records whose key agrees into one block; the rules are built from the kinds
 * of field the data has:
 *   each NHS number; each number of 5 characters or more; date of birth;
 *   surname sound code + year of birth; forename + year of birth;
 *   forename sound code + surname sound code, in either order (names swapped);
 *   surname (and forename) sound code + postcode district, + each number field;
 *   full name sound code + year of birth, + postcode district.
 * A record with a null part of a key is in no block of that rule; blocks of more than
 * BLOCKING_MAX_BLOCK records are skipped as too coarse to help. */
#ifndef NCAP_BLOCKING_H
#define NCAP_BLOCKING_H

#include <stddef.h>
#include <stdint.h>

#include "fs_model.h"

#define BLOCKING_MAX_BLOCK 1000

/* Candidate pairs of data, sorted, each FS_PAIR(i, j) with i < j (across the files when data has
 * two). *pairs is malloc'ed; the caller frees it. *nrules receives the number of rules used (may
 * be NULL). Returns 0, or -1 when out of memory. */
int blocking_candidates(const fs_data_t *data, uint64_t **pairs, size_t *npairs, size_t *nrules);

#endif
