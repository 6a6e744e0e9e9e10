/* refdata.c - reference data rows read, checked and normalised (see refdata.h) */
#include "refdata.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "fs_model.h"
#include "nhs_number.h"
#include "postcode.h"

enum { MAX_COLUMNS = 7 };

typedef struct {
    const char *name;
    const char *columns[MAX_COLUMNS + 1]; /* NULL-terminated, in the order of the contract */
} kind_info_t;

static const kind_info_t kinds[] = {
    [REFDATA_DEATHS] = {"deaths",
                        {"nhs_number", "forename", "surname", "date_of_birth", "sex", "postcode",
                         "date_of_death", NULL}},
    [REFDATA_OPTOUTS] = {"optouts", {"nhs_number", NULL}},
    [REFDATA_IMD] = {"imd",
                     {"lsoa11cd", "imd2019_rank", "imd2019_decile", "imd2019_quintile", NULL}},
};

/* column indexes of each kind, as above */
enum { D_NHS, D_FORENAME, D_SURNAME, D_DOB, D_SEX, D_POSTCODE, D_DOD };
enum { O_NHS };
enum { I_LSOA, I_RANK, I_DECILE, I_QUINTILE };

struct refdata_reader_t {
    refdata_kind_t kind;
    csv_reader_t *csv;
    size_t ncolumns;
    size_t file_column[MAX_COLUMNS]; /* where each of the kind's columns is in the file */
    size_t line;
    char header[128];
};

int refdata_kind_parse(const char *name, refdata_kind_t *kind)
{
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(name, kinds[k].name) == 0) {
            *kind = (refdata_kind_t)k;
            return 0;
        }
    return -1;
}

const char *refdata_kind_name(refdata_kind_t kind)
{
    return kinds[kind].name;
}

const char *refdata_kind_header(refdata_kind_t kind)
{
    static char headers[sizeof kinds / sizeof kinds[0]][128];
    char *h = headers[kind];
    if (!h[0]) {
        size_t n = 0;
        for (const char *const *c = kinds[kind].columns; *c; c++)
            n += (size_t)snprintf(h + n, sizeof headers[0] - n, "%s%s", n ? "," : "", *c);
    }
    return h;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Maps the header's columns to the kind's. Returns 0 or -1 with the reason. */
static int read_header(refdata_reader_t *self, char *err, size_t errlen)
{
    const kind_info_t *k = &kinds[self->kind];
    const char *expected = refdata_kind_header(self->kind);
    int got = csv_reader_next(self->csv);
    if (got == 0)
        return fail(err, errlen, "the file is empty: expected the header \"%s\"", expected);
    if (got < 0)
        return fail(err, errlen, "could not read the header: %s", csv_reader_error(self->csv));
    size_t n = csv_reader_nfields(self->csv);
    for (size_t c = 0; k->columns[c]; c++)
        self->file_column[c] = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        const char *name = csv_reader_field(self->csv, i);
        size_t c = 0;
        while (k->columns[c] && strcasecmp(k->columns[c], name) != 0)
            c++;
        if (!k->columns[c])
            return fail(err, errlen,
                        "wrong header for %s data: unexpected column \"%.64s\", expected \"%s\"",
                        k->name, name, expected);
        if (self->file_column[c] != (size_t)-1)
            return fail(err, errlen, "wrong header for %s data: column \"%s\" appears twice",
                        k->name, k->columns[c]);
        self->file_column[c] = i;
    }
    for (size_t c = 0; k->columns[c]; c++)
        if (self->file_column[c] == (size_t)-1)
            return fail(err, errlen,
                        "wrong header for %s data: column \"%s\" is missing, expected \"%s\"",
                        k->name, k->columns[c], expected);
    self->ncolumns = n;
    return 0;
}

refdata_reader_t *refdata_reader_new(refdata_kind_t kind, const char *data, size_t len, char *err,
                                     size_t errlen)
{
    assert(kind >= REFDATA_DEATHS && kind <= REFDATA_IMD);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    refdata_reader_t *self = calloc(1, sizeof *self);
    if (self)
        self->csv = csv_reader_new(data, len, true);
    if (!self || !self->csv) {
        fail(err, errlen, "out of memory");
        refdata_reader_destroy(&self);
        return NULL;
    }
    self->kind = kind;
    if (read_header(self, err, errlen) != 0)
        refdata_reader_destroy(&self);
    return self;
}

