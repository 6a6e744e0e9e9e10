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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs_model.h"

#define BLOCKING_MAX_BLOCK 1000
#define BLOCKING_MAX_RULES 64

/* PART_SOUNDEX_EITHER_ORDER: the sound codes of both fields, in sorted order, so that forename
 * and surname swapped give the same key. */
typedef enum {
    BLOCKING_PART_VALUE,
    BLOCKING_PART_SOUNDEX,
    BLOCKING_PART_YEAR,
    BLOCKING_PART_DISTRICT,
    BLOCKING_PART_SOUNDEX_EITHER_ORDER
} blocking_part_t;

/* A rule: records whose parts of these fields agree are in one block. */
typedef struct {
    size_t nparts;
    size_t field[2];
    blocking_part_t part[2];
} blocking_rule_t;

/* The rules for data's kinds of field into rules[BLOCKING_MAX_RULES]; returns how many. */
size_t blocking_rules(const fs_data_t *data, blocking_rule_t *rules);
/* A record in no block of a rule (a part of its key is null). */
#define BLOCKING_NONE UINT32_MAX

/* The blocks of rule: block[r] (room for data's records) receives record r's, a number shared by
 * the records whose key under rule agrees, from 0 in order of each block's first record, or
 * BLOCKING_NONE. Keys are compared as text (str_map), never by a hash alone. Returns the number
 * of blocks, or -1 when out of memory. */
long blocking_rule_blocks(const fs_data_t *data, const blocking_rule_t *rule, uint32_t *block);

/* Candidate pairs of data, sorted, each FS_PAIR(i, j) with i < j (across the files when data has
 * two). *pairs is malloc'ed; the caller frees it. *nrules receives the number of rules used (may
 * be NULL). Returns 0, or -1 when out of memory. */
int blocking_candidates(const fs_data_t *data, uint64_t **pairs, size_t *npairs, size_t *nrules);

#endif
