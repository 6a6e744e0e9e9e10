/* feedback_client.c - feedback pages from ingest over a DEALER socket */
#include "feedback_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ingest_reply.h"
#include "ncap/v1/feedback.pb-c.h"

int feedback_fetch(const ingest_target_t *to, const char *trust, int64_t submission_id,
                   unsigned page, int timeout_s, const feedback_sink_t *sink, char *err,
                   size_t errlen)
{
    void *ctx = zmq_ctx_new();
    void *sock = ingest_connect(ctx, to, trust, timeout_s, err, errlen);
    int rc = -1;
    Ncap__V1__FeedbackReply *rep = NULL;
    Ncap__V1__FeedbackCursor cursor = NCAP__V1__FEEDBACK_CURSOR__INIT;
    char *cur_field = NULL, *cur_rule = NULL, *cur_stage = NULL, *cur_message = NULL;
    if (!sock)
        goto out;
    for (int first = 1;; first = 0) {
        Ncap__V1__FeedbackRequest req = NCAP__V1__FEEDBACK_REQUEST__INIT;
        req.trust = (char *)trust;
        req.bearer_token = ingest_target_bearer(to);
        req.submission_id = submission_id;
        req.max_problems = page;
        req.after = first ? NULL : &cursor;
        if (ingest_request_send(sock, &req.base, timeout_s, err, errlen) != 0)
            goto out;
        rep = (Ncap__V1__FeedbackReply *)ingest_reply_expect(
            sock, timeout_s, &ncap__v1__feedback_reply__descriptor, err, errlen);
        if (!rep)
            goto out;
        if (rep->kind != NCAP__V1__FEEDBACK_REPLY__KIND__PAGE) {
            snprintf(err, errlen, "%s", rep->error[0] ? rep->error : "ingest refused the request");
            ingest_target_refused(to, rep->status);
            if (rep->kind == NCAP__V1__FEEDBACK_REPLY__KIND__NOT_FOUND)
                rc = FEEDBACK_NOT_FOUND;
            goto out;
        }
        if (first) {
            if (!rep->summary) {
                snprintf(err, errlen, "ingest's first reply carries no summary");
                goto out;
            }
            feedback_summary_t s;
            feedback_summary_from_message(rep->summary, &s);
            sink->summary(sink->arg, &s);
        }
        for (size_t i = 0; i < rep->n_problems; i++) {
            const Ncap__V1__FeedbackProblem *m = rep->problems[i];
            feedback_problem_t p = {m->row,     m->field, m->rule,  m->severity, m->value,
                                    m->message, m->stage, m->count, m->rows,     m->n_rows};
            sink->problem(sink->arg, &p);
        }
        if (!rep->more || rep->n_problems == 0)
            break;
        /* The next page starts after the last problem of this one. */
        const Ncap__V1__FeedbackProblem *last = rep->problems[rep->n_problems - 1];
        free(cur_field);
        free(cur_rule);
        free(cur_stage);
        free(cur_message);
        cur_field = strdup(last->field);
        cur_rule = strdup(last->rule);
        cur_stage = strdup(last->stage);
        cur_message = strdup(last->message);
        if (!cur_field || !cur_rule || !cur_stage || !cur_message) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        cursor.row = last->row;
        cursor.field = cur_field;
        cursor.rule = cur_rule;
        cursor.stage = cur_stage;
        cursor.message = cur_message;
        ncap__v1__feedback_reply__free_unpacked(rep, NULL);
        rep = NULL;
    }
    rc = 0;
out:
    if (rep)
        ncap__v1__feedback_reply__free_unpacked(rep, NULL);
    free(cur_field);
    free(cur_rule);
    free(cur_stage);
    free(cur_message);
    if (sock)
        zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
