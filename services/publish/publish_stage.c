/* publish_stage.c - ncap-publishd's work: rebuild what changed, one release revision per change */
#include "publish_stage.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "release.h"
#include "release_files.h"
#include "strbuf.h"

/* Rebuilds one audit period; inserts a new revision only when its content changed. */
static int rebuild(publish_t *ps, PGconn *db, const char *audit, const char *period, char *err,
                   size_t errlen)
{
    const char *p[] = {audit, period};
    PGresult *sums = db_query(db,
                              "SELECT trust, metric_id, sum(numerator), sum(denominator)"
                              " FROM metric.contribution WHERE audit = $1 AND period = $2"
                              " GROUP BY trust, metric_id",
                              2, p, err, errlen);
    if (!sums)
        return -1;
    int n = PQntuples(sums);
    release_row_t *in = calloc((size_t)n + 1, sizeof *in);
    for (int i = 0; in && i < n; i++) {
        snprintf(in[i].unit, sizeof in[i].unit, "%s", PQgetvalue(sums, i, 0));
        snprintf(in[i].metric, sizeof in[i].metric, "%s", PQgetvalue(sums, i, 1));
        in[i].numerator = strtoll(PQgetvalue(sums, i, 2), NULL, 10);
        in[i].denominator = strtoll(PQgetvalue(sums, i, 3), NULL, 10);
    }
    PQclear(sums);
    release_row_t *rows = NULL;
    int m = in ? release_build(in, n, &rows) : -1;
    free(in);
    if (m < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    PGresult *cnt = db_query(db,
                             "SELECT count(*) FROM metric.record_state WHERE audit = $1 AND"
                             " period = $2 AND valid",
                             2, p, err, errlen);
    if (!cnt) {
        free(rows);
        return -1;
    }
    char records[32];
    snprintf(records, sizeof records, "%s", PQgetvalue(cnt, 0, 0));
    PQclear(cnt);
    /* Content hash over the CSV as published, plus the record count. */
    char *csv = NULL;
    size_t csv_len = 0;
    FILE *mem = open_memstream(&csv, &csv_len);
    if (!mem) {
        free(rows);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    release_write_csv(mem, audit, period, rows, m);
    fprintf(mem, "records=%s\n", records);
    fclose(mem);
    unsigned char h[crypto_hash_sha256_BYTES];
    char hash[65];
    crypto_hash_sha256(h, (const unsigned char *)csv, csv_len);
    sodium_bin2hex(hash, sizeof hash, h, sizeof h);
    free(csv);
    PGresult *last = db_query(db,
                              "SELECT revision, content_hash FROM publish.release WHERE audit = $1"
                              " AND period = $2 ORDER BY revision DESC LIMIT 1",
                              2, p, err, errlen);
    if (!last) {
        free(rows);
        return -1;
    }
    int revision = 1;
    if (PQntuples(last) == 1) {
        if (strcmp(PQgetvalue(last, 0, 1), hash) == 0) {
            PQclear(last);
            free(rows);
            return 0; /* nothing new to publish */
        }
        revision = atoi(PQgetvalue(last, 0, 0)) + 1;
    }
    PQclear(last);
    char rev[16];
    snprintf(rev, sizeof rev, "%d", revision);
    const char *pi[] = {audit, period, rev, records, hash};
    PGresult *rel = db_query(db,
                             "INSERT INTO publish.release (audit, period, revision, records,"
                             " content_hash) VALUES ($1, $2, $3::int, $4::int, $5)"
                             " RETURNING release_id",
                             5, pi, err, errlen);
    if (!rel) {
        free(rows);
        return -1;
    }
    long long release_id = strtoll(PQgetvalue(rel, 0, 0), NULL, 10);
    PQclear(rel);
    strbuf_t a[8];
    for (int k = 0; k < 8; k++) {
        strbuf_init(&a[k]);
        strbuf_pg_array_open(&a[k]);
    }
    for (int i = 0; i < m; i++) {
        char num[32], den[32], v[40], lo[40], hi[40];
        snprintf(num, sizeof num, "%lld", rows[i].numerator);
        snprintf(den, sizeof den, "%lld", rows[i].denominator);
        snprintf(v, sizeof v, "%.17g", rows[i].value);
        snprintf(lo, sizeof lo, "%.17g", rows[i].lower95);
        snprintf(hi, sizeof hi, "%.17g", rows[i].upper95);
        int has = rows[i].has_value;
        const char *vals[8] = {rows[i].unit_level, rows[i].unit,    rows[i].metric, num, den,
                               has ? v : NULL,     has ? lo : NULL, has ? hi : NULL};
        for (int k = 0; k < 8; k++)
            strbuf_pg_array_elem(&a[k], vals[k]);
    }
    for (int k = 0; k < 8; k++)
        strbuf_pg_array_close(&a[k]);
    char relid[32];
    snprintf(relid, sizeof relid, "%lld", release_id);
    const char *po[] = {relid, a[0].s, a[1].s, a[2].s, a[3].s, a[4].s, a[5].s, a[6].s, a[7].s};
    int rc = db_execp(db,
                      "INSERT INTO publish.output (release_id, unit_level, unit, metric_id,"
                      " numerator, denominator, value, lower95, upper95) SELECT $1::bigint, * FROM"
                      " unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],"
                      " $7::float8[], $8::float8[], $9::float8[])",
                      9, po, err, errlen);
    for (int k = 0; k < 8; k++)
        strbuf_free(&a[k]);
    free(rows);
    if (rc != 0)
        return -1;
    if (ps->n_pending == ps->cap_pending) {
        size_t cap = ps->cap_pending ? ps->cap_pending * 2 : 16;
        long long *np = realloc(ps->pending, cap * sizeof *np);
        if (!np) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        ps->pending = np;
        ps->cap_pending = cap;
    }
    ps->pending[ps->n_pending++] = release_id;
    return 0;
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
    for (int i = 0; rc == 0 && i < n; i++)
        rc = rebuild(ps, db, PQgetvalue(changed, i, 0), PQgetvalue(changed, i, 1), err, errlen);
    PQclear(changed);
    return rc == 0 ? n : -1;
}

static void after_commit(void *state, PGconn *db)
{
    publish_t *ps = state;
    for (size_t i = 0; i < ps->n_pending; i++) {
        char err[1024];
        if (release_files_export(db, ps->audits, ps->out_dir, ps->pending[i], err, sizeof err) != 0)
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
