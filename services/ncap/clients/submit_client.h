/* submit_client.h - sends a file to ingest over ZeroMQ and waits for the receipt, which ingest
 * sends only after the records are committed. */
#ifndef NCAP_SUBMIT_CLIENT_H
#define NCAP_SUBMIT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest_reply.h"

typedef struct {
    int64_t submission_id;
    unsigned rows, accepted, unchanged, rejected;
    void *reply;         /* the receipt as ingest sent it (Ncap__V1__SubmitReply, for its
                            problems one by one); owned by the receipt */
    char *problem_lines; /* the row problems ingest sent with the receipt (the first 200), one
                            "row N: field: message (severity, rule)\n" each (a problem kept once
                            per rule ends with ": 999,998 rows (first 10 listed: 2, 3, ...)");
                            NULL when none; owned by the receipt */
} submit_receipt_t;

/* Sends data[0..len) as one submission of trust, to the ingest of target to (NULL: where
 * ingest_connect finds it, $NCAP_INGEST, else the registry; with the trust's keys when the
 * environment names them, client_keys.h). progress: print progress lines to stderr.
 * timeout_s: give up waiting for a reply after this long without one.
 * Returns 0 with *receipt filled (release with submit_receipt_free), or -1 with a message in err
 * and nothing to release. */
int submit_buffer(const ingest_target_t *to, const char *audit, const char *trust,
                  const char *filename, const char *data, size_t len, bool progress, int timeout_s,
                  submit_receipt_t *receipt, char *err, size_t errlen);

/* Prints the receipt to out: the summary line, then, when with_problems, one line per row problem.
 * Every line ends in a newline. */
void submit_receipt_print(FILE *out, const submit_receipt_t *receipt, bool with_problems);

/* Frees what the receipt owns; harmless to repeat. */
void submit_receipt_free(submit_receipt_t *receipt);

#endif
