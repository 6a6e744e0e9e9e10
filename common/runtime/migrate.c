/* migrate.c - apply embedded migrations once, under an advisory lock */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_password.h"

/* Any constant will do; it only has to be the same in every ncap process. */
#define MIGRATE_LOCK_KEY "7412093000001"

int migrate_run(PGconn *db, int *applied, char *err, size_t errlen)
{
    char msg[1024];
    *applied = 0;
    if (db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not take the migration lock: %s", msg);
        return -1;
    }
    int rc = 0;
    if (db_exec(db,
                "CREATE TABLE IF NOT EXISTS public.ncap_schema_migration ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not create the migration table: %s", msg);
        rc = -1;
    }
    for (const ncap_migration_t *m = ncap_migrations; rc == 0 && m->name; m++) {
        const char *p[] = {m->name};
        PGresult *r = db_query(db, "SELECT 1 FROM public.ncap_schema_migration WHERE name = $1", 1,
                               p, msg, sizeof msg);
        if (!r) {
            snprintf(err, errlen, "could not read applied migrations: %s", msg);
            rc = -1;
            break;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done)
            continue;
        if (db_exec(db, "BEGIN", msg, sizeof msg) != 0 ||
            db_exec(db, m->sql, msg, sizeof msg) != 0 ||
            db_execp(db, "INSERT INTO public.ncap_schema_migration (name) VALUES ($1)", 1, p, msg,
                     sizeof msg) != 0 ||
            db_exec(db, "COMMIT", msg, sizeof msg) != 0) {
            snprintf(err, errlen, "migration %s failed: %s", m->name, msg);
            db_exec(db, "ROLLBACK", NULL, 0);
            rc = -1;
            break;
        }
        (*applied)++;
    }
    db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, 0);
    return rc;
}

const char *const migrate_daemon_roles[] = {"ncap_ingest", "ncap_linkage", "ncap_validation",
                                            "ncap_metric", "ncap_publish", "ncap_web", NULL};
#define N_DAEMON_ROLES 6

/* The statement that sets role's password to the one in dir/role, carrying its SCRAM verifier;
 * NULL with err on failure. The caller frees it. */
static char *alter_role_sql(PGconn *db, const char *dir, const char *role, char *err, size_t errlen)
{
    char path[4096], password[PG_PASSWORD_MAX], msg[1024];
    snprintf(path, sizeof path, "%s/%s", dir, role);
    if (pg_password_read(path, password, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "no password for role %s: %s", role, msg);
        return NULL;
    }
    char *verifier = PQencryptPasswordConn(db, password, role, "scram-sha-256");
    explicit_bzero(password, sizeof password);
    char *ident = PQescapeIdentifier(db, role, strlen(role));
    char *lit = verifier ? PQescapeLiteral(db, verifier, strlen(verifier)) : NULL;
    char *sql = NULL;
    if (ident && lit) {
        size_t len = strlen(ident) + strlen(lit) + sizeof "ALTER ROLE  PASSWORD ";
        if ((sql = malloc(len)))
            snprintf(sql, len, "ALTER ROLE %s PASSWORD %s", ident, lit);
    }
    if (!sql)
        snprintf(err, errlen, "could not make the password verifier of role %s: %s", role,
                 PQerrorMessage(db));
    PQfreemem(verifier);
    PQfreemem(ident);
    PQfreemem(lit);
    return sql;
}

int migrate_set_passwords(PGconn *db, const char *dir, char *err, size_t errlen)
{
    char *sql[N_DAEMON_ROLES] = {NULL};
    int rc = 0;
    for (int i = 0; rc == 0 && i < N_DAEMON_ROLES; i++)
        if (!(sql[i] = alter_role_sql(db, dir, migrate_daemon_roles[i], err, errlen)))
            rc = -1;
    char msg[1024];
    if (rc == 0 && db_exec(db, "BEGIN", msg, sizeof msg) != 0) {
        snprintf(err, errlen, "could not set the passwords: %s", msg);
        rc = -1;
    } else if (rc == 0) {
        for (int i = 0; rc == 0 && i < N_DAEMON_ROLES; i++)
            if (db_exec(db, sql[i], msg, sizeof msg) != 0) {
                snprintf(err, errlen, "could not set the password of role %s: %s",
                         migrate_daemon_roles[i], msg);
                rc = -1;
            }
        if (rc == 0 && db_exec(db, "COMMIT", msg, sizeof msg) != 0) {
            snprintf(err, errlen, "could not set the passwords: %s", msg);
            rc = -1;
        }
        if (rc != 0)
            db_exec(db, "ROLLBACK", NULL, 0);
    }
    for (int i = 0; i < N_DAEMON_ROLES; i++)
        free(sql[i]);
    return rc;
}
