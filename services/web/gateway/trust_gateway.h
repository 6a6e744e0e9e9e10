/* trust_gateway.h - the trusts' HTTP API's way into ingest: ncap-webd hands each request here with
 * the bearer token the trust presented, and the gateway asks ingest over ZeroMQ exactly as `ncap
 * submit`, `ncap feedback`, `ncap results` and `ncap outliers` do (the same client code,
 * services/ncap/clients/), connecting with the web daemon's own CurveZMQ key (the stage key `web`).
 * Ingest admits that key as a gateway only: every request must carry a trust's token, which ingest
 * checks against the hashes `ncap keys token` stored, and then answers as if that trust had
 * connected (the same checks, rate limits and receipts). The gateway holds no token and decides
 * nothing about who may see what: a web daemon without the trusts' tokens can act for no one.
 *
 * Thread-safe: libmicrohttpd calls handlers from several threads, and each call opens its own
 * DEALER socket (in the gateway's one ZeroMQ context) and closes it when answered. Cost: one
 * CurveZMQ handshake per call (about a millisecond on a local network); when no endpoint is
 * configured, the live ingest instances are looked up in the registry at most every 30 s
 * (REGISTRY_MEMO_S, ingest_reply.c), not per call.
 *
 * Replies: the body is always JSON (application/json), or on an error an RFC 9457 problem
 * (application/problem+json: type, title, status, detail) with http_status
 *   400 a bad request: unknown audit, a malformed id or period, a request ingest refused
 *   401 no token, or a token ingest does not hold (never made, or revoked)
 *   403 a valid token of another trust than the one named
 *   404 no such submission (or another trust's: the same answer), no results
 *   413 a CSV body over UPLOAD_MAX_FILE_BYTES
 *   422 a file ingest refused as a whole (a missing column, not CSV): detail says why
 *   429 the trust is over its submission rate
 *   503 ingest unreachable, not answering within the timeout, stopping or busy. */
#ifndef NCAP_TRUST_GATEWAY_H
#define NCAP_TRUST_GATEWAY_H

#include <stddef.h>

typedef struct {
    /* ingest's endpoint, e.g. "tcp://ingest:5555"; NULL: $NCAP_INGEST, else a live ingest found
     * in the registry ($NCAP_PG) on each call */
    const char *ingest;
    /* a folder holding web.key (the web daemon's secret key) and ingest.pub (a daemon's --keys
     * DIR); NULL: a plain connection, which only an ingest run with --insecure-plain answers
     * (and that ingest believes the trust a request states, token or not: a closed test network
     * only) */
    const char *keys_dir;
    int timeout_s; /* how long to wait for each of ingest's replies; 0: 60 */
} trust_gateway_config;

typedef struct trust_gateway trust_gateway;

typedef struct {
    int http_status;
    char *body; /* JSON, NUL-terminated; owned by the reply (gateway_reply_free) */
    size_t body_len;
    const char *content_type; /* "application/json" or "application/problem+json" (static) */
} gateway_reply;

/* A gateway to ingest: checks that the key files are there and readable (a secret key readable by
 * others is refused, as everywhere); does not connect yet. NULL with err set. */
trust_gateway *trust_gateway_open(const trust_gateway_config *cfg, char *err, size_t errlen);
/* Frees the gateway; no call may be running. NULL is harmless. */
void trust_gateway_close(trust_gateway *gw);

/* token: as presented after "Bearer " (NULL or "" for none: 401 without asking ingest).
 * Every function fills *out; the caller frees it with gateway_reply_free. */

/* Submits csv[0..csv_len) as one file of trust for audit; answers only after ingest's commit with
 * the receipt `ncap submit` prints, as JSON:
 *   {"submission_id":12,"rows":3,"accepted":2,"unchanged":0,"rejected":1,
 *    "problems":[{"row":3,"field":"age","rule":"range","severity":"error","message":"...",
 *                 "count":1,"rows":[]}]}
 * with http_status 201. */
void trust_gateway_submit(trust_gateway *gw, const char *token, const char *audit,
                          const char *trust, const char *csv, size_t csv_len, gateway_reply *out);
/* The feedback on one of the token's trust's submissions (submission_id: decimal):
 *   {"submission_id":12,"summary":{...`ncap feedback`'s summary...},"problems":[...]} */
void trust_gateway_feedback(trust_gateway *gw, const char *token, const char *submission_id,
                            gateway_reply *out);
/* The token's trust's own results in audit (period "YYYYQn", or NULL/"" for every period):
 *   {"trust":"RH8","audit":"nhfd","period":"","figures":[...],"records":[...]} */
void trust_gateway_results(trust_gateway *gw, const char *token, const char *audit,
                           const char *period, gateway_reply *out);
/* The token's trust's outlier cases in audit (NULL or "": every audit):
 *   {"trust":"RH8","cases":[{"case_id":1,"audit":"nela",...}]} */
void trust_gateway_outliers(trust_gateway *gw, const char *token, const char *audit,
                            gateway_reply *out);

/* One of the token's trust's outlier cases (case_id: decimal), with the local ids of the trust's
 * records in its denominator: {"trust":"RH8","cases":[{...}],"local_ids":["A1",...]}; 404 for a
 * case the trust has not got (the same whether it does not exist or is another trust's). */
void trust_gateway_outlier_case(trust_gateway *gw, const char *token, const char *case_id,
                                gateway_reply *out);
/* The trust's clinical lead's response to one of its cases (text: text_len bytes of UTF-8, 1 to
 * 65,536, no NUL): the case moves to trust_responded; the answer is the case as trust_gateway_
 * outlier_case gives it. */
void trust_gateway_outlier_respond(trust_gateway *gw, const char *token, const char *case_id,
                                   const char *text, size_t text_len, gateway_reply *out);

/* Frees what the reply owns; harmless to repeat. */
void gateway_reply_free(gateway_reply *r);

#endif
