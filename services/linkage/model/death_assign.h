/* death_assign.h - which death goes to which patient (pure: no SQL; death_link and death_sweep do
 * the SQL). One to one: a death links to at most one patient and a patient to at most one death.
 * Two paths: a record's patient compared with the deaths sharing its keys (death_choose), and
 * deaths loaded later compared with the patients already held (death_assign). */
#ifndef NCAP_DEATH_ASSIGN_H
#define NCAP_DEATH_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link_incremental.h"

/* A death and a patient: a scored candidate pair, or a link. */
typedef struct {
    int64_t death_id;
    int64_t patient_id;
    double weight;
} death_pair_t;

/* Chooses links among the candidate pairs cand[0..ncand) (sorted in place, best weight first),
 * given the links that exist now, linked[0..nlinked), of the deaths and patients involved. Writes
 * the new links to out (room for ncand) and returns how many: each replaces any link its death
 * has now. */
size_t death_assign(death_pair_t *cand, size_t ncand, const death_pair_t *linked, size_t nlinked,
                    death_pair_t *out);
/* Adds candidate c to cand[0..*n) (room for one more), or raises the weight of the pair of the
 * same death and patient there when c's is higher: a patient found by two keys, or with several
 * identifier sets, counts once, at its best. */
void death_pair_keep_best(death_pair_t *cand, size_t *n, death_pair_t c);

/* The weight of linking a patient's identifiers a to a death's d, into *weight, and whether it
 * reaches the threshold: link_score, with a deterministic link (same valid NHS number and date of
 * birth) raised above any probabilistic one. Used by every path that links deaths. */
bool death_link_weight(const link_params_t *p, const link_ident_t *a, const link_ident_t *d,
                       double *weight);

/* A death compared with the records of a batch, and its link now. */
typedef struct {
    int64_t death_id;
    link_ident_t id;
    int64_t patient_id; /* linked to, or 0 */
    double weight;
    bool changed; /* set when death_choose links it anew */
} death_held_t;

/* Chooses deaths for the patients of the n records (ids[i] belongs to patient_ids[i]) that have
 * none, among deaths[0..ndeaths) sharing the record's NHS number or date of birth: the highest
 * death_link_weight at or above the threshold, unless the death is linked to another patient with
 * an equal or higher weight (a higher one takes it over). linked[0..*nlinked) are the patients
 * with a death (room for n more); a patient chosen for is added, one that loses its death is set
 * to 0. Each death whose link changes gets its new patient and weight and changed set. */
void death_choose(const link_params_t *p, const link_ident_t *ids, const int64_t *patient_ids,
                  size_t n, death_held_t *deaths, size_t ndeaths, int64_t *linked, size_t *nlinked);

#endif
