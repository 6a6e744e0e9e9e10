/* pipeline_status.c - counts per stage */
#include "pipeline_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "linkage_stage.h"
#include "metric_stage.h"
#include "publish_stage.h"
#include "quarantine.h"
#include "rekey_sweep.h"
#include "strbuf.h"
#include "validation_stage.h"

const char *const pipeline_stage_names[PIPELINE_STAGES] = {"ingest", "linkage", "validation",
                                                           "metric", "publish"};

/* What linkage's death sweep has still to look at, counted with linkage's backlog: deaths not yet
 * considered, patients whose death link changed, record versions whose follow-up the register now
 * covers (each a range of an index or a queue, migrations 0008 and 0017), each counted up to $1
 * rows (NULL: all). Loading a register of deaths makes the first part as large as the register:
 * counted whole, `ncap status` would read every row of it. */
#define DEATH_SWEEP_BACKLOG                                                                        \
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM linkage.death WHERE considered_at IS NULL"        \
    "   LIMIT $1::bigint) d)"                                                                      \
    " + (SELECT count(*) FROM (SELECT 1 FROM linkage.death_recheck LIMIT $1::bigint) q)"           \
    " + (SELECT count(*) FROM (SELECT 1 FROM linkage.death_coverage c"                             \
    "   JOIN linkage.pseudo_record p ON p.follow_up_due <= c.covers_to LIMIT $1::bigint) f)"

/* Per stage, from what it keeps (migration 0018): records processed and the rows written in the
 * last minute from its tally (O(statements of the last minute)), the backlog counted after its
 * watermark (O(rows after it): the stage's own backlog_count_sql, a statement each, as each starts
 * from its own watermark), and the records held in its quarantine (up to $1 rows: a definition
 * that fails every record of an audit holds them all). Nothing here grows with the tables. The
 * first statement: for each stage in flow order, processed, rows written in the last minute, and
 * quarantined. NULL when out of memory. */
static char *status_sql(void)
{
    strbuf_t sql = {0};
    strbuf_append(&sql, "SELECT");
    for (int i = 0; i < PIPELINE_STAGES; i++) {
        const char *stage = pipeline_stage_names[i];
        strbuf_appendf(&sql,
                       "%s (SELECT coalesce(sum(added), 0) FROM %s.tally),"
                       " (SELECT coalesce(sum(written) FILTER (WHERE at > now() - interval"
                       " '60 s'), 0) FROM %s.tally),",
                       i > 0 ? "," : "", stage, stage);
        if (quarantine_stage_known(stage))
            strbuf_appendf(&sql, " " QUARANTINE_HELD_COUNT_SQL, stage);
        else
            strbuf_append(&sql, " 0");
    }
    if (sql.oom)
        strbuf_free(&sql);
    return sql.s;
}

/* How many rows of a part to count for bound (0: all, and 0): one past it, so that part_of can
 * tell a part of bound rows from a larger one. */
static long long count_limit(long long bound)
{
    return bound > 0 ? bound + 1 : 0;
}

/* count_limit(bound) as a statement's parameter, written into most: NULL (LIMIT ALL, every row
 * counted) when bound is 0. */
static const char *limit_param(long long bound, char most[24])
{
    if (bound <= 0)
        return NULL;
    snprintf(most, 24, "%lld", count_limit(bound));
    return most;
}

/* A part of a backlog counted up to count_limit(bound), as pipeline_status_read gives it: bound,
 * with *more set, when it has more. */
static long long part_of(long long counted, long long bound, bool *more)
{
    if (bound > 0 && counted > bound) {
        *more = true;
        return bound;
    }
    return counted;
}

/* Adds each stage's backlog after its watermark to out, counted up to bound rows (0: all).
 * Returns 0 or -1 with err. */
static int add_backlogs(PGconn *db, long long bound, stage_status_t out[PIPELINE_STAGES], char *err,
                        size_t errlen)
{
    const stage_ops_t ops[PIPELINE_STAGES] = {{0},
                                              linkage_stage_ops(NULL),
                                              validation_stage_ops(NULL),
                                              metric_stage_ops(NULL),
                                              publish_stage_ops(NULL)};
    for (int i = 0; i < PIPELINE_STAGES; i++) {
        if (!ops[i].backlog_count_sql)
            continue;
        /* each of its two parts counted up to a row past bound: the sum is more than bound only
         * when the backlog is (each part is exact below its limit) */
        char most[24];
        const char *p[] = {limit_param(bound, most)};
        PGresult *r = stage_wm_query(db, pipeline_stage_names[i], ops[i].backlog_count_sql, 1, p,
                                     err, errlen);
        if (!r)
            return -1;
        out[i].backlog +=
            part_of(strtoll(PQgetvalue(r, 0, 0), NULL, 10), bound, &out[i].backlog_more);
        PQclear(r);
    }
    return 0;
}

