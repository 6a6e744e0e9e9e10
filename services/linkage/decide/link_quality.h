/* link_quality.h - what the linkage quality report counts of one record version (pure): its
 * period, its inequality categories and the key by which it links by NHS number
 * (linkage.record_quality, migrations 0027 and 0030; README.md, "linkage_quality.csv"). How it
 * linked is not the record's own fact but its patient's: linkage.quality_methods (0030) sets it
 * from the patient's records (quality_store.h). */
#ifndef NCAP_LINK_QUALITY_H
#define NCAP_LINK_QUALITY_H

#include <stddef.h>

#include "audit_def.h"
#include "breakdown.h"
#include "link_incremental.h"
#include "record.h"

typedef struct {
    char period[8]; /* the quarter of the definition's period field, e.g. 2026Q1; "" none */
    /* the valid NHS number and the date of birth, "NNNNNNNNNN:YYYYMMDD": two records of one
     * patient that share it are linked by NHS number (link_ident_deterministic); "" without a
     * valid NHS number or a date of birth */
    char nhs_key[20];
    /* metric's categories (breakdown.h), the IMD decile as its quintile ("1".."5", "unknown");
     * "" for a breakdown the definition does not declare */
    char imd_quintile[BREAKDOWN_CATEGORY_MAX];
    char ethnicity[BREAKDOWN_CATEGORY_MAX];
    char sex[BREAKDOWN_CATEGORY_MAX];
    char age[BREAKDOWN_CATEGORY_MAX];
} link_quality_t;

/* The facts of the pseudonymised record pseudo (its linked and derived fields added) of def, of
 * identifiers ident, into *out. A breakdown field holding text not of its type (which
 * breakdown_categories refuses) puts the record under "unknown" in every declared breakdown: the
 * report never stops a record (validation reports the field). */
void link_quality_of(const audit_def_t *def, const ncap_record_t *pseudo, const link_ident_t *ident,
                     link_quality_t *out);

#endif
