/* request_gate.c - whether ingest takes a trust's request, before PostgreSQL */
#include "request_gate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ods_code.h"
#include "utf8.h"

/* Checks 2 and 3, for submissions and feedback alike: 0, or -1 with the refusal in msg. */
static int check_trust(const char *stated, const char *trust, char *msg, size_t msglen)
{
    if (!trust) {
        snprintf(msg, msglen,
                 "request refused: this connection is not authenticated as trust \"%.20s\"",
                 stated);
        return -1;
    }
    if (ods_code_kind(trust) != ODS_CODE_TRUST) { /* a site code (5 characters) is no trust */
        snprintf(msg, msglen, "request refused: trust \"%.20s\" is not an ODS trust code", trust);
        return -1;
    }
    return 0;
}

/* The definition of audit, or NULL with the client's message in out->msg and, for a definition
 * that does not load, the loader's in out->audit_error. An audit that is not there says so; one
 * that does not load tells the client only that the audit cannot be taken now (no path or line
 * of the server). */
static const audit_def_t *gate_audit(request_gate_t *gate, const char *audit,
                                     request_gate_answer_t *out)
{
    char err[sizeof out->audit_error];
    const audit_def_t *def = audit_cache_get(gate->audits, audit, err, sizeof err);
    if (def)
        return def;
    if (strncmp(err, "unknown audit", 13) == 0) {
        snprintf(out->msg, sizeof out->msg, "%s", err);
        return NULL;
    }
    snprintf(out->audit_error, sizeof out->audit_error, "%s", err);
    out->status = 503;
    snprintf(out->msg, sizeof out->msg,
             "audit \"%.40s\" cannot take submissions now: its definition on this ingest does not "
             "load (the operators can see why in its log); send the file again later",
             audit);
    return NULL;
}

/* Checks 1-7: 0, or -1 with the refusal in out. */
static int check_request(request_gate_t *gate, const Ncap__V1__SubmitRequest *req,
                         const char *trust, size_t client_len, long long now_ms,
                         request_gate_answer_t *out)
{
    if (!req->client_token[0] || strlen(req->client_token) >= sizeof out->done.token ||
        strlen(req->audit) >= sizeof out->done.audit) {
        out->token = "";
        snprintf(out->msg, sizeof out->msg,
                 "request refused: missing or over-long client token or audit");
        return -1;
    }
    if (check_trust(req->trust, trust, out->msg, sizeof out->msg) != 0)
        return -1;
    if (gate->stopping) {
        out->status = 503;
        snprintf(out->msg, sizeof out->msg, "%s", REQUEST_GATE_STOPPING);
        return -1;
    }
    if (client_len > UPLOAD_CLIENT_MAX) {
        snprintf(out->msg, sizeof out->msg,
                 "request refused: the connection's routing id is longer than %d bytes",
                 UPLOAD_CLIENT_MAX);
        return -1;
    }
    if (req->seq != 0)
        return 0;
    if (!gate_audit(gate, req->audit, out))
        return -1;
    long long wait_ms = trust_rate_take(gate->rate, trust, now_ms);
    if (wait_ms > 0) {
        out->status = 429;
        snprintf(out->msg, sizeof out->msg,
                 "too many submissions from trust %s: %u in the last %u s, the most one trust "
                 "may begin; retry after %lld s",
                 trust, trust_rate_limit(gate->rate), trust_rate_window(gate->rate),
                 (wait_ms + 999) / 1000);
        return -1;
    }
    return 0;
}

request_gate_status_t request_gate_submit(request_gate_t *gate, const Ncap__V1__SubmitRequest *req,
                                          const char *trust, const void *client, size_t client_len,
                                          long long now_ms, request_gate_answer_t *out)
{
    assert(gate);
    assert(req && out);
    out->token = req->client_token;
    out->progress = 0;
    out->def = NULL;
    out->done.data = NULL;
    out->msg[0] = out->audit_error[0] = '\0';
    out->status = 0;
    if (check_request(gate, req, trust, client_len, now_ms, out) != 0)
        return REQUEST_GATE_REFUSED;
    upload_chunk_t chunk = {
        req->client_token, req->audit,      trust,          req->filename, req->seq,
        req->last,         req->chunk.data, req->chunk.len, client,        client_len};
    switch (uploads_add(gate->uploads, &chunk, now_ms, &out->progress, &out->done, out->msg,
                        sizeof out->msg)) {
    case UPLOAD_REFUSED:
        return REQUEST_GATE_REFUSED;
    case UPLOAD_MORE:
        return REQUEST_GATE_MORE;
    case UPLOAD_COMPLETE:
        break;
    }
    if (!(out->def = gate_audit(gate, out->done.audit, out))) {
        free(out->done.data);
        out->done.data = NULL;
        return REQUEST_GATE_REFUSED;
    }
    return REQUEST_GATE_COMPLETE;
}

