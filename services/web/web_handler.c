/* web_handler.c - one request to its answer */
#include "web_handler.h"

#include <stdio.h>
#include <string.h>

#include "web_api.h"
#include "web_route.h"
#include "web_static.h"
#include "web_trust.h"

static void not_found(const web_request_t *req, web_reply_t *rep)
{
    web_reply_problem(rep, 404, NULL,
                      "no such API path: the read API is /api/v1/audits[/{audit}[/metrics|"
                      "/releases|/rows]], the trusts' /api/v1/submissions, /api/v1/results and "
                      "/api/v1/outliers (services/web/openapi.yaml)",
                      NULL);
    (void)req;
}

/* headers_only: stop before what needs the body (true returned when rep holds an answer). */
static bool api(const web_context_t *ctx, const web_request_t *req, web_reply_t *rep,
                bool headers_only)
{
    web_route_match_t m;
    if (web_route_find(req->method, req->path, &m) != 0) {
        if (m.allow[0]) {
            char detail[160];
            snprintf(detail, sizeof detail, "method %.16s not allowed here: this path takes %s",
                     req->method, m.allow);
            snprintf(rep->allow, sizeof rep->allow, "%s", m.allow);
            web_reply_problem(rep, 405, NULL, detail, NULL);
        } else {
            not_found(req, rep);
        }
        return true;
    }
    web_query_t q;
    char err[400];
    if (web_query_parse(req->query, req->n_query, m.route->query, &q, err, sizeof err) != 0) {
        web_reply_problem(rep, 400, "bad-query", err, NULL);
        return true;
    }
    if (m.route->trust && headers_only && strcmp(m.route->method, "POST") == 0)
        return !web_trust_precheck(ctx->gateway, ctx->require_client_cert, m.route, m.param, req,
                                   &q, rep);
    if (m.route->trust) {
        web_trust_answer(ctx->gateway, ctx->require_client_cert, m.route, m.param, req, &q, rep);
        return true;
    }
    web_format_t fmt;
    bool csv_ok = m.route->id != ROUTE_METRICS && m.route->id != ROUTE_HEALTH;
    if (web_query_format(&q, req->accept, csv_ok, &fmt, err, sizeof err) != 0) {
        web_reply_problem(rep, q.format_given ? 400 : 406, q.format_given ? "bad-query" : NULL, err,
                          NULL);
        return true;
    }
    if (!ctx->db) {
        web_reply_problem(rep, 503, "database-unavailable", "no database configured (--pg)", NULL);
        return true;
    }
    web_api_answer(ctx->db, m.route, m.param, req, &q, fmt, rep);
    return true;
}

static bool handle(const web_context_t *ctx, const web_request_t *req, web_reply_t *rep,
                   bool headers_only)
{
    rep->instance = req->path;
    if (strncmp(req->path, "/api/", 5) == 0 || strcmp(req->path, "/api") == 0)
        return api(ctx, req, rep, headers_only);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        char detail[160];
        snprintf(detail, sizeof detail,
                 "method %.16s not allowed: the portal and the release files are read-only "
                 "(GET, HEAD)",
                 req->method);
        snprintf(rep->allow, sizeof rep->allow, "GET, HEAD");
        web_reply_problem(rep, 405, NULL, detail, NULL);
        return true;
    }
    web_static_serve(ctx->releases_fd, req, rep);
    return true;
}

bool web_handle_headers(const web_context_t *ctx, const web_request_t *req, web_reply_t *rep)
{
    return handle(ctx, req, rep, true);
}

void web_handle(const web_context_t *ctx, const web_request_t *req, web_reply_t *rep)
{
    handle(ctx, req, rep, false);
}
