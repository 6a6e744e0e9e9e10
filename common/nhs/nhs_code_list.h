/* nhs_code_list.h - NHS code lists that every audit shares: the Data Dictionary's ethnic category
 * and person stated gender, and the Organisation Data Service's national groupings (the NHS
 * regions a trust belongs to). A definition field says `standard: ethnic_category` and gets the
 * list, its labels and its check from here rather than copying them. */
#ifndef NCAP_NHS_CODE_LIST_H
#define NCAP_NHS_CODE_LIST_H

#include <stddef.h>

typedef enum {
    NHS_CODE_LIST_NONE,
    NHS_CODE_LIST_ETHNIC_CATEGORY,  /* A-H, J-N, P, R, S; Z not stated; 99 not known */
    NHS_CODE_LIST_STATED_GENDER,    /* 1 male, 2 female, 9 indeterminate, X not known */
    NHS_CODE_LIST_NATIONAL_GROUPING /* ODS national groupings: NHS England's regions, Y54-Y63,
                                       and W00 Wales */
} nhs_code_list_t;

typedef struct {
    const char *code;
    const char *label;
} nhs_code_t;

/* The list named "ethnic_category", "stated_gender" or "national_grouping". Returns 0, or -1 for
 * any other name. */
int nhs_code_list_from_name(const char *name, nhs_code_list_t *out);
const char *nhs_code_list_name(nhs_code_list_t list);
/* The list's codes in Data Dictionary order (*n set to their count); NULL for NHS_CODE_LIST_NONE.
 */
const nhs_code_t *nhs_code_list_codes(nhs_code_list_t list, size_t *n);
/* The label of code in list, or NULL when code is not one of its codes (compared exactly: "a" and
 * " A" are not "A"). */
const char *nhs_code_list_label(nhs_code_list_t list, const char *code);

/* The name of the region an ODS national grouping code stands for, e.g. "Y56" -> "London", as an
 * ODS etr extract gives it for each trust (third column); NULL for a code not in the list. Y54,
 * Y55 and Y57 are the regions before NHS England's of 2018 (North of England; Midlands and East of
 * England; South of England), still in extracts of that time. */
const char *nhs_national_grouping_name(const char *code);

#endif
