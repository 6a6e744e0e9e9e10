/* trust_gateway.c - the trusts' API's requests to ingest, through the clients `ncap` uses */
#include "trust_gateway.h"

#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curve_auth.h"
#include "feedback_client.h"
#include "feedback_report.h"
#include "ingest_reply.h"
#include "ncap/v1/submission.pb-c.h"
#include "outlier_client.h"
#include "proto_json.h"
#include "results_client.h"
#include "submit_client.h"
#include "trust_token.h"
#include "upload.h"

/* The refusal slot before any reply: ingest was not reached, or did not answer in time. */
#define NOT_ANSWERED UINT_MAX

struct trust_gateway {
    char *endpoint; /* NULL: $NCAP_INGEST, else the registry */
    client_keys_t keys;
    bool has_keys;
    int timeout_s;
};

trust_gateway *trust_gateway_open(const trust_gateway_config *cfg, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "could not initialise libsodium");
        return NULL;
    }
    trust_gateway *gw = calloc(1, sizeof *gw);
    if (!gw || (cfg->ingest && !(gw->endpoint = strdup(cfg->ingest)))) {
        free(gw);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    gw->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
    if (cfg->keys_dir) {
        char key[CURVE_KEY_Z85 + 1];
        snprintf(gw->keys.server, sizeof gw->keys.server, "%s/ingest.pub", cfg->keys_dir);
        snprintf(gw->keys.secret, sizeof gw->keys.secret, "%s/web.key", cfg->keys_dir);
        if (curve_key_read(gw->keys.server, CURVE_KEY_PUBLIC, key, err, errlen) != 0 ||
            curve_key_read(gw->keys.secret, CURVE_KEY_SECRET, key, err, errlen) != 0) {
            sodium_memzero(key, sizeof key);
            trust_gateway_close(gw);
            return NULL;
        }
        sodium_memzero(key, sizeof key);
        gw->has_keys = true;
    }
    return gw;
}

void trust_gateway_close(trust_gateway *gw)
{
    if (!gw)
        return;
    free(gw->endpoint);
    free(gw);
}

void gateway_reply_free(gateway_reply *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* The target of one call: the gateway's ingest and key, the trust's token, the refusal slot. */
static ingest_target_t target(const trust_gateway *gw, const char *token, unsigned *refusal)
{
    *refusal = NOT_ANSWERED;
    return (ingest_target_t){gw->endpoint, gw->has_keys ? &gw->keys : NULL, !gw->has_keys, token,
                             refusal};
}

/* Takes the reference to body (NULL: out of memory) into out. */
static void reply_json(gateway_reply *out, int status, json_t *body, const char *type)
{
    out->http_status = status;
    out->content_type = type;
    out->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!out->body) { /* out of memory: what is left to say, without allocating */
        out->http_status = 503;
        out->content_type = "application/problem+json";
        out->body = NULL;
    }
    out->body_len = out->body ? strlen(out->body) : 0;
}

static const char *status_title(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 413:
        return "Content Too Large";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    default:
        return "Service Unavailable";
    }
}

/* An RFC 9457 problem: status and detail (ingest's words, or the gateway's). */
static void problem(gateway_reply *out, int status, const char *detail)
{
    json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
                          status_title(status), "status", status, "detail", detail);
    reply_json(out, status, p, "application/problem+json");
}

/* The HTTP status of a call that failed: ingest's refusal as it classed it, a reply without a
 * class (a request it refused as bad) as 400, no reply at all as 503. */
static int failed_status(unsigned refusal)
{
    if (refusal == NOT_ANSWERED)
        return 503;
    return refusal >= 400 && refusal <= 599 ? (int)refusal : 400;
}

/* The trust a token names, or 0 after a 401 in out: no token, or not of a token's shape. */
static int token_trust(const char *token, char trust[8], gateway_reply *out)
{
    if (!token || !*token) {
        problem(out, 401,
                "no bearer token: send \"Authorization: Bearer <token>\" with the "
                "token `ncap keys token` made for the trust");
        return 0;
    }
    if (trust_token_trust(token, trust) != 0) {
        problem(out, 401, "the bearer token is not an ncap trust token (ncap_<ODS>_...)");
        return 0;
    }
    return 1;
}

