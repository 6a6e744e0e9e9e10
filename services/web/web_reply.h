/* web_reply.h - one request and its answer as plain values, between the HTTP library (web_server.c)
 * and the handlers (web_handler.c, web_static.c, web_api.c, web_trust.c), so that the handlers
 * are driven by tests without a socket. */
#ifndef NCAP_WEB_REPLY_H
#define NCAP_WEB_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"
#include "web_path.h"
#include "web_query.h"

typedef struct {
    const char *method;
    const char *path; /* raw, still percent-encoded, without the query */
    const web_kv_t *query;
    size_t n_query;
    const char *accept, *authorization, *content_type, *if_none_match;
    const char *body; /* a POST's body, read whole (at most --max-body bytes) */
    size_t body_len;
    bool client_cert_ok; /* a client certificate verified against --tls-client-ca */
} web_request_t;

typedef struct {
    int status;
    strbuf_t body;
    const char *content_type;
    int fd; /* >= 0: the body is this file's fd_size bytes (the reply owns the fd) */
    uint64_t fd_size;
    char etag[64], last_modified[40], location[WEB_PATH_MAX + 8], allow[64];
    char link[WEB_QUERY_VALUE_MAX * 8 + 128]; /* the next page: <URL>; rel="next" */
    const char *cache_control;
    bool html;             /* send the portal's Content-Security-Policy */
    bool www_authenticate; /* a 401: WWW-Authenticate: Bearer */
    const char *instance;  /* the request's path: a problem's instance unless one is given */
} web_reply_t;

void web_reply_init(web_reply_t *r);
void web_reply_free(web_reply_t *r);
/* Makes r a problem+json reply (web_problem.h): any body built so far is dropped. */
void web_reply_problem(web_reply_t *r, int status, const char *slug, const char *detail,
                       const char *instance);

#endif
