/* outlier_client.c - outlier requests to ingest over a DEALER socket */
#include "outlier_client.h"

#include <zmq.h>

int outlier_client_call(const ingest_target_t *to, const Ncap__V1__OutlierRequest *req,
                        int timeout_s, Ncap__V1__OutlierReply **rep, char *err, size_t errlen)
{
    *rep = NULL;
    void *ctx = zmq_ctx_new();
    void *sock = ingest_connect(ctx, to, req->trust, timeout_s, err, errlen);
    Ncap__V1__OutlierRequest sent = *req;
    sent.bearer_token = ingest_target_bearer(to);
    if (sock && ingest_request_send(sock, &sent.base, timeout_s, err, errlen) == 0)
        *rep = (Ncap__V1__OutlierReply *)ingest_reply_expect(
            sock, timeout_s, &ncap__v1__outlier_reply__descriptor, err, errlen);
    if (*rep && (*rep)->kind != NCAP__V1__OUTLIER_REPLY__KIND__OK)
        ingest_target_refused(to, (*rep)->status);
    if (sock)
        zmq_close(sock);
    zmq_ctx_term(ctx);
    return *rep ? 0 : -1;
}
