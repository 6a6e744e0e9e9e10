/* ncap-ingestd - takes trusts' submissions over ZeroMQ, stores every record as received, answers
 * with a receipt only after commit, and passes the new record versions on to linkage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "audit_cache.h"
#include "curve_auth.h"
#include "daemon.h"
#include "db.h"
#include "feedback_store.h"
#include "ingest_store.h"
#include "log.h"
#include "message.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/records.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "nudge.h"
#include "ods_code.h"
#include "pusher.h"
#include "registry.h"
#include "submission.h"

#define MAX_SUBMISSION_BYTES (512u << 20)
#define MAX_PENDING_BYTES (1024u << 20) /* all uploads in progress together */
#define MAX_PENDING 64
#define PENDING_EXPIRY_MS (10 * 60 * 1000)
#define MAX_PROBLEMS_IN_RECEIPT 200
#define FEEDBACK_PAGE 1000 /* problems per feedback reply: at most ~1 MB */
/* First frame of a multi-frame request naming its type; a bare frame is a SubmitRequest. */
#define FEEDBACK_REQUEST_TYPE "ncap.v1.FeedbackRequest"

/* A submission whose chunks are still arriving. */
typedef struct {
    char token[80];
    char audit[40];
    char trust[16];
    char filename[256];
    uint32_t next_seq;
    char *data;
    size_t len, cap;
    long long last_ms;
} pending_t;

typedef struct {
    const daemon_config_t *cfg;
    PGconn *db;
    void *router;
    pusher_t *pusher;
    audit_cache_t *audits;
    pending_t pending[MAX_PENDING];
    unsigned long long records;
    curve_auth_t *auth; /* CurveZMQ with trusts' keys, or NULL */
} ingest_t;

/* The trust a request speaks for: the one place that decides it, for submissions and feedback
 * alike. With CurveZMQ on (NCAP_CURVE_SECRET_FILE), it is the trust whose key the ZAP handler
 * accepted (the message's User-Id), and a request stating another trust gets NULL: refused. Without
 * it, the trust the client states (a deployment where the network is the only protection). */
static const char *caller_trust(const ingest_t *in, zmq_msg_t *body, const char *stated)
{
    if (!in->auth)
        return stated;
    const char *user = zmq_msg_gets(body, "User-Id");
    if (!user || !*user || strcmp(user, stated) != 0)
        return NULL;
    return user;
}

/* Sends a packed reply (any message type) to the client identity names. */
static void reply_packed(ingest_t *in, zmq_msg_t *identity, const ProtobufCMessage *rep)
{
    size_t len = protobuf_c_message_get_packed_size(rep);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return;
    protobuf_c_message_pack(rep, buf);
    zmq_msg_t id;
    zmq_msg_init(&id);
    zmq_msg_copy(&id, identity);
    if (zmq_msg_send(&id, in->router, ZMQ_SNDMORE) < 0)
        zmq_msg_close(&id);
    zmq_send(in->router, buf, len, 0);
    free(buf);
}

static void reply(ingest_t *in, zmq_msg_t *identity, Ncap__V1__SubmitReply *rep)
{
    reply_packed(in, identity, &rep->base);
}

static void reply_error(ingest_t *in, zmq_msg_t *identity, const char *token, const char *msg)
{
    Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
    rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__ERROR;
    rep.client_token = (char *)token;
    rep.error = (char *)msg;
    reply(in, identity, &rep);
}

static pending_t *find_pending(ingest_t *in, const char *token, int create)
{
    pending_t *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < MAX_PENDING; i++) {
        pending_t *p = &in->pending[i];
        if (p->token[0] && strcmp(p->token, token) == 0)
            return p;
        if (!p->token[0] && !free_slot)
            free_slot = p;
        if (p->token[0] && (!oldest || p->last_ms < oldest->last_ms))
            oldest = p;
    }
    if (!create)
        return NULL;
    if (!free_slot) {
        free(oldest->data);
        memset(oldest, 0, sizeof *oldest);
        free_slot = oldest;
    }
    return free_slot;
}

