/* release_values.c - a release's values, read from metric.measure in value order */
#include "release_values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "stage.h"
#include "strbuf.h"

/* A row of metric.measure with its cell's fields (migration 0053: metric.cell, as x, holds them;
 * a period's cells are an index range of its key, each cell's values one of metric.measure's):
 * the cell's key (trust, site, metric, month), the record's categories (breakdown_t order), the
 * value and its count, as value_cache_add has them. */
#define MEASURE_JOIN " JOIN metric.measure m ON m.cell = x.id"
#define VALUES_OF_CELLS "metric.cell x" MEASURE_JOIN
#define VALUE_KEY "x.trust, x.site, x.metric_id, x.month, m.imd_decile, m.ethnicity, m.sex, m.age"
#define VALUE_COLUMNS VALUE_KEY ", m.value, m.count"
enum { V_VALUE = 4 + BREAKDOWN_COUNT, V_COUNT };

/* The rows in ascending order of value, equal values together. Cost: PostgreSQL's sort of the
 * rows (about one per record of the period, or of the audit up to it for the run charts),
 * publish's memory one fetch of them. */
static const char *const values_sql[] = {
    "SELECT " VALUE_COLUMNS " FROM " VALUES_OF_CELLS " WHERE x.audit = $1 AND x.period = $2"
    " ORDER BY m.value",
    "SELECT " VALUE_COLUMNS " FROM " VALUES_OF_CELLS " WHERE x.audit = $1 AND x.period <= $2"
    " ORDER BY m.value",
    /* the run charts' from a month on ($3: the months before it taken already) */
    "SELECT " VALUE_COLUMNS " FROM " VALUES_OF_CELLS " WHERE x.audit = $1 AND x.period <= $2"
    "   AND x.month >= $3 ORDER BY m.value"};

typedef struct {
    benchmark_each_measure_t each;
    void *ctx;
    bool series;
} hand_t;

/* A row as the measures it counts in (value_measures_each). */
static int hand_row(void *ctx, const PGresult *r, int i)
{
    const hand_t *h = ctx;
    const char *category[BREAKDOWN_COUNT];
    for (int b = 0; b < BREAKDOWN_COUNT; b++)
        category[b] = PQgetvalue(r, i, 4 + b);
    return value_measures_each(
        PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
        category, strtod(PQgetvalue(r, i, V_VALUE), NULL),
        strtoll(PQgetvalue(r, i, V_COUNT), NULL, 10), NULL, h->series, h->each, h->ctx);
}

typedef struct {
    value_cache_t *cache;
    value_batch_t batch; /* the rows read */
    value_batch_t gone;  /* the keys gone (a NULL count: release_values_deltas) */
    bool failed;         /* a row that cannot be held */
} gather_t;

/* Row i of r, its key from column col (then its value and count), into g's batch (gone: a NULL
 * count). Returns 0, or 1 when not held (g->failed: out of memory, a count past 32 bits or more
 * strings than 16-bit ids name; else past the batch's limit). */
static int gather_at(gather_t *g, const PGresult *r, int i, int col)
{
    const char *key[4 + BREAKDOWN_COUNT];
    for (int k = 0; k < 4 + BREAKDOWN_COUNT; k++)
        key[k] = PQgetvalue(r, i, col + k);
    bool gone = PQgetisnull(r, i, col + V_COUNT);
    int rc = value_cache_add(g->cache, gone ? &g->gone : &g->batch, key,
                             strtod(PQgetvalue(r, i, col + V_VALUE), NULL),
                             gone ? 0 : strtoll(PQgetvalue(r, i, col + V_COUNT), NULL, 10));
    g->failed = rc < 0;
    return rc != 0 ? 1 : 0;
}

static int gather_row(void *ctx, const PGresult *r, int i)
{
    return gather_at(ctx, r, i, 0);
}

/* The end of a read into the cache (db_each_row's rc): 1, a row not to be held, marks the
 * period too big; past g's batch limit, the period is too big or crowded out this round
 * (value_cache_give_up on g's batch: in a delta either batch may have stopped, both have the same
 * limit, and the period is held): either way its values are then streamed. Returns rc (0: go
 * on), or -1 with err when out of memory. */