request_gate_feedback_t request_gate_feedback(const Ncap__V1__FeedbackRequest *req,
                                              const char *trust, char *msg, size_t msglen)
{
    assert(req && msg);
    if (check_trust(req->trust, trust, msg, msglen) != 0)
        return REQUEST_GATE_FEEDBACK_REFUSED;
    snprintf(msg, msglen, "no submission %lld for trust %s", (long long)req->submission_id, trust);
    return req->submission_id > 0 ? REQUEST_GATE_FEEDBACK_READ : REQUEST_GATE_FEEDBACK_NOT_FOUND;
}

/* An audit's short name as definitions spell it (audit_def.h): 1-39 of a-z, 0-9, _. */
static bool audit_name_ok(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n >= 40)
        return false;
    for (const char *c = a; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

/* "" or YYYYQn. */
static bool period_ok(const char *p)
{
    if (!*p)
        return true;
    if (strlen(p) != 6 || p[4] != 'Q' || p[5] < '1' || p[5] > '4')
        return false;
    for (int i = 0; i < 4; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

request_gate_results_t request_gate_results(const Ncap__V1__ResultsRequest *req, const char *trust,
                                            char *msg, size_t msglen)
{
    assert(req && msg);
    if (check_trust(req->trust, trust, msg, msglen) != 0)
        return REQUEST_GATE_RESULTS_REFUSED;
    if (!audit_name_ok(req->audit)) {
        snprintf(msg, msglen,
                 "request refused: audit \"%.40s\" is not an audit's name (1-39 of a-z, 0-9, _)",
                 req->audit);
        return REQUEST_GATE_RESULTS_REFUSED;
    }
    if (!period_ok(req->period)) {
        snprintf(msg, msglen, "request refused: period \"%.20s\" is not a quarter such as 2025Q3",
                 req->period);
        return REQUEST_GATE_RESULTS_REFUSED;
    }
    if (req->after &&
        (strlen(req->after->metric_id) >= 256 || strlen(req->after->local_id) >= 256)) {
        snprintf(msg, msglen, "request refused: a cursor id longer than 255 bytes");
        return REQUEST_GATE_RESULTS_REFUSED;
    }
    if (req->period[0])
        snprintf(msg, msglen, "no results for trust %s in audit %s, period %s", trust, req->audit,
                 req->period);
    else
        snprintf(msg, msglen, "no results for trust %s in audit %s", trust, req->audit);
    return REQUEST_GATE_RESULTS_READ;
}

request_gate_feedback_t request_gate_outlier(const Ncap__V1__OutlierRequest *req, const char *trust,
                                             char *msg, size_t msglen)
{
    assert(req && msg);
    if (check_trust(req->trust, trust, msg, msglen) != 0)
        return REQUEST_GATE_FEEDBACK_REFUSED;
    if (req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__LIST)
        return REQUEST_GATE_FEEDBACK_READ;
    if (req->action != NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW &&
        req->action != NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND) {
        snprintf(msg, msglen,
                 "request refused: unknown outlier action %d, expected list (0), "
                 "show (1) or respond (2)",
                 (int)req->action);
        return REQUEST_GATE_FEEDBACK_REFUSED;
    }
    size_t len = req->text ? strlen(req->text) : 0;
    if (req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND &&
        (len == 0 || len > REQUEST_GATE_OUTLIER_TEXT_MAX)) {
        snprintf(msg, msglen, "request refused: the response has %zu bytes, expected 1 to %d", len,
                 REQUEST_GATE_OUTLIER_TEXT_MAX);
        return REQUEST_GATE_FEEDBACK_REFUSED;
    }
    size_t bad =
        req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND ? utf8_invalid_at(req->text) : 0;
    if (bad != 0) {
        snprintf(msg, msglen,
                 "request refused: the response is not UTF-8 text (byte %zu), expected text", bad);
        return REQUEST_GATE_FEEDBACK_REFUSED;
    }
    snprintf(msg, msglen, "no outlier case %lld for trust %s", (long long)req->case_id, trust);
    return req->case_id > 0 ? REQUEST_GATE_FEEDBACK_READ : REQUEST_GATE_FEEDBACK_NOT_FOUND;
}