static void drop_pending(pending_t *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

/* Nudges linkage with the keys of the stored versions (after commit). */
static void pass_on(ingest_t *in, const ingest_result_t *res)
{
    stage_keys_t keys = {0};
    for (size_t i = 0; i < res->n_stored; i++)
        stage_keys_push(&keys, (stage_key_t){res->stored[i].record_id, res->stored[i].version, 0});
    nudge_send(in->pusher, keys.keys, keys.n);
    stage_keys_free(&keys);
}

static void finish(ingest_t *in, zmq_msg_t *identity, pending_t *p)
{
    char err[1024];
    const audit_def_t *def = audit_cache_get(in->audits, p->audit, err, sizeof err);
    if (!def) {
        reply_error(in, identity, p->token, err);
        return;
    }
    submission_t *sub = submission_parse_csv(def, p->trust, p->data ? p->data : "", p->len);
    if (!sub) {
        reply_error(in, identity, p->token, "out of memory while parsing the file");
        return;
    }
    if (sub->file_error[0]) {
        char msg[700];
        snprintf(msg, sizeof msg, "file refused: %s", sub->file_error);
        ncap_log(LOG_WARN, "submission refused", "trust", p->trust, "audit", p->audit, "file",
                 p->filename, "error", sub->file_error, NULL);
        reply_error(in, identity, p->token, msg);
        submission_destroy(&sub);
        return;
    }
    ingest_result_t res;
    int ok = 0;
    long long t0 = daemon_now_ms();
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        if (!db_alive(in->db)) {
            PQfinish(in->db);
            in->db = daemon_connect(in->cfg);
            if (!in->db)
                break;
        }
        if (db_exec(in->db, "BEGIN", err, sizeof err) == 0 &&
            ingest_store(in->db, p->audit, p->trust, p->filename, p->len, sub, &res, err,
                         sizeof err) == 0 &&
            db_exec(in->db, "COMMIT", err, sizeof err) == 0) {
            ok = 1;
        } else {
            db_exec(in->db, "ROLLBACK", NULL, 0);
            ingest_result_free(&res);
        }
    }
    if (!ok) {
        ncap_log(LOG_ERROR, "could not store submission", "trust", p->trust, "error", err, NULL);
        char msg[1100];
        snprintf(msg, sizeof msg, "could not store the submission, nothing was kept: %s", err);
        reply_error(in, identity, p->token, msg);
        submission_destroy(&sub);
        return;
    }
    /* Committed: now, and only now, the receipt. */
    Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
    rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT;
    rep.client_token = p->token;
    rep.bytes_received = p->len;
    rep.submission_id = res.submission_id;
    rep.rows = sub->data_rows;
    rep.accepted = res.accepted;
    rep.unchanged = res.unchanged;
    rep.rejected = sub->rejected;
    size_t np =
        sub->n_problems < MAX_PROBLEMS_IN_RECEIPT ? sub->n_problems : MAX_PROBLEMS_IN_RECEIPT;
    Ncap__V1__RowProblem *cells = calloc(np + 1, sizeof *cells);
    Ncap__V1__RowProblem **ptrs = calloc(np + 1, sizeof *ptrs);
    for (size_t i = 0; cells && ptrs && i < np; i++) {
        ncap__v1__row_problem__init(&cells[i]);
        cells[i].row = (uint32_t)sub->problems[i].row;
        cells[i].field = sub->problems[i].field;
        cells[i].rule = sub->problems[i].rule;
        cells[i].severity = sub->problems[i].severity;
        cells[i].message = sub->problems[i].message;
        ptrs[i] = &cells[i];
    }
    if (cells && ptrs) {
        rep.problems = ptrs;
        rep.n_problems = np;
    }
    reply(in, identity, &rep);
    free(cells);
    free(ptrs);
    char sid[32], acc[16], rej[16], ms[32];
    snprintf(ms, sizeof ms, "%lld", daemon_now_ms() - t0);
    snprintf(sid, sizeof sid, "%lld", (long long)res.submission_id);
    snprintf(acc, sizeof acc, "%u", res.accepted);
    snprintf(rej, sizeof rej, "%u", sub->rejected);
    ncap_log(LOG_INFO, "submission stored", "submission", sid, "trust", p->trust, "audit", p->audit,
             "accepted", acc, "rejected", rej, "store_ms", ms, NULL);
    in->records += res.accepted;
    pass_on(in, &res);
    ingest_result_free(&res);
    submission_destroy(&sub);
}

/* Reconnects when the connection was lost. Returns 0 when there is a usable one. */
static int ensure_db(ingest_t *in)
{
    if (in->db && db_alive(in->db))
        return 0;
    PQfinish(in->db);
    in->db = daemon_connect(in->cfg);
    return in->db ? 0 : -1;
}

static void reply_feedback_error(ingest_t *in, zmq_msg_t *identity,
                                 Ncap__V1__FeedbackReply__Kind kind, const char *msg)
{
    Ncap__V1__FeedbackReply rep = NCAP__V1__FEEDBACK_REPLY__INIT;
    rep.kind = kind;
    rep.error = (char *)msg;
    reply_packed(in, identity, &rep.base);
}

