/* web_handler.h - one request to its answer: /api/ to its route (web_route.h) with its query
 * checked (web_query.h) and its representation chosen, anything else to the releases folder
 * (web_static.h). Every refusal is a problem+json with the status that says what is wrong (400
 * malformed, 404, 405 with Allow, 406, 415, 401/403, 503). No sockets: web_server.c feeds it. */
#ifndef NCAP_WEB_HANDLER_H
#define NCAP_WEB_HANDLER_H

#include <stdbool.h>

#include "trust_gateway.h"
#include "web_db.h"
#include "web_reply.h"

typedef struct {
    int releases_fd;          /* the releases folder, opened once */
    web_db_t *db;             /* NULL: the read API answers 503 */
    trust_gateway *gateway;   /* NULL: the trusts' routes answer 503 */
    bool require_client_cert; /* --tls-client-ca given: the trusts' routes need a certificate */
} web_context_t;

/* Answers req from its request line and headers, or says the body is needed first: a
 * submission that passed every check a body is not needed for (web_trust_precheck). Returns
 * true when rep holds the answer, false when the caller is to read the body (at most --max-body
 * bytes) and call web_handle. */
bool web_handle_headers(const web_context_t *ctx, const web_request_t *req, web_reply_t *rep);

/* Answers req (with its body, when it has one). */
void web_handle(const web_context_t *ctx, const web_request_t *req, web_reply_t *rep);

#endif
