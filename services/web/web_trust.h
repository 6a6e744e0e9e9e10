/* web_trust.h - the trusts' routes (POST /api/v1/submissions, GET
 * /api/v1/submissions/{id}/feedback, /api/v1/results, /api/v1/outliers, /api/v1/outliers/{id},
 * POST /api/v1/outliers/{id}/response), handed to the gateway
 * into ingest (gateway/trust_gateway.h) after the checks that need no one's secret:
 *   - with --tls-client-ca, a client certificate verified against it, else 403;
 *   - an Authorization header "Bearer <token>" (token: 1-256 of A-Z a-z 0-9 - . _ ~ + / =),
 *     else 401 with WWW-Authenticate: Bearer;
 *   - a submission's Content-Type text/csv, a case's response's text/plain (else 415); a
 *     submission's audit and trust in the query, a results request's audit (400); an id in the
 *     path a number (400).
 * Whether the token is a trust's, and that trust's, is ingest's to say (the gateway holds no
 * token); the gateway's answer (JSON or problem+json) is passed on as it is. Without a gateway
 * (no --ingest and no ingest to find) every trusts' route answers 503. */
#ifndef NCAP_WEB_TRUST_H
#define NCAP_WEB_TRUST_H

#include <stdbool.h>

#include "trust_gateway.h"
#include "web_reply.h"
#include "web_route.h"

/* The checks of a trusts' route that need no body and no secret (above), made before a body is
 * read: false when rep holds the refusal, true when the request may go on. */
bool web_trust_precheck(trust_gateway *gw, bool require_client_cert, const web_route_t *route,
                        const char *param, const web_request_t *req, const web_query_t *q,
                        web_reply_t *rep);

/* Answers a trusts' route (web_trust_precheck first); gw NULL: 503 "trust gateway not
 * configured". */
void web_trust_answer(trust_gateway *gw, bool require_client_cert, const web_route_t *route,
                      const char *param, const web_request_t *req, const web_query_t *q,
                      web_reply_t *rep);

/* The token of an Authorization header "Bearer <token>" into out; -1 when there is none or it
 * is malformed (err says which). */
int web_trust_bearer(const char *authorization, char *out, size_t outlen, char *err, size_t errlen);

#endif