/* One page of a trust's feedback on one of its submissions (the summary with the first). */
static void handle_feedback(ingest_t *in, zmq_msg_t *identity, zmq_msg_t *body)
{
    Ncap__V1__FeedbackRequest *req =
        ncap__v1__feedback_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
    if (!req) {
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR,
                             "could not decode the request: not an ncap.v1.FeedbackRequest");
        return;
    }
    const char *trust = caller_trust(in, body, req->trust);
    char err[1024], msg[1200];
    feedback_summary_t sum;
    int found = 0;
    if (!trust) {
        snprintf(msg, sizeof msg,
                 "request refused: this connection is not authenticated as trust \"%.20s\"",
                 req->trust);
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR, msg);
        goto out;
    }
    if (ods_code_kind(trust) == ODS_CODE_INVALID) {
        snprintf(msg, sizeof msg, "request refused: trust \"%.20s\" is not an ODS trust code",
                 trust);
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR, msg);
        goto out;
    }
    if (req->submission_id > 0) {
        for (int attempt = 0; attempt < 2; attempt++) {
            if (ensure_db(in) != 0) {
                snprintf(err, sizeof err, "no database connection");
                found = -1;
                break;
            }
            found = feedback_store_find(in->db, req->submission_id, trust, req->after == NULL, &sum,
                                        err, sizeof err);
            if (found >= 0 || db_alive(in->db))
                break;
        }
    }
    if (found < 0) {
        ncap_log(LOG_ERROR, "could not read feedback", "error", err, NULL);
        snprintf(msg, sizeof msg, "could not read the feedback: %s", err);
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR, msg);
        goto out;
    }
    if (found == 0) {
        /* The same answer whether it does not exist or is another trust's: no leak. */
        snprintf(msg, sizeof msg, "no submission %lld for trust %s", (long long)req->submission_id,
                 trust);
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__NOT_FOUND, msg);
        goto out;
    }
    const audit_def_t *def = audit_cache_get(in->audits, sum.audit, err, sizeof err);
    feedback_cursor_t cur, *after = NULL;
    if (req->after) {
        cur = (feedback_cursor_t){req->after->row, req->after->field, req->after->rule,
                                  req->after->stage, req->after->message};
        after = &cur;
    }
    unsigned limit =
        req->max_problems && req->max_problems < FEEDBACK_PAGE ? req->max_problems : FEEDBACK_PAGE;
    feedback_page_t page;
    if (feedback_store_page(in->db, req->submission_id, def, after, limit, &page, err,
                            sizeof err) != 0) {
        ncap_log(LOG_ERROR, "could not read feedback", "error", err, NULL);
        snprintf(msg, sizeof msg, "could not read the feedback: %s", err);
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR, msg);
        goto out;
    }
    Ncap__V1__FeedbackReply rep = NCAP__V1__FEEDBACK_REPLY__INIT;
    Ncap__V1__FeedbackSummary s;
    if (!after) {
        feedback_summary_to_message(&sum, &s);
        rep.summary = &s;
    }
    Ncap__V1__FeedbackProblem *cells = calloc(page.n + 1, sizeof *cells);
    Ncap__V1__FeedbackProblem **ptrs = calloc(page.n + 1, sizeof *ptrs);
    if (!cells || !ptrs) {
        reply_feedback_error(in, identity, NCAP__V1__FEEDBACK_REPLY__KIND__ERROR,
                             "out of memory while reading the feedback");
    } else {
        for (size_t i = 0; i < page.n; i++) {
            const feedback_problem_t *fp = &page.problems[i];
            ncap__v1__feedback_problem__init(&cells[i]);
            cells[i].row = fp->row;
            cells[i].field = (char *)fp->field;
            cells[i].rule = (char *)fp->rule;
            cells[i].severity = (char *)fp->severity;
            cells[i].value = (char *)fp->value;
            cells[i].message = (char *)fp->message;
            cells[i].stage = (char *)fp->stage;
            ptrs[i] = &cells[i];
        }
        rep.kind = NCAP__V1__FEEDBACK_REPLY__KIND__PAGE;
        rep.problems = ptrs;
        rep.n_problems = page.n;
        rep.more = page.more;
        reply_packed(in, identity, &rep.base);
    }
    free(cells);
    free(ptrs);
    feedback_page_clear(&page);
out:
    ncap__v1__feedback_request__free_unpacked(req, NULL);
}

