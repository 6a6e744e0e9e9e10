/* test_metric_aggregate.c - the metric stage's sums per cell (metric.aggregate) on a real
 * PostgreSQL ($NCAP_TEST_PG), run as the ncap_metric role: after simulated NHFD records, after
 * changed versions (another trust, site, quarter, category or outcome; valid turned invalid),
 * a new link revision, versions taken out of order and nudges repeated, and after two processes
 * working the same cells at once, metric.aggregate equals the GROUP BY over metric.contribution
 * for every cell and breakdown, each breakdown's categories sum to the row without breakdown, no
 * cell is left at zero, and the 'all' rows equal the sums worked out here from the records
 * themselves. Then an existing deployment (its contributions stored before 0014): migrating keeps
 * every figure and metric takes every record again to fill in the breakdowns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_cache.h"
#include "contribution.h"
#include "message.h"
#include "metric_stage.h"
#include "pg_fixture.h"

#define AUDIT_DIR NCAP_SOURCE_DIR "/deploy/audits"
#define N_RECORDS 400

/* ---------------------------------------------------------------- simulated records */

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* One version of a record as validation stores it. */
typedef struct {
    long long record_id;
    int version, link_revision;
    bool valid;
    char trust[4], site[6];
    ncap_record_t *rec;
} version_t;

/* Version `version` of record id, drawn from seed: one of 3 trusts with 2 sites each, a quarter
 * of 2026, outcomes and categories (missing and odd values included). */
static version_t make_version(long long id, int version, int link_revision, unsigned seed)
{
    version_t v = {.record_id = id, .version = version, .link_revision = link_revision};
    unsigned s = seed;
    static const char *const trusts[] = {"RA1", "RB2", "RC3"};
    snprintf(v.trust, sizeof v.trust, "%s", trusts[next_random(&s) % 3]);
    snprintf(v.site, sizeof v.site, "%s0%u", v.trust, 1 + next_random(&s) % 2);
    v.valid = next_random(&s) % 10 != 0;
    ncap_record_t *r = ncap_record_new();
    char buf[64];
    int month = 1 + (int)(next_random(&s) % 2) * 3, day = 1 + (int)(next_random(&s) % 28);
    snprintf(buf, sizeof buf, "2026-%02d-%02dT08:00", month, day);
    ncap_record_set(r, "arrival_datetime", buf);
    if (next_random(&s) % 5 != 0) { /* operated, within 36 hours or not */
        int hours = 8 + (int)(next_random(&s) % 40);
        snprintf(buf, sizeof buf, "2026-%02d-%02dT%02d:00", month, day + hours / 24, hours % 24);
        ncap_record_set(r, "surgery_datetime", buf);
    }
    if (next_random(&s) % 3 != 0)
        ncap_record_set(r, "orthogeriatric_assessment_datetime", "2026-01-01T00:00");
    if (link_revision > 0 || next_random(&s) % 8 == 0) {
        snprintf(buf, sizeof buf, "2026-%02d-%02d", month, day);
        ncap_record_set(r, "date_of_death", buf);
    }
    static const char *const ethnic[] = {"A", "B", "D", "H", "M", "R", "Z", "99", ""};
    static const char *const sex[] = {"1", "2", "9", "X"};
    ncap_record_set(r, "ethnic_category", ethnic[next_random(&s) % 9]);
    ncap_record_set(r, "sex", sex[next_random(&s) % 4]);
    unsigned imd = next_random(&s) % 11; /* 0: none known */
    snprintf(buf, sizeof buf, "%u", imd);
    ncap_record_set(r, "imd_decile", imd ? buf : "");
    snprintf(buf, sizeof buf, "%u", 50 + next_random(&s) % 50);
    ncap_record_set(r, "age_at_arrival", buf);
    ncap_record_set(r, "trust_code", v.trust);
    ncap_record_set(r, "site_code", v.site);
    v.rec = r;
    return v;
}

