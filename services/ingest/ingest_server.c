/* ingest_server.c - requests in, replies out, on the loop's thread */
#include "ingest_server.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "db.h"
#include "feedback_store.h"
#include "outlier_request.h"
#include "log.h"
#include "metrics.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "pass_on.h"
#include "request_gate.h"
#include "results_request.h"
#include "stage_gauges.h"
#include "store_job.h"
#include "tally.h"
#include "trust_rate.h"
#include "upload.h"

/* A committed job whose versions are still being passed on. */
typedef struct passing {
    struct passing *next;
    store_job_t *job;
    uint64_t dropped_before; /* the pusher's count when the first slice went */
} passing_t;

struct ingest_server_t {
    ingest_server_parts_t parts;
    uploads_t *uploads; /* and the bytes of the jobs not yet destroyed (held), per trust */
    trust_rate_t *rate;
    passing_t *passing, *passing_tail;
    unsigned long long records;
    long long next_tick_ms, next_fold_ms;
    /* the gateway's refused requests: logged at most once a second, with how many were not */
    long long gateway_logged_ms;
    unsigned long long gateway_unlogged;
    bool stopping;
};

/* The client a request came from: its ROUTER routing id. */
typedef struct {
    const void *id;
    size_t len;
} client_t;

ingest_server_t *ingest_server_new(const ingest_server_parts_t *parts)
{
    ingest_server_t *self = calloc(1, sizeof *self);
    if (self)
        self->parts = *parts;
    if (!self || !(self->uploads = uploads_new()) ||
        !(self->rate = trust_rate_new(parts->rate_limit, parts->rate_window_s))) {
        presence_t *presence = parts->presence;
        presence_destroy(&presence);
        if (self)
            uploads_destroy(&self->uploads);
        free(self);
        return NULL;
    }
    return self;
}

/* Done with a job: destroyed by the pool's workers, off the loop. */
static void job_done(ingest_server_t *self, store_job_t **job_p)
{
    uploads_release(self->uploads, (*job_p)->trust, (*job_p)->bytes);
    store_pool_dispose(self->parts.pool, *job_p);
    *job_p = NULL;
}

void ingest_server_destroy(ingest_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_server_t *self = *self_p;
    size_t left = 0;
    while (self->passing) {
        passing_t *p = self->passing;
        self->passing = p->next;
        left += p->job->res.n_stored - p->job->passed_on;
        job_done(self, &p->job);
        free(p);
    }
    if (left) {
        char n[32];
        snprintf(n, sizeof n, "%zu", left);
        ncap_log(LOG_INFO,
                 "stopped before passing every stored version on; linkage finds them "
                 "in PostgreSQL",
                 "versions", n, NULL);
    }
    uploads_destroy(&self->uploads);
    trust_rate_destroy(&self->rate);
    presence_destroy(&self->parts.presence);
    free(self);
    *self_p = NULL;
}

/* Who a request speaks for: the one place that decides it, for every kind of request. */
typedef struct {
    /* the trust, or NULL when the connection is not authenticated as the trust the request
     * states (the gate then refuses it with its message) */
    const char *trust;
    /* a refusal decided here, before the gate: the gateway's request without a valid token of
     * the stated trust (401, 403), a trust's connection sending a token (403); msg says why */
    unsigned status;
    char msg[256];
} speaker_t;

/* The trust a request stating `stated` speaks for, with bearer its token (NULL or "" for none).
 * With keys (--keys, --trust-keys), it is the trust whose key the ZAP handler accepted (the
 * message's User-Id), and a request stating another trust gets NULL: refused. The web gateway's
 * key (INGEST_GATEWAY_USER) speaks for the trust whose token the request carries, and for no one
 * without one; a trust's own connection may carry no token (a token is the gateway's way in, not
 * a second key). Only with --insecure-plain, the trust the client states (a closed test network,
 * the only protection), token or not. Refusals here are logged: a gateway sending bad tokens is
 * worth an operator's look. */
