/* tally.c - folding a stage's kept counts */
#include "tally.h"

#include <assert.h>
#include <stdio.h>

#include "db.h"

int tally_fold(PGconn *db, const char *schema, char *err, size_t errlen)
{
    assert(db && schema);
    /* Nothing to do while a single row is older than a minute (it would only be rewritten). */
    char sql[640];
    snprintf(sql, sizeof sql,
             "WITH old AS (SELECT ctid FROM %s.tally WHERE at < now() - interval '60 s'),"
             " gone AS (DELETE FROM %s.tally t WHERE t.ctid IN (SELECT ctid FROM old)"
             "   AND (SELECT count(*) FROM old) > 1 RETURNING t.at, t.added, t.written)"
             " INSERT INTO %s.tally (at, added, written)"
             " SELECT max(at), sum(added), sum(written) FROM gone HAVING count(*) > 0",
             schema, schema, schema);
    return db_exec(db, sql, err, errlen);
}