static void insert_version(PGconn *db, const version_t *v)
{
    char id[32], ver[16], lrev[16], err[2048];
    snprintf(id, sizeof id, "%lld", v->record_id);
    snprintf(ver, sizeof ver, "%d", v->version);
    snprintf(lrev, sizeof lrev, "%d", v->link_revision);
    char *json = message_record_to_json(v->rec);
    assert_non_null(json);
    const char *p[] = {id, ver, lrev, v->trust, v->site, v->valid ? "t" : "f", json};
    if (db_execp(db,
                 "INSERT INTO validation.record (record_id, version, link_revision, audit, trust,"
                 " site, local_id, submission_id, row_number, pseudonym, valid, payload)"
                 " VALUES ($1::bigint, $2::int, $3::int, 'nhfd', $4, $5, 'L' || $1, 1, 1, 'p', $6,"
                 " $7::jsonb) ON CONFLICT (record_id, version) DO UPDATE SET"
                 " link_revision = EXCLUDED.link_revision, payload = EXCLUDED.payload,"
                 " valid = EXCLUDED.valid",
                 7, p, err, sizeof err) != 0)
        fail_msg("%s", err);
    free(json);
}

/* ---------------------------------------------------------------- what the figures must be */

/* The latest version applied of each record (index record_id - 1), as the test keeps it. */
static version_t latest[N_RECORDS];

static void keep_latest(const version_t *v)
{
    version_t *l = &latest[v->record_id - 1];
    if (l->rec && (l->version > v->version ||
                   (l->version == v->version && l->link_revision >= v->link_revision)))
        return;
    ncap_record_destroy(&l->rec);
    *l = *v;
    l->rec = ncap_record_new();
    for (size_t i = 0; i < v->rec->n; i++)
        ncap_record_set(l->rec, v->rec->fields[i].name, v->rec->fields[i].value);
}

