/* validate_file.h - a trust's whole CSV file validated offline, as the pipeline would (pure: no
 * I/O): ingest's shape checks, linkage's identifier checks and derived fields, validation's types,
 * rules and history rules, the patient's other records being the rows with the same valid NHS
 * number and date of birth. The core of `ncap validate` and of its benchmark. */
#ifndef NCAP_VALIDATE_FILE_H
#define NCAP_VALIDATE_FILE_H

#include <stddef.h>

#include "audit_def.h"
#include "record_view.h"

typedef struct {
    int row; /* line in the file as sent (the header is line 1) */
    const char *field;
    const char *rule;
    const char *severity; /* "error" or "warning" */
    const char *value;    /* "" for identifiers: their values are never shown */
    const char *message;
} file_problem_t;

/* Called for each problem, in row order. */
typedef void (*file_problem_fn)(void *ctx, const file_problem_t *p);

typedef struct {
    unsigned data_rows;
    unsigned errors;
    unsigned warnings;
} file_summary_t;

/* The trust named in the first data row of the CSV in data, copied to trust ("" when none). */
void validate_file_trust(const audit_def_t *def, const char *data, size_t len, char *trust,
                         size_t trustlen);

/* Validates the file trust sent. Returns 0, or -1 when out of memory. */
int validate_file(const audit_def_t *def, const char *trust, const char *data, size_t len,
                  file_problem_fn emit, void *ctx, file_summary_t *summary);

/* Called for each row ingest would store (rows it would refuse are left out), in file order: row
 * is its line, view its fields with the derived fields computed (borrowed until the next row).
 * Returns 0, or -1 to stop. */
typedef int (*file_row_fn)(void *ctx, int row, record_view_t *view);

/* Reads the file trust sent as ingest does and gives each row fit to store to row_fn, derived
 * fields computed as linkage computes them: the rows `ncap validate` checks, for a command that
 * works on their values (`ncap risk`). No check is made beyond ingest's shape checks. Returns 0
 * with *data_rows, or -1 when out of memory or row_fn stopped. */
int validate_file_rows(const audit_def_t *def, const char *trust, const char *data, size_t len,
                       file_row_fn row_fn, void *ctx, unsigned *data_rows);

#endif
