/* link_quality.h - what the linkage quality report counts of one record version (pure): how it
 * linked, its period and its inequality categories (linkage.record_quality, migration 0027;
 * README.md, "linkage_quality.csv"). */
#ifndef NCAP_LINK_QUALITY_H
#define NCAP_LINK_QUALITY_H

#include <stddef.h>

#include "audit_def.h"
#include "breakdown.h"
#include "record.h"

/* How a version joined a patient, as the report names it: "nhs_number" (patient_match_t's
 * "nhs_dob": a valid NHS number with an agreeing date of birth), "probabilistic" (its score at or
 * above the threshold), "singleton" (anything else: "new" or "unlinked", no patient held and no
 * record before it matched, so it started a patient of its own). */
const char *link_quality_method(const char *match_method);

typedef struct {
    char period[8]; /* the quarter of the definition's period field, e.g. 2026Q1; "" none */
    const char *method;
    /* metric's categories (breakdown.h), the IMD decile as its quintile ("1".."5", "unknown");
     * "" for a breakdown the definition does not declare */
    char imd_quintile[BREAKDOWN_CATEGORY_MAX];
    char ethnicity[BREAKDOWN_CATEGORY_MAX];
    char sex[BREAKDOWN_CATEGORY_MAX];
    char age[BREAKDOWN_CATEGORY_MAX];
} link_quality_t;

/* The facts of the pseudonymised record pseudo (its linked and derived fields added) of def, linked
 * by match_method, into *out. A breakdown field holding text not of its type (which
 * breakdown_categories refuses) puts the record under "unknown" in every declared breakdown: the
 * report never stops a record (validation reports the field). */
void link_quality_of(const audit_def_t *def, const ncap_record_t *pseudo, const char *match_method,
                     link_quality_t *out);

#endif