static int read_end(gather_t *g, const char *audit, const char *period, int rc, char *err,
                    size_t errlen)
{
    if (rc == 1 && (g->failed ? value_cache_mark_too_big(g->cache, audit, period)
                              : value_cache_give_up(g->cache, &g->batch)) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return rc;
}

int release_values_cache(PGconn *db, value_cache_t *c, const char *audit, const char *period,
                         char *err, size_t errlen)
{
    gather_t g = {.cache = c};
    value_cache_batch(c, audit, period, &g.batch);
    const char *p[] = {audit, period};
    /* unsorted: sorted in C */
    int rc = db_each_row(db,
                         "SELECT " VALUE_COLUMNS " FROM " VALUES_OF_CELLS
                         " WHERE x.audit = $1 AND x.period = $2",
                         2, p, gather_row, &g, err, errlen);
    if ((rc = read_end(&g, audit, period, rc, err, errlen)) != 0) {
        value_batch_free(&g.batch);
        return rc;
    }
    if (value_cache_put(c, audit, period, &g.batch) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* since $3, a range whatever the statistics (STAGE_WRITTEN_SINCE) */
#define SINCE_3 STAGE_WRITTEN_SINCE("write_xid", "$3::xid8")
#define M_SINCE_3 STAGE_WRITTEN_SINCE("m.write_xid", "$3::xid8")
/* The cell of alias's row (its number, alias.cell) when it is of one of the periods $2 of audit
 * $1: a probe of metric.cell's primary key a row (LATERAL, OFFSET 0). A join let the planner,
 * which estimates the rows written since as few (STAGE_WRITTEN_SINCE), walk the periods' cells
 * once a row: at 300,000 records 19,411 rows x 95 cells, 1.8 million comparisons, 0.8 s for one
 * period (under auto_explain's instrumentation). */
#define CELL_OF_PERIODS(alias)                                                                     \
    " CROSS JOIN LATERAL (SELECT c.period, c.trust, c.site, c.metric_id, c.month"                  \
    " FROM metric.cell c WHERE c.id = " alias ".cell AND c.audit = $1"                             \
    " AND c.period = ANY ($2::text[]) OFFSET 0) x"

/* The keys gone since $3 (the oldest snapshot's xmin of the periods $2), each with its period
 * and its count now when written again (NULL: gone); a key deleted more than once comes once.
 * The keys gone since, of every period (an index range of metric.measure_gone by write_xid: a
 * round's worth), each with its cell when of those periods (CELL_OF_PERIODS). */
#define CELL_OF_G CELL_OF_PERIODS("g")
#define CELL_OF_M CELL_OF_PERIODS("m")
static const char gone_sql[] =
    "SELECT x.period, x.trust, x.site, x.metric_id, x.month, g.imd_decile, g.ethnicity, g.sex,"
    " g.age, g.value, m.count"
    " FROM (SELECT DISTINCT cell, value, imd_decile, ethnicity, sex, age FROM metric.measure_gone"
    "   WHERE " SINCE_3 ") g" CELL_OF_G
    " LEFT JOIN metric.measure m ON (m.cell, m.value, m.imd_decile, m.ethnicity, m.sex, m.age) ="
    "   (g.cell, g.value, g.imd_decile, g.ethnicity, g.sex, g.age)";

/* The rows written since $3, each with its period: an index range of metric.measure by
 * write_xid (migration 0047: the rows written since, of every period, a round's worth), each
 * with its cell when of the periods $2 (CELL_OF_PERIODS). */
static const char changed_sql[] =
    "SELECT x.period, " VALUE_COLUMNS " FROM metric.measure m" CELL_OF_M " WHERE " M_SINCE_3;

/* A period's part of a delta (release_values_deltas): its rows as they come, its read stopped
 * (rc 1: read_end's) when a row could not be held. */
typedef struct {
    const char *period;
    gather_t g;
    int rc;
} period_gather_t;

typedef struct {
    period_gather_t *p;
    size_t n;
} gathers_t;

/* A row of gone_sql or changed_sql into its period's gather (column 0 the period). */
static int gathers_row(void *ctx, const PGresult *r, int i)
{
    gathers_t *gs = ctx;
    const char *period = PQgetvalue(r, i, 0);
    for (size_t k = 0; k < gs->n; k++)
        if (strcmp(gs->p[k].period, period) == 0) {
            if (gs->p[k].rc == 0)
                gs->p[k].rc = gather_at(&gs->p[k].g, r, i, 1);
            break;
        }
    return 0;
}

int release_values_deltas(PGconn *db, value_cache_t *c, const char *audit,
                          const char *const *periods, size_t n, char *err, size_t errlen)
{
    gathers_t gs = {calloc(n + 1, sizeof *gs.p), 0};
    if (!gs.p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* the periods held with a snapshot young enough, from the oldest snapshot's xmin */
    unsigned long long since = 0;
    strbuf_t lit;
    strbuf_init(&lit);
    strbuf_pg_array_open(&lit);
    for (size_t k = 0; k < n; k++) {
        const char *xmin = value_cache_since(c, audit, periods[k], RELEASE_VALUES_DELTA_MAX_MS);
        if (!xmin) {
            value_cache_forget(c, audit, periods[k]);
            continue;
        }
        unsigned long long x = strtoull(xmin, NULL, 10);
        if (gs.n == 0 || x < since)
            since = x;
        period_gather_t *pg = &gs.p[gs.n++];
        *pg = (period_gather_t){.period = periods[k], .g = {.cache = c}};
        value_cache_batch(c, audit, periods[k], &pg->g.gone);
        value_cache_batch(c, audit, periods[k], &pg->g.batch);
        strbuf_pg_array_elem(&lit, periods[k]);
    }
    strbuf_pg_array_close(&lit);
    int rc = lit.oom ? -1 : 0, updated = 0;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    if (rc == 0 && gs.n > 0) {
        char xid[24];
        snprintf(xid, sizeof xid, "%llu", since);
        /* the gone keys first: a key also read from metric.measure keeps that row (same count) */
        const char *p[] = {audit, lit.s, xid};
        rc = db_each_row(db, gone_sql, 3, p, gathers_row, &gs, err, errlen);
        if (rc == 0)
            rc = db_each_row(db, changed_sql, 3, p, gathers_row, &gs, err, errlen);
    }
    /* a key read though older than its period's snapshot is set to its count now: harmless */
    for (size_t k = 0; k < gs.n; k++) {
        period_gather_t *pg = &gs.p[k];
        int end = rc == 0 ? read_end(&pg->g, audit, pg->period, pg->rc, err, errlen) : rc;
        if (end == 0) { /* rc is 0: apply takes both batches */
            end = value_cache_apply(c, audit, pg->period, &pg->g.gone, &pg->g.batch);
            updated += end == 0;
            if (end < 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
            continue;
        }
        if (end < 0)
            rc = -1;
        value_batch_free(&pg->g.gone);
        value_batch_free(&pg->g.batch);
    }
    strbuf_free(&lit);
    free(gs.p);
    return rc < 0 ? -1 : updated;
}

int release_values_read(void *reader, bool series, const char *from_month,
                        benchmark_each_measure_t each, void *ctx, char *err, size_t errlen)
{
    const release_values_t *v = reader;
    if (!series)
        from_month = NULL;
    if (v->cache && (series ? v->series : v->own)) {
        /* the periods held, from from_month on (value_cache_each) */
        int rc = value_cache_each(v->cache, v->audit, v->period, series, from_month, each, ctx);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    const char *p[] = {v->audit, v->period, from_month};
    hand_t h = {each, ctx, series};
    int q = !series ? 0 : from_month ? 2 : 1; /* values_sql's */
    return db_each_row(v->db, values_sql[q], from_month ? 3 : 2, p, hand_row, &h, err, errlen);
}
