/* nhs_code_list.c - the NHS Data Dictionary's ethnic category and person stated gender codes, and
 * ODS's national groupings */
#include "nhs_code_list.h"

#include <string.h>

static const nhs_code_t ethnic_category[] = {
    {"A", "White - British"},
    {"B", "White - Irish"},
    {"C", "White - Any other White background"},
    {"D", "Mixed - White and Black Caribbean"},
    {"E", "Mixed - White and Black African"},
    {"F", "Mixed - White and Asian"},
    {"G", "Mixed - Any other mixed background"},
    {"H", "Asian or Asian British - Indian"},
    {"J", "Asian or Asian British - Pakistani"},
    {"K", "Asian or Asian British - Bangladeshi"},
    {"L", "Asian or Asian British - Any other Asian background"},
    {"M", "Black or Black British - Caribbean"},
    {"N", "Black or Black British - African"},
    {"P", "Black or Black British - Any other Black background"},
    {"R", "Other Ethnic Groups - Chinese"},
    {"S", "Other Ethnic Groups - Any other ethnic group"},
    {"Z", "Not stated"},
    {"99", "Not known"},
};

static const nhs_code_t stated_gender[] = {
    {"1", "Male"},
    {"2", "Female"},
    {"9", "Indeterminate"},
    {"X", "Not known"},
};

/* ODS national groupings: NHS England's commissioning regions (Y58-Y63 and Y56 since 2018; Y54,
 * Y55 and Y57 before), and Wales for the Welsh trusts in the etr extract. */
static const nhs_code_t national_grouping[] = {
    {"Y54", "North of England"},
    {"Y55", "Midlands and East of England"},
    {"Y56", "London"},
    {"Y57", "South of England"},
    {"Y58", "South West"},
    {"Y59", "South East"},
    {"Y60", "Midlands"},
    {"Y61", "East of England"},
    {"Y62", "North West"},
    {"Y63", "North East and Yorkshire"},
    {"W00", "Wales"},
};

static const struct {
    const char *name;
    const nhs_code_t *codes;
    size_t n;
} lists[] = {
    [NHS_CODE_LIST_NONE] = {"none", NULL, 0},
    [NHS_CODE_LIST_ETHNIC_CATEGORY] = {"ethnic_category", ethnic_category,
                                       sizeof ethnic_category / sizeof ethnic_category[0]},
    [NHS_CODE_LIST_STATED_GENDER] = {"stated_gender", stated_gender,
                                     sizeof stated_gender / sizeof stated_gender[0]},
    [NHS_CODE_LIST_NATIONAL_GROUPING] = {"national_grouping", national_grouping,
                                         sizeof national_grouping / sizeof national_grouping[0]},
};
#define N_LISTS (sizeof lists / sizeof lists[0])

int nhs_code_list_from_name(const char *name, nhs_code_list_t *out)
{
    for (size_t i = 1; name && i < N_LISTS; i++)
        if (strcmp(name, lists[i].name) == 0) {
            *out = (nhs_code_list_t)i;
            return 0;
        }
    return -1;
}

const char *nhs_code_list_name(nhs_code_list_t list)
{
    return (size_t)list < N_LISTS ? lists[list].name : "unknown";
}

const nhs_code_t *nhs_code_list_codes(nhs_code_list_t list, size_t *n)
{
    size_t i = (size_t)list < N_LISTS ? (size_t)list : 0;
    if (n)
        *n = lists[i].n;
    return lists[i].codes;
}

const char *nhs_code_list_label(nhs_code_list_t list, const char *code)
{
    size_t n = 0;
    const nhs_code_t *codes = nhs_code_list_codes(list, &n);
    for (size_t i = 0; code && i < n; i++)
        if (codes[i].code[0] == code[0] && strcmp(codes[i].code, code) == 0)
            return codes[i].label;
    return NULL;
}

const char *nhs_national_grouping_name(const char *code)
{
    return nhs_code_list_label(NHS_CODE_LIST_NATIONAL_GROUPING, code);
}
