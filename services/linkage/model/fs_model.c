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
#include "datetime.h"
#include "nhs_number.h"
#include "postcode.h"
#include "str_map.h"
#include "string_compare.h"
#include "utf8.h"

#define U_RANDOM_PAIRS 300000
#define EM_MAX_ITER 100
#define EM_RULE_MAX_ITER 1000

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

const char *fs_kind_level_name(fs_kind_t kind, size_t level)
{
    static const char *const names[][FS_MAX_LEVELS] = {
        [FS_KIND_NHS_NUMBER] = {"null", "exact", "one digit off", "different"},
        [FS_KIND_FORENAME] = {"null", "exact", "swapped with surname", "jaro-winkler >= 0.92",
                              "jaro-winkler >= 0.80", "different"},
        [FS_KIND_SURNAME] = {"null", "exact", "swapped with forename", "jaro-winkler >= 0.92",
                             "jaro-winkler >= 0.80", "different"},
        [FS_KIND_NAME] = {"null", "exact", "jaro-winkler >= 0.92", "jaro-winkler >= 0.80",
                          "different"},
        [FS_KIND_DOB] = {"null", "exact", "day and month swapped", "one part off", "within a year",
                         "different"},
        [FS_KIND_SEX] = {"null", "exact", "different"},
        [FS_KIND_POSTCODE] = {"null", "full", "sector", "district", "area", "different"},
        [FS_KIND_NUMBER] = {"null", "exact", "one edit", "two edits", "different"},
        [FS_KIND_TEXT] = {"null", "exact", "jaro-winkler >= 0.92", "jaro-winkler >= 0.80",
                          "different"},
        [FS_KIND_EXACT] = {"null", "exact", "different"},
    };
    return (size_t)kind < sizeof names / sizeof names[0] && level < fs_kind_levels(kind)
               ? names[kind][level]
               : "?";
}

/* ---------- normalising values ---------- */

