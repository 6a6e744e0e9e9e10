/* fs_model.c - Fellegi-Sunter comparisons, EM, term frequencies and scores. */
#include "fs_model.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "clustering.h"
#include "nhs_number.h"
#include "string_compare.h"

#define U_RANDOM_PAIRS 300000
#define EM_MAX_ITER 100
#define PROB_FLOOR 1e-6

static const struct {
    const char *name;
    fs_kind_t kind;
    size_t levels;
} kinds[] = {
    {"nhs_number", FS_KIND_NHS_NUMBER, 4},
    {"forename", FS_KIND_FORENAME, 6},
    {"surname", FS_KIND_SURNAME, 6},
    {"name", FS_KIND_NAME, 5},
    {"dob", FS_KIND_DOB, 6},
    {"sex", FS_KIND_SEX, 3},
    {"postcode", FS_KIND_POSTCODE, 6},
    {"number", FS_KIND_NUMBER, 5},
    {"text", FS_KIND_TEXT, 5},
    {"exact", FS_KIND_EXACT, 3},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int fs_kind_parse(const char *name, fs_kind_t *kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0) {
            *kind = kinds[i].kind;
            return 0;
        }
    return -1;
}

const char *fs_kind_name(fs_kind_t kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "?";
}

size_t fs_kind_levels(fs_kind_t kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].levels;
    return 0;
}

/* ---------- normalising values ---------- */

