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

/* What the gauges count up to a bound, and whole now and then past it. */
enum { COUNT_BACKLOG, COUNT_QUARANTINE, COUNT_KINDS };

/* The last whole counts of each stage this process made, for the reads between. */
static struct {
    char stage[32];            /* "": a free slot */
    recount_t rc[COUNT_KINDS]; /* the backlog's against the records the stage has processed (its
                                  tally); the quarantine's against nothing: the last stands */
} full_counts[8];

/* The index of stage's slot in full_counts (taken by the first whole count); the array's length
 * when none is left. */
static size_t slot_of(const char *stage)
{
    size_t i = 0, n = sizeof full_counts / sizeof *full_counts;
    while (i < n && full_counts[i].stage[0] && strcmp(full_counts[i].stage, stage) != 0)
        i++;
    return i;
}

/* A count of stage's kind: sql with its limit as $1 (NULL: every row), run after the stage's
 * watermark for the backlog (stage_wm_query). */
static PGresult *count_rows(PGconn *db, const char *stage, int kind, const char *sql,
                            const char *limit, char *err, size_t errlen)
{
    const char *p[] = {limit};
    return kind == COUNT_BACKLOG ? stage_wm_query(db, stage, sql, 1, p, err, errlen)
                                 : db_query(db, sql, 1, p, err, errlen);
}

/* Counted up to STAGE_GAUGES_BACKLOG_BOUND rows, exact below it; past it, counted whole at most
 * every STAGE_GAUGES_RECOUNT_MS and at most STAGE_GAUGES_RECOUNT_SHARE of the time (the count is
 * O(rows) and holds up the stage's loop), and between two whole counts the last one less the
 * progress made since (recount.h; never below the bounded count). Returns -1 with err when a
 * statement failed. */
static long long bounded_count(PGconn *db, const char *stage, int kind, const char *sql,
                               long long progress, char *err, size_t errlen)
{
    char bound[24];
    snprintf(bound, sizeof bound, "%d", STAGE_GAUGES_BACKLOG_BOUND);
    PGresult *r = count_rows(db, stage, kind, sql, bound, err, errlen);
    if (!r)
        return -1;
    long long n = first_value(r);
    size_t i = slot_of(stage);
    if (n < STAGE_GAUGES_BACKLOG_BOUND || i == sizeof full_counts / sizeof *full_counts ||
        strlen(stage) >= sizeof full_counts[i].stage)
        return n; /* exact (or, with no slot left, a lower bound) */
    recount_t *rc = &full_counts[i].rc[kind];
    long long t = daemon_now_ms();
    if (!recount_due(rc, t, STAGE_GAUGES_RECOUNT_MS, STAGE_GAUGES_RECOUNT_SHARE))
        return recount_estimate(rc, progress, n);
    if (!(r = count_rows(db, stage, kind, sql, NULL, err, errlen)))
        return -1;
    snprintf(full_counts[i].stage, sizeof full_counts[i].stage, "%s", stage);
    recount_made(rc, first_value(r), progress, t, daemon_now_ms());
    return rc->count;
}

/* The records held in stage's quarantine, counted as its backlog is (a definition that fails
 * every record of an audit holds them all), the last whole count standing between two. */
static long long quarantined(const char *stage, PGconn *db, char *err, size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT " QUARANTINE_HELD_COUNT_SQL, stage);
    return bounded_count(db, stage, COUNT_QUARANTINE, sql, 0, err, errlen);
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
            (n = bounded_count(db, stage, COUNT_BACKLOG, ops->backlog_count_sql, processed, err,
                               sizeof err)) >= 0 &&
            db_exec(db, "COMMIT", err, sizeof err) != 0)
            n = -1;
        if (n < 0) {
            db_exec(db, "ROLLBACK", NULL, 0);
            goto failed;
        }
        metrics_set(m, METRICS_BACKLOG, n);
    }
    if (quarantine_stage_known(stage)) {
        long long n = quarantined(stage, db, err, sizeof err);
        if (n < 0)
            goto failed;
        metrics_set(m, METRICS_QUARANTINE, n);
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
