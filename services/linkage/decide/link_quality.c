/* link_quality.c - a record version's facts for the linkage quality report */
#include "link_quality.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The quintile of a decile category ("1".."10": deciles 1-2 are quintile 1, ... 9-10 quintile 5,
 * as a release publishes them); anything else as it is ("unknown", ""). */
static void quintile_of(const char *decile, char out[BREAKDOWN_CATEGORY_MAX])
{
    char *end;
    long d = strtol(decile, &end, 10);
    if (*decile && !*end && d >= 1 && d <= 10)
        snprintf(out, BREAKDOWN_CATEGORY_MAX, "%ld", (d + 1) / 2);
    else
        snprintf(out, BREAKDOWN_CATEGORY_MAX, "%s", decile);
}

void link_quality_of(const audit_def_t *def, const ncap_record_t *pseudo, const link_ident_t *ident,
                     link_quality_t *out)
{
    memset(out, 0, sizeof *out);
    if (ident->nhs_valid && ident->dob[0])
        snprintf(out->nhs_key, sizeof out->nhs_key, "%s:%s", ident->nhs, ident->dob);
    /* the period as metric places the record (contribution.h) */
    char month[8];
    breakdown_period(def, pseudo, out->period, month, NULL);
    char cat[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX], err[256];
    if (breakdown_categories(def, pseudo, cat, err, sizeof err) != 0)
        for (int b = 0; b < BREAKDOWN_COUNT; b++)
            snprintf(cat[b], sizeof cat[b], "%s",
                     breakdown_field(def, (breakdown_t)b) ? "unknown" : "");
    quintile_of(cat[BREAKDOWN_IMD_DECILE], out->imd_quintile);
    snprintf(out->ethnicity, sizeof out->ethnicity, "%s", cat[BREAKDOWN_ETHNICITY]);
    snprintf(out->sex, sizeof out->sex, "%s", cat[BREAKDOWN_SEX]);
    snprintf(out->age, sizeof out->age, "%s", cat[BREAKDOWN_AGE]);
}