static bool valid_date(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1800 || y > 2999 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return d <= max;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int atoin(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int normalise_dob(const char *raw, char *out, size_t outsz)
{
    size_t n = strlen(raw);
    int y, m, d;
    if (n == 8 && all_digits(raw, 8)) {
        y = atoin(raw, 4), m = atoin(raw + 4, 2), d = atoin(raw + 6, 2);
    } else if (n == 10 && raw[4] == '-' && raw[7] == '-' && all_digits(raw, 4) &&
               all_digits(raw + 5, 2) && all_digits(raw + 8, 2)) {
        y = atoin(raw, 4), m = atoin(raw + 5, 2), d = atoin(raw + 8, 2);
    } else if (n == 10 && raw[2] == '/' && raw[5] == '/' && all_digits(raw, 2) &&
               all_digits(raw + 3, 2) && all_digits(raw + 6, 4)) {
        d = atoin(raw, 2), m = atoin(raw + 3, 2), y = atoin(raw + 6, 4);
    } else {
        return -1;
    }
    if (!valid_date(y, m, d) || outsz < 9)
        return -1;
    snprintf(out, outsz, "%04d%02d%02d", y, m, d);
    return 1;
}

/* Lower case, letters digits and ' - kept, runs of anything else one space, trimmed. */
static int normalise_text(const char *raw, char *out, size_t outsz)
{
    size_t n = 0;
    bool space = false;
    for (const unsigned char *p = (const unsigned char *)raw; *p && n + 2 < outsz; p++) {
        if (isalnum(*p) || *p == '\'' || *p == '-' || *p >= 0x80) {
            if (space && n > 0)
                out[n++] = ' ';
            space = false;
            out[n++] = (char)tolower(*p);
        } else {
            space = true;
        }
    }
    out[n] = '\0';
    return n > 0 ? 1 : 0;
}

static int normalise_postcode(const char *raw, char *out, size_t outsz)
{
    char c[16];
    size_t n = 0;
    for (const char *p = raw; *p; p++) {
        if (*p == ' ')
            continue;
        if (!isalnum((unsigned char)*p) || n >= 8)
            return -1;
        c[n++] = (char)toupper((unsigned char)*p);
    }
    if (n == 0)
        return 0;
    /* outward: letter(s) then a digit, 2-4 characters; inward: digit letter letter */
    if (n < 5 || n > 7 || outsz < n + 2)
        return -1;
    const char *in = c + n - 3;
    if (!isdigit((unsigned char)in[0]) || !isalpha((unsigned char)in[1]) ||
        !isalpha((unsigned char)in[2]) || !isalpha((unsigned char)c[0]))
        return -1;
    size_t k = 1;
    while (k < n - 3 && isalpha((unsigned char)c[k]))
        k++;
    if (k > 2 || k == n - 3 || !isdigit((unsigned char)c[k]))
        return -1;
    memcpy(out, c, n - 3);
    out[n - 3] = ' ';
    memcpy(out + n - 2, in, 3);
    out[n + 1] = '\0';
    return 1;
}

int fs_value_normalise(fs_kind_t kind, const char *raw, char *out, size_t outsz)
{
    assert(outsz > 0);
    out[0] = '\0';
    if (!raw || !*raw)
        return 0;
    switch (kind) {
    case FS_KIND_NHS_NUMBER: {
        char digits[11];
        nhs_number_status_t st = nhs_number_check(raw, digits);
        if (st == NHS_NUMBER_EMPTY)
            return 0;
        if (st == NHS_NUMBER_FORMAT || outsz < 11)
            return -1;
        memcpy(out, digits, 11);
        return 1;
    }
    case FS_KIND_DOB:
        return normalise_dob(raw, out, outsz);
    case FS_KIND_SEX: {
        char t[16];
        if (normalise_text(raw, t, sizeof t) == 0)
            return 0;
        if (!strcmp(t, "m") || !strcmp(t, "male") || !strcmp(t, "1"))
            snprintf(out, outsz, "m");
        else if (!strcmp(t, "f") || !strcmp(t, "female") || !strcmp(t, "2"))
            snprintf(out, outsz, "f");
        else if (!strcmp(t, "u") || !strcmp(t, "unknown") || !strcmp(t, "0") || !strcmp(t, "9") ||
                 !strcmp(t, "x"))
            return 0;
        else
            return -1;
        return 1;
    }
    case FS_KIND_POSTCODE:
        return normalise_postcode(raw, out, outsz);
    case FS_KIND_NUMBER: {
        size_t n = 0;
        for (const char *p = raw; *p; p++) {
            if (*p == ' ' || *p == '-' || *p == '/')
                continue;
            if (!isalnum((unsigned char)*p))
                return -1;
            if (n + 1 < outsz)
                out[n++] = (char)tolower((unsigned char)*p);
        }
        out[n] = '\0';
        return n > 0 ? 1 : 0;
    }
    case FS_KIND_EXACT:
        snprintf(out, outsz, "%s", raw);
        return 1;
    case FS_KIND_FORENAME:
    case FS_KIND_SURNAME:
    case FS_KIND_NAME:
    case FS_KIND_TEXT:
        return normalise_text(raw, out, outsz);
    }
    return -1;
}

/* ---------- comparing ---------- */

static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static uint8_t compare_dob(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    int ya = atoin(a, 4), ma = atoin(a + 4, 2), da = atoin(a + 6, 2);
    int yb = atoin(b, 4), mb = atoin(b + 4, 2), db = atoin(b + 6, 2);
    if (ya == yb && ma == db && da == mb)
        return 2;
    int same = (ya == yb) + (ma == mb) + (da == db);
    if (same == 2 || string_damerau_levenshtein(a, b) == 1)
        return 3;
    long diff = days_from_civil(ya, ma, da) - days_from_civil(yb, mb, db);
    if (diff >= -365 && diff <= 365)
        return 4;
    return 5;
}

static uint8_t compare_postcode(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    const char *sa = strchr(a, ' '), *sb = strchr(b, ' ');
    size_t oa = (size_t)(sa - a), ob = (size_t)(sb - b);
    if (oa == ob && memcmp(a, b, oa) == 0)
        return sa[1] == sb[1] ? 2 : 3;
    size_t la = 0, lb = 0;
    while (isalpha((unsigned char)a[la]))
        la++;
    while (isalpha((unsigned char)b[lb]))
        lb++;
    return la == lb && memcmp(a, b, la) == 0 ? 4 : 5;
}

static uint8_t compare_fuzzy(const char *a, const char *b, uint8_t first)
{
    double jw = string_jaro_winkler(a, b);
    return jw >= 0.92 ? first : jw >= 0.80 ? (uint8_t)(first + 1) : (uint8_t)(first + 2);
}

/* Field of kind in data other than f, or -1. */
static long other_field(const fs_data_t *data, fs_kind_t kind)
{
    for (size_t f = 0; f < data->nfields; f++)
        if (data->kinds[f] == kind)
            return (long)f;
    return -1;
}

void fs_compare(const fs_data_t *data, size_t i, size_t j, uint8_t *levels)
{
    const char *const *ri = data->values + i * data->nfields;
    const char *const *rj = data->values + j * data->nfields;
    for (size_t f = 0; f < data->nfields; f++) {
        const char *a = ri[f], *b = rj[f];
        if (!a || !b) {
            levels[f] = 0;
            continue;
        }
        fs_kind_t kind = data->kinds[f];
        bool same = strcmp(a, b) == 0;
        switch (kind) {
        case FS_KIND_NHS_NUMBER:
            levels[f] = same ? 1 : string_damerau_levenshtein(a, b) == 1 ? 2 : 3;
            break;
        case FS_KIND_NUMBER: {
            size_t d = same ? 0 : string_damerau_levenshtein(a, b);
            levels[f] = same ? 1 : d == 1 ? 2 : d == 2 ? 3 : 4;
            break;
        }
        case FS_KIND_FORENAME:
        case FS_KIND_SURNAME: {
            if (same) {
                levels[f] = 1;
                break;
            }
            long g =
                other_field(data, kind == FS_KIND_FORENAME ? FS_KIND_SURNAME : FS_KIND_FORENAME);
            if (g >= 0) {
                const char *a2 = ri[g], *b2 = rj[g];
                /* a's this field is b's other one, or the reverse */
                if ((b2 && strcmp(a, b2) == 0) || (a2 && strcmp(a2, b) == 0)) {
                    levels[f] = 2;
                    break;
                }
            }
            levels[f] = compare_fuzzy(a, b, 3);
            break;
        }
        case FS_KIND_NAME:
        case FS_KIND_TEXT:
            levels[f] = same ? 1 : compare_fuzzy(a, b, 2);
            break;
        case FS_KIND_DOB:
            levels[f] = compare_dob(a, b);
            break;
        case FS_KIND_POSTCODE:
            levels[f] = compare_postcode(a, b);
            break;
        case FS_KIND_SEX:
        case FS_KIND_EXACT:
            levels[f] = same ? 1 : 2;
            break;
        }
    }
}

/* ---------- expectation-maximisation ---------- */

size_t fs_em(const uint8_t *gamma, size_t npairs, size_t nfields, const size_t *nlevels,
             const double *u, double *m, double *prior, size_t max_iter)
{
    double num[FS_MAX_FIELDS * FS_MAX_LEVELS];
    size_t iter = 0;
    while (iter < max_iter && npairs > 0) {
        iter++;
        memset(num, 0, sizeof(double) * nfields * FS_MAX_LEVELS);
        double total = 0, lambda = *prior;
        for (size_t p = 0; p < npairs; p++) {
            const uint8_t *g = gamma + p * nfields;
            double pm = lambda, pu = 1 - lambda;
            for (size_t f = 0; f < nfields; f++) {
                if (g[f] == 0)
                    continue;
                pm *= m[f * FS_MAX_LEVELS + g[f]];
                pu *= u[f * FS_MAX_LEVELS + g[f]];
            }
            double post = pm + pu > 0 ? pm / (pm + pu) : 0;
            total += post;
            for (size_t f = 0; f < nfields; f++)
                num[f * FS_MAX_LEVELS + g[f]] += post;
        }
        double change = fabs(total / (double)npairs - *prior);
        *prior = total / (double)npairs;
        for (size_t f = 0; f < nfields; f++) {
            double sum = 0;
            for (size_t l = 1; l < nlevels[f]; l++)
                sum += num[f * FS_MAX_LEVELS + l];
            for (size_t l = 1; l < nlevels[f]; l++) {
                double v =
                    sum > 0 ? num[f * FS_MAX_LEVELS + l] / sum : 1.0 / (double)(nlevels[f] - 1);
                if (v < PROB_FLOOR)
                    v = PROB_FLOOR;
                double d = fabs(v - m[f * FS_MAX_LEVELS + l]);
                if (d > change)
                    change = d;
                m[f * FS_MAX_LEVELS + l] = v;
            }
        }
        if (change < 1e-6)
            break;
    }
    return iter;
}

/* ---------- the model ---------- */

struct fs_model_t {
    const fs_data_t *data;
    size_t nlevels[FS_MAX_FIELDS];
    double m[FS_MAX_FIELDS * FS_MAX_LEVELS];
    double u[FS_MAX_FIELDS * FS_MAX_LEVELS];
    double w[FS_MAX_FIELDS * FS_MAX_LEVELS]; /* log2(m/u) */
    bool tf_field[FS_MAX_FIELDS];
    uint32_t *tf; /* tf[r * nfields + f]: records holding r's value of f (name fields) */
    long nhs_field, dob_field;
    double prior, log2_prior_odds;
};

typedef struct {
    const char *value;
    size_t record;
} term_t;

static int by_value(const void *x, const void *y)
{
    const term_t *a = x, *b = y;
    int c = strcmp(a->value ? a->value : "", b->value ? b->value : "");
    return c ? c : (a->record > b->record) - (a->record < b->record);
}

/* Counts, for every record, how many records share its value of each name field. */
static int count_terms(fs_model_t *self)
{
    const fs_data_t *d = self->data;
    term_t *terms = malloc((d->nrecords + 1) * sizeof *terms);
    self->tf = calloc(d->nrecords * d->nfields + 1, sizeof *self->tf);
    if (!terms || !self->tf) {
        free(terms);
        return -1;
    }
    for (size_t f = 0; f < d->nfields; f++) {
        if (!self->tf_field[f])
            continue;
        for (size_t r = 0; r < d->nrecords; r++)
            terms[r] = (term_t){d->values[r * d->nfields + f], r};
        qsort(terms, d->nrecords, sizeof *terms, by_value);
        for (size_t s = 0; s < d->nrecords;) {
            size_t e = s + 1;
            while (e < d->nrecords && terms[s].value && terms[e].value &&
                   strcmp(terms[s].value, terms[e].value) == 0)
                e++;
            for (size_t k = s; k < e; k++)
                self->tf[terms[k].record * d->nfields + f] = (uint32_t)(e - s);
            s = e;
        }
    }
    free(terms);
    return 0;
}

fs_model_t *fs_model_new(const fs_data_t *data)
{
    assert(data);
    if (data->nfields == 0 || data->nfields > FS_MAX_FIELDS)
        return NULL;
    fs_model_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->data = data;
    self->nhs_field = self->dob_field = -1;
    for (size_t f = 0; f < data->nfields; f++) {
        fs_kind_t k = data->kinds[f];
        self->nlevels[f] = fs_kind_levels(k);
        self->tf_field[f] = k == FS_KIND_FORENAME || k == FS_KIND_SURNAME || k == FS_KIND_NAME;
        if (k == FS_KIND_NHS_NUMBER && self->nhs_field < 0)
            self->nhs_field = (long)f;
        if (k == FS_KIND_DOB && self->dob_field < 0)
            self->dob_field = (long)f;
        for (size_t l = 1; l < self->nlevels[f]; l++) {
            self->m[f * FS_MAX_LEVELS + l] = l == 1 ? 0.9 : 0.1 / (double)(self->nlevels[f] - 2);
            self->u[f * FS_MAX_LEVELS + l] = 1.0 / (double)(self->nlevels[f] - 1);
        }
    }
    if (count_terms(self) != 0) {
        fs_model_destroy(&self);
        return NULL;
    }
    return self;
}

void fs_model_destroy(fs_model_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        free((*self_p)->tf);
        free(*self_p);
        *self_p = NULL;
    }
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void estimate_u(fs_model_t *self, uint64_t seed)
{
    const fs_data_t *d = self->data;
    double count[FS_MAX_FIELDS * FS_MAX_LEVELS] = {0};
    uint8_t g[FS_MAX_FIELDS];
    uint64_t state = seed;
    size_t n = d->nrecords, nl = d->nleft > 0 && d->nleft < n ? d->nleft : 0;
    if (n < 2)
        return;
    for (size_t k = 0; k < U_RANDOM_PAIRS; k++) {
        size_t i, j;
        if (nl) {
            i = (size_t)(splitmix(&state) % nl);
            j = nl + (size_t)(splitmix(&state) % (n - nl));
        } else {
            i = (size_t)(splitmix(&state) % n);
            j = (size_t)(splitmix(&state) % (n - 1));
            j += j >= i;
        }
        fs_compare(d, i, j, g);
        for (size_t f = 0; f < d->nfields; f++)
            count[f * FS_MAX_LEVELS + g[f]] += 1;
    }
    for (size_t f = 0; f < d->nfields; f++) {
        double total = 0;
        for (size_t l = 1; l < self->nlevels[f]; l++)
            total += count[f * FS_MAX_LEVELS + l];
        for (size_t l = 1; l < self->nlevels[f]; l++)
            self->u[f * FS_MAX_LEVELS + l] =
                (count[f * FS_MAX_LEVELS + l] + 1) / (total + (double)(self->nlevels[f] - 1));
    }
}

int fs_model_train(fs_model_t *self, const uint64_t *pairs, size_t npairs, uint64_t seed)
{
    assert(self);
    const fs_data_t *d = self->data;
    estimate_u(self, seed);
    uint8_t *gamma = malloc(npairs * d->nfields + 1);
    if (!gamma)
        return -1;
    for (size_t p = 0; p < npairs; p++)
        fs_compare(d, FS_PAIR_LEFT(pairs[p]), FS_PAIR_RIGHT(pairs[p]), gamma + p * d->nfields);
    double lambda = 0.1;
    fs_em(gamma, npairs, d->nfields, self->nlevels, self->u, self->m, &lambda, EM_MAX_ITER);
    free(gamma);
    for (size_t f = 0; f < d->nfields; f++)
        for (size_t l = 1; l < self->nlevels[f]; l++)
            self->w[f * FS_MAX_LEVELS + l] =
                log2(self->m[f * FS_MAX_LEVELS + l] / self->u[f * FS_MAX_LEVELS + l]);
    size_t n = d->nrecords, nl = d->nleft > 0 && d->nleft < n ? d->nleft : 0;
    double all = nl ? (double)nl * (double)(n - nl) : (double)n * (double)(n - 1) / 2;
    double expected = lambda * (double)npairs;
    self->prior = all > 0 ? expected / all : 0;
    if (self->prior < 1e-12)
        self->prior = 1e-12;
    if (self->prior > 1 - 1e-12)
        self->prior = 1 - 1e-12;
    self->log2_prior_odds = log2(self->prior / (1 - self->prior));
    return 0;
}

double fs_model_score(const fs_model_t *self, size_t i, size_t j, double *probability)
{
    assert(self);
    const fs_data_t *d = self->data;
    uint8_t g[FS_MAX_FIELDS];
    fs_compare(d, i, j, g);
    double w = 0;
    for (size_t f = 0; f < d->nfields; f++) {
        if (g[f] == 0)
            continue;
        if (g[f] == 1 && self->tf_field[f]) {
            double tf = (double)self->tf[i * d->nfields + f] / (double)d->nrecords;
            w += log2(self->m[f * FS_MAX_LEVELS + 1] / tf);
        } else {
            w += self->w[f * FS_MAX_LEVELS + g[f]];
        }
    }
    if (probability) {
        *probability = 1.0 / (1.0 + exp2(-(w + self->log2_prior_odds)));
        if (self->nhs_field >= 0 && self->dob_field >= 0 && g[self->nhs_field] == 1 &&
            g[self->dob_field] == 1) {
            char digits[11];
            if (nhs_number_check(d->values[i * d->nfields + (size_t)self->nhs_field], digits) ==
                NHS_NUMBER_VALID)
                *probability = 1.0;
        }
    }
    return w;
}

double fs_model_prior(const fs_model_t *self)
{
    assert(self);
    return self->prior;
}

double fs_model_m(const fs_model_t *self, size_t field, size_t level)
{
    assert(self);
    return self->m[field * FS_MAX_LEVELS + level];
}

double fs_model_u(const fs_model_t *self, size_t field, size_t level)
{
    assert(self);
    return self->u[field * FS_MAX_LEVELS + level];
}

int fs_link(const fs_data_t *data, uint64_t seed, double threshold, fs_result_t *result)
{
    memset(result, 0, sizeof *result);
    fs_model_t *model = fs_model_new(data);
    if (!model)
        return -1;
    int rc = blocking_candidates(data, &result->pairs, &result->npairs, &result->nrules);
    if (rc == 0)
        rc = fs_model_train(model, result->pairs, result->npairs, seed);
    if (rc == 0) {
        result->weight = malloc((result->npairs + 1) * sizeof *result->weight);
        result->probability = malloc((result->npairs + 1) * sizeof *result->probability);
        result->cluster = malloc((data->nrecords + 1) * sizeof *result->cluster);
        if (!result->weight || !result->probability || !result->cluster)
            rc = -1;
    }
    if (rc == 0) {
        for (size_t p = 0; p < result->npairs; p++)
            result->weight[p] =
                fs_model_score(model, FS_PAIR_LEFT(result->pairs[p]),
                               FS_PAIR_RIGHT(result->pairs[p]), &result->probability[p]);
        result->prior = fs_model_prior(model);
        rc = clustering_components(data->nrecords, result->pairs, result->probability,
                                   result->npairs, threshold, result->cluster);
    }
    fs_model_destroy(&model);
    if (rc != 0)
        fs_result_free(result);
    return rc;
}

void fs_result_free(fs_result_t *result)
{
    free(result->pairs);
    free(result->weight);
    free(result->probability);
    free(result->cluster);
    memset(result, 0, sizeof *result);
}