static void caller_trust(ingest_server_t *self, zmq_msg_t *body, const char *stated,
                         const char *bearer, speaker_t *out)
{
    out->trust = NULL;
    out->status = 0;
    out->msg[0] = '\0';
    if (!self->parts.auth) {
        out->trust = stated;
        return;
    }
    const char *user = zmq_msg_gets(body, "User-Id");
    bool gateway = user && strcmp(user, INGEST_GATEWAY_USER) == 0;
    if (!gateway) {
        if (bearer && *bearer) {
            out->status = 403;
            snprintf(out->msg, sizeof out->msg,
                     "request refused: a bearer token is taken only from the web gateway, not on "
                     "a trust's own connection");
        } else if (user && *user && strcmp(user, stated) == 0)
            out->trust = user;
        return;
    }
    char err[1024];
    long long now = daemon_now_ms();
    if (self->parts.tokens && trust_tokens_refresh(self->parts.tokens, now, err, sizeof err) < 0)
        ncap_log(LOG_WARN, "could not read every trust token", "error", err, NULL);
    const char *owner = bearer && *bearer && self->parts.tokens
                            ? trust_tokens_find(self->parts.tokens, bearer)
                            : NULL;
    if (!owner) {
        out->status = 401;
        snprintf(out->msg, sizeof out->msg,
                 bearer && *bearer
                     ? "request refused: the bearer token is not one ingest holds (never made, or "
                       "revoked)"
                     : "request refused: the web gateway sent no trust's bearer token");
    } else if (strcmp(owner, stated) != 0) {
        out->status = 403;
        snprintf(out->msg, sizeof out->msg,
                 "request refused: the bearer token is trust %s's, not trust %.20s's", owner,
                 stated);
    } else {
        out->trust = owner;
        return;
    }
    /* a gateway sending bad tokens by the thousand (one compromised) must not flood the log */
    if (now - self->gateway_logged_ms < 1000 && self->gateway_logged_ms) {
        self->gateway_unlogged++;
        return;
    }
    char shown[24], before[32];
    snprintf(shown, sizeof shown, "%.20s", stated);
    snprintf(before, sizeof before, "%llu", self->gateway_unlogged);
    ncap_log(LOG_WARN, "gateway request refused", "trust", shown, "error", out->msg,
             "refused_unlogged_before", before, NULL);
    self->gateway_logged_ms = now;
    self->gateway_unlogged = 0;
}

/* Sends a packed reply (any message type) to client. */
static void reply_packed(ingest_server_t *self, client_t client, const ProtobufCMessage *rep)
{
    size_t len = protobuf_c_message_get_packed_size(rep);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return;
    protobuf_c_message_pack(rep, buf);
    if (zmq_send(self->parts.router, client.id, client.len, ZMQ_SNDMORE) >= 0)
        zmq_send(self->parts.router, buf, len, 0);
    free(buf);
}

/* status: the refusal's kind for the gateway (SubmitReply.status), 0 for a bad request. */
static void reply_error(ingest_server_t *self, client_t client, const char *token, unsigned status,
                        const char *msg)
{
    Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
    rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__ERROR;
    rep.status = status;
    rep.client_token = (char *)token;
    rep.error = (char *)msg;
    reply_packed(self, client, &rep.base);
}

static int by_row(const void *a, const void *b)
{
    const store_job_problem_t *x = a, *y = b;
    return (x->row > y->row) - (x->row < y->row);
}

/* The receipt of a committed job, with the problems the job kept for it, by row. */
static void reply_receipt(ingest_server_t *self, store_job_t *job)
{
    const submission_t *sub = job->sub;
    Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
    rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT;
    rep.client_token = (char *)job->token;
    rep.bytes_received = job->bytes;
    rep.submission_id = job->res.submission_id;
    rep.rows = sub->data_rows;
    rep.accepted = job->res.accepted;
    rep.unchanged = job->res.unchanged;
    rep.rejected = sub->rejected;
    size_t np = job->n_receipt, nrows = 0;
    if (np)
        qsort(job->receipt, np, sizeof *job->receipt, by_row);
    for (size_t i = 0; i < np; i++)
        nrows += job->receipt[i].n_rows;
    Ncap__V1__RowProblem *cells = calloc(np + 1, sizeof *cells);
    Ncap__V1__RowProblem **ptrs = calloc(np + 1, sizeof *ptrs);
    uint32_t *rows = calloc(nrows + 1, sizeof *rows), *next = rows;
    for (size_t i = 0; cells && ptrs && rows && i < np; i++) {
        const store_job_problem_t *p = &job->receipt[i];
        ncap__v1__row_problem__init(&cells[i]);
        cells[i].row = (uint32_t)p->row;
        cells[i].field = (char *)p->field;
        cells[i].rule = (char *)p->rule;
        cells[i].severity = (char *)p->severity;
        cells[i].message = (char *)p->message;
        cells[i].count = p->count;
        cells[i].rows = next;
        cells[i].n_rows = p->n_rows;
        for (size_t k = 0; k < p->n_rows; k++)
            *next++ = (uint32_t)p->rows[k];
        ptrs[i] = &cells[i];
    }
    if (cells && ptrs && rows) {
        rep.problems = ptrs;
        rep.n_problems = np;
    }
    reply_packed(self, (client_t){job->client, job->client_len}, &rep.base);
    free(cells);
    free(ptrs);
    free(rows);
}

