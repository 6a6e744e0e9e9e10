/* publish_stage.c - ncap-publishd's work: rebuild what changed, one release revision per change */
#include "publish_stage.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "benchmark.h"
#include "outlier_publish.h"
#include "release_files.h"
#include "release_input.h"
#include "release_sums.h"

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

/* The stored release's files (content in RELEASE_FILE_NAMES' order), written out after commit
 * (release_files.h). */
static int store_files(PGconn *db, const char *relid, const char *const content[RELEASE_N_FILES],
                       char *err, size_t errlen)
{
    for (size_t k = 0; k < RELEASE_N_FILES; k++) {
        const char *p[] = {relid, RELEASE_FILE_NAMES[k], content[k]};
        if (db_execp(db,
                     "INSERT INTO publish.release_file (release_id, name, content) VALUES"
                     " ($1::bigint, $2, $3)",
                     3, p, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The release's rows, queryable (one per line of latest.csv), from its JSON (rows as arrays in
 * the order of latest.csv's columns). */
static int store_rows(PGconn *db, const char *relid, const char *json, char *err, size_t errlen)
{
    const char *p[] = {relid, json};
    return db_execp(db,
                    "INSERT INTO publish.output SELECT $1::bigint, e.n::int, r->>2, r->>3, r->>4,"
                    " coalesce(r->>5, ''), r->>6, r->>7, coalesce(r->>8, ''), (r->>9)::bigint,"
                    " (r->>10)::bigint, (r->>11)::float8, (r->>12)::float8, (r->>13)::float8,"
                    " (r->>14)::float8, (r->>15)::float8, (r->>16)::float8, coalesce(r->>17, ''),"
                    " (r->>18)::float8, (r->>19)::float8, (r->>20)::float8, (r->>21)::float8,"
                    " coalesce(r->>22, ''), coalesce(r->>23, '')"
                    " FROM json_array_elements($2::json -> 'rows') WITH ORDINALITY AS e(r, n)",
                    2, p, err, errlen);
}

/* The queries of a period's sums (release_sums.h), each with $1 the audit and $2 the period. Cost:
 * O(cells of the period), and O(breakdown 'all' cells of the audit up to the period) for the run
 * charts, never a record. */
static const char *const sums_sql[] = {
    /* the period's cells, months summed; metric '' counts records */
    "SELECT trust, site, metric_id, breakdown, category, sum(numerator), sum(denominator),"
    " sum(expected_e9), sum(held), sum(missing) FROM metric.aggregate"
    " WHERE audit = $1 AND period = $2 GROUP BY trust, site, metric_id, breakdown, category",
    /* its values */
    "SELECT trust, site, metric_id, breakdown, category, value, sum(count) FROM metric.measure"
    " WHERE audit = $1 AND period = $2 GROUP BY trust, site, metric_id, breakdown, category, value",
    /* the months up to its end */
    "SELECT trust, site, metric_id, month, numerator, denominator, expected_e9, held, missing"
    " FROM metric.aggregate WHERE audit = $1 AND period <= $2 AND breakdown = 'all'"
    " AND month <> '' AND metric_id <> ''",
    "SELECT trust, site, metric_id, month, value, count FROM metric.measure"
    " WHERE audit = $1 AND period <= $2 AND breakdown = 'all'"};
enum { Q_CELLS, Q_MEASURES, Q_SERIES, Q_SERIES_MEASURES, N_SUMS_SQL };

static long long num_at(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A cell of a row of sums_sql: key columns, then the five sums from column sum. */
static benchmark_cell_t cell_at(const PGresult *r, int row, const char *breakdown,
                                const char *category, const char *month, int sum)
{
    return (benchmark_cell_t){.trust = PQgetvalue(r, row, 0),
                              .site = PQgetvalue(r, row, 1),
                              .metric = PQgetvalue(r, row, 2),
                              .breakdown = breakdown,
                              .category = category,
                              .month = month,
                              .numerator = num_at(r, row, sum),
                              .denominator = num_at(r, row, sum + 1),
                              .expected_e9 = num_at(r, row, sum + 2),
                              .held = num_at(r, row, sum + 3),
                              .missing = num_at(r, row, sum + 4)};
}

static benchmark_measure_t measure_at(const PGresult *r, int row, const char *breakdown,
                                      const char *category, const char *month, int value)
{
    return (benchmark_measure_t){.trust = PQgetvalue(r, row, 0),
                                 .site = PQgetvalue(r, row, 1),
                                 .metric = PQgetvalue(r, row, 2),
                                 .breakdown = breakdown,
                                 .category = category,
                                 .month = month,
                                 .value = strtod(PQgetvalue(r, row, value), NULL),
                                 .count = num_at(r, row, value + 1)};
}

/* Reads the period's sums (pointing into res[N_SUMS_SQL]) into s, in release_sums_sort's order.
 */
static int load_sums(PGconn *db, const char *audit, const char *period, PGresult **res,
                     release_sums_t *s, char *err, size_t errlen)
{
    const char *p[] = {audit, period};
    for (int q = 0; q < N_SUMS_SQL; q++)
        if (!(res[q] = db_query(db, sums_sql[q], 2, p, err, errlen)))
            return -1;
    int n[N_SUMS_SQL];
    for (int q = 0; q < N_SUMS_SQL; q++)
        n[q] = PQntuples(res[q]);
    s->cells = calloc((size_t)n[Q_CELLS] + 1, sizeof *s->cells);
    s->measures = calloc((size_t)n[Q_MEASURES] + 1, sizeof *s->measures);
    s->series = calloc((size_t)n[Q_SERIES] + 1, sizeof *s->series);
    s->series_measures = calloc((size_t)n[Q_SERIES_MEASURES] + 1, sizeof *s->series_measures);
    if (!s->cells || !s->measures || !s->series || !s->series_measures) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const PGresult *r = res[Q_CELLS];
    for (int i = 0; i < n[Q_CELLS]; i++) {
        const char *breakdown = PQgetvalue(r, i, 3);
        if (PQgetvalue(r, i, 2)[0] == '\0') { /* CONTRIBUTION_RECORDS */
            if (strcmp(breakdown, "all") == 0)
                s->records += num_at(r, i, 6);
            continue;
        }
        s->cells[s->n_cells++] = cell_at(r, i, breakdown, PQgetvalue(r, i, 4), "", 5);
    }
    r = res[Q_MEASURES];
    for (int i = 0; i < n[Q_MEASURES]; i++)
        s->measures[s->n_measures++] =
            measure_at(r, i, PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), "", 5);
    r = res[Q_SERIES];
    for (int i = 0; i < n[Q_SERIES]; i++)
        s->series[s->n_series++] = cell_at(r, i, "all", "", PQgetvalue(r, i, 3), 4);
    r = res[Q_SERIES_MEASURES];
    for (int i = 0; i < n[Q_SERIES_MEASURES]; i++)
        s->series_measures[s->n_series_measures++] =
            measure_at(r, i, "all", "", PQgetvalue(r, i, 3), 4);
    release_sums_sort(s);
    return 0;
}

/* Rebuilds one audit period from the aggregates; inserts a new revision only when its content
 * changed. */
static int rebuild(publish_t *ps, PGconn *db, const orgs_t *orgs, const char *audit,
                   const char *period, char *err, size_t errlen)
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
    PGresult *sres[N_SUMS_SQL] = {NULL};
    release_sums_t sums = {0};
    benchmark_release_t rel = {0};
    char *csv = NULL, *json = NULL, *fingertips = NULL, *spc = NULL, *spc_summary = NULL;
    PGresult *last = NULL, *ins = NULL;
    int rc = -1;
    long long n_records = 0;
    if (load_sums(db, audit, period, sres, &sums, err, errlen) != 0)
        goto done;
    n_records = sums.records;
    benchmark_input_t in = release_input_of(def, period, metrics, NULL, 0, orgs->orgs, orgs->n);
    release_sums_input(&sums, &in);
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
    /* Content hash over the CSVs as published (the run charts change with months of earlier
     * periods), plus the record count. */
    crypto_hash_sha256_state hs;
    unsigned char h[crypto_hash_sha256_BYTES];
    char hash[65];
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, (const unsigned char *)csv, strlen(csv));
    crypto_hash_sha256_update(&hs, (const unsigned char *)spc, strlen(spc));
    crypto_hash_sha256_update(&hs, (const unsigned char *)spc_summary, strlen(spc_summary));
    crypto_hash_sha256_update(&hs, (const unsigned char *)"records=", 8);
    crypto_hash_sha256_update(&hs, (const unsigned char *)records, strlen(records));
    crypto_hash_sha256_final(&hs, h);
    sodium_bin2hex(hash, sizeof hash, h, sizeof h);
    last = db_query(db,
                    "SELECT revision, content_hash FROM publish.release WHERE audit = $1"
                    " AND period = $2 ORDER BY revision DESC LIMIT 1",
                    2, p, err, errlen);
    if (!last)
        goto done;
    int revision = 1;
    if (PQntuples(last) == 1) {
        if (strcmp(PQgetvalue(last, 0, 1), hash) == 0) {
            rc = 0; /* nothing new to publish */
            goto done;
        }
        revision = atoi(PQgetvalue(last, 0, 0)) + 1;
    }
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
    json_t *prov = release_input_provenance(def, revision, PQgetvalue(ins, 0, 1), n_records,
                                            PQgetvalue(ins, 0, 2), "ncap-publishd " NCAP_VERSION);
    json = prov ? benchmark_json(&in, &rel, prov) : NULL;
    json_decref(prov);
    fingertips = benchmark_fingertips_text(&in, &rel);
    if (!json || !fingertips) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    const char *content[RELEASE_N_FILES] = {csv, json, fingertips, spc, spc_summary};
    if (store_files(db, relid, content, err, errlen) != 0 ||
        store_rows(db, relid, json, err, errlen) != 0)
        goto done;
    if (ps->n_pending == ps->cap_pending) {
        size_t cap = ps->cap_pending ? ps->cap_pending * 2 : 16;
        long long *np = realloc(ps->pending, cap * sizeof *np);
        if (!np) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        ps->pending = np;
        ps->cap_pending = cap;
    }
    ps->pending[ps->n_pending++] = strtoll(relid, NULL, 10);
    rc = 0;
done:
    free(csv);
    free(json);
    free(fingertips);
    free(spc);
    free(spc_summary);
    PQclear(last);
    PQclear(ins);
    benchmark_release_free(&rel);
    release_sums_free(&sums);
    for (int q = 0; q < N_SUMS_SQL; q++)
        PQclear(sres[q]);
    free(metrics);
    return rc;
}

/* The rows of metric.record_state after publish's watermark ($1-$3, migration 0018): what publish
 * has not looked at since, an index range scan. */
#define AFTER_WATERMARK STAGE_AFTER_WATERMARK("r")
/* A record whose version or link revision the releases do not reflect yet (s: its publish.seen). */
#define CHANGED                                                                                    \
    "s.record_id IS NULL OR s.version <> r.version OR s.link_revision <> r.link_revision"

/* Publish's backlog, for `ncap status`: records changed after its watermark ($1-$3). */
static const char backlog_count_sql[] =
    "SELECT count(*) FROM metric.record_state r LEFT JOIN publish.seen s USING (record_id)"
    " WHERE " AFTER_WATERMARK " AND (" CHANGED ")";

/* Marks what the releases will reflect first, then aggregates: every record version marked seen
 * is then in the figures (a newer one only triggers another rebuild). The periods rebuilt are
 * those of the changed records (before and after the change) and every later period of their
 * audit with a release: its run charts (spc.csv) show the months of earlier periods. A later
 * period whose files come out the same gets no new revision. Cost: a late record of an old period
 * rebuilds every period after it, each O(its cells and the months up to it) plus the SII's
 * simulations. Returns the periods rebuilt, or -1 with err. */
static int periodic(void *state, PGconn *db, int limit, stage_keys_t *out, char *err, size_t errlen)
{
    (void)limit;
    (void)out;
    publish_t *ps = state;
    ps->n_pending = 0;
    /* One publisher at a time, also against an older instance without the sweep lock. */
    if (db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('ncap.publish'))", err, errlen) != 0)
        return -1;
    PGresult *changed = stage_wm_query(
        db, "publish",
        "WITH tail AS (SELECT r.write_xid, r.record_id, r.version, r.link_revision, r.audit,"
        "   r.period FROM metric.record_state r WHERE " AFTER_WATERMARK "),"
        " changed AS (SELECT r.record_id, r.version, r.link_revision, r.audit, r.period,"
        "   s.period AS old_period FROM tail r LEFT JOIN publish.seen s USING (record_id)"
        "   WHERE " CHANGED "),"
        /* every row of the tail is seen once this commits: the watermark passes those below the
         * horizon (migration 0018) */
        " mark AS (UPDATE publish.watermark w SET write_xid = t.write_xid,"
        "   record_id = t.record_id, version = t.version, moved_at = now() FROM (SELECT"
        "   write_xid, record_id, version FROM tail"
        "   WHERE write_xid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))"
        "   ORDER BY write_xid DESC, record_id DESC, version DESC LIMIT 1) t),"
        " up AS (INSERT INTO publish.seen (record_id, version, link_revision, audit, period)"
        "   SELECT record_id, version, link_revision, audit, period FROM changed"
        "   ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version,"
        "   link_revision = EXCLUDED.link_revision, period = EXCLUDED.period,"
        "   published_at = now()),"
        " periods AS (SELECT DISTINCT audit, p FROM (SELECT audit, period AS p FROM changed"
        "   UNION ALL SELECT audit, old_period FROM changed) x WHERE p IS NOT NULL)"
        /* a later period's run charts include the months of this one: rebuilt too */
        " SELECT audit, p FROM periods UNION SELECT r.audit, r.period FROM publish.release r"
        "   JOIN (SELECT audit, min(p) AS first FROM periods GROUP BY audit) f"
        "   ON r.audit = f.audit AND r.period > f.first"
        " ORDER BY 1, 2",
        0, NULL, err, errlen);
    if (!changed)
        return -1;
    /* outlier cases past their deadline move on: where one is published, its alarm shows */
    PGresult *outliers = outlier_publish_tick(db, ps->audits, ps->out_dir, err, errlen);
    if (!outliers) {
        PQclear(changed);
        return -1;
    }
    int rc = 0, n = PQntuples(changed), n_outliers = PQntuples(outliers);
    orgs_t orgs = {0};
    if (n + n_outliers > 0)
        rc = orgs_load(db, &orgs, err, errlen);
    for (int i = 0; rc == 0 && i < n + n_outliers; i++) {
        PGresult *p = i < n ? changed : outliers;
        int row = i < n ? i : i - n;
        rc = rebuild(ps, db, &orgs, PQgetvalue(p, row, 0), PQgetvalue(p, row, 1), err, errlen);
    }
    n += n_outliers;
    orgs_clear(&orgs);
    PQclear(outliers);
    PQclear(changed);
    return rc == 0 ? n : -1;
}

static void after_commit(void *state, PGconn *db)
{
    publish_t *ps = state;
    for (size_t i = 0; i < ps->n_pending; i++) {
        char err[1024];
        if (release_files_export(db, ps->out_dir, ps->pending[i], err, sizeof err) != 0)
            ncap_log(LOG_ERROR, "could not write release files; will retry at start-up", "error",
                     err, NULL);
    }
    if (ps->n_pending > 0) {
        char n[32];
        snprintf(n, sizeof n, "%zu", ps->n_pending);
        ncap_log(LOG_INFO, "published releases", "releases", n, "out", ps->out_dir, NULL);
    }
    ps->n_pending = 0;
}

stage_ops_t publish_stage_ops(publish_t *ps)
{
    return (stage_ops_t){.upstream = "metric",
                         .state = ps,
                         .backlog_count_sql = backlog_count_sql,
                         .periodic = periodic,
                         .after_commit = after_commit,
                         .gather_ms = 300};
}

void publish_stage_clear(publish_t *ps)
{
    free(ps->pending);
    ps->pending = NULL;
    ps->n_pending = ps->cap_pending = 0;
}
