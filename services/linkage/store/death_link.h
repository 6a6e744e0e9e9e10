/* death_link.h - patients to the register of deaths (linkage.death), one to one: a death links to
 * at most one patient and a patient to at most one death (linkage.death_link). A record's
 * identifiers are scored (death_link_weight) against the deaths sharing its NHS number or date of
 * birth; the best at or above the threshold is taken, unless the death is already linked to
 * another patient with an equal or higher weight (best score wins: a higher one takes it over):
 * death_choose decides, this module does the SQL. */
#ifndef NCAP_DEATH_LINK_H
#define NCAP_DEATH_LINK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "death_assign.h"
#include "link_incremental.h"

/* Links the patients of n records (ids[i] belongs to patient_ids[i]) to deaths where they have
 * none yet, inside the caller's transaction, then writes each record's patient's date of death
 * into date_of_death[i] (YYYY-MM-DD, or "" when none is linked). Returns 0, or -1 with err. */
int death_link_patients(PGconn *db, const link_params_t *p, const link_ident_t *ids,
                        const int64_t *patient_ids, size_t n, char (*date_of_death)[11], char *err,
                        size_t errlen);

/* Stores links[0..n), each in place of any link its death has now, inside the caller's
 * transaction (a patient linked to another death meanwhile keeps it). Returns 0, or -1 with err. */
int death_link_replace(PGconn *db, const death_pair_t *links, size_t n, char *err, size_t errlen);

#endif
