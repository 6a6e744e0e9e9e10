/* stage_gauges.c - a stage's backlog, quarantine and own gauge, read for its metrics */
#include "stage_gauges.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "quarantine.h"

/* The first column of the first row of r as a number. */
static long long first_value(PGresult *r)
{
    long long v = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return v;
}

int stage_gauges_read(const stage_ops_t *ops, const char *stage, PGconn *db, metrics_t *m)
{
    if (!m)
        return 0;
    char err[1024], sql[128];
    PGresult *r = NULL;
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(added), 0) FROM %s.tally", stage);
    if (!(r = db_query(db, sql, 0, NULL, err, sizeof err)))
        goto failed;
    metrics_set(m, METRICS_STAGE_PROCESSED, first_value(r));
    if (ops->backlog_count_sql) {
        if (!(r = stage_wm_query(db, stage, ops->backlog_count_sql, 0, NULL, err, sizeof err)))
            goto failed;
        metrics_set(m, METRICS_BACKLOG, first_value(r));
    }
    if (quarantine_stage_known(stage)) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.quarantine WHERE held", stage);
        if (!(r = db_query(db, sql, 0, NULL, err, sizeof err)))
            goto failed;
        metrics_set(m, METRICS_QUARANTINE, first_value(r));
    }
    const stage_gauge_t *g = &ops->gauge;
    if (g->sql) {
        if (!(r = db_query(db, g->sql, 0, NULL, err, sizeof err)))
            goto failed;
        for (int i = 0; i < PQntuples(r); i++)
            if (!PQgetisnull(r, i, 1) &&
                metrics_family_set(m, g->name, g->help, g->label, PQgetvalue(r, i, 0),
                                   strtod(PQgetvalue(r, i, 1), NULL)) != 0) {
                ncap_log(LOG_WARN, "too many series for a gauge: the rest are not exported",
                         "gauge", g->name, NULL);
                break;
            }
        PQclear(r);
    }
    return 0;
failed:
    ncap_log(LOG_WARN, "could not read the stage's gauges for its metrics; read again shortly",
             "error", err, NULL);
    return -1;
}
