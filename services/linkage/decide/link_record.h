/* link_record.h - what linkage decides about one record, before any database work (pure): its
 * identifiers normalised for the patient index, identifier problems, derived fields, and the
 * record with identifiers removed. */
#ifndef NCAP_LINK_RECORD_H
#define NCAP_LINK_RECORD_H

#include <stdint.h>

#include "audit_def.h"
#include "link_incremental.h"
#include "record.h"

typedef struct {
    char field[64];
    char rule[32];
    char severity[8];
    char message[256];
} link_problem_t;

#define LINK_MAX_PROBLEMS 8

typedef struct {
    ncap_record_t *pseudo; /* owned: non-identifier fields plus derived fields */
    link_problem_t problems[LINK_MAX_PROBLEMS];
    int n_problems;
    link_ident_t ident; /* normalised identifiers, for the patient index */
    char lsoa[16];      /* the record's LSOA as sent, or "" */
} link_outcome_t;

/* Normalises the identifiers of raw, found by the fields' link_as roles in def (the names of
 * link_field_name); values that do not parse are null. */
void link_record_ident(const audit_def_t *def, const ncap_record_t *raw, link_ident_t *out);

/* Linkage's checks of the identifiers alone (NHS number, date of birth), appended to
 * out->problems: the same problems link_record_prepare reports, for the offline `ncap validate`. */
void link_record_check_identifiers(const audit_def_t *def, const ncap_record_t *raw,
                                   link_outcome_t *out);
/* Fills out from raw (record_id is not used any more: the patient index links records by their
 * identifiers). Returns 0, or -1 when out of memory. */
int link_record_prepare(const audit_def_t *def, int64_t record_id, const ncap_record_t *raw,
                        link_outcome_t *out);
void link_outcome_clear(link_outcome_t *out);

/* True when def lists name ("date_of_death", "imd_decile", "imd_quintile") under `linked:`. */
bool link_record_wants_linked(const audit_def_t *def, const char *name);
/* Adds the values linkage found in reference data to the pseudonymised record, those def lists
 * and that are known: date_of_death (YYYY-MM-DD, or "" when none), imd_decile and imd_quintile
 * (0 when unknown). */
int link_record_add_linked(const audit_def_t *def, link_outcome_t *out, const char *date_of_death,
                           int imd_decile, int imd_quintile);

/* Sets the date of death of a pseudonymised record passed on before (its payload) to
 * date_of_death, YYYY-MM-DD, or "" for none (the field removed): the death sweep's revision.
 * Returns 1 when the record changed, 0 when it had that already, -1 when out of memory. */
int link_record_revise_date_of_death(ncap_record_t *pseudo, const char *date_of_death);

#endif
