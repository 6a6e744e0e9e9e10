/* problem_stream.h - a submission's problems into ingest.problem as the parse finds them: COPY in
 * its transaction (store_copy.h), sent 1 MB at a time, so that ingest holds at most that much of
 * them whatever their number (a million problems once took 777 MB held in an array until the
 * parse ended).
 *
 * Use: problem_stream_begin after the submission's row is inserted, problem_stream_put as the
 * submission's sink (submission_sink_t.problem), problem_stream_end once the parse is over; no
 * other statement may run on the connection in between (COPY holds it). */
#ifndef NCAP_PROBLEM_STREAM_H
#define NCAP_PROBLEM_STREAM_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store_copy.h"
#include "submission.h"

typedef struct {
    store_copy_t copy; /* copy.failed: a send failed, the COPY is aborted at the end */
    char sid[24];
} problem_stream_t;

/* Starts COPY into ingest.problem for submission_id on db, inside the caller's transaction.
 * Returns 0, or -1 with err (nothing to end then). */
int problem_stream_begin(problem_stream_t *ps, PGconn *db, int64_t submission_id, char *err,
                         size_t errlen);
/* One problem (ctx: the stream); sends what is buffered past STORE_COPY_FLUSH_BYTES. Returns 0,
 * or -1 when the connection refused it (the parse should stop; problem_stream_end says why). */
int problem_stream_put(void *ctx, const submission_problem_t *p);
/* Sends the rest and ends the COPY, or aborts it when ok is 0. Returns 0 when every problem was
 * stored, else -1 with err. Frees the buffer either way. */
int problem_stream_end(problem_stream_t *ps, int ok, char *err, size_t errlen);

#endif