static int atoin(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int fs_date_parse(const char *s, int *y, int *m, int *d)
{
    char iso[11];
    if (strlen(s) == 8 && strspn(s, "0123456789") == 8) {
        memcpy(iso, s, 4);
        iso[4] = '-';
        memcpy(iso + 5, s + 4, 2);
        iso[7] = '-';
        memcpy(iso + 8, s + 6, 2);
        iso[10] = '\0';
        s = iso;
    }
    if (ncap_date_parse(s, y, m, d) != 0 || *y < 1800 || *y > 2999)
        return -1;
    return 0;
}

static int normalise_dob(const char *raw, char *out, size_t outsz)
{
    int y, m, d;
    if (fs_date_parse(raw, &y, &m, &d) != 0 || outsz < 9)
        return -1;
    snprintf(out, outsz, "%04d%02d%02d", y, m, d);
    return 1;
}

/* Lower case (ASCII, and the two-byte capitals of utf8_lower: "ZOË" and "Zoë" are one name),
 * letters digits and ' - kept, runs of anything else one space, trimmed; a value longer than out
 * cut at a character's boundary (never inside one: PostgreSQL refuses text that is not
 * well-formed UTF-8, and linkage stores these). */
static int normalise_text(const char *raw, char *out, size_t outsz)
{
    size_t n = 0;
    bool space = false;
    const unsigned char *p = (const unsigned char *)raw;
    for (; *p && n + 2 < outsz; p++) {
        if (isalnum(*p) || *p == '\'' || *p == '-' || *p >= 0x80) {
            bool spaced = space && n > 0;
            if (spaced)
                out[n++] = ' ';
            space = false;
            if (*p >= 0xc0 && utf8_seq_len((const char *)p) == 2) {
                if (n + 3 >= outsz) { /* past what a byte at a time would fit: cut before it */
                    n -= spaced;
                    break;
                }
                unsigned cp = utf8_lower((p[0] & 0x1fu) << 6 | (p[1] & 0x3fu));
                out[n++] = (char)(0xc0 | cp >> 6);
                out[n++] = (char)(0x80 | (cp & 0x3f));
                p++;
                continue;
            }
            out[n++] = (char)tolower(*p);
        } else {
            space = true;
        }
    }
    if (*p)
        n = utf8_trim_partial(out, n);
    out[n] = '\0';
    bool content = false; /* punctuation alone ("-", "'") is no value */
    for (size_t i = 0; i < n && !content; i++)
        content = isalnum((unsigned char)out[i]) || (unsigned char)out[i] >= 0x80;
    if (!content)
        n = 0;
    /* what clerks write for a value they do not have */
    static const char *const unknown[] = {"unknown", "not known", "not stated", "n k",
                                          "n a",     "null",      "none"};
    for (size_t k = 0; k < sizeof unknown / sizeof unknown[0] && n > 0; k++)
        if (strcmp(out, unknown[k]) == 0)
            n = 0;
    if (n == 0)
        out[0] = '\0';
    return n > 0 ? 1 : 0;
}

/* A UK postcode by postcode_check's grammar. ZZ99 3VZ (no fixed abode) is a value: many records
 * share it, which term frequencies weigh. The other NHS pseudo-postcodes (ZZ99 3WZ not known, a
 * country or region) give no address: null, so that they never count as a different one. */
static int normalise_postcode(const char *raw, char *out, size_t outsz)
{
    char pc[9];
    postcode_status_t st = postcode_check(raw, pc);
    if (st == POSTCODE_EMPTY || st == POSTCODE_NOT_KNOWN || st == POSTCODE_PSEUDO)
        return 0;
    if (st == POSTCODE_FORMAT || strlen(pc) >= outsz)
        return -1;
    memcpy(out, pc, strlen(pc) + 1);
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
        if (st == NHS_NUMBER_EMPTY || st == NHS_NUMBER_PLACEHOLDER)
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

/* A value ready to compare: its length, an id equal for equal strings, and what a kind needs
 * at hand. Built once per record and field in a model, or on the fly by fs_compare. */
typedef struct {
    const char *s; /* NULL for null */
    uint32_t id;   /* interned in a model (equal ids iff equal strings), else 0 */
    uint16_t len;
    uint16_t aux; /* postcode: outward length | area letters << 8; NHS number: 1 when valid */
} cell_t;

typedef struct {
    size_t nfields;
    fs_kind_t kinds[FS_MAX_FIELDS];
    long swap[FS_MAX_FIELDS]; /* for a forename, the surname field, and the reverse; else -1 */
    bool interned;
} layout_t;

static void layout_init(layout_t *L, const fs_data_t *data)
{
    long fore = -1, sur = -1;
    L->nfields = data->nfields;
    L->interned = false;
    for (size_t f = 0; f < data->nfields; f++) {
        L->kinds[f] = data->kinds[f];
        if (data->kinds[f] == FS_KIND_FORENAME && fore < 0)
            fore = (long)f;
        if (data->kinds[f] == FS_KIND_SURNAME && sur < 0)
            sur = (long)f;
    }
    for (size_t f = 0; f < data->nfields; f++)
        L->swap[f] = data->kinds[f] == FS_KIND_FORENAME  ? sur
                     : data->kinds[f] == FS_KIND_SURNAME ? fore
                                                         : -1;
}

static void cell_init(cell_t *c, fs_kind_t kind, const char *s)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    if (!s)
        return;
    size_t n = strlen(s);
    c->len = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    if (kind == FS_KIND_POSTCODE) {
        size_t out = 0, area = 0;
        while (out < c->len && s[out] != ' ')
            out++;
        while (area < out && isalpha((unsigned char)s[area]))
            area++;
        c->aux = (uint16_t)((out > 255 ? 255 : out) | (area > 255 ? 255 : area) << 8);
    } else if (kind == FS_KIND_NHS_NUMBER) {
        char digits[11];
        c->aux = nhs_number_check(s, digits) == NHS_NUMBER_VALID;
    }
}

static bool same(const layout_t *L, const cell_t *a, const cell_t *b)
{
    return a->id == b->id && (L->interned || (a->len == b->len && memcmp(a->s, b->s, a->len) == 0));
}

static uint8_t compare_dob(const cell_t *ca, const cell_t *cb)
{
    const char *a = ca->s, *b = cb->s;
    if (ca->len != 8 || cb->len != 8)
        return 5;
    int ya = atoin(a, 4), ma = atoin(a + 4, 2), da = atoin(a + 6, 2);
    int yb = atoin(b, 4), mb = atoin(b + 4, 2), db = atoin(b + 6, 2);
    if (ya == yb && ma == db && da == mb)
        return 2;
    int agree = (ya == yb) + (ma == mb) + (da == db);
    if (agree == 2 || string_damerau_levenshtein_bounded(a, 8, b, 8, 1) == 1)
        return 3;
    int64_t diff = ncap_days_from_civil(ya, ma, da) - ncap_days_from_civil(yb, mb, db);
    return diff >= -365 && diff <= 365 ? 4 : 5;
}

static uint8_t compare_postcode(const cell_t *a, const cell_t *b)
{
    size_t oa = a->aux & 0xff, ob = b->aux & 0xff;
    if (oa == ob && memcmp(a->s, b->s, oa) == 0)
        return oa + 1 < a->len && ob + 1 < b->len && a->s[oa + 1] == b->s[ob + 1] ? 2 : 3;
    size_t la = a->aux >> 8, lb = b->aux >> 8;
    return la == lb && memcmp(a->s, b->s, la) == 0 ? 4 : 5;
}

static uint8_t compare_fuzzy(const cell_t *a, const cell_t *b, uint8_t first)
{
    double jw = string_jaro_winkler_at_least(a->s, a->len, b->s, b->len, 0.80);
    return jw >= 0.92 ? first : jw >= 0.80 ? (uint8_t)(first + 1) : (uint8_t)(first + 2);
}

/* The level of one field; a and b are the records' cells (all fields). */
static uint8_t compare_field(const layout_t *L, size_t f, const cell_t *ra, const cell_t *rb)
{
    const cell_t *a = &ra[f], *b = &rb[f];
    if (!a->s || !b->s)
        return 0;
    if (same(L, a, b))
        return 1;
    switch (L->kinds[f]) {
    case FS_KIND_NHS_NUMBER:
        return string_damerau_levenshtein_bounded(a->s, a->len, b->s, b->len, 1) == 1 ? 2 : 3;
    case FS_KIND_NUMBER: {
        size_t d = string_damerau_levenshtein_bounded(a->s, a->len, b->s, b->len, 2);
        return d == 1 ? 2 : d == 2 ? 3 : 4;
    }
    case FS_KIND_FORENAME:
    case FS_KIND_SURNAME: {
        long g = L->swap[f];
        /* a's this field is b's other one, or the reverse */
        if (g >= 0 && ((rb[g].s && same(L, a, &rb[g])) || (ra[g].s && same(L, &ra[g], b))))
            return 2;
        return compare_fuzzy(a, b, 3);
    }
    case FS_KIND_NAME:
    case FS_KIND_TEXT:
        return compare_fuzzy(a, b, 2);
    case FS_KIND_DOB:
        return compare_dob(a, b);
    case FS_KIND_POSTCODE:
        return compare_postcode(a, b);
    case FS_KIND_SEX:
    case FS_KIND_EXACT:
        return 2;
    }
    return 0;
}

static void compare_cells(const layout_t *L, const cell_t *ra, const cell_t *rb, uint8_t *levels)
{
    for (size_t f = 0; f < L->nfields; f++)
        levels[f] = compare_field(L, f, ra, rb);
}

void fs_compare(const fs_data_t *data, size_t i, size_t j, uint8_t *levels)
{
    layout_t L;
    cell_t ci[FS_MAX_FIELDS], cj[FS_MAX_FIELDS];
    layout_init(&L, data);
    for (size_t f = 0; f < data->nfields; f++) {
        cell_init(&ci[f], data->kinds[f], data->values[i * data->nfields + f]);
        cell_init(&cj[f], data->kinds[f], data->values[j * data->nfields + f]);
    }
    compare_cells(&L, ci, cj, levels);
}

/* ---------- the model ---------- */

struct fs_model_t {
    const fs_data_t *data;
    layout_t layout;
    cell_t *cells;  /* cells[r * nfields + f] */
    float *log2_tf; /* log2 of the share of records holding r's value of f (name fields) */
    size_t nlevels[FS_MAX_FIELDS];
    double m[FS_MAX_FIELDS * FS_MAX_LEVELS];
    double u[FS_MAX_FIELDS * FS_MAX_LEVELS];
    double w[FS_MAX_FIELDS * FS_MAX_LEVELS]; /* log2(m/u) */
    double log2_m1[FS_MAX_FIELDS];
    double log2_u1[FS_MAX_FIELDS]; /* the floor of a value's log2 frequency (fs_tf_weight) */
    bool tf_field[FS_MAX_FIELDS];
    long nhs_field, dob_field;
    double prior, log2_prior_odds;
    /* levels of the pairs trained on, kept to score them (fs_model_score_trained) */
    uint8_t *gamma;
    size_t ngamma;
};

/* Gives equal values equal ids (across fields, so that a forename can be seen to equal a
 * surname) and counts, for every name field, how many records share each record's value. */
static int intern_values(fs_model_t *self)
{
    const fs_data_t *d = self->data;
    size_t ncells = d->nrecords * d->nfields;
    str_map_t *values = str_map_new(0);
    uint32_t *count = calloc(ncells + 1, sizeof *count);
    int rc = values && count ? 0 : -1;
    for (size_t c = 0; c < ncells && rc == 0; c++) {
        cell_t *cell = &self->cells[c];
        size_t id;
        if (!cell->s)
            continue;
        if (str_map_put(values, cell->s, &id) < 0)
            rc = -1;
        cell->id = (uint32_t)id;
    }
    size_t nids = values ? str_map_size(values) : 0;
    str_map_destroy(&values);
    if (rc != 0) {
        free(count);
        return -1;
    }
    self->layout.interned = true;
    for (size_t f = 0; f < d->nfields; f++) {
        if (!self->tf_field[f])
            continue;
        memset(count, 0, nids * sizeof *count);
        for (size_t r = 0; r < d->nrecords; r++)
            if (self->cells[r * d->nfields + f].s)
                count[self->cells[r * d->nfields + f].id]++;
        for (size_t r = 0; r < d->nrecords; r++) {
            const cell_t *cell = &self->cells[r * d->nfields + f];
            if (cell->s)
                self->log2_tf[r * d->nfields + f] =
                    (float)log2((double)count[cell->id] / (double)d->nrecords);
        }
    }
    free(count);
    return 0;
}

fs_model_t *fs_model_new(const fs_data_t *data)
{
    assert(data);
    /* records, and cells in the table of values, are counted in 32 bits */
    if (data->nfields == 0 || data->nfields > FS_MAX_FIELDS ||
        data->nrecords >= UINT32_MAX / 2 / FS_MAX_FIELDS)
        return NULL;
    fs_model_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->data = data;
    layout_init(&self->layout, data);
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
    size_t ncells = data->nrecords * data->nfields;
    self->cells = malloc((ncells + 1) * sizeof *self->cells);
    self->log2_tf = calloc(ncells + 1, sizeof *self->log2_tf);
    if (!self->cells || !self->log2_tf) {
        fs_model_destroy(&self);
        return NULL;
    }
    for (size_t c = 0; c < ncells; c++)
        cell_init(&self->cells[c], data->kinds[c % data->nfields], data->values[c]);
    if (intern_values(self) != 0) {
        fs_model_destroy(&self);
        return NULL;
    }
    return self;
}

void fs_model_destroy(fs_model_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        free((*self_p)->cells);
        free((*self_p)->log2_tf);
        free((*self_p)->gamma);
        free(*self_p);
        *self_p = NULL;
    }
}