/* Answers a job the pool handed back; a committed one goes on to be passed on. */
static void answer(ingest_server_t *self, store_job_t *job)
{
    client_t client = {job->client, job->client_len};
    if (job->state == STORE_JOB_REFUSED) {
        ncap_log(LOG_WARN, "submission refused", "trust", job->trust, "audit", job->audit, "file",
                 job->filename, "error", job->sub->file_error, NULL);
        reply_error(self, client, job->token, 422, job->error);
        job_done(self, &job);
        return;
    }
    if (job->state != STORE_JOB_STORED) {
        ncap_log(LOG_ERROR, "could not store submission", "trust", job->trust, "error", job->error,
                 NULL);
        reply_error(self, client, job->token, 503, job->error);
        job_done(self, &job);
        return;
    }
    /* Committed: now, and only now, the receipt. */
    reply_receipt(self, job);
    char sid[32], acc[16], rej[16], parse_ms[32], store_ms[32];
    snprintf(sid, sizeof sid, "%lld", (long long)job->res.submission_id);
    snprintf(acc, sizeof acc, "%u", job->res.accepted);
    snprintf(rej, sizeof rej, "%u", job->sub->rejected);
    snprintf(parse_ms, sizeof parse_ms, "%lld", job->parse_ms);
    snprintf(store_ms, sizeof store_ms, "%lld", job->store_ms);
    ncap_log(LOG_INFO, "submission stored", "submission", sid, "trust", job->trust, "audit",
             job->audit, "accepted", acc, "rejected", rej, "parse_ms", parse_ms, "store_ms",
             store_ms, NULL);
    self->records += job->res.accepted;
    metrics_t *m = metrics_installed();
    metrics_add(m, METRICS_RECORDS_PROCESSED, job->res.n_stored);
    metrics_batch(m, job->res.n_stored, (uint64_t)job->store_ms * 1000);
    passing_t *p = job->res.n_stored ? malloc(sizeof *p) : NULL;
    if (!p) {
        job_done(self, &job); /* nothing to pass on, or no memory: linkage's backlog has them */
        return;
    }
    p->next = NULL;
    p->job = job;
    if (self->passing_tail)
        self->passing_tail->next = p;
    else
        self->passing = p;
    self->passing_tail = p;
}

/* One slice of the earliest committed job's versions to linkage. */
static void pass_on_slice(ingest_server_t *self)
{
    passing_t *p = self->passing;
    if (!p)
        return;
    store_job_t *job = p->job;
    if (job->passed_on == 0)
        p->dropped_before = pusher_dropped(self->parts.pusher);
    job->passed_on = pass_on(self->parts.pusher, &job->res, job->passed_on, INGEST_PASS_ON_SLICE);
    if (job->passed_on < job->res.n_stored)
        return;
    char sid[32], n[32], dropped[32];
    snprintf(sid, sizeof sid, "%lld", (long long)job->res.submission_id);
    snprintf(n, sizeof n, "%zu", job->res.n_stored);
    snprintf(dropped, sizeof dropped, "%llu",
             (unsigned long long)(pusher_dropped(self->parts.pusher) - p->dropped_before));
    ncap_log(LOG_INFO, "submission passed on to linkage", "submission", sid, "versions", n,
             "dropped", dropped, NULL);
    self->passing = p->next;
    if (!self->passing)
        self->passing_tail = NULL;
    job_done(self, &job);
    free(p);
}

/* A finished upload, of an audit whose definition is def, to the store pool; it is answered
 * when the pool hands it back. */
