/* breakdown.h - the inequality categories a record falls in (pure), from the fields the audit's
 * definition names under `breakdowns:` (deprivation, ethnicity, sex, age and its bands). The metric
 * stage adds each record's contributions to metric.aggregate under each category (`ncap release
 * build` does the same in memory); linkage counts how each record linked under them
 * (services/linkage/decide/link_quality.h). */
#ifndef NCAP_BREAKDOWN_H
#define NCAP_BREAKDOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_def.h"
#include "record.h"

typedef enum {
    BREAKDOWN_IMD_DECILE, /* "1" (most deprived) .. "10", "unknown" */
    BREAKDOWN_ETHNICITY,  /* the five ONS groups from the NHS ethnic category: "white" (A-C),
                             "mixed" (D-G), "asian" (H, J-L), "black" (M, N, P), "other" (R, S);
                             "not_stated" (Z), "unknown" (99, missing, anything else) */
    BREAKDOWN_SEX,        /* stated gender: "male" (1), "female" (2), "indeterminate" (9),
                             "unknown" (X, missing) */
    BREAKDOWN_AGE,        /* the definition's bands, e.g. "0-59", "60-69", ..., "90+"; "unknown"
                             (missing, or below 0) */
    BREAKDOWN_COUNT
} breakdown_t;

/* Bytes of a category with its NUL: "not_stated", an age band such as "998-998" or "999+". */
#define BREAKDOWN_CATEGORY_MAX 16
/* Categories of one breakdown at most: the age bands (AUDIT_MAX_AGE_BANDS + 1) and "unknown". */
#define BREAKDOWN_MAX_CATEGORIES (AUDIT_MAX_AGE_BANDS + 2)

/* "imd_decile", "ethnicity", "sex", "age": the names metric.aggregate stores (and the columns of
 * metric.contribution that hold a record's category). */
const char *breakdown_name(breakdown_t b);

/* The field of the definition breakdown b is taken from, or NULL when the definition does not
 * declare it. */
const char *breakdown_field(const audit_def_t *def, breakdown_t b);

/* Every category of breakdown b, in the order a release lists them, "unknown" last (the deciles
 * 1..10; the ethnic groups as above; male, female, indeterminate; the age bands from the
 * definition's age_bands, each "FROM-TO" but the last "FROM+", the first from 0). Returns how many
 * were written to out (room for max), 0 when the definition does not declare b. */
size_t breakdown_category_list(const audit_def_t *def, breakdown_t b,
                               char out[][BREAKDOWN_CATEGORY_MAX], size_t max);

/* The record's category in each breakdown its definition declares; a breakdown the definition
 * does not declare is "" (and is not aggregated). A missing value is "unknown", as is a value
 * outside its breakdown's categories (an ethnic category of 99, a decile of 11). Returns 0, or -1
 * with err when a declared field holds text that is not of its type (an age of "abc": the record
 * cannot be placed, and the stage quarantines it rather than count it as unknown).
 * O(breakdowns + age bands). */
int breakdown_categories(const audit_def_t *def, const ncap_record_t *rec,
                         char out[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX], char *err,
                         size_t errlen);

/* The period a record is counted in: the quarter ("2026Q1") and month ("2026-01") of the
 * definition's period field, and that time (epoch seconds) into *at unless at is NULL. Returns
 * false, period and month "", when the field is missing or not a date or date and time. */
bool breakdown_period(const audit_def_t *def, const ncap_record_t *rec, char period[8],
                      char month[8], int64_t *at);

#endif
