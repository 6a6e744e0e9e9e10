/* death_assign.h - which death goes to which patient when deaths are compared with patients
 * already held (pure: no SQL). One to one, as death_link.h: a death links to at most one patient
 * and a patient to at most one death; the best weight wins, a patient that has a death keeps it,
 * and a death linked already moves only to a patient with a higher weight. */
#ifndef NCAP_DEATH_ASSIGN_H
#define NCAP_DEATH_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

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

#endif
