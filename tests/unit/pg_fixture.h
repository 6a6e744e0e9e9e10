/* pg_fixture.h - a fresh, migrated database on the test cluster ($NCAP_TEST_PG) for tests of
 * SQL. Without NCAP_TEST_PG the tests skip, or fail in CI (test_skip.h). Include after
 * <cmocka.h>. */
#ifndef NCAP_TEST_PG_FIXTURE_H
#define NCAP_TEST_PG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "pg_test_db.h"
#include "test_skip.h"

/* Drops and creates database name, applies the migrations, and returns a connection to it as the
 * cluster's superuser. When NCAP_TEST_PG is unset the test is skipped (failed in CI), and on
 * trouble it fails; in neither case does it return. Call it from a test, not a group setup
 * (there a skip fails the group: ask ncap_test_has_pg first). */
static inline PGconn *pg_fixture_open(const char *name)
{
    ncap_require_pg();
    char err[2048], conninfo[1024];
    if (pg_test_db_create_migrated(name, conninfo, sizeof conninfo) != 0)
        fail_msg("could not create and migrate test database \"%s\"", name);
    PGconn *db = db_connect(conninfo, name, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    return db;
}

/* Runs sql, failing the test with the server's message. */
static inline void pg_fixture_exec(PGconn *db, const char *sql)
{
    char err[2048];
    if (db_exec(db, sql, err, sizeof err) != 0)
        fail_msg("%s\nin: %s", err, sql);
}

#endif