static void model_compare(const fs_model_t *self, size_t i, size_t j, uint8_t *levels)
{
    size_t nf = self->layout.nfields;
    compare_cells(&self->layout, self->cells + i * nf, self->cells + j * nf, levels);
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static size_t left_count(const fs_data_t *d)
{
    return d->nleft > 0 && d->nleft < d->nrecords ? d->nleft : 0;
}

static void estimate_u(fs_model_t *self, uint64_t seed)
{
    const fs_data_t *d = self->data;
    double count[FS_MAX_FIELDS * FS_MAX_LEVELS] = {0};
    uint8_t g[FS_MAX_FIELDS];
    uint64_t state = seed;
    size_t n = d->nrecords, nl = left_count(d);
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
        model_compare(self, i, j, g);
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

static void em_start(const fs_model_t *self, double *m)
{
    memset(m, 0, sizeof(double) * FS_MAX_FIELDS * FS_MAX_LEVELS);
    for (size_t f = 0; f < self->layout.nfields; f++)
        for (size_t l = 1; l < self->nlevels[f]; l++)
            m[f * FS_MAX_LEVELS + l] = l == 1 ? 0.9 : 0.1 / (double)(self->nlevels[f] - 2);
}

static double posterior(const uint8_t *g, size_t nfields, const double *m, const double *u,
                        double lambda)
{
    double pm = lambda, pu = 1 - lambda;
    for (size_t f = 0; f < nfields; f++)
        if (g[f]) {
            pm *= m[f * FS_MAX_LEVELS + g[f]];
            pu *= u[f * FS_MAX_LEVELS + g[f]];
        }
    return pm + pu > 0 ? pm / (pm + pu) : 0;
}

/* Whether EM found matches among a rule's pairs. The class it fitted as matches must agree exactly
 * (level 1) more often than it disagrees (the last level) on at least half the fields compared:
 * records of one person mostly agree. Among pairs that blocking found alike by their names, EM
 * can instead fit a class of namesakes and relatives that share a name but mostly disagree on
 * date of birth, NHS number and postcode; taken as matches, its many pairs would swamp every
 * other rule's estimate of how often matches disagree on those fields (weighted by expected
 * matches) and make a different date of birth weak evidence. And the two classes must explain
 * the rule's pairs better than "none of them match" (every pair from u) by more than the
 * parameters bought: the gain in log-likelihood must
 * exceed the Bayesian information criterion's penalty, half the number of free parameters times
 * the log of the number of pairs. EM always fits a "match" class, even among pairs that share
 * nobody; without this check, noise among the lookalikes blocking collects becomes matches. */
static bool matches_found(const fs_model_t *self, const fs_patterns_t *pt, const double *m,
                          double lambda, size_t npairs, const bool *left_out)
{
    size_t nf = self->layout.nfields, params = 1, compared = 0, agreeing = 0;
    for (size_t f = 0; f < nf; f++)
        if (!left_out[f]) {
            params += self->nlevels[f] - 2;
            compared++;
            agreeing += m[f * FS_MAX_LEVELS + 1] > m[f * FS_MAX_LEVELS + self->nlevels[f] - 1];
        }
    if (2 * agreeing < compared)
        return false; /* a class of lookalikes (relatives, namesakes), not of one person each */
    double gain = 0;
    for (size_t p = 0; p < pt->n; p++) {
        const uint8_t *g = pt->gamma + p * nf;
        double ratio = 1; /* P(gamma | match) / P(gamma | non-match) */
        for (size_t f = 0; f < nf; f++)
            if (g[f])
                ratio *= m[f * FS_MAX_LEVELS + g[f]] / self->u[f * FS_MAX_LEVELS + g[f]];
        gain += pt->count[p] * log(lambda * ratio + (1 - lambda));
    }
    return gain > 0.5 * (double)params * log((double)npairs);
}

/* Per blocking rule, EM over the candidate pairs whose records agree on the rule's key, with the
 * rule's own fields left out: pairs found by agreeing on a date of birth say nothing about how
 * often matches agree on it, and their agreement is no evidence of a match. Each rule gives m
 * for the fields it leaves out (weighted by its expected matches) and, per pair, a probability
 * of a match that blocking has not inflated; best[p] receives the highest over the rules that
 * hold pair p, and last_min[f] the lowest m at field f's disagreement level over the rules. A
 * rule whose fit does not beat "no matches" (matches_found) gives nothing. Returns the number of
 * rules fitted (with a field left to compare and a pair), or -1 when out of memory. */
static long em_per_rule(fs_model_t *self, const uint64_t *pairs, size_t npairs,
                        const uint8_t *gamma, double *best, double *m_out, double *weight_out,
                        double *last_min)
{
    const fs_data_t *d = self->data;
    size_t nf = d->nfields;
    blocking_rule_t rules[BLOCKING_MAX_RULES];
    size_t nrules = blocking_rules(d, rules);
    uint32_t *block = malloc((d->nrecords + 1) * sizeof *block);
    uint32_t *member = malloc((npairs + 1) * sizeof *member); /* pair index */
    uint32_t *pattern = malloc((npairs + 1) * sizeof *pattern);
    long used = 0;
    if (!block || !member || !pattern)
        used = -1;
    for (size_t r = 0; r < nrules && used >= 0; r++) {
        bool left_out[FS_MAX_FIELDS] = {false};
        for (size_t k = 0; k < rules[r].nparts; k++)
            left_out[rules[r].field[k]] = true;
        size_t kept = 0;
        for (size_t f = 0; f < nf; f++)
            kept += !left_out[f];
        if (kept == 0)
            continue;
        if (blocking_rule_blocks(d, &rules[r], block) < 0) {
            used = -1;
            break;
        }
        fs_patterns_t pt = {.nfields = nf};
        size_t nm = 0;
        for (size_t p = 0; p < npairs && used >= 0; p++) {
            size_t i = FS_PAIR_LEFT(pairs[p]), j = FS_PAIR_RIGHT(pairs[p]);
            if (block[i] == BLOCKING_NONE || block[i] != block[j])
                continue;
            uint8_t g[FS_MAX_FIELDS];
            for (size_t f = 0; f < nf; f++)
                g[f] = left_out[f] ? 0 : gamma[p * nf + f];
            size_t index;
            if (fs_patterns_add(&pt, g, &index) != 0) {
                used = -1;
                break;
            }
            member[nm] = (uint32_t)p;
            pattern[nm++] = (uint32_t)index;
        }
        if (used >= 0 && nm > 0) {
            double m[FS_MAX_FIELDS * FS_MAX_LEVELS], lambda = 0.1;
            em_start(self, m);
            fs_em_counts(pt.gamma, pt.count, pt.n, nf, self->nlevels, self->u, m, &lambda,
                         EM_RULE_MAX_ITER);
            used++;
            if (!matches_found(self, &pt, m, lambda, nm, left_out)) {
                fs_patterns_free(&pt);
                continue;
            }
            for (size_t k = 0; k < nm; k++) {
                double post = posterior(pt.gamma + pattern[k] * nf, nf, m, self->u, lambda);
                if (post > best[member[k]])
                    best[member[k]] = post;
            }
            double expected = lambda * (double)nm;
            for (size_t f = 0; f < nf; f++) {
                if (left_out[f])
                    continue;
                for (size_t l = 1; l < self->nlevels[f]; l++)
                    m_out[f * FS_MAX_LEVELS + l] += expected * m[f * FS_MAX_LEVELS + l];
                weight_out[f] += expected;
                double last = m[f * FS_MAX_LEVELS + self->nlevels[f] - 1];
                if (last < last_min[f])
                    last_min[f] = last;
            }
        }
        fs_patterns_free(&pt);
    }
    free(block);
    free(member);
    free(pattern);
    return used;
}

int fs_model_train(fs_model_t *self, const uint64_t *pairs, size_t npairs, uint64_t seed)
{
    assert(self);
    const fs_data_t *d = self->data;
    size_t nf = d->nfields;
    estimate_u(self, seed);
    uint8_t *gamma = malloc(npairs * nf + 1);
    double *best = calloc(npairs + 1, sizeof *best);
    fs_patterns_t all = {.nfields = nf};
    int rc = gamma && best ? 0 : -1;
    for (size_t p = 0; p < npairs && rc == 0; p++) {
        size_t index;
        model_compare(self, FS_PAIR_LEFT(pairs[p]), FS_PAIR_RIGHT(pairs[p]), gamma + p * nf);
        rc = fs_patterns_add(&all, gamma + p * nf, &index);
    }
    /* EM over all candidates: m for a field every rule blocks on, and the fallback */
    double lambda = 0.1;
    double m_sum[FS_MAX_FIELDS * FS_MAX_LEVELS] = {0}, weight[FS_MAX_FIELDS] = {0};
    double last_min[FS_MAX_FIELDS];
    for (size_t f = 0; f < nf; f++)
        last_min[f] = 1;
    long used = -1;
    if (rc == 0) {
        em_start(self, self->m);
        fs_em_counts(all.gamma, all.count, all.n, nf, self->nlevels, self->u, self->m, &lambda,
                     EM_MAX_ITER);
        used = em_per_rule(self, pairs, npairs, gamma, best, m_sum, weight, last_min);
        rc = used < 0 ? -1 : 0;
    }
    fs_patterns_free(&all);
    free(self->gamma);
    self->gamma = rc == 0 ? gamma : NULL;
    self->ngamma = rc == 0 ? npairs : 0;
    if (rc != 0) {
        free(gamma);
        free(best);
        return -1;
    }
    double expected = 0;
    for (size_t p = 0; p < npairs; p++)
        expected += best[p];
    free(best);
    if (used == 0)
        expected = lambda * (double)npairs;
    for (size_t f = 0; f < nf; f++) {
        if (weight[f] > 0)
            for (size_t l = 1; l < self->nlevels[f]; l++)
                self->m[f * FS_MAX_LEVELS + l] = m_sum[f * FS_MAX_LEVELS + l] / weight[f];
        /* disagreement as often as the rule least mixed with lookalikes finds it, but for free
         * text (see fs_model_train in fs_model.h) */
        size_t last = f * FS_MAX_LEVELS + self->nlevels[f] - 1;
        if (d->kinds[f] != FS_KIND_TEXT && weight[f] > 0 && last_min[f] < self->m[last] &&
            self->m[last] < 1) {
            double scale = (1 - last_min[f]) / (1 - self->m[last]);
            for (size_t l = 1; l + 1 < self->nlevels[f]; l++)
                self->m[f * FS_MAX_LEVELS + l] *= scale;
            self->m[last] = last_min[f];
        }
        for (size_t l = 1; l < self->nlevels[f]; l++)
            self->w[f * FS_MAX_LEVELS + l] =
                log2(self->m[f * FS_MAX_LEVELS + l] / self->u[f * FS_MAX_LEVELS + l]);
        self->log2_m1[f] = log2(self->m[f * FS_MAX_LEVELS + 1]);
        self->log2_u1[f] = log2(self->u[f * FS_MAX_LEVELS + 1]);
    }
    size_t n = d->nrecords, nl = left_count(d);
    double every = nl ? (double)nl * (double)(n - nl) : (double)n * (double)(n - 1) / 2;
    self->prior = every > 0 ? expected / every : 0;
    if (self->prior < 1e-12)
        self->prior = 1e-12;
    if (self->prior > 1 - 1e-12)
        self->prior = 1 - 1e-12;
    self->log2_prior_odds = log2(self->prior / (1 - self->prior));
    return 0;
}

double fs_tf_weight(double m1, double frequency, double min_u)
{
    return log2(m1 / (frequency > min_u ? frequency : min_u));
}

/* The match weight of record i and another at levels g, and the probability (fs_model_score). */
static double score_levels(const fs_model_t *self, size_t i, const uint8_t *g, double *probability)
{
    size_t nf = self->layout.nfields;
    double w = 0;
    for (size_t f = 0; f < nf; f++) {
        if (g[f] == 1 && self->tf_field[f]) /* fs_tf_weight(m1, frequency, 0), in logarithms */
            w += self->log2_m1[f] - fmax(self->log2_tf[i * nf + f], self->log2_u1[f]);
        else if (g[f])
            w += self->w[f * FS_MAX_LEVELS + g[f]];
    }
    if (probability) {
        *probability = 1.0 / (1.0 + exp2(-(w + self->log2_prior_odds)));
        if (self->nhs_field >= 0 && self->dob_field >= 0 && g[self->nhs_field] == 1 &&
            g[self->dob_field] == 1 && self->cells[i * nf + (size_t)self->nhs_field].aux)
            *probability = 1.0;
    }
    return w;
}

double fs_model_score(const fs_model_t *self, size_t i, size_t j, double *probability)
{
    assert(self);
    uint8_t g[FS_MAX_FIELDS];
    model_compare(self, i, j, g);
    return score_levels(self, i, g, probability);
}

double fs_model_score_trained(const fs_model_t *self, const uint64_t *pairs, size_t p,
                              double *probability)
{
    assert(self && p < self->ngamma);
    return score_levels(self, FS_PAIR_LEFT(pairs[p]), self->gamma + p * self->layout.nfields,
                        probability);
}

void fs_model_explain(const fs_model_t *self, size_t i, size_t j, fs_explain_t *out)
{
    assert(self && out);
    size_t nf = self->layout.nfields;
    memset(out, 0, sizeof *out);
    model_compare(self, i, j, out->level);
    for (size_t f = 0; f < nf; f++) {
        uint8_t l = out->level[f];
        if (!l)
            continue;
        out->m[f] = self->m[f * FS_MAX_LEVELS + l];
        out->u[f] = self->u[f * FS_MAX_LEVELS + l];
        out->weight[f] = self->w[f * FS_MAX_LEVELS + l];
        if (l == 1 && self->tf_field[f])
            out->tf[f] = self->log2_m1[f] - fmax(self->log2_tf[i * nf + f], self->log2_u1[f]) -
                         out->weight[f];
        out->total += out->weight[f] + out->tf[f];
    }
    out->log2_prior_odds = self->log2_prior_odds;
    fs_model_score(self, i, j, &out->probability);
    out->deterministic = self->nhs_field >= 0 && self->dob_field >= 0 &&
                         out->level[self->nhs_field] == 1 && out->level[self->dob_field] == 1 &&
                         self->cells[i * nf + (size_t)self->nhs_field].aux;
}

bool fs_model_apart_trained(const fs_model_t *self, const uint64_t *pairs, size_t p)
{
    assert(self && p < self->ngamma);
    size_t nf = self->layout.nfields;
    if (self->nhs_field < 0)
        return false;
    size_t f = (size_t)self->nhs_field;
    return self->gamma[p * nf + f] == self->nlevels[f] - 1 &&
           self->cells[FS_PAIR_LEFT(pairs[p]) * nf + f].aux &&
           self->cells[FS_PAIR_RIGHT(pairs[p]) * nf + f].aux;
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
    return fs_link_clustered(data, seed, threshold, FS_CLUSTER_COHESIVE, result);
}

int fs_link_clustered(const fs_data_t *data, uint64_t seed, double threshold,
                      fs_clustering_t clustering, fs_result_t *result)
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
                fs_model_score_trained(model, result->pairs, p, &result->probability[p]);
        result->prior = fs_model_prior(model);
    }
    /* the pairs apart, then the model (its cells and levels) released before clustering */
    uint8_t *apart = NULL;
    if (rc == 0 && clustering == FS_CLUSTER_COHESIVE) {
        apart = malloc(result->npairs + 1);
        rc = apart ? 0 : -1;
        for (size_t p = 0; p < result->npairs && rc == 0; p++)
            apart[p] = fs_model_apart_trained(model, result->pairs, p);
    }
    fs_model_destroy(&model);
    if (rc == 0) {
        if (clustering == FS_CLUSTER_ONE_TO_ONE)
            rc = clustering_one_to_one(data->nrecords, result->pairs, result->probability,
                                       result->npairs, threshold, result->cluster);
        else if (clustering == FS_CLUSTER_COMPONENTS)
            rc = clustering_components(data->nrecords, result->pairs, result->probability,
                                       result->npairs, threshold, result->cluster);
        else
            rc = clustering_cohesive(data->nrecords, left_count(data), result->pairs,
                                     result->probability, apart, result->npairs, threshold,
                                     result->cluster);
    }
    free(apart);
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
