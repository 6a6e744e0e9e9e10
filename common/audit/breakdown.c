/* breakdown.c - a record's inequality categories (see breakdown.h) */
#include "breakdown.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "datetime.h"
#include "expr.h"

static const char *const names[BREAKDOWN_COUNT] = {
    [BREAKDOWN_IMD_DECILE] = "imd_decile",
    [BREAKDOWN_ETHNICITY] = "ethnicity",
    [BREAKDOWN_SEX] = "sex",
    [BREAKDOWN_AGE] = "age",
};

#define UNKNOWN "unknown"

/* The ONS groups of the NHS ethnic category's letters. */
static const struct {
    const char *codes;
    const char *group;
} ethnic_groups[] = {
    {"ABC", "white"}, {"DEFG", "mixed"}, {"HJKL", "asian"},
    {"MNP", "black"}, {"RS", "other"},   {"Z", "not_stated"},
};

/* Stated gender's codes, in the order of their categories. */
static const struct {
    const char *code;
    const char *category;
} sexes[] = {{"1", "male"}, {"2", "female"}, {"9", "indeterminate"}};

const char *breakdown_name(breakdown_t b)
{
    return (size_t)b < BREAKDOWN_COUNT ? names[b] : "unknown";
}

const char *breakdown_field(const audit_def_t *def, breakdown_t b)
{
    assert(def);
    switch (b) {
    case BREAKDOWN_IMD_DECILE:
        return def->breakdowns.deprivation;
    case BREAKDOWN_ETHNICITY:
        return def->breakdowns.ethnicity;
    case BREAKDOWN_SEX:
        return def->breakdowns.sex;
    case BREAKDOWN_AGE:
        return def->breakdowns.n_age_bands ? def->breakdowns.age : NULL;
    default:
        return NULL;
    }
}

/* Age band i of the definition's bands: "0-59", "60-69", ..., "90+". */
static void age_label(const audit_breakdowns_t *bd, size_t i, char out[BREAKDOWN_CATEGORY_MAX])
{
    int from = i == 0 ? 0 : bd->age_bands[i - 1];
    if (i == bd->n_age_bands)
        snprintf(out, BREAKDOWN_CATEGORY_MAX, "%d+", from);
    else
        snprintf(out, BREAKDOWN_CATEGORY_MAX, "%d-%d", from, bd->age_bands[i] - 1);
}

size_t breakdown_category_list(const audit_def_t *def, breakdown_t b,
                               char out[][BREAKDOWN_CATEGORY_MAX], size_t max)
{
    if (!breakdown_field(def, b))
        return 0;
    size_t n = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < max)                                                                               \
            snprintf(out[n], BREAKDOWN_CATEGORY_MAX, __VA_ARGS__);                                 \
        n++;                                                                                       \
    } while (0)
    switch (b) {
    case BREAKDOWN_IMD_DECILE:
        for (int d = 1; d <= 10; d++)
            ADD("%d", d);
        break;
    case BREAKDOWN_ETHNICITY:
        for (size_t i = 0; i < sizeof ethnic_groups / sizeof ethnic_groups[0]; i++)
            ADD("%s", ethnic_groups[i].group);
        break;
    case BREAKDOWN_SEX:
        for (size_t i = 0; i < sizeof sexes / sizeof sexes[0]; i++)
            ADD("%s", sexes[i].category);
        break;
    case BREAKDOWN_AGE:
        for (size_t i = 0; i <= def->breakdowns.n_age_bands; i++) {
            if (n < max)
                age_label(&def->breakdowns, i, out[n]);
            n++;
        }
        break;
    default:
        return 0;
    }
    ADD("%s", UNKNOWN);
#undef ADD
    return n < max ? n : max;
}

/* The value of name without the blanks around it (as validation reads a typed value), in buf;
 * NULL when it is missing. */
static const char *trimmed(const ncap_record_t *rec, const char *name, char *buf, size_t len)
{
    if (ncap_record_missing(rec, name))
        return NULL;
    const char *v = ncap_record_get(rec, name);
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), v);
    return buf;
}

