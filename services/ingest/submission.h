/* submission.h - a trust's file checked for shape and cut into records (pure: no I/O).
 * Shape problems refuse a row here; everything about a row's content is left to the later stages.
 */
#ifndef NCAP_SUBMISSION_H
#define NCAP_SUBMISSION_H

#include <stddef.h>

#include "audit_def.h"
#include "csv.h"
#include "record.h"

typedef struct {
    int row;        /* line in the file as sent */
    char *local_id; /* the trust's own record id */
    char *site;
    ncap_record_t *rec; /* the audit's fields, as sent */
    char *json;         /* canonical JSON of rec (sorted keys) */
    char hash[65];      /* SHA-256 of json, hex */
} submission_row_t;

typedef struct {
    int row;
    char field[64];
    char rule[32];
    char severity[8];
    char message[512];
} submission_problem_t;

typedef struct submission_t submission_t;
struct submission_t {
    submission_row_t *rows; /* rows fit to store */
    size_t n_rows;
    submission_problem_t *problems;
    size_t n_problems;
    unsigned data_rows;   /* data rows in the file */
    unsigned rejected;    /* rows refused here */
    char file_error[512]; /* set when the whole file is refused */
};

/* Parses a CSV file sent by trust for def's audit. Returns the parsed submission (check
 * file_error), or NULL when out of memory. */
submission_t *submission_parse_csv(const audit_def_t *def, const char *trust, const char *data,
                                   size_t len);
/* Called by submission_scan_csv for each row fit to store, in file order: s holds the problems
 * found so far (rows before this one), row is its line, csv_reader_field(csv, i) the value of
 * column i and col[i] its field (NULL: an ignored column). Returns 0, or -1 to stop (out of
 * memory). */
typedef int (*submission_row_fn)(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                                 const audit_field_t *const *col);
/* The shape checks of submission_parse_csv without keeping the rows (no record, JSON or hash):
 * each row fit to store goes to on_row. The result has problems, counts and file_error but no
 * rows; NULL when out of memory or when on_row stopped. */
submission_t *submission_scan_csv(const audit_def_t *def, const char *trust, const char *data,
                                  size_t len, submission_row_fn on_row, void *ctx);
void submission_destroy(submission_t **self_p);

#endif
