/* site_csv.c - a CSV file held whole as strings */
#include "site_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "file_read.h"

/* A release file is written by publish; this bounds what a damaged one can make us hold. */
#define SITE_CSV_MAX_BYTES ((size_t)1 << 30)

static int push_row(site_csv_t *t, const csv_reader_t *r, size_t *cap)
{
    if (t->nrows == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        char **c = realloc(t->cells, ncap * t->ncol * sizeof *c);
        if (!c)
            return -1;
        t->cells = c;
        *cap = ncap;
    }
    size_t nf = csv_reader_nfields(r);
    for (size_t i = 0; i < t->ncol; i++) {
        char *v = strdup(i < nf ? csv_reader_field(r, i) : "");
        t->cells[t->nrows * t->ncol + i] = v;
        if (!v) {
            for (size_t k = 0; k < i; k++)
                free(t->cells[t->nrows * t->ncol + k]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

int site_csv_parse(const char *data, size_t len, site_csv_t *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    csv_reader_t *r = csv_reader_new(data, len, false);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t cap = 0;
    int rc = 0, got;
    while (rc == 0 && (got = csv_reader_next(r)) != 0) {
        if (got < 0) {
            snprintf(err, errlen, "line %zu: %s", csv_reader_line(r), csv_reader_error(r));
            rc = -1;
        } else if (!t->header) {
            t->ncol = csv_reader_nfields(r);
            t->header = calloc(t->ncol ? t->ncol : 1, sizeof *t->header);
            for (size_t i = 0; t->header && i < t->ncol; i++)
                if (!(t->header[i] = strdup(csv_reader_field(r, i))))
                    rc = -1;
            if (!t->header || rc != 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        } else if (push_row(t, r, &cap) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    csv_reader_destroy(&r);
    if (rc != 0)
        site_csv_free(t);
    return rc;
}

int site_csv_load(const char *path, site_csv_t *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char *data = NULL;
    size_t len = 0;
    if (file_read_max(path, SITE_CSV_MAX_BYTES, &data, &len) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "could not read \"%s\": %s", path, strerror(errno));
        return -1;
    }
    char why[512];
    int rc = site_csv_parse(data, len, t, why, sizeof why);
    free(data);
    if (rc != 0) {
        snprintf(err, errlen, "could not read \"%s\": %s", path, why);
        return -1;
    }
    return 1;
}

void site_csv_free(site_csv_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->header && i < t->ncol; i++)
        free(t->header[i]);
    for (size_t i = 0; t->cells && i < t->nrows * t->ncol; i++)
        free(t->cells[i]);
    free(t->header);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

int site_csv_col(const site_csv_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncol; i++)
        if (strcmp(t->header[i], name) == 0)
            return (int)i;
    return -1;
}

const char *site_csv_get(const site_csv_t *t, size_t row, int col)
{
    if (col < 0 || (size_t)col >= t->ncol || row >= t->nrows)
        return "";
    return t->cells[row * t->ncol + (size_t)col];
}

bool site_number(const char *cell, double *out)
{
    if (!cell || !*cell)
        return false;
    char *end;
    double v = strtod(cell, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}
