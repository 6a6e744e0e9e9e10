/* publish_stage.c - ncap-publishd's work: rebuild what changed, one release revision per change */
#include "publish_stage.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array_grow.h"
#include "db.h"
#include "ascertainment.h"
#include "delay_ledger.h"
#include "final_late.h"
#include "linkage_quality.h"
#include "log.h"
#include "pg_columns.h"
#include "benchmark.h"
#include "outlier_publish.h"
#include "period_export.h"
#include "release_actions.h"
#include "release_files.h"
#include "release_input.h"
#include "release_sums.h"
#include "release_values.h"
#include "site_build.h"
#include "str_map.h"
#include "sums_cache.h"
#include "value_cache.h"

/* The parts of a round whose time is logged with its releases (publish_t's phase_ms): taking the
 * locks; round_due; the round's statement over the tail (and the cache's stamp); outlier deadlines;
 * reading sums (and the organisations); benchmark_build and the files' texts; storing a revision
 * (its hash compared, rows, files, ledgers, pruning); the actions; the commit; then after it the
 * files written, the period ledgers and the portal. */
enum {
    PH_LOCK,
    PH_DUE,
    PH_TAIL,
    PH_OUTLIERS,
    PH_READ,
    PH_BUILD,
    PH_STORE,
    PH_ACTIONS,
    PH_COMMIT,
    PH_EXPORT,
    PH_LEDGERS,
    PH_SITE,
    N_PHASES
};
_Static_assert(N_PHASES == sizeof((publish_t *)0)->phase_ms / sizeof(double),
               "publish_t's phase_ms has a slot per phase");
static const char *const PHASE_NAMES[N_PHASES] = {
    "lock_ms",  "due_ms",     "tail_ms",   "outliers_ms", "read_ms",    "build_ms",
    "store_ms", "actions_ms", "commit_ms", "export_ms",   "ledgers_ms", "site_ms"};

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Adds the time since the last phase ended to phase ph. */
static void phase_end(publish_t *ps, int ph)
{
    double t = clock_ms(CLOCK_MONOTONIC);
    ps->phase_ms[ph] += t - ps->clock;
    ps->clock = t;
}

/* The most time between two writes of every period's delays.csv and ascertainment.csv while rounds
 * rebuild periods (after_commit). */
#define PUBLISH_LEDGERS_EVERY_MS 10000.0
/* The same for the portal while rounds write releases. */
#define PUBLISH_SITE_EVERY_MS 10000.0

/* The organisations of the reference data (`ncap refdata load ods`), read once per rebuild round.
 */
typedef struct {
    PGresult *res;
    benchmark_org_t *orgs;
    size_t n;
} orgs_t;

static int orgs_load(PGconn *db, orgs_t *o, char *err, size_t errlen)
{
    o->res = db_query(db, "SELECT code, name, region FROM publish.organisation ORDER BY code", 0,
                      NULL, err, errlen);
    if (!o->res)
        return -1;
    o->n = (size_t)PQntuples(o->res);
    o->orgs = calloc(o->n + 1, sizeof *o->orgs);
    if (!o->orgs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < o->n; i++)
        o->orgs[i] = release_input_org(PQgetvalue(o->res, (int)i, 0), PQgetvalue(o->res, (int)i, 1),
                                       PQgetvalue(o->res, (int)i, 2));
    return 0;
}

static void orgs_clear(orgs_t *o)
{
    free(o->orgs);
    PQclear(o->res);
    *o = (orgs_t){0};
}

/* A period's cells per month, as metric.aggregate keeps them. Its values (metric.measure) are
 * not read here: benchmark_build takes them in value order as it goes, from those held between
 * rounds (value_cache.h) or streamed (release_values.h). */
#define CELL_COLUMNS                                                                               \
    "trust, site, metric_id, breakdown, category, month, numerator, denominator, expected_e9,"     \
    " held, missing"
#define CELLS_SQL "SELECT " CELL_COLUMNS " FROM metric.aggregate WHERE audit = $1 AND period = $2"
/* The key columns of CELL_COLUMNS, and sums 0: a cell gone (metric.aggregate_gone). */
#define CELL_COLUMNS_GONE "trust, site, metric_id, breakdown, category, month, 0, 0, 0, 0, 0"

/* The queries of a period's own sums (release_sums.h), each with $1 the audit and $2 the period:
 * its rows per month as stored, neither grouped nor sorted (release_sums_merge_months and
 * release_sums_sort do both in C on ranked keys, as for `ncap release build`: a GROUP BY and
 * ORDER BY of the same rows cost PostgreSQL several times the scan). Cost: O(cells of the
 * period's months), never a record. */
static const char *const sums_sql[] = {
    /* the period's cells per month; metric '' counts records */
    CELLS_SQL,
    /* the records withheld under the opt-out, from linkage's counts (migration 0027), as cells
     * of BENCHMARK_WITHHELD for the whole period (month ''): the selection ledger's */
    "SELECT trust, site, '" BENCHMARK_WITHHELD "', 'all', '', '', 0, withheld_opt_out, 0, 0, 0"
    " FROM publish.linkage_quality WHERE audit = $1 AND period = $2 AND breakdown = 'all'"
    " AND withheld_opt_out > 0"};
enum { Q_CELLS, Q_WITHHELD, N_SUMS_SQL };

/* The run charts' months of an audit (breakdown 'all'), read once per round for every period the
 * round rebuilds ($2: the last of them), each row with its period last: a period's series are the
 * rows of the periods up to its own. Cost: O(breakdown 'all' cells of the audit's months), once
 * per round and audit, not once per period. */
static const char *const series_sql[] = {
    "SELECT trust, site, metric_id, month, numerator, denominator, expected_e9, held, missing,"
    " period FROM metric.aggregate WHERE audit = $1 AND period <= $2 AND breakdown = 'all'"
    " AND month <> '' AND metric_id <> ''"};
enum { Q_SERIES, N_SERIES_SQL };

