/* ingest_reply.h - the DEALER socket every client of ingest's endpoint (submit, feedback) talks on:
 * connecting, saying why a send failed, and waiting for ingest's next reply; each caller says in
 * its own words what a timeout means to it. */
#ifndef NCAP_INGEST_REPLY_H
#define NCAP_INGEST_REPLY_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef enum {
    INGEST_REPLY_OK,
    INGEST_REPLY_TIMEOUT,     /* nothing within timeout_s */
    INGEST_REPLY_INTERRUPTED, /* a signal (Ctrl-C) while waiting */
    INGEST_REPLY_BROKEN       /* could not receive, or not a desc message: err says which */
} ingest_reply_status_t;

/* A DEALER socket in ctx connected to ingest's endpoint, as a CurveZMQ client when the
 * environment says so (curve_client_setup): it closes at once, and a send waits at most timeout_s
 * (a send can block for good when no connection completes, e.g. a CurveZMQ handshake refused).
 * NULL with a message in err when it could not be made; the caller closes it (zmq_close). */
void *ingest_connect(void *ctx, const char *endpoint, int timeout_s, char *err, size_t errlen);
/* Describes in err a send to ingest that failed (errno from zmq_errno()). */
void ingest_send_error(int errnum, int timeout_s, char *err, size_t errlen);

/* Waits up to timeout_s for one message on sock and decodes it as a desc message. On
 * INGEST_REPLY_OK *out is the message (free with protobuf_c_message_free_unpacked). */
ingest_reply_status_t ingest_reply_await(void *sock, int timeout_s,
                                         const ProtobufCMessageDescriptor *desc,
                                         ProtobufCMessage **out, char *err, size_t errlen);

#endif
