/* outlier_client.c - outlier requests to ingest over a DEALER socket */
#include "outlier_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ingest_reply.h"

int outlier_client_call(const char *endpoint, const Ncap__V1__OutlierRequest *req, int timeout_s,
                        Ncap__V1__OutlierReply **rep, char *err, size_t errlen)
{
    *rep = NULL;
    void *ctx = zmq_ctx_new();
    void *sock = ingest_connect(ctx, endpoint, req->trust, timeout_s, err, errlen);
    int rc = -1;
    uint8_t *buf = NULL;
    if (!sock)
        goto out;
    size_t len = ncap__v1__outlier_request__get_packed_size(req);
    if (!(buf = malloc(len ? len : 1))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ncap__v1__outlier_request__pack(req, buf);
    /* the first frame names the request: its full protobuf name, as ingest expects it */
    const char *type = ncap__v1__outlier_request__descriptor.name;
    if (zmq_send(sock, type, strlen(type), ZMQ_SNDMORE) < 0 || zmq_send(sock, buf, len, 0) < 0) {
        ingest_send_error(zmq_errno(), timeout_s, err, errlen);
        goto out;
    }
    ProtobufCMessage *m = NULL;
    switch (ingest_reply_await(sock, timeout_s, &ncap__v1__outlier_reply__descriptor, &m, err,
                               errlen)) {
    case INGEST_REPLY_OK:
        *rep = (Ncap__V1__OutlierReply *)m;
        rc = 0;
        break;
    case INGEST_REPLY_INTERRUPTED:
        snprintf(err, errlen, "interrupted while waiting for ingest");
        break;
    case INGEST_REPLY_TIMEOUT:
        snprintf(err, errlen, "no reply from ingest within %d s: is ncap-ingestd running?",
                 timeout_s);
        break;
    case INGEST_REPLY_BROKEN:
        break;
    }
out:
    free(buf);
    if (sock)
        zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
