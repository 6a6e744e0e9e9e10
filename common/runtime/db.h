/* db.h - thin helpers over libpq that never drop an error */
#ifndef NCAP_DB_H
#define NCAP_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Connects with conninfo (NULL: $NCAP_PG, then libpq's defaults) naming the application, with
 * the password in the file $NCAP_PG_PASSWORD_FILE names when it is set (pg_password.h; it
 * overrides one in conninfo). Returns NULL with a message in err. */
PGconn *db_connect(const char *conninfo, const char *application, char *err, size_t errlen);
/* Runs a statement that returns no rows of interest. Returns 0 or -1 with the server's message. */
int db_exec(PGconn *db, const char *sql, char *err, size_t errlen);
/* Runs a parameterised statement (text parameters, NULL for SQL NULL). Returns the result when it
 * succeeded (caller PQclear()s it) or NULL with the message in err. A query or data-modifying
 * statement (SELECT, WITH, INSERT, UPDATE, DELETE, VALUES) whose text has run on db before is
 * run prepared (named ncap_<n>, prepared there once): write values into a text only when they
 * cannot be parameters. */
PGresult *db_query(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
                   size_t errlen);
/* The same, for a statement whose rows are not wanted. */
int db_execp(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
             size_t errlen);
/* The SQLSTATE (5 characters) of the last statement that failed through db_exec, db_query or
 * db_execp on this thread, or "" when the server gave none (a lost connection). */
const char *db_last_sqlstate(void);
/* True when a statement that failed with sqlstate is worth running again as it is, on db (after a
 * reconnect when db is dead): serialization failure 40001, deadlock 40P01, lock timeout 55P03,
 * too many connections 53300, connection exceptions 08xxx, operator intervention 57Pxx, or no
 * SQLSTATE at all. False for a failure the data causes (22xxx data exceptions, 23xxx integrity
 * violations, ...), which the same statement would meet again. */
bool db_retryable(PGconn *db, const char *sqlstate);
/* True when sqlstate says the statement failed for the data it was given: 22xxx data exceptions
 * (a value out of range, bad text) and 23xxx integrity constraint violations. Anything else (a
 * missing grant or table, resources, an internal error) is the deployment's trouble, not one
 * record's. */
bool db_data_error(const char *sqlstate);
/* True when the connection is still usable. */
int db_alive(PGconn *db);
/* The conninfo to use: explicit if given, else $NCAP_PG, else "" (libpq defaults). */
const char *db_conninfo(const char *explicit_conninfo);
/* Rows are read through db_each_row's cursor this many at a time: a caller holds one chunk of a
 * query's result at once, never the whole of it. */
#define DB_ROWS_PER_FETCH 8192
/* Runs sql (nparams params; a SELECT) through a cursor, inside the transaction db is in (a cursor
 * lives in one), and hands each row to row(ctx, result, i): 0 goes on, 1 stops (the cursor
 * closed, the rest not read), -1 fails (row may say why in err; else "out of memory"). Returns 0,
 * 1 when row stopped, or -1 with err (a statement failed, or row did). */
int db_each_row(PGconn *db, const char *sql, int nparams, const char *const *params,
                int (*row)(void *ctx, const PGresult *r, int i), void *ctx, char *err,
                size_t errlen);
/* COPY ... FROM STDIN in three steps: begin runs sql (0, or -1 with err); put sends len bytes of
 * COPY text (0 or -1); end finishes, or aborts when ok is 0, and returns 0 when the server took
 * every row, else -1 with the server's message in err. */
int db_copy_begin(PGconn *db, const char *sql, char *err, size_t errlen);
int db_copy_put(PGconn *db, const char *data, size_t len);
int db_copy_end(PGconn *db, int ok, char *err, size_t errlen);

#endif
