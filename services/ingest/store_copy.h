/* store_copy.h - COPY ... FROM STDIN fed a line at a time as a submission is parsed, sent
 * STORE_COPY_FLUSH_BYTES at a time, so that what ingest holds of it does not grow with the lines:
 * the submission's problems (problem_stream.h) and its rows (ingest_store.h) go this way.
 *
 * Use: store_copy_begin, then for each line append it to buf (strbuf_copy_field between tabs,
 * ending in a newline) and call store_copy_sent, then store_copy_end; no other statement may run
 * on the connection in between (COPY holds it). */
#ifndef NCAP_STORE_COPY_H
#define NCAP_STORE_COPY_H

#include <libpq-fe.h>

#include "strbuf.h"

#define STORE_COPY_FLUSH_BYTES (1u << 20) /* COPY text held before it is sent */

typedef struct {
    PGconn *db;
    strbuf_t buf; /* the lines not sent yet */
    int failed;   /* a send failed (or memory ran out): the COPY is aborted at the end */
} store_copy_t;

/* Starts sql (a COPY ... FROM STDIN) on db, inside the caller's transaction. Returns 0, or -1
 * with err (nothing to end then). */
int store_copy_begin(store_copy_t *c, PGconn *db, const char *sql, char *err, size_t errlen);
/* After a line was appended to buf: sends what is buffered once it passes
 * STORE_COPY_FLUSH_BYTES. Returns 0, or -1 when memory ran out or the connection refused it (the
 * caller should stop; store_copy_end says why). */
int store_copy_sent(store_copy_t *c);
/* Sends the rest and ends the COPY, or aborts it when ok is 0. Returns 0 when every line was
 * stored, else -1 with err ("could not send the <what>: ..." when a send failed). Frees the
 * buffer either way. */
int store_copy_end(store_copy_t *c, int ok, const char *what, char *err, size_t errlen);

#endif
