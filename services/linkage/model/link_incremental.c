/* link_incremental.c - identifiers, blocking keys and scores for linking one record at a time */
#include "link_incremental.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nhs_number.h"
#include "string_compare.h"
#include "utf8.h"

static const struct {
    const char *name; /* also link_as in an audit definition */
    fs_kind_t kind;
} fields[LI_NFIELDS] = {
    {"nhs_number", FS_KIND_NHS_NUMBER},
    {"forename", FS_KIND_FORENAME},
    {"surname", FS_KIND_SURNAME},
    {"dob", FS_KIND_DOB},
    {"sex", FS_KIND_SEX},
    {"postcode", FS_KIND_POSTCODE},
};

const char *link_field_name(size_t field)
{
    return field < LI_NFIELDS ? fields[field].name : "?";
}

size_t link_field_levels(size_t field)
{
    return field < LI_NFIELDS ? fs_kind_levels(fields[field].kind) : 0;
}

bool link_field_tf(size_t field)
{
    return field == LI_FORENAME || field == LI_SURNAME || field == LI_POSTCODE;
}

/* Defaults, by level (0 is null and unused). m: how often the level is seen between two records
 * of one person; u: between two people chosen at random from a national population (about
 * 30,000 dates of birth among the living elderly, common forenames at 1-3 %, a full postcode
 * shared by about 15 households). Levels as fs_model.h lists them:
 *   NHS number: exact, one transposition or wrong digit, else
 *   names: exact, swapped with the other name, Jaro-Winkler >= 0.92, >= 0.80, else
 *   date of birth: exact, day and month swapped, one component off, within a year, else
 *   sex: exact, else
 *   postcode: full, sector, district, area, else (people move: full agrees 73 % of the time)
 * The prior is one in about a million (2^-20): a record is compared with a handful of candidates
 * among a million patients, and at most one of them is the same person. So a link needs about
 * 20 bits of evidence: e.g. names and date of birth (30 bits) with a different postcode (-3.3),
 * or one NHS number agreeing (20 bits) without a disagreeing date of birth. */
static const double default_m[LI_NFIELDS][FS_MAX_LEVELS] = {
    {0, 0.96, 0.03, 0.01},
    {0, 0.88, 0.01, 0.06, 0.03, 0.02},
    {0, 0.90, 0.01, 0.05, 0.02, 0.02},
    {0, 0.927, 0.02, 0.04, 0.003, 0.01},
    {0, 0.98, 0.02},
    {0, 0.73, 0.05, 0.05, 0.05, 0.12},
};
static const double default_u[LI_NFIELDS][FS_MAX_LEVELS] = {
    {0, 1e-6, 2e-5, 0.999979},
    {0, 0.006, 0.0005, 0.003, 0.015, 0.9755},
    {0, 0.002, 0.0005, 0.001, 0.01, 0.9865},
    {0, 4e-5, 1e-5, 0.003, 0.025, 0.97195},
    {0, 0.5, 0.5},
    {0, 2e-5, 2e-4, 2e-3, 0.02, 0.97778},
};

void link_params_update(link_params_t *p)
{
    assert(p);
    for (size_t f = 0; f < LI_NFIELDS; f++)
        for (size_t l = 1; l < link_field_levels(f); l++)
            p->w[f][l] = p->m[f][l] > 0 && p->u[f][l] > 0 ? log2(p->m[f][l] / p->u[f][l]) : 0;
}

void link_params_default(link_params_t *p)
{
    assert(p);
    memset(p, 0, sizeof *p);
    memcpy(p->m, default_m, sizeof p->m);
    memcpy(p->u, default_u, sizeof p->u);
    p->log2_prior_odds = -20;
    p->threshold = 0.5;
    link_params_update(p);
}

static void normalise(size_t f, const char *raw, char *out, size_t outsz)
{
    if (fs_value_normalise(fields[f].kind, raw, out, outsz) != 1)
        out[0] = '\0';
}

void link_ident_from_values(const char *nhs, const char *forename, const char *surname,
                            const char *dob, const char *sex, const char *postcode,
                            link_ident_t *out)
{
    memset(out, 0, sizeof *out);
    normalise(LI_NHS, nhs, out->nhs, sizeof out->nhs);
    /* A mistyped number (wrong check digit) is still compared; placeholders and test numbers
     * say nothing about the patient. */
    char digits[11];
    nhs_number_status_t st = out->nhs[0] ? nhs_number_check(out->nhs, digits) : NHS_NUMBER_EMPTY;
    if (strlen(out->nhs) != 10 || (st != NHS_NUMBER_VALID && st != NHS_NUMBER_CHECKSUM))
        out->nhs[0] = '\0';
    out->nhs_valid = out->nhs[0] && st == NHS_NUMBER_VALID;
    normalise(LI_FORENAME, forename, out->forename, sizeof out->forename);
    normalise(LI_SURNAME, surname, out->surname, sizeof out->surname);
    normalise(LI_DOB, dob, out->dob, sizeof out->dob);
    normalise(LI_SEX, sex, out->sex, sizeof out->sex);
    normalise(LI_POSTCODE, postcode, out->postcode, sizeof out->postcode);
}

/* Copies src into out (size outsz) when it fits; returns false when it does not. */
static bool copy_fits(const char *src, char *out, size_t outsz)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= outsz)
        return false;
    memcpy(out, src ? src : "", n + 1);
    return true;
}

