/* ingest_hold_fixture.h - holding up a trust's file in a store test: the test's own transaction
 * inserts one of the trust's records, so a store worker inserting it waits for that transaction
 * until the test ends it (COMMIT or ROLLBACK, within the 30 s lock_timeout of db_connect).
 * Include after pg_fixture.h. */
#ifndef NCAP_TEST_INGEST_HOLD_FIXTURE_H
#define NCAP_TEST_INGEST_HOLD_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

/* Begins the transaction on db holding nhfd record local_id of trust. */
static inline void ingest_hold_record(PGconn *db, const char *trust, const char *local_id)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "BEGIN; INSERT INTO ingest.record (audit, trust, local_id) VALUES ('nhfd', '%s', "
             "'%s')",
             trust, local_id);
    pg_fixture_exec(db, sql);
}

/* How many connections named application wait for a lock now (read from db, which may be in the
 * holding transaction: the statistics snapshot is cleared first). */
static inline int ingest_lock_waiters(PGconn *db, const char *application)
{
    char err[1024];
    pg_fixture_exec(db, "SELECT pg_stat_clear_snapshot()");
    const char *p[] = {application};
    PGresult *r = db_query(db,
                           "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND "
                           "wait_event_type = 'Lock'",
                           1, p, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

#endif