static void handle(ingest_t *in, zmq_msg_t *identity, zmq_msg_t *body)
{
    Ncap__V1__SubmitRequest *req =
        ncap__v1__submit_request__unpack(NULL, zmq_msg_size(body), zmq_msg_data(body));
    if (!req) {
        reply_error(in, identity, "", "could not decode the request: not an ncap.v1.SubmitRequest");
        return;
    }
    if (!req->client_token[0] || strlen(req->client_token) >= sizeof in->pending[0].token ||
        strlen(req->audit) >= sizeof in->pending[0].audit) {
        reply_error(in, identity, "",
                    "request refused: missing or over-long client token or audit");
        goto out;
    }
    const char *trust = caller_trust(in, body, req->trust);
    if (!trust) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "request refused: this connection is not authenticated as trust \"%.20s\"",
                 req->trust);
        reply_error(in, identity, req->client_token, msg);
        goto out;
    }
    if (ods_code_kind(trust) == ODS_CODE_INVALID) {
        char msg[200];
        snprintf(msg, sizeof msg, "request refused: trust \"%.20s\" is not an ODS trust code",
                 trust);
        reply_error(in, identity, req->client_token, msg);
        goto out;
    }
    pending_t *p = find_pending(in, req->client_token, req->seq == 0);
    if (!p || (req->seq != 0 && p->next_seq != req->seq) || (req->seq == 0 && p->token[0])) {
        if (p && req->seq == 0 && p->token[0])
            drop_pending(p); /* a restarted upload: begin again */
        else {
            reply_error(in, identity, req->client_token,
                        "chunk out of order or submission unknown (ingest may have restarted): "
                        "send the file again");
            if (p)
                drop_pending(p);
            goto out;
        }
    }
    if (!p->token[0]) {
        snprintf(p->token, sizeof p->token, "%s", req->client_token);
        snprintf(p->audit, sizeof p->audit, "%s", req->audit);
        snprintf(p->trust, sizeof p->trust, "%s", trust);
        snprintf(p->filename, sizeof p->filename, "%s", req->filename);
    }
    size_t pending_total = 0;
    for (int i = 0; i < MAX_PENDING; i++)
        pending_total += in->pending[i].len;
    if (pending_total + req->chunk.len > MAX_PENDING_BYTES) {
        reply_error(in, identity, p->token,
                    "ingest is receiving too much at once (1 GB in progress); send the file again "
                    "in a minute");
        drop_pending(p);
        goto out;
    }
    if (p->len + req->chunk.len > MAX_SUBMISSION_BYTES) {
        reply_error(in, identity, p->token, "file refused: larger than 512 MB; split it");
        drop_pending(p);
        goto out;
    }
    if (p->len + req->chunk.len + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 1 << 16;
        while (cap < p->len + req->chunk.len + 1)
            cap *= 2;
        char *d = realloc(p->data, cap);
        if (!d) {
            reply_error(in, identity, p->token, "out of memory receiving the file");
            drop_pending(p);
            goto out;
        }
        p->data = d;
        p->cap = cap;
    }
    if (req->chunk.len)
        memcpy(p->data + p->len, req->chunk.data, req->chunk.len);
    p->len += req->chunk.len;
    p->next_seq = req->seq + 1;
    p->last_ms = daemon_now_ms();
    if (req->last) {
        finish(in, identity, p);
        drop_pending(p);
    } else {
        Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
        rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS;
        rep.client_token = p->token;
        rep.bytes_received = p->len;
        reply(in, identity, &rep);
    }
out:
    ncap__v1__submit_request__free_unpacked(req, NULL);
}

