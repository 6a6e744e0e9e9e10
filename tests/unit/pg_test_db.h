/* pg_test_db.h - a fresh database for a test that needs PostgreSQL ($NCAP_TEST_PG, the superuser
 * conninfo of a throwaway cluster; when it is unset the tests leave themselves out with
 * ncap_require_pg, test_skip.h). */
#ifndef NCAP_TEST_PG_TEST_DB_H
#define NCAP_TEST_PG_TEST_DB_H

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "migrate.h"

/* Drops and creates database name and writes its conninfo to conninfo. Returns 0 (conninfo "" when
 * $NCAP_TEST_PG is unset: ncap_require_pg then leaves the test out), or -1 with the reason on
 * stderr. */
static int pg_test_db_create(const char *name, char *conninfo, size_t len)
{
    conninfo[0] = '\0';
    const char *base = getenv("NCAP_TEST_PG");
    if (!base || !*base)
        return 0;
    char err[1024], sql[256];
    PGconn *db = db_connect(base, name, err, sizeof err);
    if (!db) {
        fprintf(stderr, "%s: %s\n", name, err);
        return -1;
    }
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    int rc = db_exec(db, sql, err, sizeof err);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    rc = rc != 0 ? rc : db_exec(db, sql, err, sizeof err);
    PQfinish(db);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        return -1;
    }
    snprintf(conninfo, len, "%s dbname=%s", base, name);
    return 0;
}

/* As pg_test_db_create, then applies the migrations to the new database. */
static inline int pg_test_db_create_migrated(const char *name, char *conninfo, size_t len)
{
    if (pg_test_db_create(name, conninfo, len) != 0)
        return -1;
    if (!conninfo[0])
        return 0;
    char err[1024];
    PGconn *db = db_connect(conninfo, name, err, sizeof err);
    int applied = 0;
    int rc = db ? migrate_run(db, &applied, err, sizeof err) : -1;
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", name, err);
    PQfinish(db);
    return rc;
}

#endif
