/* release_actions.c - the actions trusts registered, read for the run charts */
#include "release_actions.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

int release_actions_load(PGconn *db, const char *audit, release_actions_t *out, char *err,
                         size_t errlen)
{
    *out = (release_actions_t){0};
    const char *p[] = {audit};
    out->res = db_query(db,
                        "SELECT trust, metric_id, to_char(action_date, 'YYYY-MM-DD')"
                        " FROM publish.action WHERE audit = $1 ORDER BY action_id",
                        1, p, err, errlen);
    if (!out->res)
        return -1;
    out->n = (size_t)PQntuples(out->res);
    out->actions = calloc(out->n + 1, sizeof *out->actions);
    if (!out->actions) {
        release_actions_clear(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        out->actions[i] =
            (benchmark_action_t){PQgetvalue(out->res, (int)i, 0), PQgetvalue(out->res, (int)i, 1),
                                 PQgetvalue(out->res, (int)i, 2)};
    return 0;
}

void release_actions_clear(release_actions_t *a)
{
    free(a->actions);
    PQclear(a->res);
    *a = (release_actions_t){0};
}

PGresult *release_actions_pending(PGconn *db, char *err, size_t errlen)
{
    return db_query(db,
                    "WITH a AS (UPDATE publish.action SET published = true WHERE NOT published"
                    "   RETURNING audit)"
                    " SELECT DISTINCT r.audit, r.period FROM publish.release r"
                    "  WHERE r.audit IN (SELECT audit FROM a) ORDER BY 1, 2",
                    0, NULL, err, errlen);
}