void trust_gateway_submit(trust_gateway *gw, const char *token, const char *audit,
                          const char *trust, const char *csv, size_t csv_len, gateway_reply *out)
{
    char named[8], err[4096];
    if (!token_trust(token, named, out))
        return;
    if (!audit || !*audit || !trust || !*trust) {
        problem(out, 400, "a submission needs its audit and trust");
        return;
    }
    if (csv_len > UPLOAD_MAX_FILE_BYTES) {
        snprintf(err, sizeof err,
                 "the file has %zu bytes, more than ingest takes in one "
                 "submission (%u MB): split it",
                 csv_len, UPLOAD_MAX_FILE_BYTES >> 20);
        problem(out, 413, err);
        return;
    }
    unsigned refusal;
    ingest_target_t to = target(gw, token, &refusal);
    submit_receipt_t rec;
    if (submit_buffer(&to, audit, trust, "api.csv", csv ? csv : "", csv_len, false, gw->timeout_s,
                      &rec, err, sizeof err) != 0) {
        problem(out, failed_status(refusal), err);
        return;
    }
    const Ncap__V1__SubmitReply *r = rec.reply;
    json_t *problems = json_array();
    for (size_t i = 0; problems && i < r->n_problems; i++)
        if (json_array_append_new(problems, proto_json(&r->problems[i]->base)) != 0) {
            json_decref(problems);
            problems = NULL;
        }
    json_t *body = problems ? json_pack("{s:I, s:i, s:i, s:i, s:i, s:o}", "submission_id",
                                        (json_int_t)rec.submission_id, "rows", rec.rows, "accepted",
                                        rec.accepted, "unchanged", rec.unchanged, "rejected",
                                        rec.rejected, "problems", problems)
                            : NULL;
    submit_receipt_free(&rec);
    reply_json(out, 201, body, "application/json");
}

/* --- feedback: the summary, then every problem, gathered into one JSON body --- */

typedef struct {
    json_t *summary, *problems;
    bool oom;
} gathered_t;

static void gather_summary(void *arg, const feedback_summary_t *s)
{
    gathered_t *g = arg;
    Ncap__V1__FeedbackSummary m;
    feedback_summary_to_message(s, &m);
    g->summary = proto_json(&m.base);
    if (g->summary &&
        json_object_set_new(g->summary, "accepted", json_integer(feedback_accepted(s))) != 0)
        g->oom = true;
    g->oom |= !g->summary;
}

static void gather_problem(void *arg, const feedback_problem_t *p)
{
    gathered_t *g = arg;
    Ncap__V1__FeedbackProblem m = NCAP__V1__FEEDBACK_PROBLEM__INIT;
    m.row = p->row;
    m.field = (char *)p->field;
    m.rule = (char *)p->rule;
    m.severity = (char *)p->severity;
    m.value = (char *)p->value;
    m.message = (char *)p->message;
    m.stage = (char *)p->stage;
    m.count = p->count;
    m.rows = (uint32_t *)p->rows;
    m.n_rows = p->n_rows;
    if (!g->oom && json_array_append_new(g->problems, proto_json(&m.base)) != 0)
        g->oom = true;
}

void trust_gateway_feedback(trust_gateway *gw, const char *token, const char *submission_id,
                            gateway_reply *out)
{
    char named[8], err[4096];
    if (!token_trust(token, named, out))
        return;
    char *end;
    long long sid = submission_id ? strtoll(submission_id, &end, 10) : 0;
    if (!submission_id || !*submission_id || *end || sid <= 0) {
        problem(out, 400, "the submission id is not a positive whole number");
        return;
    }
    unsigned refusal;
    ingest_target_t to = target(gw, token, &refusal);
    gathered_t g = {NULL, json_array(), false};
    feedback_sink_t sink = {gather_summary, gather_problem, &g};
    int rc =
        g.problems ? feedback_fetch(&to, named, sid, 0, gw->timeout_s, &sink, err, sizeof err) : -1;
    if (rc != 0 || g.oom || !g.summary) {
        json_decref(g.summary);
        json_decref(g.problems);
        if (rc == FEEDBACK_NOT_FOUND)
            problem(out, 404, err);
        else
            problem(out, rc == 0 || !g.problems ? 503 : failed_status(refusal),
                    rc == 0 ? "out of memory gathering the feedback" : err);
        return;
    }
    reply_json(out, 200,
               json_pack("{s:I, s:o, s:o}", "submission_id", (json_int_t)sid, "summary", g.summary,
                         "problems", g.problems),
               "application/json");
}

/* --- results: the figures, then every record --- */

typedef struct {
    json_t *figures, *records;
    bool oom;
} results_gathered_t;

static void gather_figure(void *arg, const Ncap__V1__ResultsFigure *f)
{
    results_gathered_t *g = arg;
    if (!g->oom && json_array_append_new(g->figures, proto_json(&f->base)) != 0)
        g->oom = true;
}

static void gather_record(void *arg, const Ncap__V1__ResultsRecord *r)
{
    results_gathered_t *g = arg;
    if (!g->oom && json_array_append_new(g->records, proto_json(&r->base)) != 0)
        g->oom = true;
}

