/* death_coverage.c - the register's coverage, one row */
#include "death_coverage.h"

#include <stdio.h>

#include "db.h"

int death_coverage_read(PGconn *db, char out[11], char *err, size_t errlen)
{
    PGresult *r =
        db_query(db, "SELECT to_char(covers_to, 'YYYY-MM-DD') FROM linkage.death_coverage", 0, NULL,
                 err, errlen);
    if (!r)
        return -1;
    snprintf(out, 11, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}
