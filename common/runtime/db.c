/* db.c - thin helpers over libpq */
#include "db.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fnv1a.h"
#include "metrics.h"
#include "pg_password.h"

#define DB_STR_(x) #x
#define DB_STR(x) DB_STR_(x)

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

/* Statements prepared on each connection, so that PostgreSQL parses, analyses and plans a
 * stage's statement once per session rather than at every batch (about 6% of the backends' CPU
 * in tests/bench/pipeline.sh: the stages' statements are long texts over unnest() run a few
 * hundred times a run). A statement is prepared the second time its text is run with parameters
 * on a connection (a text made once, with values written into it, is never prepared) and only
 * when it is a query or a data-modifying statement (PREPARE's kinds: never a DECLARE or a
 * COPY); its plan is then PostgreSQL's to cache (plan_cache_mode). A connection is known by its
 * PGconn and its backend's process id (a reconnect, or a PGconn's memory reused, is another
 * session, whose statements are not there). Protocol-level prepared statements outlive a
 * transaction that rolls back. At most DB_PREPARED_MAX texts are remembered per thread; past
 * that, the one used least recently is forgotten (a statement of a live session then stays
 * prepared on the server, unused: a handful at most, as a stage runs far fewer texts). */
#define DB_PREPARED_MAX 256

typedef struct {
    const PGconn *conn;
    int pid;
    uint64_t hash;
    char *sql;              /* NULL: a free slot */
    unsigned long last_use; /* when last run (use's count) */
    bool prepared;
    unsigned id; /* its name: ncap_<id> */
} db_prepared_t;

/* each thread's slots (DB_PREPARED_MAX), freed as the thread ends (prepared_key's destructor) */
static _Thread_local db_prepared_t *prepared_stmts;
static _Thread_local unsigned long prepared_uses;
static _Thread_local unsigned prepared_ids;
static pthread_key_t prepared_key;
static pthread_once_t prepared_once = PTHREAD_ONCE_INIT;
static bool prepared_key_made;

static void prepared_free(void *slots)
{
    db_prepared_t *e = slots;
    for (size_t i = 0; i < DB_PREPARED_MAX; i++)
        free(e[i].sql);
    free(e);
}

static void prepared_key_make(void)
{
    prepared_key_made = pthread_key_create(&prepared_key, prepared_free) == 0;
}

/* This thread's slots, made on first use; NULL when out of memory. */
static db_prepared_t *prepared_slots(void)
{
    if (prepared_stmts)
        return prepared_stmts;
    pthread_once(&prepared_once, prepared_key_make);
    db_prepared_t *slots = prepared_key_made ? calloc(DB_PREPARED_MAX, sizeof *slots) : NULL;
    if (slots && pthread_setspecific(prepared_key, slots) != 0) {
        free(slots);
        slots = NULL;
    }
    return prepared_stmts = slots;
}

/* Whether sql is of a kind PREPARE takes (its first word, case-insensitively). */
static bool preparable(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
        sql++;
    static const char *const kinds[] = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "VALUES"};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        size_t n = strlen(kinds[k]);
        if (strncasecmp(sql, kinds[k], n) == 0 && !isalnum((unsigned char)sql[n]))
            return true;
    }
    return false;
}

/* The slot of sql on db, found or taken (the least recently used one when all are), or NULL when
 * sql is not to be prepared; *fresh whether it was taken now. */
static db_prepared_t *prepared_slot(PGconn *db, const char *sql, bool *fresh)
{
    *fresh = false;
    db_prepared_t *slots = preparable(sql) ? prepared_slots() : NULL;
    if (!slots)
        return NULL;
    int pid = PQbackendPID(db);
    uint64_t h = fnv1a64(sql);
    db_prepared_t *lru = &slots[0];
    for (size_t i = 0; i < DB_PREPARED_MAX; i++) {
        db_prepared_t *e = &slots[i];
        if (e->sql && e->hash == h && e->conn == db && e->pid == pid && strcmp(e->sql, sql) == 0) {
            e->last_use = ++prepared_uses;
            return e;
        }
        if (!e->sql ? lru->sql != NULL : lru->sql && e->last_use < lru->last_use)
            lru = e;
    }
    char *copy = strdup(sql);
    if (!copy)
        return NULL;
    free(lru->sql);
    *lru = (db_prepared_t){.conn = db,
                           .pid = pid,
                           .hash = h,
                           .sql = copy,
                           .last_use = ++prepared_uses,
                           .id = ++prepared_ids};
    *fresh = true;
    return lru;
}

/* Runs sql on db: prepared when it has run there before (prepared_slot), else as it is. */
static PGresult *run_params(PGconn *db, const char *sql, int nparams, const char *const *params)
{
    bool fresh;
    db_prepared_t *e = nparams > 0 ? prepared_slot(db, sql, &fresh) : NULL;
    if (!e || fresh)
        return PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
    char name[32];
    snprintf(name, sizeof name, "ncap_%u", e->id);
    if (!e->prepared) {
        PGresult *p = PQprepare(db, name, sql, nparams, NULL);
        bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
        PQclear(p);
        if (!ok) /* in a failed transaction, say: run as it is, for the server's own error */
            return PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
        e->prepared = true;
    }
    return PQexecPrepared(db, name, nparams, params, NULL, NULL, 0);
}

PGresult *db_query(PGconn *db, const char *sql, int nparams, const char *const *params, char *err,
                   size_t errlen)
{
    PGresult *r = run_params(db, sql, nparams, params);
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

int db_each_row(PGconn *db, const char *sql, int nparams, const char *const *params,
                int (*row)(void *ctx, const PGresult *r, int i), void *ctx, char *err,
                size_t errlen)
{
    static const char prefix[] = "DECLARE ncap_rows NO SCROLL CURSOR FOR ";
    size_t len = strlen(sql);
    char *decl = malloc(sizeof prefix + len);
    if (!decl) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(decl, prefix, sizeof prefix - 1);
    memcpy(decl + sizeof prefix - 1, sql, len + 1);
    int rc = db_execp(db, decl, nparams, params, err, errlen);
    free(decl);
    if (rc != 0)
        return -1;
    if (errlen > 0)
        err[0] = '\0';
    for (;;) {
        PGresult *r = db_query(db, "FETCH " DB_STR(DB_ROWS_PER_FETCH) " FROM ncap_rows", 0, NULL,
                               err, errlen);
        if (!r)
            return -1;
        int rows = PQntuples(r);
        rc = 0;
        for (int i = 0; rc == 0 && i < rows; i++)
            rc = row(ctx, r, i);
        PQclear(r);
        if (rc > 0)
            return db_exec(db, "CLOSE ncap_rows", err, errlen) == 0 ? 1 : -1;
        if (rc != 0) {
            if (errlen > 0 && !err[0])
                snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (rows < DB_ROWS_PER_FETCH)
            break;
    }
    return db_exec(db, "CLOSE ncap_rows", err, errlen);
}