void link_ident_from_stored(const char *nhs, const char *forename, const char *surname,
                            const char *dob, const char *sex, const char *postcode,
                            link_ident_t *out)
{
    memset(out, 0, sizeof *out);
    if (!copy_fits(nhs, out->nhs, sizeof out->nhs) ||
        !copy_fits(forename, out->forename, sizeof out->forename) ||
        !copy_fits(surname, out->surname, sizeof out->surname) ||
        !copy_fits(dob, out->dob, sizeof out->dob) || !copy_fits(sex, out->sex, sizeof out->sex) ||
        !copy_fits(postcode, out->postcode, sizeof out->postcode)) {
        link_ident_from_values(nhs, forename, surname, dob, sex, postcode, out);
        return;
    }
    char digits[11];
    out->nhs_valid = out->nhs[0] && nhs_number_check(out->nhs, digits) == NHS_NUMBER_VALID;
}

bool link_ident_same(const link_ident_t *a, const link_ident_t *b)
{
    return strcmp(a->nhs, b->nhs) == 0 && strcmp(a->forename, b->forename) == 0 &&
           strcmp(a->surname, b->surname) == 0 && strcmp(a->dob, b->dob) == 0 &&
           strcmp(a->sex, b->sex) == 0 && strcmp(a->postcode, b->postcode) == 0;
}

bool link_ident_empty(const link_ident_t *id)
{
    return !id->nhs[0] && !id->dob[0] && !id->surname[0] && !id->forename[0];
}

bool link_ident_dob_key(const link_ident_t *id, char key[LINK_KEY_LEN])
{
    if (!id->dob[0])
        return false;
    snprintf(key, LINK_KEY_LEN, "d:%s%s%s", id->dob, id->sex[0] ? ":" : "", id->sex);
    return true;
}

size_t link_ident_keys(const link_ident_t *id, char keys[LINK_MAX_KEYS][LINK_KEY_LEN])
{
    size_t n = 0;
    if (id->nhs[0])
        snprintf(keys[n++], LINK_KEY_LEN, "n:%s", id->nhs);
    if (link_ident_dob_key(id, keys[n]))
        n++;
    if (id->surname[0] && id->postcode[0]) {
        char sx[5];
        string_soundex(id->surname, sx);
        const char *sp = strchr(id->postcode, ' ');
        int district = sp ? (int)(sp - id->postcode) : (int)strlen(id->postcode);
        if (sx[0])
            snprintf(keys[n++], LINK_KEY_LEN, "s:%s:%.*s", sx, district, id->postcode);
    }
    if (id->forename[0] && id->dob[0]) {
        /* at most 40 bytes of the forename, whole characters; the surname's first character
         * (PostgreSQL's left(surname, 1), migration 0052) */
        size_t fn = strlen(id->forename);
        snprintf(keys[n++], LINK_KEY_LEN, "f:%.*s:%.4s:%.*s",
                 (int)utf8_trim_partial(id->forename, fn < 40 ? fn : 40), id->forename, id->dob,
                 (int)utf8_seq_len(id->surname), id->surname);
    }
    return n;
}

void link_ident_compare(const link_ident_t *a, const link_ident_t *b, uint8_t *levels)
{
    const char *values[2 * LI_NFIELDS];
    const link_ident_t *r[2] = {a, b};
    for (size_t i = 0; i < 2; i++) {
        const char *v[LI_NFIELDS] = {r[i]->nhs, r[i]->forename, r[i]->surname,
                                     r[i]->dob, r[i]->sex,      r[i]->postcode};
        for (size_t f = 0; f < LI_NFIELDS; f++)
            values[i * LI_NFIELDS + f] = v[f][0] ? v[f] : NULL;
    }
    fs_data_t data = {.nrecords = 2, .nfields = LI_NFIELDS, .values = values};
    for (size_t f = 0; f < LI_NFIELDS; f++)
        data.kinds[f] = fields[f].kind;
    fs_compare(&data, 0, 1, levels);
}

bool link_ident_deterministic(const link_ident_t *a, const link_ident_t *b)
{
    return a->nhs_valid && b->nhs_valid && a->dob[0] && strcmp(a->nhs, b->nhs) == 0 &&
           strcmp(a->dob, b->dob) == 0;
}

bool link_ident_apart(const link_ident_t *a, const link_ident_t *b)
{
    size_t la = strlen(a->nhs), lb = strlen(b->nhs);
    return a->nhs_valid && b->nhs_valid &&
           string_damerau_levenshtein_bounded(a->nhs, la, b->nhs, lb, 1) > 1;
}

double link_exact_weight(const link_params_t *p, size_t field, const char *value)
{
    assert(p && field < LI_NFIELDS);
    double freq = p->tf && link_field_tf(field) ? term_freq_get(p->tf, field, value) : 0;
    return freq > 0 ? fs_tf_weight(p->m[field][1], freq, p->u[field][1]) : p->w[field][1];
}

double link_score(const link_params_t *p, const link_ident_t *a, const link_ident_t *b,
                  double *probability)
{
    assert(p);
    uint8_t g[LI_NFIELDS];
    link_ident_compare(a, b, g);
    const char *v[LI_NFIELDS] = {a->nhs, a->forename, a->surname, a->dob, a->sex, a->postcode};
    double w = 0;
    for (size_t f = 0; f < LI_NFIELDS; f++)
        if (g[f] == 1 && p->tf)
            w += link_exact_weight(p, f, v[f]);
        else if (g[f])
            w += p->w[f][g[f]];
    if (probability)
        *probability =
            link_ident_deterministic(a, b) ? 1.0 : 1.0 / (1.0 + exp2(-(w + p->log2_prior_odds)));
    return w;
}
