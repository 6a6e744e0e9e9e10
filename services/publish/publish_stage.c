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
#include "release_files.h"
#include "release_input.h"

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

/* Reads the period's aggregate cells (pointing into *res) and its valid records, the cells the
 * metric stage keeps under CONTRIBUTION_RECORDS (metric id ''), which are not a metric's. */
static int load_cells(PGconn *db, const char *audit, const char *period, PGresult **res,
                      benchmark_cell_t **cells, size_t *n, long long *records, char *err,
                      size_t errlen)
{
    const char *p[] = {audit, period};
    *res = db_query(db,
                    "SELECT trust, site, metric_id, breakdown, category, numerator, denominator"
                    " FROM metric.aggregate WHERE audit = $1 AND period = $2 AND denominator > 0"
                    " ORDER BY trust, site, metric_id, breakdown, category",
                    2, p, err, errlen);
    if (!*res)
        return -1;
    int rows = PQntuples(*res);
    *cells = calloc((size_t)rows + 1, sizeof **cells);
    if (!*cells) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *n = 0;
    *records = 0;
    for (int r = 0; r < rows; r++) {
        const char *metric = PQgetvalue(*res, r, 2), *breakdown = PQgetvalue(*res, r, 3);
        long long den = strtoll(PQgetvalue(*res, r, 6), NULL, 10);
        if (metric[0] == '\0') {
            if (strcmp(breakdown, "all") == 0)
                *records += den;
            continue;
        }
        (*cells)[(*n)++] =
            (benchmark_cell_t){.trust = PQgetvalue(*res, r, 0),
                               .site = PQgetvalue(*res, r, 1),
                               .metric = metric,
                               .breakdown = breakdown,
                               .category = PQgetvalue(*res, r, 4),
                               .numerator = strtoll(PQgetvalue(*res, r, 5), NULL, 10),
                               .denominator = den};
    }
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
    PGresult *cres = NULL;
    benchmark_cell_t *cells = NULL;
    size_t n_cells = 0;
    benchmark_release_t rel = {0};
    char *csv = NULL, *json = NULL, *fingertips = NULL, *spc = NULL, *spc_summary = NULL;
    PGresult *last = NULL, *ins = NULL;
    int rc = -1;
    long long n_records = 0;
    if (load_cells(db, audit, period, &cres, &cells, &n_cells, &n_records, err, errlen) != 0)
        goto done;
    benchmark_input_t in =
        release_input_of(def, period, metrics, cells, n_cells, orgs->orgs, orgs->n);
    if (benchmark_build(&in, &rel, err, errlen) != 0)
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
    free(cells);
    PQclear(cres);
    free(metrics);
    return rc;
}

/* Marks what the releases will reflect first, then aggregates: every record version marked seen
 * is then in the figures (a newer one only triggers another rebuild). Returns the periods
 * rebuilt, or -1 with err. */
static int periodic(void *state, PGconn *db, int limit, stage_keys_t *out, char *err, size_t errlen)
{
    (void)limit;
    (void)out;
    publish_t *ps = state;
    ps->n_pending = 0;
    /* One publisher at a time, also against an older instance without the sweep lock. */
    if (db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('ncap.publish'))", err, errlen) != 0)
        return -1;
    PGresult *changed = db_query(
        db,
        "WITH changed AS (SELECT r.record_id, r.version, r.link_revision, r.audit, r.period,"
        "   s.period AS old_period FROM metric.record_state r LEFT JOIN publish.seen s"
        "   USING (record_id) WHERE s.record_id IS NULL OR s.version <> r.version"
        "   OR s.link_revision <> r.link_revision),"
        " up AS (INSERT INTO publish.seen (record_id, version, link_revision, audit, period)"
        "   SELECT record_id, version, link_revision, audit, period FROM changed"
        "   ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version,"
        "   link_revision = EXCLUDED.link_revision, period = EXCLUDED.period,"
        "   published_at = now())"
        " SELECT DISTINCT audit, p FROM (SELECT audit, period AS p FROM changed UNION ALL"
        "   SELECT audit, old_period FROM changed) x WHERE p IS NOT NULL ORDER BY 1, 2",
        0, NULL, err, errlen);
    if (!changed)
        return -1;
    int rc = 0, n = PQntuples(changed);
    orgs_t orgs = {0};
    if (n > 0)
        rc = orgs_load(db, &orgs, err, errlen);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = rebuild(ps, db, &orgs, PQgetvalue(changed, i, 0), PQgetvalue(changed, i, 1), err,
                     errlen);
    orgs_clear(&orgs);
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