void trust_gateway_results(trust_gateway *gw, const char *token, const char *audit,
                           const char *period, gateway_reply *out)
{
    char named[8], err[4096];
    if (!token_trust(token, named, out))
        return;
    if (!audit || !*audit) {
        problem(out, 400, "results need an audit");
        return;
    }
    unsigned refusal;
    ingest_target_t to = target(gw, token, &refusal);
    results_gathered_t g = {json_array(), json_array(), false};
    results_sink_t sink = {gather_figure, gather_record, &g};
    int rc = g.figures && g.records ? results_fetch(&to, named, audit, period ? period : "", 0,
                                                    gw->timeout_s, &sink, err, sizeof err)
                                    : -1;
    if (rc != 0 || g.oom) {
        json_decref(g.figures);
        json_decref(g.records);
        if (rc == RESULTS_NOT_FOUND)
            problem(out, 404, err);
        else
            problem(out, rc == 0 ? 503 : failed_status(refusal),
                    rc == 0 ? "out of memory gathering the results" : err);
        return;
    }
    reply_json(out, 200,
               json_pack("{s:s, s:s, s:s, s:o, s:o}", "trust", named, "audit", audit, "period",
                         period ? period : "", "figures", g.figures, "records", g.records),
               "application/json");
}

/* The case id of a path, as the request wants it: > 0, or 0 after a 400 in out. */
static long long case_id_of(const char *case_id, gateway_reply *out)
{
    char *end;
    long long id = case_id ? strtoll(case_id, &end, 10) : 0;
    if (!case_id || !*case_id || *end || id <= 0) {
        problem(out, 400, "the case id is not a positive whole number");
        return 0;
    }
    return id;
}

/* One outlier request of the token's trust (req's action, case id and text set; its trust and
 * the token filled here) and its answer: the cases (of audit only, when given) and, for SHOW, the
 * local ids, as {"trust", "audit", "cases", "local_ids"}. */
static void outlier_call(trust_gateway *gw, const char *token, Ncap__V1__OutlierRequest *req,
                         const char *audit, gateway_reply *out)
{
    char named[8], err[4096];
    if (!token_trust(token, named, out))
        return;
    unsigned refusal;
    ingest_target_t to = target(gw, token, &refusal);
    req->trust = named;
    Ncap__V1__OutlierReply *rep;
    if (outlier_client_call(&to, req, gw->timeout_s, &rep, err, sizeof err) != 0) {
        problem(out, failed_status(refusal), err);
        return;
    }
    if (rep->kind != NCAP__V1__OUTLIER_REPLY__KIND__OK) {
        problem(out,
                rep->kind == NCAP__V1__OUTLIER_REPLY__KIND__NOT_FOUND ? 404
                                                                      : failed_status(refusal),
                rep->error[0] ? rep->error : "ingest refused the request");
        ncap__v1__outlier_reply__free_unpacked(rep, NULL);
        return;
    }
    json_t *cases = json_array(), *ids = json_array();
    for (size_t i = 0; cases && i < rep->n_cases; i++) {
        if (audit && *audit && strcmp(rep->cases[i]->audit, audit) != 0)
            continue;
        if (json_array_append_new(cases, proto_json(&rep->cases[i]->base)) != 0) {
            json_decref(cases);
            cases = NULL;
        }
    }
    for (size_t i = 0; ids && i < rep->n_local_ids; i++)
        if (json_array_append_new(ids, json_string(rep->local_ids[i])) != 0) {
            json_decref(ids);
            ids = NULL;
        }
    ncap__v1__outlier_reply__free_unpacked(rep, NULL);
    json_t *body = NULL;
    if (!cases || !ids) {
        json_decref(cases);
        json_decref(ids);
    } else if (req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__LIST) {
        json_decref(ids);
        body = json_pack("{s:s, s:s, s:o}", "trust", named, "audit", audit ? audit : "", "cases",
                         cases);
    } else
        body = json_pack("{s:s, s:o, s:o}", "trust", named, "cases", cases, "local_ids", ids);
    reply_json(out, 200, body, "application/json");
}

void trust_gateway_outliers(trust_gateway *gw, const char *token, const char *audit,
                            gateway_reply *out)
{
    Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
    req.action = NCAP__V1__OUTLIER_REQUEST__ACTION__LIST;
    outlier_call(gw, token, &req, audit, out);
}

void trust_gateway_outlier_case(trust_gateway *gw, const char *token, const char *case_id,
                                gateway_reply *out)
{
    Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
    req.action = NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW;
    if ((req.case_id = case_id_of(case_id, out)) > 0)
        outlier_call(gw, token, &req, NULL, out);
}

void trust_gateway_outlier_respond(trust_gateway *gw, const char *token, const char *case_id,
                                   const char *text, size_t text_len, gateway_reply *out)
{
    Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
    req.action = NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND;
    if ((req.case_id = case_id_of(case_id, out)) <= 0)
        return;
    if (!text || strlen(text) != text_len) {
        problem(out, 400, "the response is empty or holds a NUL byte, expected text");
        return;
    }
    req.text = (char *)text;
    outlier_call(gw, token, &req, NULL, out);
}
