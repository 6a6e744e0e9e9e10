/* breakdown.h - the inequality categories a record falls in (pure), from the fields the audit's
 * definition names under `breakdowns:` (deprivation, ethnicity, sex, age and its bands). The metric
 * stage adds each record's contributions to metric.aggregate under each category; `ncap release
 * build` does the same in memory. */
#ifndef NCAP_BREAKDOWN_H
#define NCAP_BREAKDOWN_H

#include "audit_def.h"
#include "record.h"

typedef enum {
    BREAKDOWN_IMD_DECILE, /* "1" (most deprived) .. "10", "unknown" */
    BREAKDOWN_ETHNICITY,  /* the five ONS groups from the NHS ethnic category: "white" (A-C),
                             "mixed" (D-G), "asian" (H, J-L), "black" (M, N, P), "other" (R, S);
                             "not_stated" (Z), "unknown" (99, missing, anything else) */
    BREAKDOWN_SEX,        /* stated gender: "male" (1), "female" (2), "indeterminate" (9),
                             "unknown" (X, missing) */
    BREAKDOWN_AGE,        /* the definition's bands, e.g. "0-59", "60-69", ..., "90+"; "unknown" */
    BREAKDOWN_COUNT
} breakdown_t;

#define BREAKDOWN_CATEGORY_MAX 16

/* "imd_decile", "ethnicity", "sex", "age": the names metric.aggregate stores. */
const char *breakdown_name(breakdown_t b);

/* The record's category in each breakdown its definition declares; a breakdown the definition
 * does not declare is "" (and is not aggregated). Returns 0, or -1 with err when a declared
 * field cannot be read. */
int breakdown_categories(const audit_def_t *def, const ncap_record_t *rec,
                         char out[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX], char *err, size_t errlen);

#endif
