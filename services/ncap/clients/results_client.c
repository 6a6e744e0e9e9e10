/* results_client.c - a trust's results from ingest over a DEALER socket */
#include "results_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ingest_reply.h"

int results_fetch(const ingest_target_t *to, const char *trust, const char *audit,
                  const char *period, unsigned page, int timeout_s, const results_sink_t *sink,
                  char *err, size_t errlen)
{
    void *ctx = zmq_ctx_new();
    void *sock = ingest_connect(ctx, to, trust, timeout_s, err, errlen);
    int rc = -1;
    Ncap__V1__ResultsReply *rep = NULL;
    Ncap__V1__ResultsCursor cursor = NCAP__V1__RESULTS_CURSOR__INIT;
    char *cur_metric = NULL, *cur_local = NULL;
    if (!sock)
        goto out;
    for (int first = 1;; first = 0) {
        Ncap__V1__ResultsRequest req = NCAP__V1__RESULTS_REQUEST__INIT;
        req.trust = (char *)trust;
        req.bearer_token = ingest_target_bearer(to);
        req.audit = (char *)audit;
        req.period = (char *)period;
        req.max_records = page;
        req.after = first ? NULL : &cursor;
        if (ingest_request_send(sock, &req.base, timeout_s, err, errlen) != 0)
            goto out;
        if (!(rep = (Ncap__V1__ResultsReply *)ingest_reply_expect(
                  sock, timeout_s, &ncap__v1__results_reply__descriptor, err, errlen)))
            goto out;
        if (rep->kind != NCAP__V1__RESULTS_REPLY__KIND__PAGE) {
            snprintf(err, errlen, "%s", rep->error[0] ? rep->error : "ingest refused the request");
            ingest_target_refused(to, rep->status);
            if (rep->kind == NCAP__V1__RESULTS_REPLY__KIND__NOT_FOUND)
                rc = RESULTS_NOT_FOUND;
            goto out;
        }
        for (size_t i = 0; first && i < rep->n_figures; i++)
            sink->figure(sink->arg, rep->figures[i]);
        for (size_t i = 0; i < rep->n_records; i++)
            sink->record(sink->arg, rep->records[i]);
        if (!rep->more || rep->n_records == 0)
            break;
        /* The next page starts after the last record of this one. */
        const Ncap__V1__ResultsRecord *last = rep->records[rep->n_records - 1];
        free(cur_metric);
        free(cur_local);
        cur_metric = strdup(last->metric_id);
        cur_local = strdup(last->local_id);
        if (!cur_metric || !cur_local) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        cursor.metric_id = cur_metric;
        cursor.local_id = cur_local;
        ncap__v1__results_reply__free_unpacked(rep, NULL);
        rep = NULL;
    }
    rc = 0;
out:
    if (rep)
        ncap__v1__results_reply__free_unpacked(rep, NULL);
    free(cur_metric);
    free(cur_local);
    if (sock)
        zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
