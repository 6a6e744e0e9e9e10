/* problem_kinds.c - the kinds of problem the simulator injects on purpose: the field, rule and
 * severity `ncap validate` reports for each, and the ways each is written into a row. */
#include "sim_internal.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "datetime.h"

/* The fields a variant picks (required, date-time, code), and the values written wrong. */
static const int required_cols[] = {SIM_C_ID,        SIM_C_SITE,     SIM_C_SEX,      SIM_C_ARRIVAL,
                                    SIM_C_RESIDENCE, SIM_C_MOBILITY, SIM_C_AMTS_PRE, SIM_C_FTYPE,
                                    SIM_C_SIDE,      SIM_C_PATHO};
static const int datetime_cols[] = {SIM_C_ARRIVAL, SIM_C_WARD, SIM_C_ORTHO, SIM_C_SURGERY};
typedef struct {
    int col;
    const char *bad[2];
} bad_code_t;
static const bad_code_t bad_codes[] = {
    {SIM_C_RESIDENCE, {"6", "0"}},      {SIM_C_MOBILITY, {"6", "8"}},
    {SIM_C_AMTS_PRE, {"11", "N"}},      {SIM_C_FTYPE, {"XX", "NOF"}},
    {SIM_C_SIDE, {"B", "X"}},           {SIM_C_PATHO, {"X", "2"}},
    {SIM_C_OPERATION, {"DHS", "THA"}},  {SIM_C_AMTS_POST, {"11", "12"}},
    {SIM_C_DISCHARGE_DEST, {"7", "0"}},
};
static const char *const bad_integers[] = {"II", "two", "3a"};
static const char *const bad_booleans[] = {"maybe", "2", "YN", "?"};
static const char *const bad_sexes[] = {"M", "F", "0", "3", "U"};
static const char *const bad_ethnics[] = {"0", "I", "O", "T", "X", "AA"};
static const char *const bad_asa[] = {"0", "6", "7", "9"};

static const problem_kind_t problem_kinds[SIM_NPROBLEM_KINDS] = {
    [SIM_P_NONE] = {"", NULL, NULL, NULL, 1},
    [SIM_P_REQUIRED] = {"required", NULL, "required", "error", NELEMS(required_cols)},
    [SIM_P_TYPE_INTEGER] = {"type_integer", "asa_grade", "type", "error", NELEMS(bad_integers)},
    [SIM_P_TYPE_DATE] = {"type_date", "discharge_date", "type", "error", 6},
    [SIM_P_TYPE_DATETIME_ISO] = {"type_datetime_iso", NULL, "type", "error", 16},
    [SIM_P_TYPE_DATETIME_UK] = {"type_datetime_uk", NULL, "type", "error", 16},
    [SIM_P_TYPE_BOOLEAN] = {"type_boolean", "never_admitted_to_ward", "type", "error",
                            NELEMS(bad_booleans)},
    /* identifiers other than the NHS number and date of birth: a warning, as in linkage */
    [SIM_P_TYPE_POSTCODE] = {"type_postcode", "postcode", "type", "warning", 4},
    /* a site code that is not one is refused by ingest as not a site of the trust */
    [SIM_P_TYPE_ODS] = {"type_ods", "site_code", "site_trust", "error", 4},
    [SIM_P_TYPE_LSOA] = {"type_lsoa", "lsoa", "type", "warning", 3},
    [SIM_P_CODE] = {"code", NULL, "code", "error", 2 * NELEMS(bad_codes)},
    [SIM_P_CODE_SEX] = {"code_sex", "sex", "code", "error", NELEMS(bad_sexes)},
    [SIM_P_CODE_ETHNIC] = {"code_ethnic", "ethnic_category", "code", "error", NELEMS(bad_ethnics)},
    [SIM_P_RANGE] = {"range", "asa_grade", "range", "error", NELEMS(bad_asa)},
    [SIM_P_PATTERN] = {"pattern", "local_record_id", "pattern", "error", 4},
    [SIM_P_NHS_CHECKSUM] = {"nhs_number_invalid", "nhs_number", "nhs_number_invalid", "warning", 1},
    [SIM_P_NHS_PLACEHOLDER] = {"nhs_number_placeholder", "nhs_number", "nhs_number_placeholder",
                               "warning", 9},
    [SIM_P_NHS_TEST] = {"nhs_number_test", "nhs_number", "nhs_number_test", "warning", 1},
    [SIM_P_NHS_MISSING] = {"nhs_number_missing", "nhs_number", "nhs_number_missing", "warning", 1},
    [SIM_P_DOB_INVALID] = {"dob_invalid", "date_of_birth", "dob_invalid", "warning", 4},
    [SIM_P_DOB_MISSING] = {"dob_missing", "date_of_birth", "dob_missing", "warning", 1},
    [SIM_P_SURGERY_BEFORE_ARRIVAL] = {"surgery_before_arrival", "surgery_datetime",
                                      "surgery_before_arrival", "error", 1},
    [SIM_P_ORTHO_BEFORE_ARRIVAL] = {"ortho_before_arrival", "orthogeriatric_assessment_datetime",
                                    "ortho_before_arrival", "error", 1},
    [SIM_P_DISCHARGE_BEFORE_ARRIVAL] = {"discharge_before_arrival", "discharge_date",
                                        "discharge_before_arrival", "error", 1},
    [SIM_P_WARD_NEVER_ADMITTED] = {"ward_admission_never_admitted", "ward_admission_datetime",
                                   "ward_admission_never_admitted", "error", 1},
    [SIM_P_AGE_OVER_110] = {"age_over_110", "age_at_arrival", "age_over_110", "warning", 1},
    [SIM_P_SURGERY_AFTER_30_DAYS] = {"surgery_after_30_days", "surgery_datetime",
                                     "surgery_after_30_days", "warning", 1},
    [SIM_P_OPERATION_WITHOUT_SURGERY] = {"operation_without_surgery", "operation",
                                         "operation_without_surgery", "warning", 2},
    [SIM_P_PROBABLE_DUPLICATE] = {"probable_duplicate_episode", "arrival_datetime",
                                  "probable_duplicate_episode", "warning", 1},
};

