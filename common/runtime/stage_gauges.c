/* stage_gauges.c - a stage's backlog, quarantine and own gauge, read for its metrics */
#include "stage_gauges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "db.h"
#include "log.h"
#include "quarantine.h"
#include "recount.h"

/* The first column of the first row of r as a number. */
static long long first_value(PGresult *r)
{
    long long v = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return v;
}

/* The last whole count of each stage's backlog this process made, for the reads between. */
static struct {
    char stage[32]; /* "": a free slot */
    recount_t rc;   /* against the stage's records processed (its tally) */
} full_counts[8];

/* The backlog of stage, whose records processed are processed now: counted up to
 * STAGE_GAUGES_BACKLOG_BOUND rows, exact below it; past it, counted whole at most every
 * STAGE_GAUGES_RECOUNT_MS and at most STAGE_GAUGES_RECOUNT_SHARE of the time (the count is
 * O(backlog) and holds up the stage's loop), and between two whole counts the last one less what
 * the stage has processed since (recount.h; never below the bounded count). Returns -1 with err
 * when a statement failed. */
static long long backlog(const stage_ops_t *ops, const char *stage, long long processed, PGconn *db,
                         char *err, size_t errlen)
{
    char bound[24];
    snprintf(bound, sizeof bound, "%d", STAGE_GAUGES_BACKLOG_BOUND);
    const char *p[] = {bound};
    PGresult *r = stage_wm_query(db, stage, ops->backlog_count_sql, 1, p, err, errlen);
    if (!r)
        return -1;
    long long n = first_value(r);
    size_t i = 0;
    while (i < sizeof full_counts / sizeof *full_counts && full_counts[i].stage[0] &&
           strcmp(full_counts[i].stage, stage) != 0)
        i++;
    if (n < STAGE_GAUGES_BACKLOG_BOUND || i == sizeof full_counts / sizeof *full_counts ||
        strlen(stage) >= sizeof full_counts[i].stage)
        return n; /* exact (or, with no slot left, a lower bound) */
    recount_t *rc = &full_counts[i].rc;
    long long t = daemon_now_ms();
    if (!recount_due(rc, t, STAGE_GAUGES_RECOUNT_MS, STAGE_GAUGES_RECOUNT_SHARE))
        return recount_estimate(rc, processed, n);
    p[0] = NULL;
    if (!(r = stage_wm_query(db, stage, ops->backlog_count_sql, 1, p, err, errlen)))
        return -1;
    snprintf(full_counts[i].stage, sizeof full_counts[i].stage, "%s", stage);
    recount_made(rc, first_value(r), processed, t, daemon_now_ms());
    return rc->count;
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
    long long processed = first_value(r);
    metrics_set(m, METRICS_STAGE_PROCESSED, processed);
    if (ops->backlog_count_sql) {
        long long n = -1;
        if (stage_begin_probes(db, err, sizeof err) == 0 &&
            (n = backlog(ops, stage, processed, db, err, sizeof err)) >= 0 &&
            db_exec(db, "COMMIT", err, sizeof err) != 0)
            n = -1;
        if (n < 0) {
            db_exec(db, "ROLLBACK", NULL, 0);
            goto failed;
        }
        metrics_set(m, METRICS_BACKLOG, n);
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
