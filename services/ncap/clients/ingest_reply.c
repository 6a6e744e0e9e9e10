/* ingest_reply.c - one reply from ingest, polled with a timeout and decoded */
#include "ingest_reply.h"

#include <errno.h>
#include <stdio.h>
#include <zmq.h>

#include "curve_auth.h"

ingest_reply_status_t ingest_reply_await(void *sock, int timeout_s,
                                         const ProtobufCMessageDescriptor *desc,
                                         ProtobufCMessage **out, char *err, size_t errlen)
{
    *out = NULL;
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, (long)timeout_s * 1000);
    if (rc < 0 && zmq_errno() == EINTR)
        return INGEST_REPLY_INTERRUPTED;
    if (rc <= 0)
        return INGEST_REPLY_TIMEOUT;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock, 0) < 0) {
        snprintf(err, errlen, "could not receive from ingest: %s", zmq_strerror(zmq_errno()));
        zmq_msg_close(&msg);
        return INGEST_REPLY_BROKEN;
    }
    *out = protobuf_c_message_unpack(desc, NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    if (!*out) {
        snprintf(err, errlen, "ingest sent a reply that is not an %s", desc->name);
        return INGEST_REPLY_BROKEN;
    }
    return INGEST_REPLY_OK;
}

void *ingest_connect(void *ctx, const char *endpoint, int timeout_s, char *err, size_t errlen)
{
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!sock) {
        snprintf(err, errlen, "could not open a socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = 0, sndtimeo = timeout_s > 0 ? timeout_s * 1000 : -1;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (curve_client_setup(sock, err, errlen) != 0) {
        zmq_close(sock);
        return NULL;
    }
    if (zmq_connect(sock, endpoint) != 0) {
        snprintf(err, errlen, "could not connect to ingest at \"%s\": %s", endpoint,
                 zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

void ingest_send_error(int errnum, int timeout_s, char *err, size_t errlen)
{
    if (errnum == EAGAIN)
        snprintf(err, errlen,
                 "could not send to ingest within %d s: is ncap-ingestd running, and does it"
                 " accept this client's key?",
                 timeout_s);
    else
        snprintf(err, errlen, "could not send to ingest: %s", zmq_strerror(errnum));
}