static void forget_latest(void)
{
    for (size_t i = 0; i < N_RECORDS; i++)
        ncap_record_destroy(&latest[i].rec);
    memset(latest, 0, sizeof latest);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The 'all' cells worked out from the latest versions (contribution_compute alone), one line
 * each: "period trust site metric numerator denominator", sorted. */
static char **expected_cells(const audit_def_t *def, size_t *n)
{
    typedef struct {
        char key[64];
        long long num, den;
    } cell_t;
    cell_t *cells = calloc(N_RECORDS * 8, sizeof *cells);
    size_t nc = 0;
    for (size_t i = 0; i < N_RECORDS; i++) {
        const version_t *v = &latest[i];
        if (!v->rec || !v->valid)
            continue;
        contribution_t c[8];
        char period[8], month[8], err[256];
        int k = contribution_compute(def, v->rec, period, month, c, err, sizeof err);
        assert_true(k >= 0);
        /* and the record itself, counted once under CONTRIBUTION_RECORDS */
        c[k++] = (contribution_t){.metric_id = CONTRIBUTION_RECORDS, .denominator = 1};
        for (int j = 0; j < k && period[0]; j++) {
            char key[64];
            snprintf(key, sizeof key, "%s %s %s %s", period, v->trust, v->site, c[j].metric_id);
            size_t at = 0;
            while (at < nc && strcmp(cells[at].key, key) != 0)
                at++;
            if (at == nc)
                snprintf(cells[nc++].key, sizeof cells[0].key, "%s", key);
            cells[at].num += c[j].numerator;
            cells[at].den += c[j].denominator;
        }
    }
    char **lines = calloc(nc + 1, sizeof *lines);
    for (size_t i = 0; i < nc; i++) {
        lines[i] = malloc(96);
        snprintf(lines[i], 96, "%s %lld %lld", cells[i].key, cells[i].num, cells[i].den);
    }
    free(cells);
    qsort(lines, nc, sizeof *lines, by_text);
    *n = nc;
    return lines;
}

static PGresult *query(PGconn *db, const char *sql)
{
    char err[2048];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s\nin: %s", err, sql);
    return r;
}

static long long count_of(PGconn *db, const char *sql)
{
    PGresult *r = query(db, sql);
    long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* The cells of metric.contribution, as metric.aggregate must hold them. */
#define CONTRIBUTION_CELLS                                                                         \
    "SELECT c.audit, c.period, c.trust, c.site, c.metric_id, b.breakdown, b.category,"             \
    "   sum(c.numerator)::bigint AS numerator, sum(c.denominator)::bigint AS denominator"          \
    " FROM metric.contribution c CROSS JOIN LATERAL (VALUES ('all', ''),"                          \
    "   ('imd_decile', c.imd_decile), ('ethnicity', c.ethnicity), ('sex', c.sex), ('age', c.age))" \
    "   AS b(breakdown, category) WHERE b.breakdown = 'all' OR b.category <> ''"                   \
    " GROUP BY 1, 2, 3, 4, 5, 6, 7"

/* Every invariant of metric.aggregate; breakdowns is how many each cell must have (4 for NHFD,
 * 0 before the records are taken again). */
static void assert_aggregate_right(PGconn *db, const audit_def_t *def, int breakdowns)
{
    /* equal to the GROUP BY over the contributions, both ways */
    long long differ = count_of(
        db, "WITH c AS (" CONTRIBUTION_CELLS "),"
            " a AS (SELECT audit, period, trust, site, metric_id, breakdown, category, numerator,"
            "   denominator FROM metric.aggregate)"
            " SELECT count(*) FROM ((SELECT * FROM c EXCEPT SELECT * FROM a)"
            "   UNION ALL (SELECT * FROM a EXCEPT SELECT * FROM c)) x");
    if (differ)
        fail_msg("%lld cells of metric.aggregate differ from the sums of metric.contribution",
                 differ);
    /* each breakdown's categories sum to the row without breakdown */
    assert_int_equal(
        count_of(db,
                 "SELECT count(*) FROM (SELECT audit, period, trust, site, metric_id,"
                 "   breakdown, sum(numerator) AS n, sum(denominator) AS d"
                 "   FROM metric.aggregate WHERE breakdown <> 'all' GROUP BY 1, 2, 3, 4, 5, 6) b"
                 " JOIN metric.aggregate t USING (audit, period, trust, site, metric_id)"
                 " WHERE t.breakdown = 'all' AND (b.n, b.d) <> (t.numerator, t.denominator)"),
        0);
    /* every cell in each declared breakdown, and none with a breakdown but no 'all' row */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM metric.aggregate t WHERE t.breakdown = 'all' AND (SELECT"
             " count(DISTINCT breakdown) FROM metric.aggregate b WHERE (b.audit, b.period,"
             " b.trust, b.site, b.metric_id) = (t.audit, t.period, t.trust, t.site, t.metric_id)"
             " AND b.breakdown <> 'all') <> %d",
             breakdowns);
    assert_int_equal(count_of(db, sql), 0);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate b WHERE NOT EXISTS"
                                  " (SELECT 1 FROM metric.aggregate t WHERE t.breakdown = 'all'"
                                  " AND (t.audit, t.period, t.trust, t.site, t.metric_id) ="
                                  " (b.audit, b.period, b.trust, b.site, b.metric_id))"),
                     0);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.quarantine"), 0);
    /* no cell left at zero */
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE denominator = 0"),
                     0);
    /* the 'all' rows are the figures of the latest versions, worked out here */
    size_t n_want = 0;
    char **want = expected_cells(def, &n_want);
    PGresult *r = query(db, "SELECT line FROM (SELECT period || ' ' || trust || ' ' || site"
                            " || ' ' || metric_id || ' ' || numerator || ' ' || denominator"
                            " AS line FROM metric.aggregate WHERE breakdown = 'all') x"
                            " ORDER BY line COLLATE \"C\"");
    size_t n_got = (size_t)PQntuples(r);
    for (size_t i = 0; i < n_want || i < n_got; i++) {
        const char *g = i < n_got ? PQgetvalue(r, (int)i, 0) : "(none)";
        const char *w = i < n_want ? want[i] : "(none)";
        if (strcmp(g, w) != 0)
            fail_msg("cell %zu: metric.aggregate has \"%s\", the records give \"%s\"", i, g, w);
    }
    PQclear(r);
    for (size_t i = 0; i < n_want; i++)
        free(want[i]);
    free(want);
}

