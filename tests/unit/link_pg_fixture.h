/* link_pg_fixture.h - a fresh, migrated database on $NCAP_TEST_PG for the linkage tests that
 * need PostgreSQL (when it is unset they leave themselves out with ncap_require_pg, test_skip.h);
 * statements run through pg_fixture_exec (pg_fixture.h). Include after <cmocka.h>. */
#ifndef NCAP_TEST_LINK_PG_FIXTURE_H
#define NCAP_TEST_LINK_PG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "pg_fixture.h"
#include "pg_test_db.h"

/* Creates database dbname (dropping one left behind), migrates it, and writes its conninfo into
 * conninfo. Returns 0 (conninfo "" when $NCAP_TEST_PG is unset), or -1. */
static inline int link_pg_create(const char *dbname, char *conninfo, size_t len)
{
    return pg_test_db_create_migrated(dbname, conninfo, len);
}

/* The first column of the first row of sql, as a number. */
static inline long long link_pg_count(PGconn *db, const char *sql)
{
    char err[1024];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        fail();
    }
    long long v = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

#endif
