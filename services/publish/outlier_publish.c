/* outlier_publish.c - the outlier process in ncap-publishd */
#include "outlier_publish.h"

#include <stdlib.h>

#include "outlier_gate.h"
#include "outlier_store.h"

int outlier_publish_release(PGconn *db, const audit_def_t *def, const char *audit,
                            const char *period, benchmark_release_t *rel, char *err, size_t errlen)
{
    if (!def->outliers.enabled)
        return 0;
    if (outlier_store_release(db, audit, period, rel, err, errlen) != 0)
        return -1;
    outlier_unit_t *units = NULL;
    size_t n = 0;
    PGresult *r = outlier_store_published(db, audit, period, &units, &n, err, errlen);
    if (!r)
        return -1;
    outlier_gate_release(def, rel, units, n);
    free(units);
    PQclear(r);
    return 0;
}

PGresult *outlier_publish_tick(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                               size_t errlen)
{
    long long day_seconds = outlier_day_seconds(err, errlen);
    if (day_seconds < 0)
        return NULL;
    int moved = 0;
    PGresult *rebuild = outlier_store_advance(db, audits, day_seconds, &moved, err, errlen);
    if (!rebuild)
        return NULL;
    char team[1100];
    outlier_team_dir(out_dir, team, sizeof team);
    if (outlier_store_export(db, audits, day_seconds, team, err, errlen) < 0) {
        PQclear(rebuild);
        return NULL;
    }
    return rebuild;
}
