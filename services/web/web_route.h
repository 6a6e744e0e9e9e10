/* web_route.h - the server's routes: one table, the one place a path and a method find their
 * handler, and the list tests/services/web/test_web_openapi.c holds against openapi.yaml (every
 * route documented, every documented path served).
 *
 * Patterns are literal segments and parameters in braces ("/api/v1/audits/{audit}/rows"); a
 * parameter matches one non-empty segment, checked by its handler. Everything not under /api/ is
 * a file of the releases folder (web_static.h). Pure. */
#ifndef NCAP_WEB_ROUTE_H
#define NCAP_WEB_ROUTE_H

#include <stddef.h>

typedef enum {
    ROUTE_AUDITS,        /* GET /api/v1/audits */
    ROUTE_AUDIT,         /* GET /api/v1/audits/{audit} */
    ROUTE_METRICS,       /* GET /api/v1/audits/{audit}/metrics */
    ROUTE_RELEASES,      /* GET /api/v1/audits/{audit}/releases */
    ROUTE_ROWS,          /* GET /api/v1/audits/{audit}/rows */
    ROUTE_SUBMIT,        /* POST /api/v1/submissions (trusts) */
    ROUTE_FEEDBACK,      /* GET /api/v1/submissions/{id}/feedback (trusts) */
    ROUTE_RESULTS,       /* GET /api/v1/results (trusts) */
    ROUTE_OUTLIERS,      /* GET /api/v1/outliers (trusts) */
    ROUTE_OUTLIER_CASE,  /* GET /api/v1/outliers/{id} (trusts) */
    ROUTE_OUTLIER_REPLY, /* POST /api/v1/outliers/{id}/response (trusts) */
    ROUTE_HEALTH,        /* GET /api/v1/health */
    ROUTE_NONE,
} web_route_id_t;

typedef struct {
    web_route_id_t id;
    const char *method; /* GET routes also answer HEAD */
    const char *pattern;
    unsigned query; /* the web_query.h parameters it takes */
    int trust;      /* a trusts' route: bearer token, client certificate when configured */
} web_route_t;

extern const web_route_t web_routes[];
extern const size_t web_n_routes;

#define WEB_ROUTE_PARAM_MAX 96

typedef struct {
    const web_route_t *route; /* NULL: no route (see allow) */
    char param[WEB_ROUTE_PARAM_MAX +
               1];  /* the one {parameter}'s raw text, when the pattern has one */
    char allow[64]; /* when the path matches but not the method: "GET, HEAD" or "POST" */
} web_route_match_t;

/* Finds the route of method and path (raw, as received). Returns 0 with m->route, or -1 with
 * m->route NULL: m->allow non-empty when the path is a route's under another method (405), empty
 * when no route has the path (404). */
int web_route_find(const char *method, const char *path, web_route_match_t *m);

#endif
