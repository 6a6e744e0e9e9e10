/* submission.h - a trust's file checked for shape and cut into records (pure: no I/O).
 * Shape problems refuse a row here; everything about a row's content is left to the later stages.
 *
 * Problems are not kept here: each goes to the caller's sink as it is found (ncap-ingestd streams
 * them into ingest.problem), so memory does not grow with their number. With sink.aggregate, the
 * problems of the file-level rules (SUBMISSION_FILE_RULES: the file's shape, not a record's data,
 * e.g. a wrong number of columns, which a broken export repeats on every row) are kept once per
 * rule with their count and first SUBMISSION_LISTED_ROWS rows, and go to the sink at the end; every
 * record-level problem (a record's key, trust, site, a value too long) goes to it in full.
 *
 * Limits (each passing one is a specific problem or file error, never a crash or a stall). Memory
 * while scanning is the file, plus one row (at most SUBMISSION_MAX_COLUMNS x
 * SUBMISSION_MAX_FIELD_BYTES), plus the set of local ids seen (about 60 bytes a row), plus, with
 * submission_parse_csv only, the rows kept (a record, its JSON and hash: kilobytes a row);
 * submission_stream_csv builds one row at a time.
 */
#ifndef NCAP_SUBMISSION_H
#define NCAP_SUBMISSION_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_def.h"
#include "csv.h"
#include "record.h"

#define SUBMISSION_MAX_ROWS 1000000      /* data rows per file; more: the file is refused */
#define SUBMISSION_MAX_COLUMNS 1000      /* columns of the header; more: the file is refused */
#define SUBMISSION_MAX_FIELD_BYTES 32768 /* bytes of one value; longer: the row is refused */
#define SUBMISSION_MAX_LOCAL_ID_BYTES                                                              \
    128                             /* bytes of the record key; longer: the row is refused         \
                                     */
#define SUBMISSION_LISTED_ROWS 1000 /* rows listed with a problem kept once per rule */
#define SUBMISSION_FILE_RULES "columns, csv, encoding" /* the rules kept once per rule */

typedef struct {
    int row;        /* line in the file as sent */
    char *local_id; /* the trust's own record id */
    char *site;
    ncap_record_t *rec; /* the audit's fields, as sent */
    char *json;         /* canonical JSON of rec (sorted keys) */
    char hash[65];      /* SHA-256 of json, hex */
} submission_row_t;

/* One problem, as the sink sees it (the strings are valid during the call only). */
typedef struct {
    int row; /* line in the file as sent (1: the header); kept once per rule: the first */
    const char *field, *rule, *severity, *message;
    unsigned count;  /* rows with it: 1, or more for a problem kept once per rule */
    const int *rows; /* count > 1: the first n_rows of them, ascending; else NULL */
    size_t n_rows;   /* min(count, SUBMISSION_LISTED_ROWS) when count > 1, else 0 */
} submission_problem_t;

/* Takes one problem. Returns 0, or -1 to stop the scan (the scan then returns NULL). */
typedef int (*submission_problem_fn)(void *ctx, const submission_problem_t *p);

typedef struct {
    submission_problem_fn problem; /* NULL: problems are only counted */
    void *ctx;
    bool aggregate; /* keep the file-level rules' problems once per rule (see above) */
} submission_sink_t;

typedef struct submission_t submission_t;
struct submission_t {
    submission_row_t *rows; /* rows fit to store */
    size_t n_rows;
    unsigned long long n_problems; /* problems given to the sink (one kept once per rule: 1) */
    unsigned data_rows;            /* data rows in the file */
    unsigned rejected;             /* rows refused here */
    char file_error[512];          /* set when the whole file is refused */
};

/* Parses a CSV file sent by trust for def's audit; problems go to sink (NULL: counted only).
 * Returns the parsed submission (check file_error), or NULL when out of memory or when the sink
 * stopped. */
submission_t *submission_parse_csv(const audit_def_t *def, const char *trust, const char *data,
                                   size_t len, const submission_sink_t *sink);
/* Called by submission_scan_csv for each row fit to store, in file order, after the problems of
 * the rows before it went to the sink: s holds the counts so far, row is its line,
 * csv_reader_field(csv, i) the value of column i and col[i] its field (NULL: an ignored column).
 * Returns 0, or -1 to stop (out of memory). */
typedef int (*submission_row_fn)(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                                 const audit_field_t *const *col);
/* The shape checks of submission_parse_csv without keeping the rows (no record, JSON or hash):
 * each row fit to store goes to on_row (with ctx), each problem to sink. The result has counts and
 * file_error but no rows; NULL when out of memory or when on_row or the sink stopped. */
submission_t *submission_scan_csv(const audit_def_t *def, const char *trust, const char *data,
                                  size_t len, submission_row_fn on_row, void *ctx,
                                  const submission_sink_t *sink);
/* Takes one row built as submission_parse_csv builds it (valid during the call only: it is freed
 * afterwards). Returns 0, or -1 to stop the scan. */
typedef int (*submission_built_fn)(void *ctx, const submission_row_t *row);
/* submission_parse_csv without keeping the rows: each row fit to store is built (record, JSON,
 * hash), given to on_row (with ctx) and freed, so memory does not grow with the rows (ncap-ingestd
 * streams them into its COPY). The result has counts and file_error but no rows; NULL when out of
 * memory or when on_row or the sink stopped. */
submission_t *submission_stream_csv(const audit_def_t *def, const char *trust, const char *data,
                                    size_t len, submission_built_fn on_row, void *ctx,
                                    const submission_sink_t *sink);
void submission_destroy(submission_t **self_p);

#endif