/* The number held by name (a field, linked or derived field of def): 1 with *x, 0 when it is
 * missing, -1 with err when it is text that is not a number. */
static int number_of(const audit_def_t *def, const ncap_record_t *rec, breakdown_t b,
                     const char *name, double *x, char *err, size_t errlen)
{
    if (ncap_record_missing(rec, name))
        return 0;
    audit_eval_ctx_t ctx = {def, rec};
    expr_value_t v;
    if (audit_eval_lookup(&ctx, name, &v) == 0 && v.kind == EXPR_NUMBER && isfinite(v.num)) {
        *x = v.num;
        return 1;
    }
    const char *text = ncap_record_get(rec, name);
    snprintf(err, errlen, "breakdown %s: \"%s\" is \"%.40s%s\", expected a number", names[b], name,
             text, strlen(text) > 40 ? "..." : "");
    return -1;
}

static void ethnic_group(const char *code, char out[BREAKDOWN_CATEGORY_MAX])
{
    const char *group = UNKNOWN;
    for (size_t i = 0;
         code && code[0] && !code[1] && i < sizeof ethnic_groups / sizeof ethnic_groups[0]; i++)
        if (strchr(ethnic_groups[i].codes, code[0]))
            group = ethnic_groups[i].group;
    snprintf(out, BREAKDOWN_CATEGORY_MAX, "%s", group);
}

static void sex_of(const char *code, char out[BREAKDOWN_CATEGORY_MAX])
{
    const char *category = UNKNOWN;
    for (size_t i = 0; code && i < sizeof sexes / sizeof sexes[0]; i++)
        if (strcmp(code, sexes[i].code) == 0)
            category = sexes[i].category;
    snprintf(out, BREAKDOWN_CATEGORY_MAX, "%s", category);
}

int breakdown_categories(const audit_def_t *def, const ncap_record_t *rec,
                         char out[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX], char *err,
                         size_t errlen)
{
    assert(def);
    assert(rec);
    for (int b = 0; b < BREAKDOWN_COUNT; b++) {
        out[b][0] = '\0';
        const char *field = breakdown_field(def, (breakdown_t)b);
        if (!field)
            continue;
        snprintf(out[b], BREAKDOWN_CATEGORY_MAX, "%s", UNKNOWN);
        char code[8];
        double x = 0;
        int has = 0;
        switch ((breakdown_t)b) {
        case BREAKDOWN_IMD_DECILE:
            if ((has = number_of(def, rec, (breakdown_t)b, field, &x, err, errlen)) < 0)
                return -1;
            if (has && x >= 1 && x <= 10 && x == floor(x))
                snprintf(out[b], BREAKDOWN_CATEGORY_MAX, "%d", (int)x);
            break;
        case BREAKDOWN_ETHNICITY:
            ethnic_group(trimmed(rec, field, code, sizeof code), out[b]);
            break;
        case BREAKDOWN_SEX:
            sex_of(trimmed(rec, field, code, sizeof code), out[b]);
            break;
        case BREAKDOWN_AGE: {
            if ((has = number_of(def, rec, (breakdown_t)b, field, &x, err, errlen)) < 0)
                return -1;
            if (!has || x < 0)
                break;
            const audit_breakdowns_t *bd = &def->breakdowns;
            size_t i = 0;
            while (i < bd->n_age_bands && x >= bd->age_bands[i])
                i++;
            age_label(bd, i, out[b]);
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

bool breakdown_period(const audit_def_t *def, const ncap_record_t *rec, char period[8],
                      char month[8], int64_t *at)
{
    period[0] = month[0] = '\0';
    const char *pv = def->period_field ? ncap_record_get(rec, def->period_field) : NULL;
    int64_t t;
    bool has_time;
    if (!pv || ncap_datetime_parse(pv, &t, &has_time) != 0)
        return false;
    ncap_quarter_label(t, period);
    ncap_month_label(t, month);
    if (at)
        *at = t;
    return true;
}
