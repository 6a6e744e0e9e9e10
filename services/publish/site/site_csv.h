/* site_csv.h - a release's CSV file held whole as strings, its columns found by name: what the
 * portal reads latest.csv, spc.csv and spc_summary.csv with. Pure but for the file read. */
#ifndef NCAP_SITE_CSV_H
#define NCAP_SITE_CSV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **header;
    size_t ncol;
    char **cells; /* nrows x ncol, row-major; a short row's missing cells are "" */
    size_t nrows;
} site_csv_t;

/* Reads path into t. Returns 1, 0 when the file does not exist (t empty), or -1 with err (a
 * malformed row: its line). */
int site_csv_load(const char *path, site_csv_t *t, char *err, size_t errlen);
/* Parses data[0..len) into t. Returns 0 or -1 with err. */
int site_csv_parse(const char *data, size_t len, site_csv_t *t, char *err, size_t errlen);
void site_csv_free(site_csv_t *t);
/* The index of column name, or -1. */
int site_csv_col(const site_csv_t *t, const char *name);
/* Cell (row, col); "" for col -1. */
const char *site_csv_get(const site_csv_t *t, size_t row, int col);
/* A cell as a number: false for an empty or non-numeric cell. */
bool site_number(const char *cell, double *out);

#endif
