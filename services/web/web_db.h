/* web_db.h - ncap-webd's connections to PostgreSQL, as role ncap_web (SELECT on publish's
 * releases only, migration 0027): a pool shared by the server's threads.
 *
 * A connection is made when a request needs one and none is idle, at most `size` at a time (a
 * request waits for one beyond); each is read-only with a statement timeout, so that no request
 * holds the database long. When PostgreSQL is down a query fails at once (connect timeout
 * WEB_DB_CONNECT_TIMEOUT_S at most) and the request is answered 503; the next request connects
 * again, so the server recovers with the database without a restart. */
#ifndef NCAP_WEB_DB_H
#define NCAP_WEB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define WEB_DB_CONNECT_TIMEOUT_S 3
#define WEB_DB_STATEMENT_TIMEOUT "10s"

typedef struct web_db_t web_db_t;

web_db_t *web_db_new(const char *conninfo, size_t size);
void web_db_destroy(web_db_t **self_p);

/* Runs one statement (parameters as text) on a pooled connection, again once on a new
 * connection when the one taken had been lost. Returns its result (PGRES_TUPLES_OK), or NULL with
 * *status 503 (PostgreSQL unreachable) or 500 (the statement failed) and err. */
PGresult *web_db_query(web_db_t *self, const char *sql, int nparams, const char *const *params,
                       int *status, char *err, size_t errlen);

/* Whether the last attempt to reach PostgreSQL succeeded (for /readyz). */
bool web_db_connected(web_db_t *self);

#endif
