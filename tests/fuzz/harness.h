/* harness.h - what the libFuzzer targets of tests/fuzz share: the entry points libFuzzer calls,
 * the audit definitions of deploy/audits, the fuzzer's bytes cut into lines and fields, and rows
 * of a PostgreSQL result built in memory (libpq makes them without a connection), so that a
 * stage's read_row and decide hooks (stage_batch_read) see what they see behind load_sql. */
#ifndef NCAP_FUZZ_HARNESS_H
#define NCAP_FUZZ_HARNESS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_cache.h"
#include "stage.h"

/* libFuzzer's entry points (defined by each target). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the process with a message when an invariant of the code under test does not hold:
 * libFuzzer keeps the input as a crash, like a sanitizer's finding. */
#define HARNESS_CHECK(cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            harness_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                  \
    } while (0)
_Noreturn void harness_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The folder of the audit definitions: $NCAP_AUDIT_DIR, else deploy/audits of the source tree. */
const char *harness_audit_dir(void);
/* One cache of that folder for the process (definitions load on first use and stay). */
audit_cache_t *harness_audits(void);

/* The fuzzer's bytes as a NUL-terminated copy (NUL bytes inside are kept: C string functions stop
 * there, as they do on a PostgreSQL text value, which cannot hold one). Caller frees. */
char *harness_text(const uint8_t *data, size_t size);
/* Cuts text in place at each sep: at most max pieces (the last takes the rest). Returns the
 * number of pieces (1 for text without sep). */
size_t harness_split(char *text, char sep, char **pieces, size_t max);

/* A PGresult of ncols text columns named names[] and no rows (PQmakeEmptyPGresult: no
 * connection), or NULL when out of memory. */
PGresult *harness_result_new(int ncols, const char *const *names);
/* Sets row `row` (the next one, or an existing one) to values (NULL: SQL null). Returns 0, or -1
 * when out of memory. */
int harness_result_set(PGresult *r, int row, const char *const *values);

/* Rows at most: a batch of a few records is what decide sees of anything a fuzzer can find. */
#define HARNESS_MAX_ROWS 16

/* The columns of a record stage's rows: names[0..ncols), the key first, then those of
 * stage_record.h (3-6), then the stage's own; defaults[] for what a line does not give. */
typedef struct {
    int ncols;
    const char *const *names;
    const char *const *defaults;
} harness_columns_t;

/* The columns of validation's load_sql (linkage.pseudo_record). */
extern const harness_columns_t harness_validation_columns;

/* The rows load_sql would give a record stage, from the fuzzer's text: one a line,
 *   audit TAB trust TAB site TAB payload [TAB extra ...]
 * where payload is the record's JSON text as PostgreSQL gives it (payload::text). Columns 0-2 are
 * the key: keys->keys[i] for row i when keys has one, else (the line's number, version 1, link
 * revision 0); 3-6 those of stage_record.h; 7 on the line's extra fields, the defaults where it
 * has fewer. At most HARNESS_MAX_ROWS rows; NULL when out of memory. */
PGresult *harness_stage_result(const uint8_t *data, size_t size, const harness_columns_t *cols,
                               const stage_keys_t *keys);
/* Runs those rows through a record stage's read_row and decide (stage_batch_read), checks what
 * any stage's batch must then be, and hands the batch and its rows to check (or NULL), the
 * target's own look at each decision. What any batch must be: one item per row, with the row's
 * key; a failed item has a class and a message, an item without input has failed, and an item
 * whose payload is not a JSON object or whose audit has no definition failed as
 * STAGE_ERR_INPUT or STAGE_ERR_DEFINITION. */
void harness_stage_run(const stage_ops_t *ops, const uint8_t *data, size_t size,
                       const harness_columns_t *cols, const stage_keys_t *keys,
                       void (*check)(const stage_batch_t *b, const PGresult *r));

/* The definition and record of row `row` of a stage's rows (columns 3 and 6), for a row read_row
 * took: rec (cleared first) gets the payload. Aborts when the row is not a record of a known
 * audit (read_row should not have taken it). */
const audit_def_t *harness_row_record(const PGresult *r, int row, ncap_record_t *rec);

#endif