/* Adds to linkage's backlog what its death sweep has still to look at (DEATH_SWEEP_BACKLOG), each
 * of its three parts counted up to a row past bound (0: all): as add_backlogs. Returns 0 or -1
 * with err. */
static int add_death_sweep_backlog(PGconn *db, long long bound, stage_status_t *linkage, char *err,
                                   size_t errlen)
{
    char most[24];
    const char *p[] = {limit_param(bound, most)};
    PGresult *r = db_query(db, DEATH_SWEEP_BACKLOG, 1, p, err, errlen);
    if (!r)
        return -1;
    linkage->backlog +=
        part_of(strtoll(PQgetvalue(r, 0, 0), NULL, 10), bound, &linkage->backlog_more);
    PQclear(r);
    return 0;
}

/* Adds to linkage's backlog the record versions under another key id than the one a linkage
 * process said last that it runs (linkage.key_in_use): the re-keying still to do after the key
 * was rotated (rekey_sweep.h; two index ranges, nothing once done). Returns 0 or -1 with err. */
static int add_rekey_backlog(PGconn *db, long long bound, stage_status_t *linkage, char *err,
                             size_t errlen)
{
    PGresult *r =
        db_query(db, "SELECT key_id FROM linkage.key_in_use ORDER BY heard_at DESC LIMIT 1", 0,
                 NULL, err, errlen);
    if (!r)
        return -1;
    long long n = PQntuples(r) > 0 ? rekey_sweep_remaining(db, PQgetvalue(r, 0, 0),
                                                           count_limit(bound), err, errlen)
                                   : 0;
    PQclear(r);
    if (n < 0)
        return -1;
    linkage->backlog += part_of(n, bound, &linkage->backlog_more);
    return 0;
}

int pipeline_status_read(PGconn *db, long long bound, stage_status_t out[PIPELINE_STAGES],
                         char *err, size_t errlen)
{
    const char *const *names = pipeline_stage_names;
    char *sql = status_sql();
    if (!sql) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char most[24];
    const char *p[] = {limit_param(bound, most)};
    PGresult *r = db_query(db, sql, 1, p, err, errlen);
    free(sql);
    if (!r)
        return -1;
    for (int s = 0; s < PIPELINE_STAGES; s++) {
        out[s].name = names[s];
        out[s].processed = strtoll(PQgetvalue(r, 0, 3 * s), NULL, 10);
        out[s].rate = (double)strtoll(PQgetvalue(r, 0, 3 * s + 1), NULL, 10) / 60.0;
        out[s].backlog = 0;
        out[s].backlog_more = false;
        out[s].quarantined_more = false;
        out[s].quarantined = part_of(strtoll(PQgetvalue(r, 0, 3 * s + 2), NULL, 10), bound,
                                     &out[s].quarantined_more);
        out[s].instances = 0;
    }
    PQclear(r);
    /* index probes from each watermark, however stale the tables' statistics (stage.h) */
    if (stage_begin_probes(db, err, errlen) != 0 ||
        add_backlogs(db, bound, out, err, errlen) != 0 ||
        add_rekey_backlog(db, bound, &out[1], err, errlen) != 0 ||
        add_death_sweep_backlog(db, bound, &out[1], err, errlen) != 0 ||
        db_exec(db, "COMMIT", err, errlen) != 0) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return -1;
    }
    r = db_query(db,
                 "SELECT stage, count(*) FROM ops.instance WHERE heartbeat_at > now() - "
                 "interval '5 seconds' GROUP BY stage",
                 0, NULL, err, errlen);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        for (int s = 0; s < PIPELINE_STAGES; s++)
            if (strcmp(PQgetvalue(r, i, 0), names[s]) == 0)
                out[s].instances = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    PQclear(r);
    return 0;
}
