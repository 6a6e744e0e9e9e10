/* db.c - thin helpers over libpq */
#include "db.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "pg_password.h"

const char *db_conninfo(const char *explicit_conninfo)
{
    if (explicit_conninfo && *explicit_conninfo)
        return explicit_conninfo;
    const char *env = getenv("NCAP_PG");
    return env ? env : "";
}

static void copy_error(const char *msg, char *err, size_t errlen)
{
    if (!err || errlen == 0)
        return;
    snprintf(err, errlen, "%s", msg ? msg : "unknown error");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

/* The SQLSTATE of the last failure on this thread: kept beside the message so that a caller can
 * tell "retry" from "this record is bad" (db_retryable) without parsing text. */
static _Thread_local char last_sqlstate[6];

/* The SQLSTATE of a failed result, "" when there is none (a lost connection). */
static const char *failure_sqlstate(const PGresult *r)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

static void note_failure(const PGresult *r)
{
    snprintf(last_sqlstate, sizeof last_sqlstate, "%s", failure_sqlstate(r));
    metrics_db_error(metrics_installed(), last_sqlstate);
}

const char *db_last_sqlstate(void)
{
    return last_sqlstate;
}

bool db_retryable(PGconn *db, const char *sqlstate)
{
    if (!db_alive(db) || !sqlstate || !*sqlstate)
        return true; /* lost connection, or no answer from the server at all */
    return strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
           strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P", 3) == 0 ||
           strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "53300") == 0;
}

bool db_data_error(const char *sqlstate)
{
    return sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0);
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *db_connect(const char *conninfo, const char *application, char *err, size_t errlen)
{
    /* The password, when there is one, from its file; after the conninfo, so it wins. */
    char password[PG_PASSWORD_MAX] = "";
    const char *pwfile = getenv("NCAP_PG_PASSWORD_FILE");
    if (pwfile && *pwfile) {
        char msg[1024];
        if (pg_password_read(pwfile, password, msg, sizeof msg) != 0) {
            char full[1200];
            snprintf(full, sizeof full, "%s ($NCAP_PG_PASSWORD_FILE)", msg);
            copy_error(full, err, errlen);
            return NULL;
        }
    }
    const char *keys[] = {"dbname", "application_name", "client_encoding", "password", NULL};
    const char *vals[] = {db_conninfo(conninfo), application, "UTF8", password, NULL};
    if (!password[0])
        keys[3] = NULL;
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    explicit_bzero(password, sizeof password);
    if (!db) {
        copy_error("out of memory", err, errlen);
        return NULL;
    }
    if (PQstatus(db) != CONNECTION_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "could not connect to PostgreSQL: %s", PQerrorMessage(db));
        copy_error(msg, err, errlen);
        PQfinish(db);
        return NULL;
    }
    /* Server notices ("relation already exists, skipping") are not errors and would break the
     * one-JSON-object-per-line log. */
    PQsetNoticeProcessor(db, ignore_notice, NULL);
    /* No JIT: the stages' statements are short set-wise ones over unnest() whose estimated cost
     * passes jit_above_cost, and compiling them with LLVM took longer than running them (a fifth
     * of linkage's backend time in tests/bench/pipeline.sh). */
    PGresult *r =
        PQexec(db, "SET synchronous_commit = on; SET lock_timeout = '30s'; SET jit = off");
    PQclear(r);
    return db;
}

int db_exec(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        note_failure(r);
        copy_error(PQerrorMessage(db), err, errlen);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

PGresult *db_query(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
                   size_t errlen)
{
    PGresult *r = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        note_failure(r);
        copy_error(PQerrorMessage(db), err, errlen);
        PQclear(r);
        return NULL;
    }
    return r;
}

int db_execp(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
             size_t errlen)
{
    PGresult *r = db_query(db, sql, nparams, params, err, errlen);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int db_alive(PGconn *db)
{
    return db && PQstatus(db) == CONNECTION_OK;
}

int db_copy_begin(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(db, sql);
    int rc = PQresultStatus(r) == PGRES_COPY_IN ? 0 : -1;
    if (rc != 0) {
        snprintf(err, errlen, "could not start COPY: %s", PQerrorMessage(db));
        metrics_db_error(metrics_installed(), failure_sqlstate(r));
    }
    PQclear(r);
    return rc;
}

int db_copy_put(PGconn *db, const char *data, size_t len)
{
    return len <= (size_t)INT32_MAX && PQputCopyData(db, data, (int)len) == 1 ? 0 : -1;
}

int db_copy_end(PGconn *db, int ok, char *err, size_t errlen)
{
    int rc = PQputCopyEnd(db, ok ? NULL : "aborted") == 1 && ok ? 0 : -1;
    PGresult *r = PQgetResult(db);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "could not copy the rows: %s", PQerrorMessage(db));
        metrics_db_error(metrics_installed(), failure_sqlstate(r));
        rc = -1;
    } else if (rc != 0) {
        snprintf(err, errlen, "could not send the rows: %s", PQerrorMessage(db));
    }
    PQclear(r);
    while ((r = PQgetResult(db)) != NULL)
        PQclear(r);
    return rc;
}