static void submit_upload(ingest_server_t *self, client_t client, upload_t *up,
                          const audit_def_t *def)
{
    store_job_t *job = NULL;
    if (store_pool_jobs(self->parts.pool) >= INGEST_MAX_STORE_JOBS) {
        reply_error(self, client, up->token, 503,
                    "ingest has too many files waiting to be stored; send the file again in a "
                    "minute");
    } else if (!(job = store_job_new(up, def, client.id, client.len))) {
        reply_error(self, client, up->token, 503, "out of memory receiving the file");
    } else {
        const char *trust = up->trust;
        size_t bytes = job->bytes;
        if (uploads_hold(self->uploads, trust, bytes) != 0) {
            reply_error(self, client, job->token, 503, "out of memory receiving the file");
            store_job_destroy(&job);
        } else if (store_pool_submit(self->parts.pool, job) != 0) {
            uploads_release(self->uploads, trust, bytes);
            reply_error(self, client, up->token, 503, "out of memory receiving the file");
            store_job_destroy(&job);
        }
    }
    free(up->data); /* NULL when it went into the job */
}

/* A chunk of a file: whether it is taken is the gate's (request_gate.h), the reply is ours. */
static void handle_submit(ingest_server_t *self, client_t client, zmq_msg_t *body)
{
    Ncap__V1__SubmitRequest *req =
        ncap__v1__submit_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
    if (!req) {
        reply_error(self, client, "", 0,
                    "could not decode the request: not an ncap.v1.SubmitRequest");
        return;
    }
    speaker_t who;
    caller_trust(self, body, req->trust, req->bearer_token, &who);
    if (who.status) {
        reply_error(self, client, req->client_token, who.status, who.msg);
        ncap__v1__submit_request__free_unpacked(req, NULL);
        return;
    }
    request_gate_t gate = {self->uploads, self->rate, self->parts.audits, self->stopping};
    request_gate_answer_t a;
    switch (
        request_gate_submit(&gate, req, who.trust, client.id, client.len, daemon_now_ms(), &a)) {
    case REQUEST_GATE_REFUSED:
        if (a.audit_error[0])
            ncap_log(LOG_ERROR, "an audit definition does not load", "audit", req->audit, "error",
                     a.audit_error, NULL);
        reply_error(self, client, a.token, a.status, a.msg);
        break;
    case REQUEST_GATE_MORE: {
        Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
        rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS;
        rep.client_token = req->client_token;
        rep.bytes_received = a.progress;
        reply_packed(self, client, &rep.base);
        break;
    }
    case REQUEST_GATE_COMPLETE:
        submit_upload(self, client, &a.done, a.def);
        break;
    }
    ncap__v1__submit_request__free_unpacked(req, NULL);
}

PGconn *ingest_server_db(ingest_server_t *self)
{
    assert(self);
    return presence_tick(self->parts.presence);
}

static void reply_feedback_status(ingest_server_t *self, client_t client,
                                  Ncap__V1__FeedbackReply__Kind kind, unsigned status,
                                  const char *msg)
{
    Ncap__V1__FeedbackReply rep = NCAP__V1__FEEDBACK_REPLY__INIT;
    rep.kind = kind;
    rep.status = status;
    rep.error = (char *)msg;
    reply_packed(self, client, &rep.base);
}

static void reply_feedback_error(ingest_server_t *self, client_t client,
                                 Ncap__V1__FeedbackReply__Kind kind, const char *msg)
{
    reply_feedback_status(self, client, kind, 0, msg);
}