/* ---------------------------------------------------------------- driving the stage */

typedef struct {
    PGconn *db;
    metric_t ms;
    stage_ops_t ops;
} stage_t;

/* The metric stage on its own connection to conninfo, as the ncap_metric role. */
static void stage_open(stage_t *st, const char *conninfo)
{
    char err[2048];
    st->db = db_connect(conninfo, "test_metric_aggregate", err, sizeof err);
    if (!st->db)
        fail_msg("%s", err);
    pg_fixture_exec(st->db, "SET ROLE ncap_metric");
    st->ms.audits = audit_cache_new(AUDIT_DIR);
    st->ops = metric_stage_ops(&st->ms);
}

static void stage_close(stage_t *st)
{
    PQfinish(st->db);
    audit_cache_destroy(&st->ms.audits);
}

/* Runs the keys of versions [from, to) through the stage, in batches of batch. */
static void run_versions(stage_t *st, const version_t *v, size_t from, size_t to, size_t batch)
{
    for (size_t i = from; i < to; i += batch) {
        stage_key_t keys[64];
        size_t n = 0;
        for (size_t j = i; j < to && j < i + batch && n < 64; j++)
            keys[n++] = (stage_key_t){v[j].record_id, v[j].version, v[j].link_revision};
        stage_keys_t out = {0};
        /* a key already taken is left out by the stage's query: fewer records than keys */
        assert_true(stage_run_keys(&st->ops, "metric", st->db, keys, n, &out) >= 0);
        stage_keys_free(&out);
    }
}

