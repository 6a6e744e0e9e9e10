/* submission.h - a trust's file checked for shape and cut into records (pure: no I/O).
 * Shape problems refuse a row here; everything about a row's content is left to the later stages.
 */
#ifndef NCAP_SUBMISSION_H
#define NCAP_SUBMISSION_H

#include <stddef.h>

#include "audit_def.h"
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

typedef struct {
    submission_row_t *rows; /* rows fit to store */
    size_t n_rows;
    submission_problem_t *problems;
    size_t n_problems;
    unsigned data_rows;   /* data rows in the file */
    unsigned rejected;    /* rows refused here */
    char file_error[512]; /* set when the whole file is refused */
} submission_t;

/* Parses a CSV file sent by trust for def's audit. Returns the parsed submission (check
 * file_error), or NULL when out of memory. */
submission_t *submission_parse_csv(const audit_def_t *def, const char *trust, const char *data,
                                   size_t len);
void submission_destroy(submission_t **self_p);

#endif