static long long num_at(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

typedef struct layout layout_t;

/* The columns of a row a load interns (sums_sql's and series_sql's rows have at most 11). */
#define LOAD_COLS 12

/* What a load keeps: its strings interned (every cell of a trust shares one copy of its code) and
 * a growing array of cells. */
typedef struct {
    str_map_t *strings;
    benchmark_cell_t *cells;
    size_t n_cells, cap_cells;
    const char **cell_period; /* the series': each cell's period */
    size_t cap_cell_period;
    long long records;           /* the period's: metric '' cells of breakdown 'all' */
    bool oom;                    /* interning failed */
    bool keep_records;           /* metric '' cells kept as cells (sums_cache_put counts them) */
    const char *last[LOAD_COLS]; /* per column, the string interned last */
    const layout_t *layout;      /* of the rows being read */
} load_t;

/* A column's value as the load's copy: the column's last one when equal (rows of one cell come
 * together), else looked up (hashed) in the load's strings. */
static const char *intern(load_t *l, const PGresult *r, int row, int col)
{
    const char *v = PQgetvalue(r, row, col);
    if (col < LOAD_COLS && l->last[col] && strcmp(l->last[col], v) == 0)
        return l->last[col];
    size_t i;
    if (str_map_put(l->strings, v, &i) < 0) {
        l->oom = true;
        return "";
    }
    const char *k = str_map_key(l->strings, i);
    if (col < LOAD_COLS)
        l->last[col] = k;
    return k;
}

/* Where a row's key and data are: sums_sql's rows have every key column, series_sql's breakdown
 * 'all' and category '' alone, and their period. */
struct layout {
    int breakdown, category; /* columns; -1: "all" and "" */
    int month;
    int data;   /* the five sums of a cell */
    int period; /* -1: none (the period's own rows) */
};
static const layout_t OWN = {3, 4, 5, 6, -1};
static const layout_t SERIES_CELLS = {-1, -1, 3, 4, 9};

/* The key of row i as the load's strings: trust, site, metric, breakdown, category, month. */
static void key_of(load_t *l, const PGresult *r, int i, const char *k[6])
{
    const layout_t *y = l->layout;
    for (int c = 0; c < 3; c++)
        k[c] = intern(l, r, i, c);
    k[3] = y->breakdown < 0 ? "all" : intern(l, r, i, y->breakdown);
    k[4] = y->category < 0 ? "" : intern(l, r, i, y->category);
    k[5] = intern(l, r, i, y->month);
}

/* Room for one more element (n held, cap) and, for the run charts' rows, its period. */
static int grow(load_t *l, void **items, size_t *cap, size_t size, const char ***period,
                size_t *cap_period, size_t n, const PGresult *r, int i)
{
    if (array_grow(items, cap, n + 1, size) != 0)
        return -1;
    if (l->layout->period < 0)
        return 0;
    if (array_grow((void **)period, cap_period, n + 1, sizeof **period) != 0)
        return -1;
    (*period)[n] = intern(l, r, i, l->layout->period);
    return 0;
}

/* A row of cells; the record count (metric '') of the period's own rows added up instead. */
static int cell_row(void *ctx, const PGresult *r, int i)
{
    load_t *l = ctx;
    int d = l->layout->data;
    if (PQgetvalue(r, i, 2)[0] == '\0' && !l->keep_records) { /* CONTRIBUTION_RECORDS */
        if (l->layout->breakdown >= 0 && strcmp(PQgetvalue(r, i, l->layout->breakdown), "all") == 0)
            l->records += num_at(r, i, d + 1);
        return 0;
    }
    if (grow(l, (void **)&l->cells, &l->cap_cells, sizeof *l->cells, &l->cell_period,
             &l->cap_cell_period, l->n_cells, r, i) != 0)
        return -1;
    const char *k[6];
    key_of(l, r, i, k);
    l->cells[l->n_cells++] = (benchmark_cell_t){.trust = k[0],
                                                .site = k[1],
                                                .metric = k[2],
                                                .breakdown = k[3],
                                                .category = k[4],
                                                .month = k[5],
                                                .numerator = num_at(r, i, d),
                                                .denominator = num_at(r, i, d + 1),
                                                .expected_e9 = num_at(r, i, d + 2),
                                                .held = num_at(r, i, d + 3),
                                                .missing = num_at(r, i, d + 4)};
    return l->oom ? -1 : 0;
}

static void load_free(load_t *l)
{
    str_map_destroy(&l->strings);
    free(l->cells);
    free(l->cell_period);
    *l = (load_t){0};
}

/* Reads the run charts' months of an audit up to period last (series_sql) into l. */
static int load_series(PGconn *db, const char *audit, const char *last, load_t *l, char *err,
                       size_t errlen)
{
    *l = (load_t){.strings = str_map_new(1024)};
    if (!l->strings) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p[] = {audit, last};
    l->layout = &SERIES_CELLS;
    return db_each_row(db, series_sql[Q_SERIES], 2, p, cell_row, l, err, errlen);
}

/* Reads the period's own sums into own (its strings; the arrays then s's) and takes its series
 * from the audit's (the rows of periods up to this one) into s, months summed, in
 * release_sums_sort's order. */
static int load_sums(PGconn *db, const char *audit, const char *period, const load_t *series,
                     load_t *own, release_sums_t *s, char *err, size_t errlen)
{
    *own = (load_t){.strings = str_map_new(1024)};
    if (!own->strings) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p[] = {audit, period};
    own->layout = &OWN;
    if (db_each_row(db, sums_sql[Q_CELLS], 2, p, cell_row, own, err, errlen) != 0 ||
        db_each_row(db, sums_sql[Q_WITHHELD], 2, p, cell_row, own, err, errlen) != 0)
        return -1;
    /* s takes the arrays */
    s->cells = own->cells;
    s->n_cells = own->n_cells;
    s->records = own->records;
    own->cells = NULL;
    s->series = calloc(series->n_cells + 1, sizeof *s->series);
    if (!s->series) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* the periods of one audit are of one form (YYYY, YYYYQn), ordered alike as bytes */
    for (size_t i = 0; i < series->n_cells; i++)
        if (strcmp(series->cell_period[i], period) <= 0)
            s->series[s->n_series++] = series->cells[i];
    /* as `ncap release build` has them: the months summed, everything in one order */
    if (release_sums_merge_months(s) != 0 || release_sums_sort(s) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Keeps the period's newest ps->keep provisional revisions and deletes the older ones' rows, files
 * and release rows (a release of another status is never touched); their folders go after
 * commit. Each table's rows of the revisions gone are found by its key (= ANY of their ids, an
 * array: the planner estimates a semi-join with the few ids of gone as a share of the whole table
 * and hashed it against a scan of every row of publish.output, ~1,100 rows a revision kept and
 * every final's, each round and period); publish.output's by a range of its primary key a
 * revision (LATERAL, OFFSET 0) and deleted by their ctid (rows only inserted and deleted, never
 * updated), since "= ANY" of an array the planner cannot see still took a twentieth of the table,
 * a sequential scan of all of it whenever its statistics were older than its rows (17 of a
 * 300,000-record benchmark's prunes, up to 107,643 rows each). */
static int prune(publish_t *ps, PGconn *db, const char *audit, const char *period, char *err,
                 size_t errlen)
{
    if (ps->keep <= 0)
        return 0;
    char keep[16];
    snprintf(keep, sizeof keep, "%d", ps->keep);
    const char *p[] = {audit, period, keep};
    PGresult *r = db_query(
        db,
        "WITH gone AS (SELECT release_id, revision FROM publish.release WHERE audit = $1"
        "   AND period = $2 AND status = 'provisional' AND revision < (SELECT min(revision) FROM"
        "   (SELECT revision FROM publish.release WHERE audit = $1 AND period = $2"
        "   AND status = 'provisional' ORDER BY revision DESC LIMIT $3::int) k)),"
        " o AS (DELETE FROM publish.output WHERE ctid = ANY (ARRAY(SELECT x.tid FROM gone g"
        "   CROSS JOIN LATERAL (SELECT y.ctid AS tid FROM publish.output y"
        "   WHERE y.release_id = g.release_id OFFSET 0) x))),"
        /* why the pruned revisions changed goes to the oldest one kept, so that `ncap release
         * diff` from an older final still counts it; not across a final between them, whose
         * diffs start after it */
        " k AS (SELECT release_id, revision FROM publish.release WHERE audit = $1 AND period = $2"
        "   AND status = 'provisional' AND release_id NOT IN (SELECT release_id FROM gone)"
        "   ORDER BY revision LIMIT 1),"
        " fold AS (INSERT INTO publish.release_change AS rc SELECT k.release_id, c.trust,"
        "   sum(c.added), sum(c.corrected), sum(c.relinked), sum(c.withdrawn), sum(c.rekeyed)"
        "   FROM publish.release_change c JOIN gone g USING (release_id) CROSS JOIN k"
        "   WHERE NOT EXISTS (SELECT 1 FROM publish.release f WHERE f.audit = $1"
        "   AND f.period = $2 AND f.status <> 'provisional' AND f.revision > g.revision"
        "   AND f.revision < k.revision) GROUP BY k.release_id, c.trust"
        "   ON CONFLICT (release_id, trust) DO UPDATE SET added = rc.added + EXCLUDED.added,"
        "   corrected = rc.corrected + EXCLUDED.corrected, relinked = rc.relinked +"
        "   EXCLUDED.relinked, withdrawn = rc.withdrawn + EXCLUDED.withdrawn,"
        "   rekeyed = rc.rekeyed + EXCLUDED.rekeyed),"
        " c AS (DELETE FROM publish.release_change WHERE release_id = ANY (ARRAY(SELECT"
        "   release_id FROM gone))),"
        " f AS (DELETE FROM publish.release_file WHERE release_id = ANY (ARRAY(SELECT release_id"
        "   FROM gone))),"
        " r AS (DELETE FROM publish.release WHERE release_id = ANY (ARRAY(SELECT release_id"
        "   FROM gone)))"
        " SELECT revision FROM gone",
        3, p, err, errlen);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        if (array_grow((void **)&ps->pruned, &ps->cap_pruned, ps->n_pruned + 1,
                       sizeof *ps->pruned) != 0) {
            rc = -1;
            break;
        }
        publish_pruned_t *x = &ps->pruned[ps->n_pruned];
        x->audit = strdup(audit);
        x->period = strdup(period);
        x->revision = atoi(PQgetvalue(r, i, 0));
        if (!x->audit || !x->period) {
            free(x->audit);
            free(x->period);
            rc = -1;
            break;
        }
        ps->n_pruned++;
    }
    PQclear(r);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* The most a batch holds of its new revisions' files until its commit (publish_ledger_t): past
 * it, a revision's files are read back from publish.release_file after commit, as all were
 * before (a round that rebuilds many periods, e.g. the first after start). */
#define PUBLISH_HELD_MAX_BYTES ((size_t)16 << 20)

static void ledger_free(publish_ledger_t *l)
{
    free(l->audit);
    free(l->period);
    free(l->delays);
    free(l->ascertained);
    for (size_t k = 0; k < 5; k++)
        free(l->files[k]);
}

/* The period's delays.csv and ascertainment.csv as they stand (malloc'd; NULL for a ledger without
 * a row: no published record version timed, no expected cases). Returns 0, or -1 with err. */
static int ledger_texts(PGconn *db, const audit_def_t *def, const char *audit, const char *period,
                        char **delays, char **ascertained, char *err, size_t errlen)
{
    int n = delay_ledger_csv(db, audit, period, def->disclosure_min_count, delays, err, errlen);
    if (n == 0) {
        free(*delays);
        *delays = NULL;
    }
    int m = n < 0 ? -1
                  : ascertainment_csv(db, audit, period, def->has_ascertainment_threshold,
                                      def->ascertainment_threshold, ascertained, err, errlen);
    if (m == 0) {
        free(*ascertained);
        *ascertained = NULL;
    }
    return n < 0 || m < 0 ? -1 : 0;
}

/* Rebuilds one audit period from its sums (release_sums.h); inserts a new revision only when its
 * content changed. */
static int rebuild(publish_t *ps, PGconn *db, const orgs_t *orgs, const release_sums_t *sums,
                   const release_values_t *held, const char *audit, const char *period, char *err,
                   size_t errlen)
{
    char derr[512];
    const audit_def_t *def = audit_cache_get(ps->audits, audit, derr, sizeof derr);
    if (!def) {
        snprintf(err, errlen, "cannot publish audit \"%s\": %s", audit, derr);
        return -1;
    }
    benchmark_metric_t *metrics = release_input_metrics(def);
    if (!metrics) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    release_actions_t actions = {0};
    benchmark_release_t rel = {0};
    char *csv = NULL, *json = NULL, *fingertips = NULL, *spc = NULL, *spc_summary = NULL;
    char *delays = NULL, *ascertained = NULL;
    PGresult *last = NULL, *ins = NULL;
    int rc = -1;
    long long n_records = sums->records;
    phase_end(ps, PH_READ);
    benchmark_input_t in = release_input_of(def, period, metrics, NULL, 0, orgs->orgs, orgs->n);
    release_sums_input(sums, &in);
    /* the values of median and mean metrics: from those held between rounds (held, NULL: none),
     * else read in value order as the build goes */
    release_values_t values = held ? *held : (release_values_t){0};
    values.db = db;
    values.audit = audit;
    values.period = period;
    in.read_measures = release_values_read;
    in.reader = &values;
    if (!ps->series_memo)
        ps->series_memo = benchmark_series_memo_new(); /* NULL: every build reads every month */
    in.series_memo = ps->series_memo;
    if (release_actions_load(db, audit, &actions, err, errlen) != 0)
        goto done;
    in.actions = actions.actions;
    in.n_actions = actions.n;
    phase_end(ps, PH_ACTIONS);
    if (benchmark_build(&in, &rel, err, errlen) != 0 ||
        outlier_publish_release(db, def, audit, period, &rel, err, errlen) != 0)
        goto done;
    if (!(csv = benchmark_csv_text(&in, &rel))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (benchmark_spc_text(&in, &spc, &spc_summary, err, errlen) != 0)
        goto done;
    const char *p[] = {audit, period};
    char records[32];
    snprintf(records, sizeof records, "%lld", n_records);
    char hash[65];
    release_files_hash(csv, spc, spc_summary, n_records, hash);
    phase_end(ps, PH_BUILD);
    /* the newest provisional revision's hash; a final release (migration 0025) takes a number
     * too, so the next revision comes after every one */
    last = db_query(db,
                    "SELECT coalesce(max(revision), 0), (SELECT content_hash FROM publish.release"
                    " WHERE audit = $1 AND period = $2 AND status = 'provisional'"
                    " ORDER BY revision DESC LIMIT 1) FROM publish.release WHERE audit = $1"
                    " AND period = $2",
                    2, p, err, errlen);
    if (!last)
        goto done;
    if (strcmp(PQgetvalue(last, 0, 1), hash) == 0) {
        rc = 0; /* nothing new to publish */
        goto done;
    }
    int revision = atoi(PQgetvalue(last, 0, 0)) + 1;
    char rev[16];
    snprintf(rev, sizeof rev, "%d", revision);
    const char *pi[] = {audit, period, rev, records, hash};
    ins = db_query(db,
                   "INSERT INTO publish.release (audit, period, revision, records, content_hash)"
                   " VALUES ($1, $2, $3::int, $4::int, $5) RETURNING release_id, status,"
                   " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
                   5, pi, err, errlen);
    if (!ins)
        goto done;
    const char *relid = PQgetvalue(ins, 0, 0);
    phase_end(ps, PH_STORE);
    json_t *prov = release_input_provenance(def, revision, PQgetvalue(ins, 0, 1), n_records,
                                            PQgetvalue(ins, 0, 2), "ncap-publishd " NCAP_VERSION);
    json = prov ? benchmark_json(&in, &rel, prov) : NULL;
    json_decref(prov);
    fingertips = benchmark_fingertips_text(&in, &rel);
    if (!json || !fingertips) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    phase_end(ps, PH_BUILD);
    /* the ledgers as they stand with this revision (this round's records counted in the delays:
     * publish.seen's trigger ran before), kept in its folder; none where a ledger has no row */
    if (ledger_texts(db, def, audit, period, &delays, &ascertained, err, errlen) != 0)
        goto done;
    const char *content[RELEASE_N_FILES] = {csv,         json,   fingertips, spc,
                                            spc_summary, delays, ascertained};
    const char *pc[] = {audit, period, relid};
    if (array_grow((void **)&ps->ledgers, &ps->cap_ledgers, ps->n_ledgers + 1,
                   sizeof *ps->ledgers) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (release_files_store(db, relid, content, err, errlen) != 0 ||
        db_execp(db,
                 "WITH m AS (DELETE FROM publish.pending_change WHERE audit = $1 AND period = $2"
                 " RETURNING trust, added, corrected, relinked, withdrawn, rekeyed)"
                 " INSERT INTO publish.release_change SELECT $3::bigint, m.* FROM m",
                 3, pc, err, errlen) != 0 ||
        prune(ps, db, audit, period, err, errlen) != 0)
        goto done;
    if (array_grow((void **)&ps->pending, &ps->cap_pending, ps->n_pending + 1,
                   sizeof *ps->pending) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    ps->pending[ps->n_pending++] = strtoll(relid, NULL, 10);
    /* the ledgers as stored, for after the commit (room made above), and the other files while
     * the batch's stay under the budget */
    publish_ledger_t *l = &ps->ledgers[ps->n_ledgers];
    *l = (publish_ledger_t){.audit = strdup(audit),
                            .period = strdup(period),
                            .delays = delays,
                            .ascertained = ascertained,
                            .revision = revision};
    delays = ascertained = NULL;
    if (!l->audit || !l->period) {
        ledger_free(l);
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    size_t bytes = 0;
    for (size_t k = 0; k < 5; k++)
        bytes += content[k] ? strlen(content[k]) : 0;
    if (ps->held_bytes + bytes <= PUBLISH_HELD_MAX_BYTES) {
        char **own[] = {&csv, &json, &fingertips, &spc, &spc_summary};
        for (size_t k = 0; k < 5; k++) {
            l->files[k] = *own[k];
            *own[k] = NULL;
        }
        ps->held_bytes += bytes;
    }
    ps->n_ledgers++;
    rc = 0;
done:
    phase_end(ps, PH_STORE);
    free(csv);
    free(json);
    free(fingertips);
    free(spc);
    free(spc_summary);
    free(delays);
    free(ascertained);
    PQclear(last);
    PQclear(ins);
    benchmark_release_free(&rel);
    free(metrics);
    release_actions_clear(&actions);
    return rc;
}

/* The rows of metric.record_state after publish's watermark ($1-$3, migration 0018): what publish
 * has not looked at since, an index range scan. */
#define AFTER_WATERMARK STAGE_AFTER_WATERMARK("r")
/* Rows written since the watermark's write_xid, or since the last round's xmin, both $1: a
 * range the planner takes whatever its statistics (STAGE_WRITTEN_SINCE) */
#define R_SINCE_1 STAGE_WRITTEN_SINCE("r.write_xid", "$1::xid8")
#define SINCE_1 STAGE_WRITTEN_SINCE("write_xid", "$1::xid8")
#define SINCE_3 STAGE_WRITTEN_SINCE("write_xid", "$3::xid8")
/* The publish.seen row of each row of r, as s (none: NULLs), found by its primary key: O(rows of
 * r). A plain LEFT JOIN lets the planner hash the whole of publish.seen, a scan of every record
 * ever published, each round (OFFSET 0 keeps the subquery from being pulled up into that join). */
#define SEEN_OF_R                                                                                  \
    " LEFT JOIN LATERAL (SELECT x.record_id, x.version, x.link_revision, x.period"                 \
    " FROM publish.seen x WHERE x.record_id = r.record_id OFFSET 0) s ON true"
/* A record whose version or link revision the releases do not reflect yet (s: its publish.seen). */
#define CHANGED                                                                                    \
    "s.record_id IS NULL OR s.version <> r.version OR s.link_revision <> r.link_revision"

/* Publish's backlog, for `ncap status`: records changed after its watermark ($1-$3), up to $4
 * (NULL: all). */
static const char backlog_count_sql[] =
    "SELECT count(*) FROM (SELECT 1 FROM metric.record_state r" SEEN_OF_R " WHERE " AFTER_WATERMARK
    " AND (" CHANGED ") LIMIT $4::int) b";

static void ledgers_clear(publish_t *ps)
{
    for (size_t i = 0; i < ps->n_ledgers; i++)
        ledger_free(&ps->ledgers[i]);
    ps->n_ledgers = 0;
    ps->held_bytes = 0;
}

static void pruned_clear(publish_t *ps)
{
    for (size_t i = 0; i < ps->n_pruned; i++) {
        free(ps->pruned[i].audit);
        free(ps->pruned[i].period);
    }
    ps->n_pruned = 0;
}

/* The changed records an audit's round takes now ($4: the interval in seconds): every one when
 * the interval is 0, when `ncap release now` asked (publish.release_request: for the audit, or
 * audit NULL for every one), or when none of the audit's provisional releases was made within the
 * interval; otherwise they wait, after the watermark, for the audit's next round. */
#define AUDIT_DUE(c)                                                                               \
    "($4::int = 0 OR EXISTS (SELECT 1 FROM req WHERE req.audit IS NULL OR req.audit = " c          \
    ".audit) OR NOT EXISTS (SELECT 1 FROM publish.release l WHERE l.audit = " c ".audit"           \
    " AND l.status = 'provisional' AND l.created_at > now() - make_interval(secs => $4::int)))"

/* Whether a round can have work for a changed record, from what the last round committed knew
 * (ps->known): the audits that may have changed records waiting for their round (ps->waiting,
 * an array literal) and its snapshot's xmin. A record written since then, or written by a
 * transaction still running then, has a write_xid of at least that xmin (migration 0018): the
 * audits of those rows ($1 the xmin), with the waiting ones ($2), are every audit a changed record
 * can belong to. The round takes changed records when `ncap release now` asked (any request: the
 * round takes the requests), or when one of those audits is due (AUDIT_DUE, $3 the interval);
 * otherwise it would take none, and the statement that reads the tail after the watermark is
 * left out. Cost: an index range of the rows written since the last round, not the tail. Sets
 * ps->next_xmin (this snapshot's), when no round is due ps->next_waiting (those audits), and
 * ps->due_at: when the soonest of those audits not due yet comes due (0: none).
 * Returns 1 when due, 0 when not, -1 with err. */
static int round_due(publish_t *ps, PGconn *db, const char *interval, char *err, size_t errlen)
{
    const char *p[] = {ps->xmin, ps->waiting, interval};
    PGresult *r =
        ps->known
            ? db_query(db,
                       "WITH a AS (SELECT DISTINCT audit FROM (SELECT unnest($2::text[]) AS audit"
                       "   UNION ALL SELECT audit FROM metric.record_state"
                       "   WHERE " SINCE_1 ") x)"
                       " SELECT pg_snapshot_xmin(pg_current_snapshot()),"
                       "   EXISTS (SELECT 1 FROM publish.release_request) OR EXISTS (SELECT 1"
                       "   FROM a WHERE $3::int = 0 OR NOT EXISTS (SELECT 1 FROM publish.release l"
                       "   WHERE l.audit = a.audit AND l.status = 'provisional'"
                       "   AND l.created_at > now() - make_interval(secs => $3::int))),"
                       "   array(SELECT audit FROM a ORDER BY 1),"
                       "   (SELECT extract(epoch FROM min(w.due) - clock_timestamp()) * 1000"
                       "   FROM a CROSS JOIN LATERAL (SELECT l.created_at + make_interval(secs =>"
                       "   $3::int) AS due FROM publish.release l WHERE l.audit = a.audit"
                       "   AND l.status = 'provisional' ORDER BY l.created_at DESC LIMIT 1) w"
                       "   WHERE w.due > now() AND NOT EXISTS (SELECT 1 FROM"
                       "   publish.release_request q WHERE q.audit IS NULL OR q.audit = a.audit))",
                       3, p, err, errlen)
            : db_query(db, "SELECT pg_snapshot_xmin(pg_current_snapshot()), true, '{}', NULL", 0,
                       NULL, err, errlen);
    if (!r)
        return -1;
    snprintf(ps->next_xmin, sizeof ps->next_xmin, "%s", PQgetvalue(r, 0, 0));
    int due = PQgetvalue(r, 0, 1)[0] == 't';
    /* the audits whose changed records wait (neither due nor asked for by `ncap release now`):
     * the soonest comes due then, a few ms on so that that round's now() is past it */
    ps->due_at = PQgetisnull(r, 0, 3)
                     ? 0
                     : clock_ms(CLOCK_MONOTONIC) + fmax(0, atof(PQgetvalue(r, 0, 3))) + 5;
    free(ps->next_waiting);
    ps->next_waiting = due ? NULL : strdup(PQgetvalue(r, 0, 2));
    PQclear(r);
    if (!due && !ps->next_waiting) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return due;
}

/* The audits of r's rows without a period (the round's audits whose changed records wait), as an
 * array literal into ps->next_waiting; none, and no round comes due (ps->due_at cleared):
 * round_due's hint also counts the audits of the rows written since the last round's snapshot,
 * already seen or not, and with another transaction of the cluster holding the snapshots' xmin
 * back, those include what this round just took. Returns 0, or -1 when out of memory. */
static int note_waiting(publish_t *ps, const PGresult *r)
{
    pg_columns_t a;
    pg_columns_open(&a, 1);
    for (int i = 0; i < PQntuples(r); i++)
        if (PQgetisnull(r, i, 1)) {
            const char *v[] = {PQgetvalue(r, i, 0)};
            pg_columns_row(&a, v);
        }
    if (a.nrows == 0)
        ps->due_at = 0;
    int rc = pg_columns_close(&a);
    free(ps->next_waiting);
    ps->next_waiting = rc == 0 ? strdup(a.params[0]) : NULL;
    pg_columns_free(&a);
    return ps->next_waiting ? 0 : -1;
}

/* Rebuilds the (audit, period) rows from to n of r, ordered by audit, each period read whole:
 * each audit's run-chart months are loaded once, up to the latest of its periods in r. Returns 0,
 * or -1 with err. */
static int rebuild_read(publish_t *ps, PGconn *db, const orgs_t *orgs, const PGresult *r, int from,
                        int n, char *err, size_t errlen)
{
    int rc = 0;
    load_t series = {0};
    const char *loaded = NULL; /* the audit whose run charts series holds */
    for (int i = from; rc == 0 && i < n; i++) {
        const char *audit = PQgetvalue(r, i, 0);
        if (PQgetisnull(r, i, 1)) /* an audit whose records wait (periodic's statement) */
            continue;
        if (!loaded || strcmp(audit, loaded) != 0) {
            /* the audit's run charts up to its last period of this round (rows of one audit
             * together; the latest of them, whatever their order) */
            const char *last = PQgetvalue(r, i, 1);
            for (int j = i + 1; j < n && strcmp(PQgetvalue(r, j, 0), audit) == 0; j++)
                if (!PQgetisnull(r, j, 1) && strcmp(PQgetvalue(r, j, 1), last) > 0)
                    last = PQgetvalue(r, j, 1);
            load_free(&series);
            if ((rc = load_series(db, audit, last, &series, err, errlen)) != 0)
                break;
            loaded = audit;
        }
        load_t own = {0};
        release_sums_t sums = {0};
        rc = load_sums(db, audit, PQgetvalue(r, i, 1), &series, &own, &sums, err, errlen);
        if (rc == 0)
            rc = rebuild(ps, db, orgs, &sums, NULL, audit, PQgetvalue(r, i, 1), err, errlen);
        release_sums_free(&sums);
        load_free(&own);
    }
    load_free(&series);
    return rc;
}

/* The most the sums publish holds between rounds may take (sums_cache.h): past it, it forgets
 * them and reads every period it rebuilds whole, as it did before it held any. */
#define SUMS_CACHE_MAX_BYTES ((size_t)48 << 20)

/* The periods of an audit with rows in metric.aggregate or metric.measure up to $2, each found by
 * an index probe (a loose scan of the keys of metric.aggregate and metric.cell, which start with
 * audit and period; a cell counts when it has a value: a probe of metric.measure's key). */
#define PERIOD_WITH_VALUES(after)                                                                  \
    "SELECT c.period FROM metric.cell c WHERE c.audit = $1" after                                  \
    "   AND EXISTS (SELECT FROM metric.measure v WHERE v.cell = c.id)"                             \
    "   ORDER BY c.audit, c.period LIMIT 1"
static const char audit_periods_sql[] =
    "WITH RECURSIVE a(p) AS (SELECT min(period) FROM metric.aggregate WHERE audit = $1"
    "   UNION ALL SELECT (SELECT min(period) FROM metric.aggregate WHERE audit = $1"
    "   AND period > a.p) FROM a WHERE a.p IS NOT NULL),"
    " m(p) AS (SELECT (" PERIOD_WITH_VALUES(
        " ") ")"
             "   UNION ALL SELECT (" PERIOD_WITH_VALUES(
                 " AND c.period > m.p ") ") FROM m"
                                         "   WHERE m.p IS NOT NULL)"
                                         " SELECT p FROM a WHERE p <= $2 UNION SELECT p FROM m "
                                         "WHERE p <= $2";

/* Frees a load whose strings are the cache's. */
static void load_free_shared(load_t *l)
{
    l->strings = NULL;
    load_free(l);
}

/* Puts the rows of (audit, period) into the cache, the whole period. Returns 0, or -1 with err. */
static int cache_read(publish_t *ps, PGconn *db, const char *audit, const char *period, char *err,
                      size_t errlen)
{
    load_t l = {.strings = sums_cache_strings(ps->cache), .layout = &OWN, .keep_records = true};
    const char *p[] = {audit, period};
    int rc = -1;
    if (db_each_row(db, CELLS_SQL, 2, p, cell_row, &l, err, errlen) == 0) {
        /* cells only: the values are held apart (values_update) */
        rc = sums_cache_put(ps->cache, audit, period, l.cells, l.n_cells);
        if (rc < 0)
            snprintf(err, errlen, "out of memory");
    }
    load_free_shared(&l);
    return rc < 0 ? -1 : 0;
}

/* The rows of metric.aggregate of the period ($1, $2) and the trusts $3 only that were written
 * since $4: per month of the period (a loose scan of the primary key, which starts audit, period,
 * month, trust) and trust, an index range of that trust's rows (OFFSET 0 keeps the planner from a
 * scan of the whole table filtered by trust), only the rows with write_xid >= $4 sent. Cost: O(the
 * rows of those ranges), read by PostgreSQL (write_xid is not indexed: migration 0045). */
static const char sums_changed_sql[] =
    "WITH RECURSIVE ms(m) AS (SELECT min(month) FROM metric.aggregate WHERE audit = $1"
    "   AND period = $2 UNION ALL SELECT (SELECT min(month) FROM metric.aggregate"
    "   WHERE audit = $1 AND period = $2 AND month > ms.m) FROM ms WHERE ms.m IS NOT NULL)"
    " SELECT a.* FROM ms CROSS JOIN unnest($3::text[]) t(trust) CROSS JOIN LATERAL"
    " (SELECT " CELL_COLUMNS " FROM metric.aggregate x WHERE x.audit = $1 AND x.period = $2"
    "   AND x.month = ms.m AND x.trust = t.trust AND x.write_xid >= $4::xid8 OFFSET 0) a";

/* The cells of a period gone since $3 (its snapshot's xmin; migration 0045), sums 0 as
 * cell_row reads them: an index range of metric.aggregate_gone by write_xid (a round's worth). */
static const char sums_gone_sql[] = "SELECT " CELL_COLUMNS_GONE " FROM metric.aggregate_gone"
                                    " WHERE " SINCE_3 " AND audit = $1 AND period = $2";

/* Brings the held (audit, period)'s sums up to the round from what changed since the snapshot
 * they are those of (sums_cache_since): the cells gone since, and of the trusts whose records
 * changed (lit: their array literal) the rows with write_xid >= its xmin, by index ranges of the
 * key's prefix (audit, period, month, trust), into sums_cache_apply. Every row written since the
 * snapshot, or by a transaction running then, has a write_xid of at least its xmin (migration
 * 0018's rule), and only a record of those trusts changes their rows. A period of no snapshot, or
 * of one older than RELEASE_VALUES_DELTA_MAX_MS (metric keeps the cells gone for twice that), is
 * read whole. Cost: the rows of those ranges read by PostgreSQL, only those changed sent. Returns
 * 0, or -1 with err. */
static int sums_delta(publish_t *ps, PGconn *db, const char *audit, const char *period,
                      const char *lit, char *err, size_t errlen)
{
    const char *xmin = sums_cache_since(ps->cache, audit, period, RELEASE_VALUES_DELTA_MAX_MS);
    if (!xmin)
        return cache_read(ps, db, audit, period, err, errlen);
    char since[24];
    snprintf(since, sizeof since, "%s", xmin);
    load_t gone = {.strings = sums_cache_strings(ps->cache), .layout = &OWN, .keep_records = true};
    load_t set = gone;
    const char *pg[] = {audit, period, since}, *ps_[] = {audit, period, lit, since};
    int rc = db_each_row(db, sums_gone_sql, 3, pg, cell_row, &gone, err, errlen);
    if (rc == 0)
        rc = db_each_row(db, sums_changed_sql, 4, ps_, cell_row, &set, err, errlen);
    if (rc == 0) {
        rc = sums_cache_apply(ps->cache, audit, period, gone.cells, gone.n_cells, set.cells,
                              set.n_cells);
        if (rc < 0)
            snprintf(err, errlen, "out of memory");
    }
    load_free_shared(&gone);
    load_free_shared(&set);
    if (rc == 1) /* not held: read whole */
        return cache_read(ps, db, audit, period, err, errlen);
    return rc;
}

/* The trusts of a row of periodic's statement (a JSON array of their codes) as an array literal
 * (*lit, malloc'd; NULL: none). Returns 0, or -1 with err. */
static int row_trusts(const char *text, char **lit, char *err, size_t errlen)
{
    *lit = NULL;
    json_error_t jerr;
    json_t *a = json_loads(text, 0, &jerr);
    if (!json_is_array(a)) {
        snprintf(err, errlen, "trusts of a period: expected a JSON array, found \"%.40s\"", text);
        json_decref(a);
        return -1;
    }
    size_t count = json_array_size(a);
    int rc = 0;
    if (count > 0) {
        pg_columns_t c;
        pg_columns_open(&c, 1);
        for (size_t i = 0; rc == 0 && i < count; i++) {
            const char *v[] = {json_string_value(json_array_get(a, i))};
            if (!v[0])
                rc = -1;
            else
                pg_columns_row(&c, v);
        }
        if (rc != 0 || pg_columns_close(&c) != 0 || !(*lit = strdup(c.params[0])))
            rc = -1;
        pg_columns_free(&c);
    }
    json_decref(a);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* Reads whole the values (value_cache.h) of the periods of rows from to n of r and of every
 * period of the audit up to the last (periods: audit_periods_sql's) the cache wants
 * (value_cache_wants), for their builds and run charts: the rebuilt periods first. Returns 0, or -1
 * with err. */
static int values_load(publish_t *ps, PGconn *db, const PGresult *r, int from, int n,
                       const PGresult *periods, char *err, size_t errlen)
{
    const char *audit = PQgetvalue(r, from, 0);
    int rc = 0, n_periods = PQntuples(periods);
    for (int i = from; rc == 0 && i < n + n_periods; i++) {
        const char *period = i < n ? PQgetvalue(r, i, 1) : PQgetvalue(periods, i - n, 0);
        if (value_cache_wants(ps->values, audit, period) &&
            release_values_cache(db, ps->values, audit, period, err, errlen) < 0)
            rc = -1;
    }
    return rc;
}

/* Brings the cache up to this round for the audit of rows from to n of r (periodic's: audit,
 * period, the JSON array of the trusts whose records changed in it): every period of the audit up
 * to its last one in r held (read whole when not held yet), then, in each row's period held
 * before whose records changed, its sums and values by what changed since its snapshot
 * (sums_delta: the cells gone, and the changed trusts' rows written since, by index ranges of
 * metric.aggregate's key prefix audit, period, month, trust; release_values_deltas, for those
 * periods together: the keys gone and the rows written since, by an index range of
 * metric.measure's write_xid), then
 * values_load.
 * The periods of the audit up to the last (audit_periods_sql's) into *periods. Returns 0, or -1
 * with err. */
static int cache_update(publish_t *ps, PGconn *db, const PGresult *r, int from, int n,
                        PGresult **periods_out, char *err, size_t errlen)
{
    const char *audit = PQgetvalue(r, from, 0), *last = PQgetvalue(r, from, 1);
    bool *held = calloc((size_t)(n - from) + 1, sizeof *held);
    if (!held) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = from; i < n; i++) {
        held[i - from] = sums_cache_has(ps->cache, audit, PQgetvalue(r, i, 1));
        if (strcmp(PQgetvalue(r, i, 1), last) > 0)
            last = PQgetvalue(r, i, 1);
    }
    const char *p[] = {audit, last};
    PGresult *periods = db_query(db, audit_periods_sql, 2, p, err, errlen);
    int rc = periods ? 0 : -1;
    for (int i = 0; rc == 0 && i < PQntuples(periods); i++)
        if (!sums_cache_has(ps->cache, audit, PQgetvalue(periods, i, 0)))
            rc = cache_read(ps, db, audit, PQgetvalue(periods, i, 0), err, errlen);
    /* the periods whose held values take what changed, read together after the loop */
    const char **deltas = calloc((size_t)(n - from) + 1, sizeof *deltas);
    size_t ndeltas = 0;
    if (!deltas && rc == 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    for (int i = from; rc == 0 && i < n; i++) {
        const char *period = PQgetvalue(r, i, 1);
        bool values = ps->values && value_cache_has(ps->values, audit, period);
        if (!held[i - from]) {
            /* read whole above, or a period with no rows left: held empty */
            if (!sums_cache_has(ps->cache, audit, period))
                rc = cache_read(ps, db, audit, period, err, errlen);
            if (!values)
                continue;
        }
        char *lit = NULL;
        if (rc == 0)
            rc = row_trusts(PQgetvalue(r, i, 2), &lit, err, errlen);
        if (rc == 0 && lit && held[i - from])
            rc = sums_delta(ps, db, audit, period, lit, err, errlen);
        if (rc == 0 && lit && values)
            deltas[ndeltas++] = period;
        free(lit);
    }
    if (rc == 0 && ndeltas > 0 &&
        release_values_deltas(db, ps->values, audit, deltas, ndeltas, err, errlen) < 0)
        rc = -1;
    free(deltas);
    free(held);
    if (rc == 0 && ps->values)
        rc = values_load(ps, db, r, from, n, periods, err, errlen);
    if (rc == 0)
        *periods_out = periods;
    else
        PQclear(periods);
    return rc;
}

/* How the build of row i of r takes its values (release_values_t): the period's from the cache
 * when held, its run charts' when every period of the audit up to it (periods) is. */
static release_values_t values_of(publish_t *ps, const PGresult *r, int i, const PGresult *periods)
{
    const char *audit = PQgetvalue(r, i, 0), *period = PQgetvalue(r, i, 1);
    release_values_t v = {.cache = ps->values};
    if (!ps->values)
        return v;
    v.own = value_cache_has(ps->values, audit, period);
    v.series = v.own;
    for (int k = 0; v.series && periods && k < PQntuples(periods); k++)
        if (strcmp(PQgetvalue(periods, k, 0), period) <= 0)
            v.series = value_cache_has(ps->values, audit, PQgetvalue(periods, k, 0));
    return v;
}

/* Rebuilds periodic's (audit, period, trusts) rows of r, from the sums and values held between
 * rounds (sums_cache.h, value_cache.h) brought up to this round: a round reads the cells and
 * values of the trusts whose records changed, not every period it rebuilds whole (the run charts'
 * later periods: nothing), and each build's run-chart values are merged from the periods held,
 * not read again per period. A period whose values are not held (past the values' budget) has
 * them streamed. Past the sums' budget, it forgets them and rebuilds as rebuild_read. Returns 0,
 * or -1 with err. */
static int rebuild_cached(publish_t *ps, PGconn *db, const orgs_t *orgs, const PGresult *r,
                          char *err, size_t errlen)
{
    int n = PQntuples(r), rc = 0;
    if (!ps->cache && !ps->cache_off && !(ps->cache = sums_cache_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!ps->values && !ps->cache_off &&
        !(ps->values = value_cache_new(ps->values_max ? ps->values_max : VALUE_CACHE_MAX_BYTES))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* what the round puts into the sums and values held is of its snapshot (round_due's xmin) */
    if (ps->cache)
        sums_cache_snapshot(ps->cache, ps->next_xmin, clock_ms(CLOCK_MONOTONIC));
    if (ps->values)
        value_cache_snapshot(ps->values, ps->next_xmin, clock_ms(CLOCK_MONOTONIC));
    for (int from = 0; rc == 0 && from < n;) {
        int to = from;
        while (to < n && strcmp(PQgetvalue(r, to, 0), PQgetvalue(r, from, 0)) == 0 &&
               !PQgetisnull(r, to, 1))
            to++;
        if (to == from) { /* an audit whose records wait (its row last, no period) */
            from++;
            continue;
        }
        PGresult *periods = NULL;
        if (!ps->cache_off) {
            ps->cache_dirty = true; /* until the round commits (after_commit) */
            rc = cache_update(ps, db, r, from, to, &periods, err, errlen);
            if (rc == 0 && sums_cache_bytes(ps->cache) > SUMS_CACHE_MAX_BYTES) {
                char mb[32];
                snprintf(mb, sizeof mb, "%zu", SUMS_CACHE_MAX_BYTES >> 20);
                ncap_log(LOG_INFO,
                         "the sums of the periods rebuilt exceed what publish holds between "
                         "rounds; it reads each period it rebuilds whole from now on",
                         "max_mb", mb, NULL);
                sums_cache_destroy(&ps->cache);
                value_cache_destroy(&ps->values);
                ps->cache_off = true;
            }
        }
        for (int i = from; rc == 0 && !ps->cache_off && i < to; i++) {
            const char *audit = PQgetvalue(r, i, 0), *period = PQgetvalue(r, i, 1);
            /* the records withheld under the opt-out, from linkage's counts: read each time */
            load_t w = {.strings = sums_cache_strings(ps->cache), .layout = &OWN};
            const char *p[] = {audit, period};
            release_sums_t sums = {0};
            rc = db_each_row(db, sums_sql[Q_WITHHELD], 2, p, cell_row, &w, err, errlen);
            if (rc == 0 &&
                sums_cache_sums(ps->cache, audit, period, w.cells, w.n_cells, &sums) != 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
            release_values_t held = values_of(ps, r, i, periods);
            if (rc == 0)
                rc = rebuild(ps, db, orgs, &sums, &held, audit, period, err, errlen);
            release_sums_free(&sums);
            load_free_shared(&w);
        }
        PQclear(periods);
        if (rc == 0 && ps->cache_off)
            rc = rebuild_read(ps, db, orgs, r, from, to, err, errlen);
        from = to;
    }
    return rc;
}

/* A round's statement ($1-$3 the watermark, $4 the interval): the changed records after the
 * watermark (the tail); those of the audits due (AUDIT_DUE) marked seen and counted for `ncap
 * release diff`; the watermark moved up to the first record that waits. Its rows: each period to
 * rebuild with the JSON array of the trusts whose records changed in it ('[]' for a later period,
 * rebuilt for its run charts), then each audit whose records wait (no period). */
static const char round_sql[] =
    "WITH tail AS (SELECT r.write_xid, r.record_id, r.version, r.link_revision, r.audit,"
    "   r.period, r.trust FROM metric.record_state r WHERE " AFTER_WATERMARK " AND " R_SINCE_1 "),"
    " changed AS (SELECT r.write_xid, r.record_id, r.version, r.link_revision, r.audit,"
    "   r.period, s.period AS old_period, r.trust, s.version AS old_version,"
    "   s.link_revision AS old_link_revision"
    "   FROM tail r" SEEN_OF_R " WHERE " CHANGED "),"
    /* `ncap release now`: taken by this round */
    " req AS (DELETE FROM publish.release_request RETURNING audit),"
    " due_audit AS (SELECT a.audit, " AUDIT_DUE(
        "a") " AS due FROM (SELECT DISTINCT audit"
             "   FROM changed) a),"
             " due AS (SELECT c.* FROM changed c JOIN due_audit d ON d.audit = c.audit AND d.due),"
             " waiting AS (SELECT c.write_xid, c.record_id, c.version FROM changed c"
             "   JOIN due_audit d ON d.audit = c.audit AND NOT d.due"
             "   ORDER BY c.write_xid, c.record_id, c.version LIMIT 1),"
             /* every row of the tail before the first waiting one is seen once this commits: the
              * watermark passes those below the horizon (migration 0018) */
             " mark AS (UPDATE publish.watermark w SET write_xid = t.write_xid,"
             "   record_id = t.record_id, version = t.version, moved_at = now() FROM (SELECT"
             "   write_xid, record_id, version FROM tail x"
             "   WHERE write_xid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))"
             "   AND NOT EXISTS (SELECT 1 FROM waiting b WHERE (x.write_xid, x.record_id, "
             "x.version)"
             "   >= (b.write_xid, b.record_id, b.version))"
             "   ORDER BY write_xid DESC, record_id DESC, version DESC LIMIT 1) t),"
             " up AS (INSERT INTO publish.seen (record_id, version, link_revision, audit, period)"
             "   SELECT record_id, version, link_revision, audit, period FROM due"
             "   ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version,"
             "   link_revision = EXCLUDED.link_revision, period = EXCLUDED.period,"
             "   published_at = now()),"
             /* why the period's next revision changes (migrations 0025, 0028): counts per trust; a
              * link revision of the same version is relinked (deaths loaded) when the record's
              * linked values changed after the revision publish saw, rekeyed (a new pseudonym only)
              * when not */
             " chg AS (INSERT INTO publish.pending_change AS pc (audit, period, trust, added,"
             "   corrected, relinked, withdrawn, rekeyed) SELECT audit, p, trust,"
             "   sum(a), sum(c), sum(l), sum(w), sum(k) FROM (SELECT audit, period AS p, trust,"
             "   a, c, (l AND NOT k)::int AS l, w, k::int AS k FROM (SELECT audit, period, trust,"
             "   (old_version IS NULL OR old_period IS DISTINCT FROM period)::int AS a,"
             "   coalesce(old_period = period AND version <> old_version, false)::int AS c,"
             "   coalesce(old_period = period AND version = old_version, false) AS l,"
             "   CASE WHEN old_period = period AND version = old_version THEN"
             "   coalesce(publish.link_payload_revision(record_id, version)"
             "   <= old_link_revision, false) ELSE false END AS k, 0 AS w"
             "   FROM due WHERE period IS NOT NULL) y"
             "   UNION ALL SELECT audit, old_period, trust, 0, 0, 0, 1, 0"
             "   FROM due WHERE old_period IS DISTINCT FROM period AND old_period IS NOT NULL)"
             "   x GROUP BY 1, 2, 3 ON CONFLICT (audit, period, trust) DO UPDATE SET"
             "   added = pc.added + EXCLUDED.added, corrected = pc.corrected +"
             "   EXCLUDED.corrected, relinked = pc.relinked + EXCLUDED.relinked,"
             "   withdrawn = pc.withdrawn + EXCLUDED.withdrawn,"
             "   rekeyed = pc.rekeyed + EXCLUDED.rekeyed),"
             /* the periods of the changes (before and after), with the trusts that changed in each
              */
             " periods AS (SELECT audit, p, json_agg(DISTINCT trust) AS trusts FROM (SELECT audit,"
             "   period AS p, trust FROM due UNION ALL SELECT audit, old_period, trust FROM due) x"
             "   WHERE p IS NOT NULL GROUP BY audit, p)"
             " SELECT audit, p, trusts::text FROM periods"
             /* a later period's run charts include the months of this one: rebuilt too */
             " UNION ALL SELECT DISTINCT r.audit, r.period, '[]' FROM publish.release r"
             "   JOIN (SELECT audit, min(p) AS first FROM periods GROUP BY audit) f"
             "   ON r.audit = f.audit AND r.period > f.first WHERE NOT EXISTS (SELECT 1 FROM "
             "periods x"
             "   WHERE x.audit = r.audit AND x.p = r.period)"
             /* the audits whose changed records wait for their next round (no period) */
             " UNION ALL SELECT audit, NULL, NULL FROM due_audit WHERE NOT due"
             " ORDER BY 1, 2";

/* The sums held between rounds are those of this daemon's last round, brought up to each round
 * by the trusts whose records it marks seen: a round of another publisher (one at a time, each
 * marking records seen) or a migration since would leave them behind. Each round that can mark
 * records seen writes publish.watermark (cache_stamp) and keeps the transaction id that did;
 * a round that finds the row written by another (its xmin) forgets the sums. Returns 0, or -1
 * with err. */
static int cache_check(publish_t *ps, PGconn *db, char *err, size_t errlen)
{
    PGresult *r = db_query(db, "SELECT xmin::text FROM publish.watermark", 0, NULL, err, errlen);
    if (!r)
        return -1;
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), ps->round_xid) != 0) {
        sums_cache_clear(ps->cache);
        value_cache_clear(ps->values);
    }
    PQclear(r);
    return 0;
}

static int cache_stamp(publish_t *ps, PGconn *db, char *err, size_t errlen)
{
    PGresult *r =
        db_query(db, "UPDATE publish.watermark SET moved_at = moved_at RETURNING xmin::text", 0,
                 NULL, err, errlen);
    if (!r)
        return -1;
    snprintf(ps->next_round_xid, sizeof ps->next_round_xid, "%s",
             PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}

/* A round stores hundreds of kB of files per revision (publish.release_file), which PostgreSQL
 * compresses as it stores them: with its default, pglz, that was the largest part of publish's
 * backend CPU at a steady load; lz4 (where the server has it) compresses several times faster.
 * Only how the bytes are kept changes: they read back the same, whichever method stored them.
 * SET LOCAL: for this round's transaction alone. Returns 0, or -1 with err. */
static int toast_lz4(publish_t *ps, PGconn *db, char *err, size_t errlen)
{
    if (ps->toast_lz4 == 0) {
        PGresult *r = db_query(db,
                               "SELECT coalesce((SELECT 'lz4' = ANY (enumvals) FROM pg_settings"
                               " WHERE name = 'default_toast_compression'), false)",
                               0, NULL, err, errlen);
        if (!r)
            return -1;
        ps->toast_lz4 = PQgetvalue(r, 0, 0)[0] == 't' ? 1 : -1;
        PQclear(r);
    }
    return ps->toast_lz4 > 0 ? db_exec(db, "SET LOCAL default_toast_compression = lz4", err, errlen)
                             : 0;
}

/* Marks what the releases will reflect first, then aggregates: every record version marked seen
 * is then in the figures (a newer one only triggers another rebuild). The periods rebuilt are
 * those of the changed records of the audits due a round (AUDIT_DUE; before and after the change)
 * and every later period of their audit with a release: its run charts (spc.csv) show the months
 * of earlier periods. A later period whose files come out the same gets no new revision. The
 * watermark stops before the first changed record of an audit not due, so that the record is
 * found again for the audit's next round (a kill -9 meanwhile loses nothing: nothing but the
 * commit marks it). Cost: per rebuilt period O(its cells) plus the SII's simulations, and per
 * audit O(its run charts' months) once. Returns the periods rebuilt, or -1 with err. */
static int periodic(void *state, PGconn *db, int limit, stage_keys_t *out, char *err, size_t errlen)
{
    (void)limit;
    (void)out;
    publish_t *ps = state;
    ps->n_pending = 0;
    ps->rebuilt = false;
    ps->due_at = 0;   /* until this round's round_due says otherwise */
    pruned_clear(ps); /* from a batch rolled back */
    ledgers_clear(ps);
    if (ps->cache_dirty) { /* a round that changed the sums held did not commit */
        sums_cache_clear(ps->cache);
        if (ps->values)
            value_cache_drop_touched(ps->values);
    }
    if (ps->values)
        value_cache_round(ps->values);
    benchmark_series_memo_clear(ps->series_memo);
    ps->cache_dirty = false;
    ps->next_round_xid[0] = '\0';
    memset(ps->phase_ms, 0, sizeof ps->phase_ms);
    ps->clock = clock_ms(CLOCK_MONOTONIC);
    ps->cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    /* One snapshot for the round (REPEATABLE READ), taken once publish's lock is held: the
     * records it marks seen and counts as changes are exactly those in the sums it then reads (a
     * record metric commits meanwhile is in neither: the next round takes it), and a final
     * committed before the lock is seen by publish.seen's trigger (`ncap release finalise` takes
     * the same lock before its snapshot). LOCK TABLE takes no snapshot, so it comes first; a
     * concurrent change to a row the round writes (a trust's outlier response) fails the round
     * with 40001, and it is retried. The advisory lock: one publisher at a time, also against an
     * older instance without the table lock. */
    if (db_exec(db,
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;"
                " LOCK TABLE publish.watermark IN SHARE ROW EXCLUSIVE MODE",
                err, errlen) != 0 ||
        db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('ncap.publish'))", err, errlen) != 0 ||
        toast_lz4(ps, db, err, errlen) != 0)
        return -1;
    phase_end(ps, PH_LOCK);
    char interval[16];
    snprintf(interval, sizeof interval, "%d",
             publish_round_spacing_s(ps->interval_s, ps->last_round_ms));
    const char *p[] = {interval};
    int due = round_due(ps, db, interval, err, errlen);
    phase_end(ps, PH_DUE);
    if (due < 0 || (due && cache_check(ps, db, err, errlen) != 0))
        return -1;
    PGresult *changed = !due ? PQmakeEmptyPGresult(db, PGRES_TUPLES_OK)
                             : stage_wm_query(db, "publish", round_sql, 1, p, err, errlen);
    if (changed && due && cache_stamp(ps, db, err, errlen) != 0) {
        PQclear(changed);
        return -1;
    }
    if (!changed || (due && note_waiting(ps, changed) != 0)) {
        if (changed || !due)
            snprintf(err, errlen, "out of memory");
        PQclear(changed);
        return -1;
    }
    phase_end(ps, PH_TAIL);
    /* outlier cases past their deadline move on: where one is published, its alarm shows */
    PGresult *outliers = outlier_publish_tick(db, ps->audits, ps->out_dir, err, errlen);
    if (!outliers) {
        PQclear(changed);
        return -1;
    }
    phase_end(ps, PH_OUTLIERS);
    int rc = 0, n = 0, n_outliers = PQntuples(outliers);
    for (int i = 0; i < PQntuples(changed); i++)
        n += !PQgetisnull(changed, i, 1); /* the periods; not the audits that wait */
    orgs_t orgs = {0};
    if (n + n_outliers > 0)
        rc = orgs_load(db, &orgs, err, errlen);
    if (rc == 0)
        rc = rebuild_cached(ps, db, &orgs, changed, err, errlen);
    if (rc == 0 && n_outliers > 0)
        rc = rebuild_read(ps, db, &orgs, outliers, 0, n_outliers, err, errlen);
    n += n_outliers;
    phase_end(ps, PH_READ);
    /* an action registered since (`ncap action add`): its audit's charts break at it */
    PGresult *acted = rc == 0 ? release_actions_pending(db, err, errlen) : NULL;
    int na = acted ? PQntuples(acted) : 0;
    rc = rc == 0 && !acted ? -1 : rc;
    if (rc == 0 && na > 0 && !orgs.orgs)
        rc = orgs_load(db, &orgs, err, errlen);
    if (rc == 0 && na > 0)
        rc = rebuild_read(ps, db, &orgs, acted, 0, na, err, errlen);
    PQclear(acted);
    phase_end(ps, PH_ACTIONS);
    orgs_clear(&orgs);
    PQclear(outliers);
    PQclear(changed);
    ps->rebuilt = rc == 0 && n + na > 0;
    return rc == 0 ? n + na : -1;
}

int publish_round_spacing_s(int interval_s, double last_round_ms)
{
    if (interval_s <= 0)
        return 0;
    double took = last_round_ms / 1000;
    return took > interval_s ? (int)ceil(2 * took) : interval_s;
}

/* The wall time of the round (ms): its phases'. */
static double round_wall_ms(const publish_t *ps)
{
    double wall = 0;
    for (int ph = 0; ph < N_PHASES; ph++)
        wall += ps->phase_ms[ph];
    return wall;
}

/* The line of a round that published: its releases, its time (wall, from its start to the end of
 * the work after its commit) and CPU, and the time of each phase. */
static void log_round(const publish_t *ps)
{
    char v[N_PHASES + 5][32];
    const char *kv[2 * (N_PHASES + 5) + 1];
    size_t k = 0, i = 0;
    double wall = round_wall_ms(ps);
#define KV(name, ...)                                                                              \
    do {                                                                                           \
        snprintf(v[i], sizeof v[i], __VA_ARGS__);                                                  \
        kv[k++] = (name);                                                                          \
        kv[k++] = v[i++];                                                                          \
    } while (0)
    KV("releases", "%zu", ps->n_pending);
    KV("pruned", "%zu", ps->n_pruned);
    KV("round_ms", "%.1f", wall);
    KV("cpu_ms", "%.1f", clock_ms(CLOCK_PROCESS_CPUTIME_ID) - ps->cpu0);
    for (int ph = 0; ph < N_PHASES; ph++)
        KV(PHASE_NAMES[ph], "%.1f", ps->phase_ms[ph]);
#undef KV
    _Static_assert(2 * (N_PHASES + 4) == 32, "log_round passes each of its 32 strings below");
    kv[k] = NULL;
    ncap_log(LOG_INFO, "published releases", kv[0], kv[1], kv[2], kv[3], kv[4], kv[5], kv[6], kv[7],
             kv[8], kv[9], kv[10], kv[11], kv[12], kv[13], kv[14], kv[15], kv[16], kv[17], kv[18],
             kv[19], kv[20], kv[21], kv[22], kv[23], kv[24], kv[25], kv[26], kv[27], kv[28], kv[29],
             kv[30], kv[31], "out", ps->out_dir, NULL);
}

/* Writes the portal (site_build.h); when it fails, it is tried again after the next release. */
static void site_write(publish_t *ps)
{
    char err[2048];
    ps->site_at = clock_ms(CLOCK_MONOTONIC);
    ps->site_due = site_build(ps->out_dir, NULL, err, sizeof err) < 0;
    if (ps->site_due)
        ncap_log(LOG_WARN, "could not write the portal; will retry after the next release", "error",
                 err, NULL);
}

void publish_stage_finish(publish_t *ps)
{
    if (ps->site_due)
        site_write(ps);
}

/* Writes the files of revision l (held: publish_ledger_t) into its folder and latest.*. */
static int write_held(const publish_t *ps, const publish_ledger_t *l, char *err, size_t errlen)
{
    const char *content[RELEASE_N_FILES] = {l->files[0], l->files[1], l->files[2],   l->files[3],
                                            l->files[4], l->delays,   l->ascertained};
    size_t len[RELEASE_N_FILES];
    for (size_t k = 0; k < RELEASE_N_FILES; k++)
        len[k] = content[k] ? strlen(content[k]) : 0;
    return release_files_write(ps->out_dir, l->audit, l->period, l->revision, content, len, err,
                               errlen);
}

static void after_commit(void *state, PGconn *db)
{
    publish_t *ps = state;
    phase_end(ps, PH_COMMIT);
    ps->cache_dirty = false; /* the sums held are this round's */
    if (ps->next_round_xid[0])
        snprintf(ps->round_xid, sizeof ps->round_xid, "%s", ps->next_round_xid);
    /* what the round knew is true now: the next one starts from it (round_due) */
    if (ps->next_waiting) {
        snprintf(ps->xmin, sizeof ps->xmin, "%s", ps->next_xmin);
        free(ps->waiting);
        ps->waiting = ps->next_waiting;
        ps->next_waiting = NULL;
        ps->known = true;
    }
    for (size_t i = 0; i < ps->n_pending; i++) {
        char err[1024];
        /* the files as stored, when held (the ledgers are pending's order); else read back */
        const publish_ledger_t *l = i < ps->n_ledgers ? &ps->ledgers[i] : NULL;
        if ((l && l->files[0]
                 ? write_held(ps, l, err, sizeof err)
                 : release_files_export(db, ps->out_dir, ps->pending[i], err, sizeof err)) != 0)
            ncap_log(LOG_ERROR, "could not write release files; will retry at start-up", "error",
                     err, NULL);
    }
    for (size_t i = 0; i < ps->n_pruned; i++) {
        char err[1024];
        const publish_pruned_t *x = &ps->pruned[i];
        if (release_files_remove(ps->out_dir, x->audit, x->period, x->revision, err, sizeof err) !=
            0)
            ncap_log(LOG_WARN, "could not remove a pruned revision's files", "error", err, NULL);
    }
    phase_end(ps, PH_EXPORT);
    /* The period files drawn from more than the figures: the delay ledger and case ascertainment
     * (records marked seen that changed no figure still count there), the finals' late records (a
     * version received after a final's cutoff published in this round), and linkage quality (a
     * death linked, or records withheld beside those that reached metric, may change it and not
     * the figures). Each file is written only when it changed (period_export.h). A new revision's
     * ledgers are written at once from the texts stored with it; late.csv after every round that
     * rebuilt a period (a statement over the finals: none, most of the year) and linkage quality
     * (linkage's counts, ~900 rows a period at 120,000 records, read once for both its files):
     * neither has a copy stored with a revision, and a file written some seconds after the round
     * would change the tables after `ncap wait` saw the pipeline settled; the delays and
     * ascertainment of every period, each built from its histograms or sums read whole (~2,000
     * rows a period, and their reports: tens of ms per period at a steady load), at most every
     * PUBLISH_LEDGERS_EVERY_MS after such rounds (at once after a quiet spell), so that a period
     * rebuilt with no new revision or expected cases loaded show there within that time. */
    bool round = ps->n_pending > 0 || ps->rebuilt;
    ps->ledgers_due = ps->ledgers_due || round;
    double now = clock_ms(CLOCK_MONOTONIC);
    bool every = ps->ledgers_due &&
                 (ps->ledgers_at == 0 || now - ps->ledgers_at >= PUBLISH_LEDGERS_EVERY_MS);
    if (round || every) {
        char err[1024];
        int rc = 0;
        for (size_t i = 0; rc >= 0 && i < ps->n_ledgers; i++) {
            const publish_ledger_t *l = &ps->ledgers[i];
            if (l->delays)
                rc = period_export_text(db, "publish.delay_export", ps->out_dir, l->audit,
                                        l->period, "delays.csv", l->delays, err, sizeof err);
            if (rc >= 0 && l->ascertained)
                rc = period_export_text(db, "publish.ascertainment_export", ps->out_dir, l->audit,
                                        l->period, "ascertainment.csv", l->ascertained, err,
                                        sizeof err);
        }
        if (rc >= 0 && every &&
            (rc = delay_ledger_export(db, ps->audits, ps->out_dir, err, sizeof err)) >= 0 &&
            (rc = ascertainment_export(db, ps->audits, ps->out_dir, err, sizeof err)) >= 0) {
            ps->ledgers_at = now;
            ps->ledgers_due = false;
        }
        if (rc < 0 || final_late_export(db, ps->audits, ps->out_dir, err, sizeof err) < 0 ||
            linkage_quality_export(db, ps->audits, ps->out_dir, err, sizeof err) < 0) {
            ps->ledgers_at = 0; /* every period's again after the next round */
            ncap_log(LOG_WARN,
                     "could not write delays.csv, ascertainment.csv, a final's late.csv or "
                     "linkage_quality.csv; will retry after the next round",
                     "error", err, NULL);
        }
    }
    ledgers_clear(ps);
    phase_end(ps, PH_LEDGERS);
    ps->rebuilt = false;
    /* the portal, drawn from the files just written; O(organisations x metrics x rows) of the
     * audits' latest releases, in the daemon's loop (tens of ms for one audit, seconds at national
     * scale): after a round that wrote releases, at most every PUBLISH_SITE_EVERY_MS (a round
     * every interval would rebuild it each time), and at exit (publish_stage_finish) */
    ps->site_due = ps->site_due || ps->n_pending > 0;
    if (ps->site_due &&
        (ps->site_at == 0 || clock_ms(CLOCK_MONOTONIC) - ps->site_at >= PUBLISH_SITE_EVERY_MS))
        site_write(ps);
    phase_end(ps, PH_SITE);
    if (ps->n_pending > 0) {
        log_round(ps);
        ps->last_round_ms = round_wall_ms(ps);
    }
    ps->n_pending = 0;
    pruned_clear(ps);
}

/* stage_ops_t.due_in_ms: the ms until ps->due_at, or -1 when no audit's records wait. */
static long long due_in_ms(void *state)
{
    const publish_t *ps = state;
    if (!ps || ps->due_at <= 0)
        return -1;
    double in = ps->due_at - clock_ms(CLOCK_MONOTONIC);
    return in > 0 ? (long long)ceil(in) : 0;
}

stage_ops_t publish_stage_ops(publish_t *ps)
{
    return (stage_ops_t){.upstream = "metric",
                         .state = ps,
                         .backlog_count_sql = backlog_count_sql,
                         .periodic = periodic,
                         .after_commit = after_commit,
                         .gather_ms = 300,
                         /* a round comes due by time: looked for every second */
                         .max_idle_ms = ps && ps->interval_s > 0 ? 1000 : 0,
                         .due_in_ms = due_in_ms};
}

void publish_stage_clear(publish_t *ps)
{
    free(ps->pending);
    ps->pending = NULL;
    ps->n_pending = ps->cap_pending = 0;
    pruned_clear(ps);
    free(ps->pruned);
    ps->pruned = NULL;
    ps->cap_pruned = 0;
    ledgers_clear(ps);
    free(ps->ledgers);
    ps->ledgers = NULL;
    ps->cap_ledgers = 0;
    free(ps->waiting);
    free(ps->next_waiting);
    ps->waiting = ps->next_waiting = NULL;
    ps->known = false;
    sums_cache_destroy(&ps->cache);
    value_cache_destroy(&ps->values);
    benchmark_series_memo_destroy(&ps->series_memo);
    ps->cache_dirty = ps->cache_off = false;
    ps->round_xid[0] = '\0';
}