const problem_kind_t *sim_problem_info(sim_problem_kind_t kind)
{
    assert(kind < SIM_NPROBLEM_KINDS);
    return &problem_kinds[kind];
}

int sim_problem_column(const rec_t *rec)
{
    int v = rec->problem_variant;
    switch ((sim_problem_kind_t)rec->problem) {
    case SIM_P_REQUIRED:
        return required_cols[v];
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK:
        return datetime_cols[v % 4];
    case SIM_P_CODE:
        return bad_codes[v / 2].col;
    default:
        return -1;
    }
}

const char *sim_problem_kind_name(sim_problem_kind_t kind)
{
    return kind < SIM_NPROBLEM_KINDS ? problem_kinds[kind].name : "";
}

sim_problem_kind_t sim_problem_kind_parse(const char *name)
{
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++)
        if (strcmp(problem_kinds[k].name, name) == 0)
            return (sim_problem_kind_t)k;
    return SIM_P_NONE;
}

/* A date-time written wrong in one layout: 30 February, the 31st of a 30-day month, hour 24, or
 * no time at all. */
static void format_bad_datetime_form(char *out, size_t size, int64_t minutes, int form, bool uk)
{
    static const int month30[] = {4, 6, 9, 11};
    int y, m, d;
    ncap_civil_from_days(minutes / 1440, &y, &m, &d);
    int hh = (int)(minutes % 1440 / 60), mm = (int)(minutes % 60);
    switch (form) {
    case 0:
        m = 2, d = 30;
        break;
    case 1:
        m = month30[(unsigned)y % 4], d = 31;
        break;
    case 2:
        hh = 24;
        break;
    default:
        sim_date_text(out, size, y, m, d, uk);
        return;
    }
    sim_datetime_text(out, size, y, m, d, hh, mm, uk);
}

/* A date written wrong: variants 0-2 in ISO layout, 3-5 in UK layout. */
static void format_bad_date(char *out, size_t size, int64_t day, int variant)
{
    int y, m, d;
    ncap_civil_from_days(day, &y, &m, &d);
    static const int month30[] = {4, 6, 9, 11};
    int bm = month30[(unsigned)y % 4];
    switch (variant) {
    case 0:
        snprintf(out, size, "%04d-%02d-31", y, bm);
        break;
    case 1:
        snprintf(out, size, "%04d-02-30", y);
        break;
    case 2:
        snprintf(out, size, "%04d-13-%02d", y, d);
        break;
    case 3:
        snprintf(out, size, "31/%02d/%04d", bm, y);
        break;
    case 4:
        snprintf(out, size, "30/02/%04d", y);
        break;
    default:
        snprintf(out, size, "%02d/13/%04d", d, y);
        break;
    }
}