/* One page of problems as a reply: the summary with the first page. */
static void reply_feedback_page(ingest_server_t *self, client_t client,
                                const feedback_summary_t *sum, const feedback_page_t *page)
{
    Ncap__V1__FeedbackReply rep = NCAP__V1__FEEDBACK_REPLY__INIT;
    Ncap__V1__FeedbackSummary s;
    if (sum) {
        feedback_summary_to_message(sum, &s);
        rep.summary = &s;
    }
    Ncap__V1__FeedbackProblem *cells = calloc(page->n + 1, sizeof *cells);
    Ncap__V1__FeedbackProblem **ptrs = calloc(page->n + 1, sizeof *ptrs);
    if (!cells || !ptrs) {
        reply_feedback_error(self, client, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR,
                             "out of memory while reading the feedback");
    } else {
        for (size_t i = 0; i < page->n; i++) {
            const feedback_problem_t *fp = &page->problems[i];
            ncap__v1__feedback_problem__init(&cells[i]);
            cells[i].row = fp->row;
            cells[i].field = (char *)fp->field;
            cells[i].rule = (char *)fp->rule;
            cells[i].severity = (char *)fp->severity;
            cells[i].value = (char *)fp->value;
            cells[i].message = (char *)fp->message;
            cells[i].stage = (char *)fp->stage;
            cells[i].count = fp->count;
            cells[i].rows = (uint32_t *)fp->rows;
            cells[i].n_rows = fp->n_rows;
            ptrs[i] = &cells[i];
        }
        rep.kind = NCAP__V1__FEEDBACK_REPLY__KIND__PAGE;
        rep.problems = ptrs;
        rep.n_problems = page->n;
        rep.more = page->more;
        reply_packed(self, client, &rep.base);
    }
    free(cells);
    free(ptrs);
}

/* Feedback could not be read: the cause (a database error) is logged, not sent to the trust. */
static void feedback_failed(ingest_server_t *self, client_t client, const char *err)
{
    ncap_log(LOG_ERROR, "could not read feedback", "error", err, NULL);
    reply_feedback_error(self, client, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR,
                         "could not read the feedback now; ask again later (ingest logged why)");
}

/* One page of a trust's feedback on one of its submissions (the summary with the first). */
static void handle_feedback(ingest_server_t *self, client_t client, zmq_msg_t *body)
{
    Ncap__V1__FeedbackRequest *req =
        ncap__v1__feedback_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
    if (!req) {
        reply_feedback_error(self, client, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR,
                             "could not decode the request: not an ncap.v1.FeedbackRequest");
        return;
    }
    speaker_t who;
    caller_trust(self, body, req->trust, req->bearer_token, &who);
    if (who.status) {
        reply_feedback_status(self, client, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR, who.status,
                              who.msg);
        ncap__v1__feedback_request__free_unpacked(req, NULL);
        return;
    }
    const char *trust = who.trust;
    char err[1024], msg[1024];
    feedback_summary_t sum;
    int found = 0;
    PGconn *db = NULL;
    switch (request_gate_feedback(req, trust, msg, sizeof msg)) {
    case REQUEST_GATE_FEEDBACK_REFUSED:
        reply_feedback_error(self, client, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR, msg);
        goto out;
    case REQUEST_GATE_FEEDBACK_NOT_FOUND:
        break;
    case REQUEST_GATE_FEEDBACK_READ:
        for (int attempt = 0; attempt < 2; attempt++) {
            if (!(db = ingest_server_db(self))) {
                snprintf(err, sizeof err, "no database connection");
                found = -1;
                break;
            }
            found = feedback_store_find(db, req->submission_id, trust, req->after == NULL, &sum,
                                        err, sizeof err);
            if (found >= 0 || db_alive(db))
                break;
        }
        break;
    }
    if (found < 0) {
        feedback_failed(self, client, err);
        goto out;
    }
    if (found == 0) {
        /* The same answer whether it does not exist or is another trust's: no leak. */
        reply_feedback_error(self, client, NCAP__V1__FEEDBACK_REPLY__KIND__NOT_FOUND, msg);
        goto out;
    }
    const audit_def_t *def = audit_cache_get(self->parts.audits, sum.audit, err, sizeof err);
    feedback_cursor_t cur, *after = NULL;
    if (req->after) {
        cur = (feedback_cursor_t){req->after->row, req->after->field, req->after->rule,
                                  req->after->stage, req->after->message};
        after = &cur;
    }
    unsigned limit = req->max_problems && req->max_problems < INGEST_FEEDBACK_PAGE
                         ? req->max_problems
                         : INGEST_FEEDBACK_PAGE;
    feedback_page_t page;
    if (feedback_store_page(db, req->submission_id, def, after, limit, &page, err, sizeof err) !=
        0) {
        feedback_failed(self, client, err);
        goto out;
    }
    reply_feedback_page(self, client, after ? NULL : &sum, &page);
    feedback_page_clear(&page);
out:
    ncap__v1__feedback_request__free_unpacked(req, NULL);
}

static PGconn *results_db(void *arg)
{
    return ingest_server_db(arg);
}

