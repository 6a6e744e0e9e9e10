/* validate_file.h - a trust's whole CSV file validated offline, as the pipeline would (pure: no
 * I/O): ingest's shape checks, linkage's identifier checks and derived fields, validation's types,
 * rules and history rules, the patient's other records being the rows with the same valid NHS
 * number and date of birth. The core of `ncap validate` and of its benchmark. */
#ifndef NCAP_VALIDATE_FILE_H
#define NCAP_VALIDATE_FILE_H

#include <stddef.h>

#include "audit_def.h"

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

#endif
