/* request_gate.h - whether ingest takes a trust's request, decided before anything needs
 * PostgreSQL (pure: no sockets, no SQL, no clock; the caller passes the time). The one copy of
 * these checks: ncap-ingestd's request loop (ingest_server.c) and the fuzz target
 * tests/fuzz/fuzz_ingest_request.c both call it, so what is fuzzed is what runs.
 *
 * A submission chunk (ncap.v1.SubmitRequest) is checked in this order; the first check it fails
 * answers, and what comes after is not looked at (nothing counted, nothing taken):
 *   1. the client token is 1-79 bytes and the audit name under 40 (refused under token "": the
 *      request's own cannot be echoed)
 *   2. the connection speaks for the trust the request states
 *   3. that trust is an ODS code
 *   4. ingest is not stopping
 *   5. the connection's routing id is at most UPLOAD_CLIENT_MAX bytes
 *   6. chunk 0 only: the audit is known and its definition loads, so that an unknown audit is
 *      refused at the first chunk, not after the whole file has come
 *   7. chunk 0 only: the trust is within its submission rate (trust_rate.h); a submission begun
 *      takes from it even when the upload table then refuses it
 *   8. the upload table (uploads_add, upload.h): chunks in order, an upload its connection's and
 *      its trust's, the limits on uploads and bytes
 *   9. a finished file: its audit's definition, looked up again (the one the store job parses
 *      against).
 *
 * A feedback request (ncap.v1.FeedbackRequest) gets checks 2 and 3, with the same messages, then
 * a submission id above 0 (an id no submission has is answered as one of another trust's). It is
 * answered while ingest is stopping.
 *
 * A results request (ncap.v1.ResultsRequest) gets checks 2 and 3, with the same messages, then an
 * audit name of 1-39 lowercase letters, digits or underscores, a period empty or of the form
 * 2025Q3, and a cursor's ids under 256 bytes. It is answered while ingest is stopping.
 * An outlier request (ncap.v1.OutlierRequest) gets checks 2 and 3, then: SHOW and RESPOND a case
 * id above 0 (else answered as a case the trust has not got), RESPOND a text of 1 to
 * REQUEST_GATE_OUTLIER_TEXT_MAX bytes of UTF-8. It is answered while ingest is stopping. */
#ifndef NCAP_REQUEST_GATE_H
#define NCAP_REQUEST_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_cache.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/results.pb-c.h"
#include "ncap/v1/outlier.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "trust_rate.h"
#include "upload.h"

/* The answer to every file ingest drops because it is stopping: a chunk refused, a job not stored.
 */
#define REQUEST_GATE_STOPPING                                                                      \
    "ingest is stopping: nothing of this file was kept; send it again in a minute"

/* What the gate reads and changes, borrowed from the server that owns it. */
typedef struct {
    uploads_t *uploads;    /* the uploads in progress (check 8) */
    trust_rate_t *rate;    /* submissions begun per trust (check 7) */
    audit_cache_t *audits; /* the definitions (checks 6 and 9) */
    bool stopping;         /* ingest is stopping: every chunk refused (check 4) */
} request_gate_t;

typedef enum {
    REQUEST_GATE_REFUSED,  /* answer an error: msg, under token */
    REQUEST_GATE_MORE,     /* taken, more chunks to come: answer progress */
    REQUEST_GATE_COMPLETE, /* taken, and the file is whole: done and def, to be stored */
} request_gate_status_t;

/* The gate's answer to one chunk. */
typedef struct {
    /* the client token to answer under: the request's (its storage, valid while it is), or ""
     * when the request was refused for its token */
    const char *token;
    size_t progress;        /* MORE, COMPLETE: bytes of the file received so far */
    upload_t done;          /* COMPLETE: the finished file; the caller owns done.data, frees it */
    const audit_def_t *def; /* COMPLETE: its audit's definition (the cache's) */
    char msg[1024];         /* REFUSED: the reason, for the client */
    /* REFUSED: its kind as an HTTP status for the web gateway (SubmitReply.status): 429 over the
     * trust's rate, 503 stopping or an audit whose definition does not load, 0 otherwise */
    unsigned status;
    /* REFUSED for an audit whose definition does not load: why (its path and line), for the
     * operators' log and never for the client; "" otherwise */
    char audit_error[1024];
} request_gate_answer_t;

/* Checks one chunk, req, from the connection whose routing id is client (client_len bytes) at
 * now_ms, and takes it into gate->uploads when it passes. trust is the trust the connection
 * speaks for: NULL when it is not authenticated as the trust the request states (with keys, the
 * trust of the key the connection was admitted with; in plain mode, the stated one). Returns the
 * answer's kind, the answer in *out. */
request_gate_status_t request_gate_submit(request_gate_t *gate, const Ncap__V1__SubmitRequest *req,
                                          const char *trust, const void *client, size_t client_len,
                                          long long now_ms, request_gate_answer_t *out);

typedef enum {
    REQUEST_GATE_FEEDBACK_REFUSED,   /* answer an error: msg */
    REQUEST_GATE_FEEDBACK_NOT_FOUND, /* answer not found: msg, without asking the database */
    REQUEST_GATE_FEEDBACK_READ,      /* read the submission of trust from the database; when
                                        there is none, answer not found: msg */
} request_gate_feedback_t;

/* Checks a feedback request, req, from a connection speaking for trust (NULL as above). msg gets
 * the refusal, or else the answer for a submission the trust has not got: the same whether it
 * does not exist or is another trust's, so that an answer tells no trust of another's. */
request_gate_feedback_t request_gate_feedback(const Ncap__V1__FeedbackRequest *req,
                                              const char *trust, char *msg, size_t msglen);

typedef enum {
    REQUEST_GATE_RESULTS_REFUSED, /* answer an error: msg */
    REQUEST_GATE_RESULTS_READ,    /* read trust's results; when it has none, answer not found:
                                     msg */
} request_gate_results_t;

/* Checks a results request, req, from a connection speaking for trust (NULL as above). msg gets
 * the refusal, or else the answer for a trust without results in the audit (and period). */
request_gate_results_t request_gate_results(const Ncap__V1__ResultsRequest *req, const char *trust,
                                            char *msg, size_t msglen);

/* The longest response a trust may send to an outlier case (publish.outlier_response's CHECK). */
#define REQUEST_GATE_OUTLIER_TEXT_MAX 65536

/* Checks an outlier request, req, from a connection speaking for trust (NULL as above), with the
 * same answers as request_gate_feedback: REFUSED (msg the reason), NOT_FOUND (msg the answer for
 * a case the trust has not got, the same whether it does not exist or is another trust's) or
 * READ (msg that same answer, for when the database has no such case of trust's). */
request_gate_feedback_t request_gate_outlier(const Ncap__V1__OutlierRequest *req, const char *trust,
                                             char *msg, size_t msglen);

#endif
