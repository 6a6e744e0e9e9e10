/* web_api.h - the read API, /api/v1/...: what publish has released, from its schema (as role
 * ncap_web), in JSON or CSV. Each answer is one SQL statement over publish.release,
 * publish.output and publish.release_file; a page of rows is at most `limit` rows read through
 * the primary key (release_id, ordinal) after the cursor, so no request reads more than one
 * release's rows (its filters are applied while walking the release: O(rows of the release)
 * in the worst case, a filter matching nothing).
 *
 * A release's rows are the rows of its latest.csv (and latest.json's "rows"), in the same order
 * and with the same text: the API's CSV of a whole release is latest.csv, byte for byte, every
 * column (publish.output keeps them all since migration 0031; a revision made before it answers
 * the columns expected ... withheld_opt_out empty). Without ?revision= a period's release is its
 * latest provisional revision, the one latest.csv holds; without ?period=, the audit's latest
 * period. */
#ifndef NCAP_WEB_API_H
#define NCAP_WEB_API_H

#include "web_db.h"
#include "web_reply.h"
#include "web_route.h"

/* Answers a read route (ROUTE_AUDITS ... ROUTE_ROWS, ROUTE_HEALTH) of a request whose query q
 * is checked, in format fmt; param is the route's {audit}. */
void web_api_answer(web_db_t *db, const web_route_t *route, const char *param,
                    const web_request_t *req, const web_query_t *q, web_format_t fmt,
                    web_reply_t *rep);

#endif
