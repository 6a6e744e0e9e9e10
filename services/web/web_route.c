/* web_route.c - the server's routes */
#include "web_route.h"

#include <stdio.h>
#include <string.h>

#include "web_query.h"

#define READ_Q (WQ_FORMAT)
#define ROWS_Q                                                                                     \
    (WQ_PERIOD | WQ_REVISION | WQ_LEVEL | WQ_AREA | WQ_METRIC | WQ_BREAKDOWN | WQ_LIMIT | WQ_FORMAT)

const web_route_t web_routes[] = {
    {ROUTE_AUDITS, "GET", "/api/v1/audits", READ_Q, 0},
    {ROUTE_AUDIT, "GET", "/api/v1/audits/{audit}", READ_Q, 0},
    {ROUTE_METRICS, "GET", "/api/v1/audits/{audit}/metrics", WQ_PERIOD | WQ_REVISION | READ_Q, 0},
    {ROUTE_RELEASES, "GET", "/api/v1/audits/{audit}/releases", WQ_PERIOD | WQ_LIMIT | READ_Q, 0},
    {ROUTE_ROWS, "GET", "/api/v1/audits/{audit}/rows", ROWS_Q, 0},
    {ROUTE_SUBMIT, "POST", "/api/v1/submissions", WQ_AUDIT | WQ_TRUST, 1},
    {ROUTE_FEEDBACK, "GET", "/api/v1/submissions/{id}/feedback", 0, 1},
    {ROUTE_RESULTS, "GET", "/api/v1/results", WQ_AUDIT | WQ_PERIOD, 1},
    {ROUTE_OUTLIERS, "GET", "/api/v1/outliers", WQ_AUDIT, 1},
    {ROUTE_OUTLIER_CASE, "GET", "/api/v1/outliers/{id}", 0, 1},
    {ROUTE_OUTLIER_REPLY, "POST", "/api/v1/outliers/{id}/response", 0, 1},
    {ROUTE_HEALTH, "GET", "/api/v1/health", 0, 0},
};
const size_t web_n_routes = sizeof web_routes / sizeof *web_routes;

/* Whether path matches pattern; the {parameter}'s text into param. */
static int matches(const char *pattern, const char *path, char *param, size_t paramlen)
{
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            if (!pe)
                return 0;
            if (!se)
                se = s + strlen(s);
            size_t n = (size_t)(se - s);
            if (n == 0 || n >= paramlen)
                return 0;
            memcpy(param, s, n);
            param[n] = '\0';
            p = pe + 1;
            s = se;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *p == '\0' && *s == '\0';
}

static int method_ok(const web_route_t *r, const char *method)
{
    return strcmp(r->method, method) == 0 ||
           (strcmp(r->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

int web_route_find(const char *method, const char *path, web_route_match_t *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < web_n_routes; i++) {
        char param[WEB_ROUTE_PARAM_MAX + 1] = "";
        if (!matches(web_routes[i].pattern, path, param, sizeof param))
            continue;
        if (method_ok(&web_routes[i], method)) {
            m->route = &web_routes[i];
            snprintf(m->param, sizeof m->param, "%s", param);
            m->allow[0] = '\0';
            return 0;
        }
        size_t n = strlen(m->allow);
        snprintf(m->allow + n, sizeof m->allow - n, "%s%s", n ? ", " : "",
                 strcmp(web_routes[i].method, "GET") == 0 ? "GET, HEAD" : web_routes[i].method);
    }
    return -1;
}
