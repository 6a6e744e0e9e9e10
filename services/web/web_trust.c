/* web_trust.c - the trusts' routes, handed to the gateway into ingest */
#include "web_trust.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MAX 256

int web_trust_bearer(const char *authorization, char *out, size_t outlen, char *err, size_t errlen)
{
    if (!authorization || !*authorization) {
        snprintf(err, errlen,
                 "no Authorization header: expected \"Authorization: Bearer "
                 "<token>\" with the trust's token (ncap keys token --trust T)");
        return -1;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        snprintf(err, errlen, "Authorization is not a bearer token: expected \"Bearer <token>\"");
        return -1;
    }
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX || n >= outlen ||
        strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") != n) {
        snprintf(err, errlen,
                 "malformed bearer token: expected 1-%d characters of A-Z a-z 0-9 - . _ ~ + / =",
                 TOKEN_MAX);
        return -1;
    }
    memcpy(out, t, n + 1);
    return 0;
}

/* Whether the Content-Type ct is type (parameters such as charset aside). */
static bool is_type(const char *ct, const char *type)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, "; ");
    return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

static void pass_on(gateway_reply *g, web_reply_t *rep)
{
    rep->status = g->http_status ? g->http_status : 502;
    rep->content_type = g->content_type ? g->content_type : "application/json";
    rep->cache_control = "no-store";
    if (g->body)
        strbuf_append_n(&rep->body, g->body, g->body_len);
    gateway_reply_free(g);
}

bool web_trust_precheck(trust_gateway *gw, bool require_client_cert, const web_route_t *route,
                        const char *param, const web_request_t *req, const web_query_t *q,
                        web_reply_t *rep)
{
    char token[TOKEN_MAX + 1], err[256];
    if (!gw) {
        web_reply_problem(rep, 503, "gateway-not-configured",
                          "trust gateway not configured: this server was started without a way "
                          "into ingest (--keys, or --insecure-plain, and --ingest)",
                          NULL);
        return false;
    }
    if (require_client_cert && !req->client_cert_ok) {
        web_reply_problem(rep, 403, "client-certificate-required",
                          "a client certificate signed by the configured authority is required "
                          "for the trusts' API",
                          NULL);
        return false;
    }
    if (web_trust_bearer(req->authorization, token, sizeof token, err, sizeof err) != 0) {
        web_reply_problem(rep, 401, NULL, err, NULL);
        rep->www_authenticate = true;
        return false;
    }
    const char *want = route->id == ROUTE_SUBMIT          ? "text/csv"
                       : route->id == ROUTE_OUTLIER_REPLY ? "text/plain"
                                                          : NULL;
    if (want && !is_type(req->content_type, want)) {
        snprintf(err, sizeof err, "Content-Type \"%.60s\": expected %s (%s)",
                 req->content_type ? req->content_type : "(none)", want,
                 route->id == ROUTE_SUBMIT ? "the file" : "the response's text, UTF-8");
        web_reply_problem(rep, 415, NULL, err, NULL);
        return false;
    }
    if (strchr(route->pattern, '{') && !web_query_is_id(param)) {
        snprintf(err, sizeof err, "invalid %s id in the path: expected its number (%s)",
                 route->id == ROUTE_FEEDBACK ? "submission" : "case",
                 route->id == ROUTE_FEEDBACK ? "the submission_id of the receipt" : "case_id");
        web_reply_problem(rep, 400, "bad-path", err, NULL);
        return false;
    }
    if (route->id == ROUTE_SUBMIT && (!q->audit[0] || !q->trust[0])) {
        web_reply_problem(rep, 400, "bad-query",
                          "missing query parameter: expected ?audit=AUDIT&trust=ODS", NULL);
        return false;
    }
    if (route->id == ROUTE_RESULTS && !q->audit[0]) {
        web_reply_problem(rep, 400, "bad-query", "missing query parameter: expected ?audit=AUDIT",
                          NULL);
        return false;
    }
    return true;
}

void web_trust_answer(trust_gateway *gw, bool require_client_cert, const web_route_t *route,
                      const char *param, const web_request_t *req, const web_query_t *q,
                      web_reply_t *rep)
{
    char token[TOKEN_MAX + 1], err[256];
    if (!web_trust_precheck(gw, require_client_cert, route, param, req, q, rep) ||
        web_trust_bearer(req->authorization, token, sizeof token, err, sizeof err) != 0)
        return;
    gateway_reply g = {0};
    switch (route->id) {
    case ROUTE_SUBMIT:
        trust_gateway_submit(gw, token, q->audit, q->trust, req->body ? req->body : "",
                             req->body_len, &g);
        break;
    case ROUTE_FEEDBACK:
        trust_gateway_feedback(gw, token, param, &g);
        break;
    case ROUTE_RESULTS:
        trust_gateway_results(gw, token, q->audit, q->period, &g);
        break;
    case ROUTE_OUTLIERS:
        trust_gateway_outliers(gw, token, q->audit, &g);
        break;
    case ROUTE_OUTLIER_CASE:
        trust_gateway_outlier_case(gw, token, param, &g);
        break;
    case ROUTE_OUTLIER_REPLY:
        trust_gateway_outlier_respond(gw, token, param, req->body ? req->body : "", req->body_len,
                                      &g);
        break;
    default:
        web_reply_problem(rep, 500, NULL, "route without a trusts' handler", NULL);
        return;
    }
    pass_on(&g, rep);
}