int main(int argc, char **argv)
{
    daemon_config_t cfg;
    int rc =
        daemon_config_parse(&cfg, "ncap-ingestd", "ingest",
                            "Takes trusts' submissions (CSV with a header) over ZeroMQ, checks "
                            "each file's shape, stores every record\nas received in the ingest "
                            "schema, answers with a receipt only after commit, and passes new\n"
                            "record versions to linkage.",
                            argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.service);
    daemon_install_signals();
    ingest_t in = {.cfg = &cfg};
    in.audits = audit_cache_new(cfg.audit_dir);
    void *ctx = zmq_ctx_new();
    in.router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 1000;
    zmq_setsockopt(in.router, ZMQ_LINGER, &linger, sizeof linger);
    {
        char aerr[1024];
        if (curve_auth_new(ctx, &in.auth, aerr, sizeof aerr) != 0 ||
            (in.auth && curve_auth_server_setup(in.auth, in.router, aerr, sizeof aerr) != 0)) {
            ncap_log(LOG_ERROR, "could not set up CurveZMQ", "error", aerr, NULL);
            return 1;
        }
        if (in.auth) {
            char n[24];
            snprintf(n, sizeof n, "%zu", curve_auth_ntrusts(in.auth));
            ncap_log(LOG_INFO, "CurveZMQ on: trusts authenticated by their keys", "trusts", n,
                     NULL);
        }
    }
    char listen[300];
    if (cfg.listen)
        snprintf(listen, sizeof listen, "%s", cfg.listen);
    else
        snprintf(listen, sizeof listen, "tcp://%s:*", cfg.bind_host);
    if (zmq_bind(in.router, listen) != 0) {
        ncap_log(LOG_ERROR, "could not bind the submission endpoint", "endpoint", listen, "error",
                 zmq_strerror(zmq_errno()), NULL);
        return 1;
    }
    char endpoint[320];
    registry_advertised_endpoint(in.router, cfg.advertise_host, endpoint, sizeof endpoint);
    in.pusher = pusher_new(ctx, "linkage");
    char instance[300];
    registry_make_instance_id(instance, sizeof instance);
    ncap_log(LOG_INFO, "starting", "stage", "ingest", "instance", instance, "endpoint", endpoint,
             NULL);
    in.db = daemon_connect(&cfg);
    long long next_tick = 0;
    int registered = 0;
    zmq_pollitem_t items[] = {{in.router, 0, ZMQ_POLLIN, 0},
                              {in.auth ? curve_auth_socket(in.auth) : NULL, 0, ZMQ_POLLIN, 0}};
    int nitems = in.auth ? 2 : 1;
    while (!daemon_shutdown && in.db) {
        long long now = daemon_now_ms();
        char err[1024];
        if (now >= next_tick) {
            if (!db_alive(in.db)) {
                PQfinish(in.db);
                in.db = daemon_connect(&cfg);
                registered = 0;
                if (!in.db)
                    break;
            }
            int r = registered
                        ? registry_heartbeat(in.db, instance, err, sizeof err)
                        : registry_register(in.db, instance, "ingest", endpoint, err, sizeof err);
            if (r == 0)
                registered = 1;
            else
                ncap_log(LOG_WARN, "could not update the instance registry", "error", err, NULL);
            if (pusher_refresh(in.pusher, in.db, err, sizeof err) != 0)
                ncap_log(LOG_WARN, "could not look up linkage instances", "error", err, NULL);
            for (int i = 0; i < MAX_PENDING; i++)
                if (in.pending[i].token[0] && now - in.pending[i].last_ms > PENDING_EXPIRY_MS)
                    drop_pending(&in.pending[i]);
            next_tick = now + 1000;
        }
        if (zmq_poll(items, nitems, 200) <= 0)
            continue;
        if (in.auth && (items[1].revents & ZMQ_POLLIN))
            while (curve_auth_handle(in.auth) > 0)
                ;
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t identity, body;
        zmq_msg_init(&identity);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&identity, in.router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&identity);
            zmq_msg_close(&body);
            continue;
        }
        int more = zmq_msg_more(&identity);
        if (more && zmq_msg_recv(&body, in.router, 0) >= 0) {
            /* A typed request: the first frame names it, the next is the body. */
            int feedback =
                zmq_msg_more(&body) && zmq_msg_size(&body) == strlen(FEEDBACK_REQUEST_TYPE) &&
                memcmp(zmq_msg_data(&body), FEEDBACK_REQUEST_TYPE, strlen(FEEDBACK_REQUEST_TYPE)) ==
                    0;
            if (feedback) {
                zmq_msg_close(&body);
                zmq_msg_init(&body);
                if (zmq_msg_recv(&body, in.router, 0) < 0)
                    feedback = 0;
            }
            /* Anything after the body is not ours: drain it. */
            while (zmq_msg_more(&body)) {
                zmq_msg_t extra;
                zmq_msg_init(&extra);
                zmq_msg_recv(&extra, in.router, 0);
                int m = zmq_msg_more(&extra);
                zmq_msg_close(&extra);
                if (!m)
                    break;
            }
            if (feedback)
                handle_feedback(&in, &identity, &body);
            else
                handle(&in, &identity, &body);
        }
        zmq_msg_close(&identity);
        zmq_msg_close(&body);
    }
    if (in.db) {
        registry_remove(in.db, instance, NULL, 0);
        PQfinish(in.db);
    }
    for (int i = 0; i < MAX_PENDING; i++)
        drop_pending(&in.pending[i]);
    pusher_destroy(&in.pusher);
    zmq_close(in.router);
    curve_auth_destroy(&in.auth);
    zmq_ctx_term(ctx);
    audit_cache_destroy(&in.audits);
    char n[32];
    snprintf(n, sizeof n, "%llu", in.records);
    ncap_log(LOG_INFO, "stopped cleanly", "records", n, NULL);
    return 0;
}