/* A page of a trust's own results (results_request.h). */
static void handle_results(ingest_server_t *self, client_t client, zmq_msg_t *body)
{
    Ncap__V1__ResultsRequest *req =
        ncap__v1__results_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
    if (!req) {
        Ncap__V1__ResultsReply rep = NCAP__V1__RESULTS_REPLY__INIT;
        rep.kind = NCAP__V1__RESULTS_REPLY__KIND__ERROR;
        rep.error = "could not decode the request: not an ncap.v1.ResultsRequest";
        reply_packed(self, client, &rep.base);
        return;
    }
    speaker_t who;
    caller_trust(self, body, req->trust, req->bearer_token, &who);
    if (who.status) {
        Ncap__V1__ResultsReply rep = NCAP__V1__RESULTS_REPLY__INIT;
        rep.kind = NCAP__V1__RESULTS_REPLY__KIND__ERROR;
        rep.status = who.status;
        rep.error = who.msg;
        reply_packed(self, client, &rep.base);
        ncap__v1__results_request__free_unpacked(req, NULL);
        return;
    }
    results_source_t src = {results_db, self, self->parts.audits};
    results_answer_t a;
    results_request_answer(&src, req, who.trust, &a);
    reply_packed(self, client, &a.reply.base);
    results_answer_clear(&a);
    ncap__v1__results_request__free_unpacked(req, NULL);
}

/* A trust's outlier cases, one case, or its response (outlier_request.h). */
static void handle_outlier(ingest_server_t *self, client_t client, zmq_msg_t *body)
{
    Ncap__V1__OutlierReply rep = NCAP__V1__OUTLIER_REPLY__INIT;
    Ncap__V1__OutlierRequest *req =
        ncap__v1__outlier_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
    char err[1024], msg[1024];
    outlier_answer_t a = {0};
    rep.kind = NCAP__V1__OUTLIER_REPLY__KIND__ERROR;
    rep.error = msg;
    snprintf(msg, sizeof msg, "could not decode the request: not an ncap.v1.OutlierRequest");
    speaker_t who = {0};
    if (req)
        caller_trust(self, body, req->trust, req->bearer_token, &who);
    const char *trust = who.trust;
    if (who.status) {
        snprintf(msg, sizeof msg, "%s", who.msg);
        rep.status = who.status;
    }
    switch (req && !who.status ? request_gate_outlier(req, trust, msg, sizeof msg)
                               : REQUEST_GATE_FEEDBACK_REFUSED) {
    case REQUEST_GATE_FEEDBACK_REFUSED:
        break;
    case REQUEST_GATE_FEEDBACK_NOT_FOUND:
        rep.kind = NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND;
        break;
    case REQUEST_GATE_FEEDBACK_READ: {
        PGconn *db = ingest_server_db(self);
        if (!db || outlier_request_answer(db, req, trust, msg, &rep, &a, err, sizeof err) != 0) {
            ncap_log(LOG_ERROR, "could not answer an outlier request", "error",
                     db ? err : "no database connection", NULL);
            rep.kind = NCAP__V1__OUTLIER_REPLY__KIND__ERROR;
            rep.error = "could not read the outlier cases now; ask again later (ingest logged why)";
            rep.n_cases = rep.n_local_ids = 0;
        }
        break;
    }
    }
    reply_packed(self, client, &rep.base);
    outlier_answer_clear(&a);
    if (req)
        ncap__v1__outlier_request__free_unpacked(req, NULL);
}

/* Whether the frame names the request type `type` (the first of a typed request's two). */
static int names_type(zmq_msg_t *frame, const char *type)
{
    size_t tlen = strlen(type);
    return zmq_msg_more(frame) && zmq_msg_size(frame) == tlen &&
           memcmp(zmq_msg_data(frame), type, tlen) == 0;
}

