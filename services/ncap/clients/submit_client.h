/* submit_client.h - sends a file to ingest over ZeroMQ and waits for the receipt, which ingest
 * sends only after the records are committed. */
#ifndef NCAP_SUBMIT_CLIENT_H
#define NCAP_SUBMIT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t submission_id;
    unsigned rows, accepted, unchanged, rejected;
    unsigned n_problems_shown; /* row problems printed by the client */
} submit_receipt_t;

/* Finds a live ingest endpoint: $NCAP_INGEST if set, else a live ingest instance registered in
 * PostgreSQL ($NCAP_PG). Returns 0, or -1 with a message in err. */
int submit_resolve_endpoint(char *out, size_t outlen, char *err, size_t errlen);

/* Sends data[0..len) as one submission. progress: print progress lines to stderr.
 * timeout_s: give up waiting for a reply after this long without one.
 * Returns 0 with *receipt filled, or -1 with a message in err. */
int submit_buffer(const char *endpoint, const char *audit, const char *trust, const char *filename,
                  const char *data, size_t len, bool progress, int timeout_s,
                  submit_receipt_t *receipt, char *err, size_t errlen);

#endif
