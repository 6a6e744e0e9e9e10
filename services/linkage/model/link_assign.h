/* link_assign.h - which patient each record of a batch joins (pure: no SQL; patient_index does
 * the SQL around it). Each record is scored (link_score) against the held patients' sets of
 * identifiers found by its blocking keys (link_ident_keys) and against the records before it in
 * the batch that share a key; it joins the patient it matches as a whole, or becomes a new
 * patient: per patient, the mean match probability over the patient's distinct sets of
 * identifiers it was scored against must be at or above the threshold, and the highest mean
 * wins. So a record matching one set of a patient well and the others badly (a relative who
 * shares one address and surname with a record of the patient) does not join it, and a record
 * that looks like two patients joins the one it matches best: patients are never merged. The
 * same rule as `ncap link`'s clustering (clustering_cohesive: a record joins a group when it
 * matches the group's records on average over the pairs scored). */
#ifndef NCAP_LINK_ASSIGN_H
#define NCAP_LINK_ASSIGN_H

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

/* A patient already held, as one set of identifiers seen for it, and the blocking key it was
 * found by (a patient found by two keys comes twice). */
typedef struct {
    int64_t patient_id; /* > 0 */
    link_ident_t id;
    const char *key; /* not owned */
} link_candidate_t;

/* Decides the patient of each of the n records ids (keys bk) into out[0..n): the patient of a
 * held candidate (patient_id > 0) sharing one of its keys, or of a record before it in the batch
 * sharing a key, whose mean probability over those of its sets the record was scored against is
 * the highest at or above p's threshold (ties: a held patient, then the lower id); out's
 * probability is that mean, and its method "nhs_dob" when one of them links at once; else a new
 * patient, numbered -1, -2, ... in record order, for the caller to create. Each record meets only
 * the candidates and records sharing one of its keys (both sorted by key here): O(records x keys x
 * log). Returns 0, or -1 when out of memory (out is then not set). */
int link_assign(const link_params_t *p, const link_ident_t *ids, size_t n,
                const link_batch_keys_t *bk, const link_candidate_t *cand, size_t ncand,
                patient_match_t *out);

#endif