void refdata_reader_destroy(refdata_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csv_reader_destroy(&(*self_p)->csv);
    free(*self_p);
    *self_p = NULL;
}

size_t refdata_reader_line(const refdata_reader_t *self)
{
    assert(self);
    return self->line;
}

/* Writes v (0-9999) as width digits. */
static void digits(char *out, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

int refdata_date_normalise(const char *s, char out[11])
{
    int y, m, d;
    if (fs_date_parse(s, &y, &m, &d) != 0)
        return -1;
    digits(out, y, 4);
    out[4] = '-';
    digits(out + 5, m, 2);
    out[7] = '-';
    digits(out + 8, d, 2);
    out[10] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- one field each */

static int bad(refdata_problem_t *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(refdata_problem_t *p, const char *field, const char *fmt, ...)
{
    snprintf(p->field, sizeof p->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    return -1;
}

static int nhs_number(const char *v, bool required, char out[11], refdata_problem_t *p)
{
    static const char *const F = "nhs_number";
    switch (nhs_number_check(v, out)) {
    case NHS_NUMBER_VALID:
        return 0;
    case NHS_NUMBER_EMPTY:
        out[0] = '\0';
        return required ? bad(p, F, "field \"nhs_number\" is empty") : 0;
    case NHS_NUMBER_FORMAT:
        return bad(p, F,
                   "field \"nhs_number\" is not an NHS number: expected 10 digits (3-3-4 "
                   "spacing allowed)");
    case NHS_NUMBER_CHECKSUM:
        return bad(p, F, "field \"nhs_number\" fails the Modulus 11 check");
    case NHS_NUMBER_PLACEHOLDER:
        return bad(p, F,
                   "field \"nhs_number\" is a placeholder (one repeated digit), not a person's");
    case NHS_NUMBER_TEST: /* never issued, but test systems use them: a warning elsewhere */
        return 0;
    }
    return bad(p, F, "field \"nhs_number\" is not valid");
}

static int date(const char *field, const char *v, bool required, char out[11], refdata_problem_t *p)
{
    out[0] = '\0';
    if (!*v)
        return required ? bad(p, field, "field \"%s\" is empty", field) : 0;
    if (refdata_date_normalise(v, out) != 0)
        return bad(p, field,
                   "field \"%s\" has value \"%.40s\", expected a date (YYYY-MM-DD, YYYYMMDD or "
                   "DD/MM/YYYY)",
                   field, v);
    return 0;
}

static int name(const char *field, const char *v, char out[REFDATA_NAME_MAX + 1],
                refdata_problem_t *p)
{
    size_t n = strlen(v);
    if (n > REFDATA_NAME_MAX)
        return bad(p, field, "field \"%s\" is longer than %d bytes", field, REFDATA_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20)
            return bad(p, field, "field \"%s\" holds a control character", field);
    memcpy(out, v, n + 1);
    return 0;
}

/* Person stated gender, also as M, F, U or words: 1 male, 2 female, 9 indeterminate, X not known */
static int sex(const char *v, char out[2], refdata_problem_t *p)
{
    static const struct {
        const char *in, *code;
    } map[] = {{"", ""},         {"1", "1"},        {"2", "2"},      {"9", "9"},
               {"x", "X"},       {"m", "1"},        {"f", "2"},      {"u", "X"},
               {"0", "X"},       {"male", "1"},     {"female", "2"}, {"indeterminate", "9"},
               {"unknown", "X"}, {"not known", "X"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(v, map[i].in) == 0) {
            memcpy(out, map[i].code, strlen(map[i].code) + 1);
            return 0;
        }
    return bad(p, "sex",
               "field \"sex\" has value \"%.20s\", expected 1 (male), 2 (female), 9 "
               "(indeterminate), X (not known), M, F or U",
               v);
}

static int postcode(const char *v, char out[9], refdata_problem_t *p)
{
    postcode_status_t st = postcode_check(v, out);
    if (st == POSTCODE_FORMAT)
        return bad(p, "postcode",
                   "field \"postcode\" has value \"%.20s\", expected a UK postcode such as LS1 "
                   "4AP, or ZZ99 3VZ",
                   v);
    if (st == POSTCODE_EMPTY)
        out[0] = '\0';
    return 0;
}

/* A whole number from lo to hi */
static int number(const char *field, const char *v, int lo, int hi, int *out, refdata_problem_t *p)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!isdigit((unsigned char)v[0]) || *end || x < lo || x > hi)
        return bad(p, field, "field \"%s\" has value \"%.20s\", expected %d-%d", field, v, lo, hi);
    *out = (int)x;
    return 0;
}

/* ---------------------------------------------------------------- rows */

static void death_hash(refdata_row_t *r)
{
    const char *parts[] = {r->nhs_number, r->forename, r->surname,      r->date_of_birth,
                           r->sex,        r->postcode, r->date_of_death};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        /* each part with its NUL, so ("ab","c") and ("a","bc") differ */
        crypto_hash_sha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(r->row_hash, sizeof r->row_hash, h, sizeof h);
}

static int death_row(const char *const *f, refdata_row_t *r, refdata_problem_t *p)
{
    if (nhs_number(f[D_NHS], false, r->nhs_number, p) != 0 ||
        name("forename", f[D_FORENAME], r->forename, p) != 0 ||
        name("surname", f[D_SURNAME], r->surname, p) != 0 ||
        date("date_of_birth", f[D_DOB], false, r->date_of_birth, p) != 0 ||
        sex(f[D_SEX], r->sex, p) != 0 || postcode(f[D_POSTCODE], r->postcode, p) != 0 ||
        date("date_of_death", f[D_DOD], true, r->date_of_death, p) != 0)
        return -1;
    /* ISO dates compare as text */
    if (r->date_of_birth[0] && strcmp(r->date_of_death, r->date_of_birth) < 0)
        return bad(p, "date_of_death", "date of death (%s) is before the date of birth (%s)",
                   r->date_of_death, r->date_of_birth);
    death_hash(r);
    return 0;
}

static int imd_row(const char *const *f, refdata_row_t *r, refdata_problem_t *p)
{
    const char *l = f[I_LSOA];
    if (strlen(l) != 9 || (l[0] != 'E' && l[0] != 'W') || l[1] != '0' || l[2] != '1' ||
        strspn(l + 3, "0123456789") != 6)
        return bad(p, "lsoa11cd",
                   "field \"lsoa11cd\" has value \"%.20s\", expected an LSOA code such as "
                   "E01000001",
                   l);
    memcpy(r->lsoa, l, 10);
    if (number("imd2019_rank", f[I_RANK], 1, 1000000, &r->imd_rank, p) != 0 ||
        number("imd2019_decile", f[I_DECILE], 1, 10, &r->imd_decile, p) != 0 ||
        number("imd2019_quintile", f[I_QUINTILE], 1, 5, &r->imd_quintile, p) != 0)
        return -1;
    if (r->imd_quintile != (r->imd_decile + 1) / 2)
        return bad(p, "imd2019_quintile", "quintile %d does not agree with decile %d (expected %d)",
                   r->imd_quintile, r->imd_decile, (r->imd_decile + 1) / 2);
    return 0;
}

static bool blank_row(const csv_reader_t *csv)
{
    for (size_t i = 0; i < csv_reader_nfields(csv); i++)
        if (csv_reader_field(csv, i)[0])
            return false;
    return true;
}

int refdata_reader_next(refdata_reader_t *self, refdata_row_t *row, refdata_problem_t *problem)
{
    assert(self);
    const kind_info_t *k = &kinds[self->kind];
    int got;
    do {
        got = csv_reader_next(self->csv);
        if (got == 0)
            return 0;
        self->line = csv_reader_line(self->csv);
        if (got < 0)
            return bad(problem, "", "%s", csv_reader_error(self->csv));
    } while (blank_row(self->csv));
    size_t n = csv_reader_nfields(self->csv);
    if (n != self->ncolumns)
        return bad(problem, "", "%zu fields, expected %zu as in the header", n, self->ncolumns);
    const char *f[MAX_COLUMNS];
    for (size_t c = 0; k->columns[c]; c++)
        f[c] = csv_reader_field(self->csv, self->file_column[c]);
    memset(row, 0, sizeof *row);
    int rc = -1;
    switch (self->kind) {
    case REFDATA_DEATHS:
        rc = death_row(f, row, problem);
        break;
    case REFDATA_OPTOUTS:
        rc = nhs_number(f[O_NHS], true, row->nhs_number, problem);
        break;
    case REFDATA_IMD:
        rc = imd_row(f, row, problem);
        break;
    }
    return rc == 0 ? 1 : -1;
}