static const audit_def_t *nhfd(stage_t *st)
{
    char err[512];
    const audit_def_t *def = audit_cache_get(st->ms.audits, "nhfd", err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    return def;
}

static void free_versions(version_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ncap_record_destroy(&v[i].rec);
}

/* ---------------------------------------------------------------- tests */

static void test_aggregate_follows_every_version(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_metric_aggregate");
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_test_metric_aggregate",
             getenv("NCAP_TEST_PG"));
    stage_t st;
    stage_open(&st, conninfo);
    const audit_def_t *def = nhfd(&st);
    forget_latest();

    /* first versions */
    static version_t v1[N_RECORDS];
    for (size_t i = 0; i < N_RECORDS; i++) {
        v1[i] = make_version((long long)i + 1, 1, 0, (unsigned)i * 7919u + 1);
        insert_version(db, &v1[i]);
        keep_latest(&v1[i]);
    }
    run_versions(&st, v1, 0, N_RECORDS, 50);
    assert_aggregate_right(db, def, 4);
    assert_true(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE breakdown = 'all'") > 20);

    /* changed versions of every third record, taken before the link revisions of others; a
     * version 2 taken, then its version 1 nudged again: ignored */
    static version_t v2[N_RECORDS / 3 + 1], lrev[N_RECORDS / 5 + 1];
    size_t n2 = 0, nl = 0;
    for (size_t i = 0; i < N_RECORDS; i += 3) {
        v2[n2] = make_version((long long)i + 1, 2, 0, (unsigned)i * 104729u + 17);
        insert_version(db, &v2[n2]);
        keep_latest(&v2[n2++]);
    }
    for (size_t i = 1; i < N_RECORDS; i += 5) {
        if (i % 3 == 0)
            continue; /* version 2 of it stands */
        lrev[nl] = make_version((long long)i + 1, 1, 1, (unsigned)i * 7919u + 1);
        insert_version(db, &lrev[nl]);
        keep_latest(&lrev[nl++]);
    }
    run_versions(&st, v2, 0, n2, 40);
    run_versions(&st, lrev, 0, nl, 30);
    run_versions(&st, v1, 0, N_RECORDS, 64); /* older or equal: nothing changes */
    assert_aggregate_right(db, def, 4);

    /* one trust's every record moves to another trust: its cells are gone, not left at zero */
    static version_t v3[N_RECORDS];
    size_t n3 = 0;
    for (size_t i = 0; i < N_RECORDS; i++) {
        version_t *l = &latest[i];
        if (strcmp(l->trust, "RC3") != 0)
            continue;
        v3[n3] = make_version(l->record_id, l->version + 1, 0, (unsigned)i);
        snprintf(v3[n3].trust, sizeof v3[n3].trust, "RA1");
        snprintf(v3[n3].site, sizeof v3[n3].site, "RA101");
        ncap_record_set(v3[n3].rec, "trust_code", "RA1");
        ncap_record_set(v3[n3].rec, "site_code", "RA101");
        insert_version(db, &v3[n3]);
        keep_latest(&v3[n3++]);
    }
    assert_true(n3 > 0);
    run_versions(&st, v3, 0, n3, 64);
    assert_aggregate_right(db, def, 4);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE trust = 'RC3'"), 0);

    free_versions(v1, N_RECORDS);
    free_versions(v2, n2);
    free_versions(lrev, nl);
    free_versions(v3, n3);
    forget_latest();
    stage_close(&st);
    PQfinish(db);
}

/* Two processes take versions of different records in the same cells at once, in small batches:
 * their upserts meet on the same rows (a deadlock, when one happens, is retried) and the sums
 * stay exact. */
static void test_two_processes_at_once(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_metric_aggregate_two");
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_test_metric_aggregate_two",
             getenv("NCAP_TEST_PG"));
    forget_latest();
    static version_t v[2 * N_RECORDS];
    size_t n = 0;
    for (size_t i = 0; i < N_RECORDS; i++) {
        v[n] = make_version((long long)i + 1, 1, 0, (unsigned)i * 31u + 5);
        insert_version(db, &v[n]);
        keep_latest(&v[n++]);
        v[n] = make_version((long long)i + 1, 2, 0, (unsigned)i * 37u + 11);
        insert_version(db, &v[n]);
        keep_latest(&v[n++]);
    }
    fflush(NULL);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            stage_t st;
            stage_open(&st, conninfo);
            /* each its half of the records, both versions, in batches of 5 */
            size_t half = n / 2;
            run_versions(&st, v, k ? half : 0, k ? n : half, 5);
            stage_close(&st);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stage_t st;
    stage_open(&st, conninfo);
    assert_aggregate_right(db, nhfd(&st), 4);
    stage_close(&st);
    free_versions(v, n);
    forget_latest();
    PQfinish(db);
}

/* A deployment migrated before 0014: its contributions are there, without categories and without
 * sums. 0014 puts their sums in as the 'all' rows and makes metric take every record again, which
 * fills in the breakdowns and changes no figure. */
