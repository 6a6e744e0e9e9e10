/* ingest_store.h - a submission committed to the ingest schema: its row, then (its problems
 * streamed in by problem_stream.h meanwhile) its rows streamed into a temporary table as the parse
 * builds them (ingest_rows_*), then each row a new record version unless it is identical to the
 * latest version already held. What ingest holds of a submission's rows is a megabyte of COPY
 * text (store_copy.h) and, once stored, 16 bytes per new version (to pass on), whatever the
 * number of rows. */
#ifndef NCAP_INGEST_STORE_H
#define NCAP_INGEST_STORE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store_copy.h"
#include "submission.h"

typedef struct {
    int64_t record_id;
    int version;
} stored_version_t;

typedef struct {
    int64_t submission_id;
    unsigned accepted, unchanged;
    stored_version_t *stored; /* the new versions, in file order, to pass on to linkage */
    size_t n_stored;
} ingest_result_t;

/* The rows of a submission on their way into the temporary table sub_rows. */
typedef struct {
    store_copy_t copy;
    size_t n; /* rows put so far */
} ingest_rows_t;

/* Inserts the submission's row inside the caller's transaction (its counts come with
 * ingest_store), setting *submission_id: what its problems (problem_stream.h) and rows refer to.
 * Returns 0 or -1 with err. */
int ingest_store_begin(PGconn *db, const char *audit, const char *trust, const char *filename,
                       size_t bytes, int64_t *submission_id, char *err, size_t errlen);
/* Starts COPY of a submission's rows into sub_rows, inside the caller's transaction (emptied at
 * its end). Returns 0, or -1 with err (nothing to end then). */
int ingest_rows_begin(ingest_rows_t *rs, PGconn *db, char *err, size_t errlen);
/* One row (ctx: rs), as submission_stream_csv gives it (a submission_built_fn). Returns 0, or -1
 * when the connection refused it (the parse should stop; ingest_rows_end says why). */
int ingest_rows_put(void *ctx, const submission_row_t *row);
/* Sends the rest and ends the COPY, or aborts it when ok is 0. Returns 0 when every row was
 * stored, else -1 with err. */
int ingest_rows_end(ingest_rows_t *rs, int ok, char *err, size_t errlen);
/* Stores the n_rows rows put (ingest_rows_*, in this transaction) as record versions of
 * submission_id, and the submission's counts (sub's data_rows and rejected), inside the caller's
 * transaction. Returns 0 or -1 with err. */
int ingest_store(PGconn *db, int64_t submission_id, const char *audit, const char *trust,
                 const submission_t *sub, size_t n_rows, ingest_result_t *out, char *err,
                 size_t errlen);
void ingest_result_free(ingest_result_t *r);

#endif