/* Receives one request from the ROUTER (if one is waiting) and answers it. */
static void handle_request(ingest_server_t *self)
{
    void *router = self->parts.router;
    zmq_msg_t identity, body;
    zmq_msg_init(&identity);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&identity, router, ZMQ_DONTWAIT) < 0)
        goto out;
    if (!zmq_msg_more(&identity) || zmq_msg_recv(&body, router, 0) < 0)
        goto out;
    metrics_add(metrics_installed(), METRICS_MESSAGES_RECEIVED, 1);
    /* A typed request: the first frame names it, the next is the body. */
    int feedback = names_type(&body, INGEST_FEEDBACK_REQUEST_TYPE);
    int results = names_type(&body, INGEST_RESULTS_REQUEST_TYPE);
    int outlier = names_type(&body, INGEST_OUTLIER_REQUEST_TYPE);
    if (feedback || results || outlier) {
        zmq_msg_close(&body);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, router, 0) < 0)
            feedback = results = outlier = 0;
    }
    /* Anything after the body is not ours: drain it. */
    while (zmq_msg_more(&body)) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, router, 0);
        int m = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        if (!m)
            break;
    }
    client_t client = {zmq_msg_data(&identity), zmq_msg_size(&identity)};
    if (feedback)
        handle_feedback(self, client, &body);
    else if (results)
        handle_results(self, client, &body);
    else if (outlier)
        handle_outlier(self, client, &body);
    else
        handle_submit(self, client, &body);
out:
    zmq_msg_close(&identity);
    zmq_msg_close(&body);
}

int ingest_server_poll(ingest_server_t *self, int timeout_ms)
{
    assert(self);
    void *zap = self->parts.auth ? curve_auth_socket(self->parts.auth) : NULL;
    zmq_pollitem_t items[] = {{self->parts.router, 0, ZMQ_POLLIN, 0},
                              {NULL, store_pool_fd(self->parts.pool), ZMQ_POLLIN, 0},
                              {zap, 0, ZMQ_POLLIN, 0}};
    int rc = zmq_poll(items, zap ? 3 : 2, self->passing ? 0 : timeout_ms);
    if (rc < 0)
        return zmq_errno() == EINTR ? 0 : -1;
    if (zap && (items[2].revents & ZMQ_POLLIN))
        while (curve_auth_handle(self->parts.auth) > 0)
            ;
    if (items[0].revents & ZMQ_POLLIN)
        handle_request(self);
    store_job_t *job;
    while ((job = store_pool_finished(self->parts.pool)))
        answer(self, job);
    pass_on_slice(self);
    return 0;
}

void ingest_server_tick(ingest_server_t *self, long long now_ms)
{
    assert(self);
    /* the daemon tick on every poll, as a stage's loop does (presence_tick does its registry work
     * at most once a second): nudges held for want of a linkage instance go as soon as one is
     * there */
    if (self->stopping || !ingest_server_db(self) || now_ms < self->next_tick_ms)
        return;
    uploads_expire(self->uploads, now_ms);
    self->next_tick_ms = now_ms + 1000;
    if (now_ms >= self->next_fold_ms) {
        /* ingest's counts (`ncap status`), folded as the other stages fold theirs on a sweep */
        char err[1024];
        if (tally_fold(ingest_server_db(self), "ingest", err, sizeof err) != 0)
            ncap_log(LOG_WARN, "could not fold ingest's counts; retried shortly", "error", err,
                     NULL);
        stage_gauges_read(&(stage_ops_t){0}, "ingest", ingest_server_db(self), metrics_installed());
        self->next_fold_ms = now_ms + 10000;
    }
}

void ingest_server_stop(ingest_server_t *self)
{
    assert(self);
    if (self->stopping)
        return;
    self->stopping = true;
    presence_leave(self->parts.presence);
    size_t dropped = uploads_clear(self->uploads), refused = 0;
    store_job_t *job;
    while ((job = store_pool_take_back(self->parts.pool))) {
        reply_error(self, (client_t){job->client, job->client_len}, job->token, 503,
                    REQUEST_GATE_STOPPING);
        job_done(self, &job);
        refused++;
    }
    char d[32], r[32], s[32];
    snprintf(d, sizeof d, "%zu", dropped);
    snprintf(r, sizeof r, "%zu", refused);
    snprintf(s, sizeof s, "%zu", store_pool_jobs(self->parts.pool));
    ncap_log(LOG_INFO, "stopping: no new uploads; finishing the files being stored",
             "uploads_dropped", d, "files_refused", r, "files_being_stored", s, NULL);
}

bool ingest_server_finished(ingest_server_t *self)
{
    assert(self);
    return self->stopping && store_pool_jobs(self->parts.pool) == 0;
}

unsigned long long ingest_server_records(const ingest_server_t *self)
{
    return self->records;
}
