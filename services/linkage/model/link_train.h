/* link_train.h - learning ncap-linkd's Fellegi-Sunter parameters without labels from the
 * identifiers held in the patient index (pure: no SQL; `ncap link-train` does the I/O).
 *
 * The identifiers (one link_ident_t per distinct set of identifiers seen for a patient) become
 * an fs_data_t with one field per link_incremental field, mapped explicitly to the same fs_model
 * kind, so the comparison levels are those link_ident_compare gives; fs_model_train learns u from
 * random pairs and m by expectation-maximisation over the blocking passes, with the seed.
 *
 * The prior differs in meaning: fs_model's is the share of matches among all pairs of the
 * sample; ncap-linkd's is that a record and one held patient are the same person. A sample record
 * matches fs_prior * (n - 1) other records on average, and held patients number total_patients,
 * so the daemon's prior is fs_prior * (n - 1) / total_patients.
 *
 * The index keeps each distinct set of identifiers of a patient once, so two records of one person
 * with identical identifiers count as one: m learned here leans towards disagreement (a cautious
 * bias: agreement weighs a little less than it would with every record). */
#ifndef NCAP_LINK_TRAIN_H
#define NCAP_LINK_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "fs_model.h"
#include "link_incremental.h"
#include "term_freq.h"

/* Fewest patients a sample may hold: fewer give too few matches for EM to be stable. */
#define LINK_TRAIN_MIN_PATIENTS 1000
/* m and u are stored floored at this (linkage.match_param requires them above 0). */
#define LINK_TRAIN_MIN_PROB 1e-6

/* Fewest patients holding a value for its frequency to be stored. Why: a frequency resting on one
 * or two patients says little (its error is as large as itself), and in an index smaller than
 * 1/u every value's share, 1/patients at least, exceeds u: each postcode held by one patient of a
 * few thousand would lose most of its weight. Five patients at one postcode are a care home. */
#define LINK_TRAIN_TF_MIN_PATIENTS 5

/* The fs_model kind of link_incremental field f (LI_NHS ...). */
fs_kind_t link_train_kind(size_t field);

/* Learns m, u and the prior from the n identifier sets ids, sampled from an index of
 * total_patients patients, with seed, into *out (its threshold taken from current). Returns 0, or
 * -1 with err: out of memory, fewer than two records, or a degenerate fit (link_train_check). */
int link_train(const link_ident_t *ids, size_t n, size_t total_patients, uint64_t seed,
               const link_params_t *current, link_params_t *out, char *err, size_t errlen);

/* The term frequencies ncap-linkd adjusts with (link_field_tf's fields) from the n identifier sets
 * ids, patient[i] the patient of ids[i] (the sets of one patient adjacent): per field, each value's
 * share of the patients with a value there, a patient counted once per value (not once per set,
 * so one patient seen often with variations weighs no more than another), kept where it exceeds
 * learned's u at exact agreement and at least LINK_TRAIN_TF_MIN_PATIENTS patients hold the value
 * (the others score with the learned u, link_incremental.h).
 * *out receives a new table. Returns 0, or -1 with err (out of memory). */
int link_train_term_freqs(const link_ident_t *ids, const int64_t *patient, size_t n,
                          const link_params_t *learned, term_freq_t **out, char *err,
                          size_t errlen);

/* Whether p is fit to use: every m and u in (0, 1], each field's m summing to about 1, agreement
 * (level 1) more likely among matches than non-matches for every field, and a prior strictly
 * between 0 and 1/2. Returns 0, or -1 with err naming the first fault. */
int link_train_check(const link_params_t *p, char *err, size_t errlen);

#endif
