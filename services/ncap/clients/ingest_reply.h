/* ingest_reply.h - the DEALER socket every client of ingest's endpoint (submit, feedback) talks on:
 * connecting, saying why a send failed, and waiting for ingest's next reply; each caller says in
 * its own words what a timeout means to it. */
#ifndef NCAP_INGEST_REPLY_H
#define NCAP_INGEST_REPLY_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "client_keys.h"

/* The largest reply a client takes: a feedback page (INGEST_FEEDBACK_PAGE problems, about 1 MB)
 * with room to spare. */
#define INGEST_REPLY_MAX_BYTES (16 * 1024 * 1024)

typedef enum {
    INGEST_REPLY_OK,
    INGEST_REPLY_TIMEOUT,     /* nothing within timeout_s */
    INGEST_REPLY_INTERRUPTED, /* a signal (Ctrl-C) while waiting */
    INGEST_REPLY_BROKEN       /* could not receive, or not a desc message: err says which */
} ingest_reply_status_t;

/* Which ingest a client asks, and as whom. A NULL target, or one all zero, is `ncap`'s: ingest
 * found as below, the trust's keys from the environment (client_keys.h), no token. */
typedef struct {
    const char *endpoint;      /* NULL: $NCAP_INGEST, else the registry */
    const client_keys_t *keys; /* the key files to connect with; NULL: the environment's */
    bool plain;                /* no keys, whatever the environment says (keys NULL) */
    /* a trust's bearer token sent with each request (the web gateway's, trust_gateway.h); NULL:
     * none, the connection's key is the trust's */
    const char *bearer;
    /* when not NULL: set to the kind of ingest's refusal of a request (a reply's status: 401,
     * 403, ...; 0 when ingest did not say or did not refuse) */
    unsigned *refusal;
} ingest_target_t;

/* A DEALER socket in ctx connected to ingest, speaking for trust, whose handshake has succeeded,
 * with the target's keys (NULL target: the trust's keys from the environment, client_keys.h) or
 * plain. Where: the target's endpoint when given (not NULL), else $NCAP_INGEST, else the live
 * ingest instances registered in PostgreSQL
 * ($NCAP_PG; the list kept by the process for 30 s, until one fails), tried in random order until
 * one completes the handshake. With keys, a listener that
 * cannot prove ingest's public key (say, a registry row pointing elsewhere) fails the handshake
 * and is sent nothing. A send then waits at most timeout_s; the socket closes at once; replies
 * over INGEST_REPLY_MAX_BYTES are refused by ZeroMQ. NULL with a message in err saying why each
 * endpoint failed (no key for the trust, the key refused, not ingest, no answer within
 * timeout_s); the caller closes the socket (zmq_close). */
void *ingest_connect(void *ctx, const ingest_target_t *to, const char *trust, int timeout_s,
                     char *err, size_t errlen);
/* The target's bearer token as a request's field wants it: "" for none. */
char *ingest_target_bearer(const ingest_target_t *to);
/* Notes ingest's refusal status in the target's refusal slot, when it has one. */
void ingest_target_refused(const ingest_target_t *to, unsigned status);
/* Sends req as a typed request: a frame naming its type (its full protobuf name, e.g.
 * "ncap.v1.FeedbackRequest"), then the encoded message. 0, or -1 with err (ingest_send_error). */
int ingest_request_send(void *sock, const ProtobufCMessage *req, int timeout_s, char *err,
                        size_t errlen);
/* Describes in err a send to ingest that failed (errno from zmq_errno()). */
void ingest_send_error(int errnum, int timeout_s, char *err, size_t errlen);

/* Waits up to timeout_s for one message on sock and decodes it as a desc message. On
 * INGEST_REPLY_OK *out is the message (free with protobuf_c_message_free_unpacked). */
ingest_reply_status_t ingest_reply_await(void *sock, int timeout_s,
                                         const ProtobufCMessageDescriptor *desc,
                                         ProtobufCMessage **out, char *err, size_t errlen);

/* The same for a request whose reply is all there is to wait for: the message, or NULL with err
 * saying why (a timeout as "is ncap-ingestd running?"). */
ProtobufCMessage *ingest_reply_expect(void *sock, int timeout_s,
                                      const ProtobufCMessageDescriptor *desc, char *err,
                                      size_t errlen);

#endif
