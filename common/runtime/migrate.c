/* migrate.c - apply embedded migrations once, under an advisory lock */
#include "migrate.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

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