static void test_existing_deployment_is_taken_again(void **state)
{
    (void)state;
    ncap_require_pg();
    const char *name = "ncap_test_metric_aggregate_upgrade";
    char conninfo[1024], err[2048];
    assert_int_equal(pg_test_db_create(name, conninfo, sizeof conninfo), 0);
    PGconn *db = db_connect(conninfo, name, err, sizeof err);
    assert_non_null(db);
    /* the database as it was before 0014: the later migrations counted as applied, then not */
    pg_fixture_exec(db, "CREATE TABLE public.ncap_schema_migration (name text PRIMARY KEY,"
                        " applied_at timestamptz NOT NULL DEFAULT now())");
    for (const ncap_migration_t *m = ncap_migrations; m->name; m++) {
        const char *p[] = {m->name};
        if (strcmp(m->name, "0014") >= 0 &&
            db_execp(db, "INSERT INTO public.ncap_schema_migration (name) VALUES ($1)", 1, p, err,
                     sizeof err) != 0)
            fail_msg("%s", err);
    }
    int applied = 0;
    if (migrate_run(db, &applied, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(count_of(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'metric'"
                                  " AND tablename = 'aggregate'"),
                     0);

    /* records, and what metric stored for them then (contributions without categories) */
    stage_t st = {0};
    st.ms.audits = audit_cache_new(AUDIT_DIR);
    const audit_def_t *def = nhfd(&st);
    forget_latest();
    static version_t v[N_RECORDS];
    for (size_t i = 0; i < N_RECORDS; i++) {
        v[i] = make_version((long long)i + 1, 1, 0, (unsigned)i * 7u + 3);
        insert_version(db, &v[i]);
        keep_latest(&v[i]);
        char id[32], period[8], month[8], num[24], den[4];
        snprintf(id, sizeof id, "%lld", v[i].record_id);
        contribution_t c[8];
        int k = contribution_compute(def, v[i].rec, period, month, c, err, sizeof err);
        const char *ps[] = {id, v[i].trust, period, v[i].valid ? "t" : "f"};
        if (db_execp(db, "INSERT INTO metric.processed (record_id, version) VALUES ($1::bigint, 1)",
                     1, ps, err, sizeof err) != 0 ||
            db_execp(db,
                     "INSERT INTO metric.record_state (record_id, version, audit, trust, period,"
                     " valid) VALUES ($1::bigint, 1, 'nhfd', $2, $3, $4::bool)",
                     4, ps, err, sizeof err) != 0)
            fail_msg("%s", err);
        for (int j = 0; v[i].valid && j < k; j++) {
            snprintf(num, sizeof num, "%lld", c[j].numerator);
            snprintf(den, sizeof den, "%d", c[j].denominator);
            const char *pc[] = {id, c[j].metric_id, v[i].trust, v[i].site, period, num, den};
            if (db_execp(db,
                         "INSERT INTO metric.contribution (record_id, metric_id, audit, trust,"
                         " site, period, numerator, denominator) VALUES ($1::bigint, $2, 'nhfd',"
                         " $3, $4, $5, $6::int, $7::int)",
                         7, pc, err, sizeof err) != 0)
                fail_msg("%s", err);
        }
    }

    /* 0014: the 'all' rows at once, every figure right; then metric takes every record again */
    pg_fixture_exec(db, "DELETE FROM public.ncap_schema_migration WHERE name >= '0014'");
    if (migrate_run(db, &applied, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_aggregate_right(db, def, 0);
    PGresult *before = query(db, "SELECT string_agg(concat_ws(' ', period, trust, site, metric_id,"
                                 " numerator, denominator), ',' ORDER BY period, trust, site,"
                                 " metric_id) FROM metric.aggregate");
    stage_close(&st);
    stage_open(&st, conninfo);
    def = nhfd(&st);
    for (int round = 0; round < 100; round++) {
        stage_keys_t out = {0};
        int got = stage_run_backlog(&st.ops, "metric", st.db, 64, 0, &out);
        stage_keys_free(&out);
        assert_true(got >= 0);
        if (got == 0)
            break;
    }
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.record_state"
                                  " WHERE link_revision < 0"),
                     0);
    assert_aggregate_right(db, def, 4);
    PGresult *after = query(db, "SELECT string_agg(concat_ws(' ', period, trust, site, metric_id,"
                                " numerator, denominator), ',' ORDER BY period, trust, site,"
                                " metric_id) FROM metric.aggregate WHERE breakdown = 'all'");
    assert_string_equal(PQgetvalue(after, 0, 0), PQgetvalue(before, 0, 0));
    PQclear(before);
    PQclear(after);
    free_versions(v, N_RECORDS);
    forget_latest();
    stage_close(&st);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregate_follows_every_version),
        cmocka_unit_test(test_two_processes_at_once),
        cmocka_unit_test(test_existing_deployment_is_taken_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
