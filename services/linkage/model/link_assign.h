/* link_assign.h - which patient each record of a batch joins (pure: no SQL; patient_index does
 * the SQL around it). Each record is scored (link_score) against the held patients' sets of
 * identifiers found by its blocking keys (link_ident_keys) and against the records before it in
 * the batch that share a key; it joins the patient it matches as a whole, or becomes a new
 * patient: per patient, the mean match probability over the patient's distinct sets of
 * identifiers it was scored against must be at or above the threshold, and the highest mean
 * wins. So a record matching one set of a patient well and the others badly (a relative who
 * shares one address and surname with a record of the patient) does not join it. A record that
 * matches two patients (a bridge: the first records of one person made two patients before it
 * came) joins the one it matches best, and the two are merged only when they also match each
 * other as a whole; a relative or a twin who looks like both stays apart from the other. The
 * same rules as `ncap link`'s clustering (clustering_cohesive: a record joins a group when it
 * matches the group's records on average over the pairs scored; two groups join when their
 * records match each other on average). */
#ifndef NCAP_LINK_ASSIGN_H
#define NCAP_LINK_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link_incremental.h"

typedef struct {
    int64_t patient_id;
    char method[16];    /* "nhs_dob", "probabilistic", "new" (no match) or "unlinked" (nothing to
                           link on) */
    double probability; /* of the match taken (the mean over the patient's sets scored); 0 for a
                           new patient */
} patient_match_t;

/* A blocking key whose block holds more than LINK_MAX_BLOCK sets of identifiers (rows of
 * linkage.block: a patient once per distinct set seen with the key) is too common to tell people
 * apart (a common forename and year of birth, a common surname in a postcode district, a date of
 * birth in a national index): none of its held patients is a candidate, and a record is compared
 * through its other keys. The standard treatment of over-large blocks (the batch linker skips
 * blocks of more than BLOCKING_MAX_BLOCK records alike). It bounds a record's candidates by
 * LINK_MAX_KEYS x LINK_MAX_BLOCK whatever the index holds, and a batch's by its keys x
 * LINK_MAX_BLOCK; keeping the first LINK_MAX_BLOCK of each block instead (before) compared the
 * oldest patients of a common key, no likelier the person than any other, and the candidates per
 * record grew with the index up to the bound. ncap-linkd (patient_index.c) and `ncap link
 * --incremental` (link_memory.c) apply it alike; the records of a batch are compared with those
 * before them sharing a key whatever its block holds. Why this value: see README.md, "Record
 * linkage: the method". */
#define LINK_MAX_BLOCK 100

/* True when a key whose block holds rows sets of identifiers gives candidates. */
static inline bool link_block_usable(size_t rows)
{
    return rows <= LINK_MAX_BLOCK;
}

/* The blocking keys of a batch: each record's, and all of them sorted and distinct (the order in
 * which every linkage instance locks them). */
typedef struct {
    char (*keys)[LINK_MAX_KEYS][LINK_KEY_LEN]; /* per record */
    size_t *nkeys;
    const char **sorted; /* point into keys */
    size_t nsorted;
} link_batch_keys_t;

/* The keys of the n records ids into *bk (zeroed first; link_batch_keys_free releases it, also
 * after a failure). Returns 0, or -1 when out of memory. */
int link_batch_keys_build(const link_ident_t *ids, size_t n, link_batch_keys_t *bk);
void link_batch_keys_free(link_batch_keys_t *bk);
/* The position of key in bk->sorted, or SIZE_MAX when no record of the batch has it. */
size_t link_batch_key_index(const link_batch_keys_t *bk, const char *key);

/* A patient already held, as one set of identifiers seen for it, and the blocking key it was
 * found by (a patient found by two keys comes twice). */
typedef struct {
    int64_t patient_id; /* > 0 */
    link_ident_t id;
    const char *key; /* not owned */
} link_candidate_t;

/* A held patient merged into another: its records, sets of identifiers and links move to into. */
typedef struct {
    int64_t from; /* > 0 */
    int64_t into; /* > 0 */
} link_merge_t;

/* Where link_assign reads every set of identifiers held for a patient, to tell whether two
 * patients a record matches are one person: sets(ctx, patient_id, &sets, &n) sets *sets to a new
 * array (link_assign frees it) of the patient's n distinct sets of identifiers. Returns 0; 1 when
 * the patient cannot be merged now (ncap-linkd: another instance is linking a record of it), and
 * it is not; or -1 (link_assign then fails). */
typedef struct {
    int (*sets)(void *ctx, int64_t patient_id, link_ident_t **sets, size_t *n);
    void *ctx;
} link_held_t;

/* Decides the patient of each of the n records ids (keys bk) into out[0..n): the patient of a
 * held candidate (patient_id > 0) sharing one of its keys, or of a record before it in the batch
 * sharing a key, whose mean probability over those of its sets the record was scored against is
 * the highest at or above p's threshold (ties: a held patient, then the lower id); out's
 * probability is that mean, and its method "nhs_dob" when one of them links at once; else a new
 * patient, numbered -1, -2, ... in record order, for the caller to create. Each record meets only
 * the candidates and records sharing one of its keys (both sorted by key here): O(records x keys x
 * log).
 *
 * Merges (held and merges not NULL): a record that matches two or more patients joins the best,
 * and each other one it matches is merged with it when the two match each other as a whole (the
 * mean probability over every pair of their sets, a pair sharing no blocking key counting 0, at
 * or above the threshold, and no pair apart): clustering_cohesive's rule for joining two groups.
 * The patient that keeps its id is a held one before a new one, then the one with more distinct
 * sets of identifiers (the batch's records counted with it), then the lower id. *merges receives a
 * new array (the caller frees it) of the held patients merged, each into the held patient holding
 * its records after the batch, and *nmerges how many; out holds the patients after the merges.
 * Cost: per record matching two patients, their sets read through held once and O(sets x sets)
 * scores.
 *
 * Returns 0, or -1 when out of memory or held failed (out is then not set). */
int link_assign(const link_params_t *p, const link_ident_t *ids, size_t n,
                const link_batch_keys_t *bk, const link_candidate_t *cand, size_t ncand,
                const link_held_t *held, patient_match_t *out, link_merge_t **merges,
                size_t *nmerges);

#endif
