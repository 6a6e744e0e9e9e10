/* ingest_store.h - a submission committed to the ingest schema: its row, then (its problems
 * streamed in by problem_stream.h meanwhile) each row a new record version unless it is identical
 * to the latest version already held. */
#ifndef NCAP_INGEST_STORE_H
#define NCAP_INGEST_STORE_H

#include <libpq-fe.h>
#include <stdint.h>

#include "submission.h"

typedef struct {
    size_t row_index; /* into submission_t.rows */
    int64_t record_id;
    int version;
} stored_version_t;

typedef struct {
    int64_t submission_id;
    unsigned accepted, unchanged;
    stored_version_t *stored; /* the new versions, to pass on to linkage */
    size_t n_stored;
} ingest_result_t;

/* Inserts the submission's row inside the caller's transaction (its counts come with
 * ingest_store), setting *submission_id: what its problems (problem_stream.h) and rows refer to.
 * Returns 0 or -1 with err. */
int ingest_store_begin(PGconn *db, const char *audit, const char *trust, const char *filename,
                       size_t bytes, int64_t *submission_id, char *err, size_t errlen);
/* Stores sub's rows as record versions of submission_id, and the submission's counts, inside the
 * caller's transaction. Returns 0 or -1 with err. */
int ingest_store(PGconn *db, int64_t submission_id, const char *audit, const char *trust,
                 const submission_t *sub, ingest_result_t *out, char *err, size_t errlen);
void ingest_result_free(ingest_result_t *r);

#endif
