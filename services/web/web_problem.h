/* web_problem.h - RFC 9457 problem details (application/problem+json), the body of every error
 * ncap-webd answers: {"type", "title", "status", "detail", "instance"}.
 *
 * type is "urn:ncap:problem:<slug>", one slug per kind of problem (web_problem_slug), so a client
 * can tell "your query is malformed" from "the database is down" without reading the detail;
 * title is the status's reason phrase; detail says what was found and what was expected;
 * instance is the request's path (never its query: a token or a value a client sent is not
 * echoed back). Pure: no sockets. */
#ifndef NCAP_WEB_PROBLEM_H
#define NCAP_WEB_PROBLEM_H

#include <stddef.h>

#include "strbuf.h"

#define WEB_PROBLEM_TYPE "application/problem+json"

/* The reason phrase of an HTTP status ("Not Found"); "Error" for one not listed. */
const char *web_status_title(int status);
/* The slug of a status's problem type: "bad-request", "not-found", "method-not-allowed", ...;
 * "error" for one not listed. A caller with a more specific kind passes its own slug. */
const char *web_problem_slug(int status);

/* Appends the problem document to out. slug NULL: web_problem_slug(status). detail and instance
 * may be NULL (left out). Returns 0, or -1 when out ran out of memory. */
int web_problem_json(strbuf_t *out, int status, const char *slug, const char *detail,
                     const char *instance);

#endif