/* Writes rec's injected problem over the row's fields f; bad is room for a value. */
void sim_write_problem(const sim_t *self, const rec_t *rec, const char **f, char *bad, size_t size)
{
    const trust_t *t = &self->trusts[rec->trust];
    int v = rec->problem_variant;
    switch ((sim_problem_kind_t)rec->problem) {
    case SIM_P_REQUIRED:
        f[required_cols[v]] = "";
        break;
    case SIM_P_TYPE_INTEGER:
        f[SIM_C_ASA] = bad_integers[v];
        break;
    case SIM_P_TYPE_DATE:
        format_bad_date(bad, size, rec->arrival / 1440 + rec->los, v);
        f[SIM_C_DISCHARGE_DATE] = bad;
        break;
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK: {
        int col = datetime_cols[v % 4];
        int64_t at = rec->arrival + (col == SIM_C_WARD      ? rec->ward
                                     : col == SIM_C_ORTHO   ? rec->ortho
                                     : col == SIM_C_SURGERY ? rec->surgery
                                                            : 0);
        format_bad_datetime_form(bad, size, at, v / 4, rec->problem == SIM_P_TYPE_DATETIME_UK);
        f[col] = bad;
        break;
    }
    case SIM_P_TYPE_BOOLEAN:
        f[SIM_C_NEVER_ADMITTED] = bad_booleans[v];
        break;
    case SIM_P_TYPE_POSTCODE: {
        const char *pc = rec->postcode;
        size_t outward = strcspn(pc, " ");
        if (v == 0) /* the outward code alone: LS1 */
            snprintf(bad, size, "%.*s", (int)outward, pc);
        else if (v == 1) /* the inward code cut short: LS1 4A */
            snprintf(bad, size, "%.*s", (int)strlen(pc) - 1, pc);
        else if (v == 2) /* digits where letters go */
            snprintf(bad, size, "%u%.*s", 1 + rec->seq % 9, (int)strlen(pc) - 1, pc + 1);
        else
            snprintf(bad, size, "%s", "N/K");
        f[SIM_C_POSTCODE] = bad;
        break;
    }
    case SIM_P_TYPE_ODS:
        if (v == 0) /* lower case */
            snprintf(bad, size, "%c%c%c%02u", tolower((unsigned char)t->code[0]),
                     tolower((unsigned char)t->code[1]), tolower((unsigned char)t->code[2]),
                     rec->site + 1u);
        else if (v == 1)
            snprintf(bad, size, "%s-%u", t->code, rec->site + 1u);
        else if (v == 2) /* the trust's code for the site's */
            snprintf(bad, size, "%s", t->code);
        else
            snprintf(bad, size, "%s%03u", t->code, rec->site + 1u);
        f[SIM_C_SITE] = bad;
        break;
    case SIM_P_TYPE_LSOA:
        if (v == 0)
            snprintf(bad, size, "E01%05u", rec->lsoa % 100000);
        else if (v == 1) /* an MSOA code */
            snprintf(bad, size, "E02%06u", rec->lsoa % 7201);
        else
            snprintf(bad, size, "E01%05uX", rec->lsoa % 100000);
        f[SIM_C_LSOA] = bad;
        break;
    case SIM_P_CODE:
        f[bad_codes[v / 2].col] = bad_codes[v / 2].bad[v % 2];
        break;
    case SIM_P_CODE_SEX:
        f[SIM_C_SEX] = bad_sexes[v];
        break;
    case SIM_P_CODE_ETHNIC:
        f[SIM_C_ETHNIC] = bad_ethnics[v];
        break;
    case SIM_P_RANGE:
        f[SIM_C_ASA] = bad_asa[v];
        break;
    case SIM_P_DOB_INVALID:
        format_bad_date(bad, size, rec->dob, v == 0 ? 1 : v == 1 ? 2 : v == 2 ? 3 : 5);
        f[SIM_C_DOB] = bad;
        break;
    case SIM_P_DOB_MISSING:
        f[SIM_C_DOB] = "";
        break;
    default: /* in the record's values, or in local_record_id */
        break;
    }
}
