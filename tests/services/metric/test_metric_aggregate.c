/* test_metric_aggregate.c - the metric stage's sums per cell and month (metric.aggregate) and
 * values per cell (metric.measure) on a real PostgreSQL ($NCAP_TEST_PG), run as the ncap_metric
 * role: after simulated NHFD records, after changed versions (another trust, site, month,
 * category or outcome; valid turned invalid), a new link revision, versions taken out of order and
 * nudges repeated, and after two processes working the same cells at once, metric.aggregate
 * equals the GROUP BY over metric.contribution for every cell and breakdown, each breakdown's
 * categories sum to the row without breakdown, no cell is left at zero, and the 'all' rows equal
 * the sums worked out here from the records themselves. metric_store.c alone, with hand-made
 * contributions of every kind (observed counts above the denominator, expected values in fixed
 * point, held, missing, values), superseded at random and applied in three orders: the same
 * sums, exact, the same bytes. Then an existing deployment (its contributions stored before 0014):
 * migrating keeps every period's figures and metric takes every record again to fill in the
 * breakdowns and months. */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
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
#include "measure_sql.h"
#include "metric_store.h"
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

/* Version `version` of record id, drawn from seed: one of 3 trusts with 2 sites each, a month of
 * the first two quarters of 2026, outcomes and categories (missing and odd values included). */
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
    int month = 1 + (int)(next_random(&s) % 6), day = 1 + (int)(next_random(&s) % 28);
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

/* The 'all' cells worked out from the latest versions (contribution_compute alone; an invalid
 * version counted once as rejected), one line
 * each: "period month trust site metric numerator denominator expected_e9 held missing", sorted;
 * none whose sums are all 0. */
static char **expected_cells(const audit_def_t *def, size_t *n)
{
    typedef struct {
        char key[128];
        long long sums[5];
    } cell_t;
    cell_t *cells = calloc(N_RECORDS * 8, sizeof *cells);
    size_t nc = 0;
    for (size_t i = 0; i < N_RECORDS; i++) {
        const version_t *v = &latest[i];
        if (!v->rec)
            continue;
        contribution_t c[8];
        char period[8], month[8], err[256];
        int k = contribution_compute(def, v->rec, period, month, c, err, sizeof err);
        if (!v->valid) /* an invalid record: counted once as rejected, in no metric */
            k = 0;
        assert_true(k >= 0);
        /* and the record itself, counted once under CONTRIBUTION_RECORDS (or as rejected) */
        c[k++] = (contribution_t){
            .metric_id = v->valid ? CONTRIBUTION_RECORDS : CONTRIBUTION_REJECTED, .denominator = 1};
        for (int j = 0; j < k && period[0]; j++) {
            char key[128];
            snprintf(key, sizeof key, "%s %s %s %s %s", period, month, v->trust, v->site,
                     c[j].metric_id);
            size_t at = 0;
            while (at < nc && strcmp(cells[at].key, key) != 0)
                at++;
            if (at == nc)
                snprintf(cells[nc++].key, sizeof cells[0].key, "%s", key);
            long long add[5] = {c[j].numerator, c[j].denominator, c[j].expected_e9, c[j].held,
                                c[j].missing};
            for (int s = 0; s < 5; s++)
                cells[at].sums[s] += add[s];
        }
    }
    char **lines = calloc(nc + 1, sizeof *lines);
    size_t nl = 0;
    for (size_t i = 0; i < nc; i++) {
        const long long *x = cells[i].sums;
        if (x[0] == 0 && x[1] == 0 && x[2] == 0 && x[3] == 0 && x[4] == 0)
            continue;
        lines[nl] = malloc(200);
        snprintf(lines[nl++], 200, "%s %lld %lld %lld %lld %lld", cells[i].key, x[0], x[1], x[2],
                 x[3], x[4]);
    }
    free(cells);
    qsort(lines, nl, sizeof *lines, by_text);
    *n = nl;
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

/* The cells of metric.contribution (each contribution in breakdown 'all' and in its record's
 * categories), the relation the two GROUP BYs below are over. */
/* A contribution counts in breakdown 'all' of its month, and in each breakdown it has a category
 * in for the whole period (month '', migration 0046). */
#define CONTRIBUTION_IN_CELLS                                                                      \
    " FROM metric.contribution c CROSS JOIN LATERAL (VALUES ('all', '', c.month),"                 \
    "   ('imd_decile', c.imd_decile, ''), ('ethnicity', c.ethnicity, ''), ('sex', c.sex, ''),"     \
    "   ('age', c.age, '')) AS b(breakdown, category, month)"                                      \
    " WHERE (b.breakdown = 'all' OR b.category <> '')"
/* The sums of metric.contribution per cell, as metric.aggregate must hold them: cells whose sums
 * are all 0 are not kept. */
#define CONTRIBUTION_CELLS                                                                         \
    "SELECT c.audit, c.period, b.month, c.trust, c.site, c.metric_id, b.breakdown, b.category,"    \
    "   sum(c.numerator)::bigint AS numerator, sum(c.denominator)::bigint AS denominator,"         \
    "   sum(c.expected_e9)::bigint AS expected_e9, count(*) FILTER (WHERE c.held) AS held,"        \
    "   count(*) FILTER (WHERE c.missing) AS missing" CONTRIBUTION_IN_CELLS                        \
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"                                                             \
    " HAVING (sum(c.numerator), sum(c.denominator), sum(c.expected_e9),"                           \
    "   count(*) FILTER (WHERE c.held), count(*) FILTER (WHERE c.missing)) <> (0, 0, 0, 0, 0)"
/* The values of metric.contribution per cell, as metric.measure must count them. */
#define CONTRIBUTION_VALUES                                                                        \
    "SELECT c.audit, c.period, b.month, c.trust, c.site, c.metric_id, b.breakdown, b.category,"    \
    "   c.value, count(*) AS count" CONTRIBUTION_IN_CELLS " AND c.value IS NOT NULL"               \
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
#define AGGREGATE_COLUMNS                                                                          \
    "audit, period, month, trust, site, metric_id, breakdown, category, numerator, denominator,"   \
    " expected_e9, held, missing"
#define MEASURE_COLUMNS                                                                            \
    "audit, period, month, trust, site, metric_id, breakdown, category, value, count"
/* metric.measure's counts in every cell they count in (measure_sql.h) */
#define MEASURE_ROWS MEASURE_ROWS_SQL " mr"
/* The values of metric.contribution per cell of breakdown 'all' of a month and categories, as
 * metric.measure stores them (migration 0053: a value once a record). */
#define CONTRIBUTION_STORED                                                                        \
    "SELECT audit, period, month, trust, site, metric_id, imd_decile, ethnicity, sex, age, value," \
    "   count(*) FROM metric.contribution WHERE value IS NOT NULL"                                 \
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"

/* metric.aggregate and metric.measure equal to the GROUP BYs over metric.contribution, both ways,
 * and no cell or value left at 0. */
static void assert_sums_match_contributions(PGconn *db)
{
    long long differ =
        count_of(db, "WITH c AS (" CONTRIBUTION_CELLS "),"
                     " a AS (SELECT " AGGREGATE_COLUMNS " FROM metric.aggregate)"
                     " SELECT count(*) FROM ((SELECT * FROM c EXCEPT SELECT * FROM a)"
                     "   UNION ALL (SELECT * FROM a EXCEPT SELECT * FROM c)) x");
    if (differ)
        fail_msg("%lld cells of metric.aggregate differ from the sums of metric.contribution",
                 differ);
    differ = count_of(db, "WITH c AS (" CONTRIBUTION_VALUES "),"
                          " m AS (SELECT " MEASURE_COLUMNS " FROM " MEASURE_ROWS ")"
                          " SELECT count(*) FROM ((SELECT * FROM c EXCEPT SELECT * FROM m)"
                          "   UNION ALL (SELECT * FROM m EXCEPT SELECT * FROM c)) x");
    if (differ)
        fail_msg("%lld values of metric.measure differ from the counts of metric.contribution",
                 differ);
    differ = count_of(db, "WITH c AS (" CONTRIBUTION_STORED "),"
                          " m AS (SELECT * FROM " MEASURE_STORED_SQL " ms)"
                          " SELECT count(*) FROM ((SELECT * FROM c EXCEPT SELECT * FROM m)"
                          "   UNION ALL (SELECT * FROM m EXCEPT SELECT * FROM c)) x");
    if (differ)
        fail_msg("%lld rows of metric.measure differ from the values of metric.contribution",
                 differ);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE (numerator,"
                                  " denominator, expected_e9, held, missing) = (0, 0, 0, 0, 0)"),
                     0);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.measure WHERE count <= 0"), 0);
    /* each value's row says which transaction wrote its current version, as each deleted key
     * does (migration 0040: publish reads what changed since its last round by them) */
#define NOT_ITS_WRITER " WHERE write_xid::text::numeric % 4294967296 <> xmin::text::numeric"
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.measure" NOT_ITS_WRITER), 0);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.measure_gone" NOT_ITS_WRITER), 0);
#undef NOT_ITS_WRITER
}

/* Every invariant of metric.aggregate; breakdowns is how many each cell must have (4 for NHFD,
 * 0 before the records are taken again). */
static void assert_aggregate_right(PGconn *db, const audit_def_t *def, int breakdowns)
{
    assert_sums_match_contributions(db);
    /* a breakdown's cells are the period's (month ''), breakdown 'all' a month's (0046) */
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE breakdown <> 'all'"
                                  " AND month <> ''"),
                     0);
    /* each breakdown's categories sum to the period's rows without breakdown (its months) */
    assert_int_equal(
        count_of(db,
                 "SELECT count(*) FROM (SELECT audit, period, trust, site, metric_id, breakdown,"
                 "   sum(numerator) AS n, sum(denominator) AS d FROM metric.aggregate"
                 "   WHERE breakdown <> 'all' GROUP BY 1, 2, 3, 4, 5, 6) b"
                 " JOIN (SELECT audit, period, trust, site, metric_id, sum(numerator) AS n,"
                 "   sum(denominator) AS d FROM metric.aggregate WHERE breakdown = 'all'"
                 "   GROUP BY 1, 2, 3, 4, 5) t USING (audit, period, trust, site, metric_id)"
                 " WHERE (b.n, b.d) <> (t.n, t.d)"),
        0);
    /* every cell in each declared breakdown, and none with a breakdown but no 'all' row */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM metric.aggregate t WHERE t.breakdown = 'all'"
             " AND t.metric_id <> '" CONTRIBUTION_REJECTED "' AND (SELECT"
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
    /* the 'all' rows are the figures of the latest versions, worked out here */
    size_t n_want = 0;
    char **want = expected_cells(def, &n_want);
    PGresult *r = query(db, "SELECT line FROM (SELECT period || ' ' || month || ' ' || trust"
                            " || ' ' || site || ' ' || metric_id || ' ' || numerator || ' ' ||"
                            " denominator || ' ' || expected_e9 || ' ' || held || ' ' || missing"
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
    /* its values' rows deleted, their keys left for publish */
    assert_int_equal(count_of(db, "SELECT count(*) FROM " MEASURE_ROWS " WHERE trust = 'RC3'"), 0);
    assert_true(count_of(db, "SELECT count(*) FROM metric.measure_gone g"
                             " JOIN metric.cell c ON c.id = g.cell WHERE c.trust = 'RC3'") > 0);

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

/* ---------------------------------------------------------------- hand-made contributions */

/* metric_store.c directly, with contributions made here with every field the kinds use, whatever
 * contribution_compute fills: "p" a proportion (held sometimes), "r" a ratio (observed counts
 * above 1, expected values in fixed point, held or missing), "m" a median or mean (values, -0
 * and 0.1 among them, or missing), and the record count (metric ""). */
#define H_RECORDS 240
#define H_VERSIONS 4

typedef struct {
    long long record_id;
    char trust[4], site[6], period[8], month[8];
    const char *categories[BREAKDOWN_COUNT];
    contribution_t c[4];
    int n;
} hand_t;

static hand_t hand_version(long long id, unsigned seed)
{
    hand_t h = {.record_id = id};
    unsigned s = seed;
    static const char *const trusts[] = {"RA1", "RB2", "RC3"};
    snprintf(h.trust, sizeof h.trust, "%s", trusts[next_random(&s) % 3]);
    snprintf(h.site, sizeof h.site, "%s0%u", h.trust, 1 + next_random(&s) % 2);
    int month = 1 + (int)(next_random(&s) % 6);
    snprintf(h.month, sizeof h.month, "2026-%02d", month);
    snprintf(h.period, sizeof h.period, "2026Q%d", (month + 2) / 3);
    static const char *const imd[] = {"", "3", "7", "unknown"};
    static const char *const eth[] = {"white", "asian", "unknown"};
    static const char *const sex[] = {"", "male", "female"};
    static const char *const age[] = {"60-69", "90+", "unknown"};
    h.categories[BREAKDOWN_IMD_DECILE] = imd[next_random(&s) % 4];
    h.categories[BREAKDOWN_ETHNICITY] = eth[next_random(&s) % 3];
    h.categories[BREAKDOWN_SEX] = sex[next_random(&s) % 3];
    h.categories[BREAKDOWN_AGE] = age[next_random(&s) % 3];
    if (next_random(&s) % 8 == 0)
        return h; /* invalid, or no period: no contribution */
    unsigned u = next_random(&s);
    if (u % 4 != 0) { /* in the proportion's denominator */
        contribution_t *c = &h.c[h.n++];
        *c = (contribution_t){.metric_id = "p"};
        if (u % 11 == 0)
            c->held = true;
        else
            *c = (contribution_t){.metric_id = "p", .numerator = u % 3 == 0, .denominator = 1};
    }
    u = next_random(&s);
    if (u % 5 != 0) { /* in the ratio's */
        contribution_t *c = &h.c[h.n++];
        *c = (contribution_t){.metric_id = "r"};
        if (u % 9 == 0)
            c->missing = true;
        else if (u % 13 == 0)
            c->held = true;
        else {
            c->numerator = (long long)(next_random(&s) % 4);
            c->denominator = 1;
            /* an expected value up to 3, to the last of its nine decimals */
            c->expected_e9 = (long long)next_random(&s) * 91553 + next_random(&s) % 1000;
        }
    }
    u = next_random(&s);
    if (u % 3 != 0) { /* in the median's */
        static const double values[] = {-0.0, 0.0, 0.1, 0.5, 1.25, 3, 7.75, 12, 1e-3, 36.5};
        contribution_t *c = &h.c[h.n++];
        *c = (contribution_t){.metric_id = "m"};
        if (u % 10 == 0)
            c->missing = true;
        else
            *c = (contribution_t){.metric_id = "m",
                                  .denominator = 1,
                                  .has_value = true,
                                  .value = values[next_random(&s) % 10]};
    }
    h.c[h.n++] = (contribution_t){.metric_id = CONTRIBUTION_RECORDS, .denominator = 1};
    return h;
}

static bool hand_is_ratio(void *ctx, const char *audit, const char *metric_id)
{
    (void)ctx;
    return strcmp(audit, "test") == 0 && strcmp(metric_id, "r") == 0;
}

static metric_store_record_t hand_record(const hand_t *h)
{
    metric_store_record_t r = {.record_id = h->record_id,
                               .audit = "test",
                               .trust = h->trust,
                               .site = h->site,
                               .period = h->period,
                               .month = h->month,
                               .contrib = h->c,
                               .n_contrib = h->n};
    for (int b = 0; b < BREAKDOWN_COUNT; b++)
        r.categories[b] = h->categories[b];
    return r;
}

/* Applies the versions in the order given, in transactions of 1 to 40 records (a record at most
 * once in each), as the ncap_metric role. */
static void hand_apply(PGconn *db, const hand_t *const *order, size_t n, unsigned seed)
{
    char err[2048];
    metric_store_record_t batch[40];
    size_t i = 0;
    while (i < n) {
        size_t want = 1 + next_random(&seed) % 40, k = 0;
        while (i < n && k < want) {
            bool twice = false;
            for (size_t j = 0; j < k && !twice; j++)
                twice = batch[j].record_id == order[i]->record_id;
            if (twice)
                break;
            batch[k++] = hand_record(order[i++]);
        }
        pg_fixture_exec(db, "BEGIN");
        if (metric_store_replace(db, batch, k, hand_is_ratio, NULL, err, sizeof err) != 0)
            fail_msg("%s", err);
        pg_fixture_exec(db, "COMMIT");
    }
}

static void shuffle(const hand_t **v, size_t n, unsigned *seed)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = ((size_t)next_random(seed) << 15 | next_random(seed)) % i;
        const hand_t *t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* The 'all' cells of the last versions worked out here (integer sums in C), one line each as
 * ALL_LINES gives them. */
static char *hand_expected(const hand_t *last, size_t n)
{
    typedef struct {
        char key[64];
        long long sums[5];
    } cell_t;
    cell_t *cells = calloc(n * 4 + 1, sizeof *cells);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < last[i].n; j++) {
            const hand_t *h = &last[i];
            const contribution_t *c = &h->c[j];
            char key[64];
            snprintf(key, sizeof key, "%s %s %s %s %s", h->period, h->month, h->trust, h->site,
                     c->metric_id);
            size_t at = 0;
            while (at < nc && strcmp(cells[at].key, key) != 0)
                at++;
            if (at == nc)
                snprintf(cells[nc++].key, sizeof cells[0].key, "%s", key);
            long long add[5] = {c->numerator, c->denominator, c->expected_e9, c->held, c->missing};
            for (int k = 0; k < 5; k++)
                cells[at].sums[k] += add[k];
        }
    char **lines = calloc(nc + 1, sizeof *lines);
    size_t nl = 0, len = 1;
    for (size_t i = 0; i < nc; i++) {
        const long long *x = cells[i].sums;
        if (x[0] == 0 && x[1] == 0 && x[2] == 0 && x[3] == 0 && x[4] == 0)
            continue;
        lines[nl] = malloc(160);
        snprintf(lines[nl], 160, "%s %lld %lld %lld %lld %lld", cells[i].key, x[0], x[1], x[2],
                 x[3], x[4]);
        len += strlen(lines[nl++]) + 1;
    }
    qsort(lines, nl, sizeof *lines, by_text);
    char *out = calloc(len, 1);
    for (size_t i = 0; i < nl; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    free(lines);
    free(cells);
    return out;
}

#define ALL_LINES                                                                                  \
    "SELECT coalesce(string_agg(line || E'\\n', '' ORDER BY line COLLATE \"C\"), '') FROM"         \
    " (SELECT concat_ws(' ', period, month, trust, site, metric_id, numerator, denominator,"       \
    "   expected_e9, held, missing) AS line FROM metric.aggregate WHERE breakdown = 'all') x"
/* Everything metric.aggregate and metric.measure hold, as text. */
#define EVERYTHING                                                                                 \
    "SELECT (SELECT string_agg(concat_ws(' ', " AGGREGATE_COLUMNS "), ','"                         \
    "   ORDER BY " AGGREGATE_COLUMNS ") FROM metric.aggregate) || ' / ' ||"                        \
    " (SELECT string_agg(concat_ws(' ', " MEASURE_COLUMNS "), ',' ORDER BY " MEASURE_COLUMNS ")"   \
    "   FROM " MEASURE_ROWS ")"

static void test_hand_made_contributions(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_metric_aggregate_hand");
    pg_fixture_exec(db, "SET ROLE ncap_metric");
    static hand_t v[H_RECORDS][H_VERSIONS];
    static hand_t last[H_RECORDS];
    static const hand_t *earlier[H_RECORDS * (H_VERSIONS - 1)], *finals[H_RECORDS];
    size_t ne = 0;
    for (size_t i = 0; i < H_RECORDS; i++) {
        unsigned versions = 1 + (unsigned)(i * 2654435761u >> 7) % H_VERSIONS;
        for (unsigned k = 0; k < versions; k++) {
            v[i][k] = hand_version((long long)i + 1, (unsigned)(i * 7919u + k * 104729u + 1));
            if (k + 1 < versions)
                earlier[ne++] = &v[i][k];
        }
        last[i] = v[i][versions - 1];
        finals[i] = &v[i][versions - 1];
    }
    char *want = hand_expected(last, H_RECORDS);
    char *first = NULL;
    /* three runs, the versions in a different order each: a record's earlier versions in any
     * order among the others', its last one after them */
    for (unsigned run = 0; run < 3; run++) {
        unsigned seed = 1234567u + run * 7777u;
        pg_fixture_exec(db, "RESET ROLE");
        pg_fixture_exec(
            db,
            "TRUNCATE metric.record_contribution, metric.aggregate, metric.measure, metric.cell");
        pg_fixture_exec(db, "SET ROLE ncap_metric");
        shuffle(earlier, ne, &seed);
        shuffle(finals, H_RECORDS, &seed);
        hand_apply(db, earlier, ne, seed);
        if (run == 0) /* midway, too */
            assert_sums_match_contributions(db);
        hand_apply(db, finals, H_RECORDS, seed + 1);
        assert_sums_match_contributions(db);
        /* the sums, the expected values' to the last digit, are those of the last versions */
        PGresult *r = query(db, ALL_LINES);
        assert_string_equal(PQgetvalue(r, 0, 0), want);
        PQclear(r);
        /* values counted exactly: 0.1 as the double 0.1, -0 as 0 */
        long long tenth = 0, zero = 0;
        for (size_t i = 0; i < H_RECORDS; i++)
            for (int j = 0; j < last[i].n; j++)
                if (last[i].c[j].has_value) {
                    tenth += last[i].c[j].value == 0.1;
                    zero += last[i].c[j].value == 0.0;
                }
        assert_true(tenth > 0 && zero > 0);
        assert_int_equal(count_of(db, "SELECT coalesce(sum(count), 0) FROM " MEASURE_ROWS
                                      " WHERE breakdown = 'all' AND value = 0.1::float8"),
                         tenth);
        assert_int_equal(count_of(db, "SELECT coalesce(sum(count), 0) FROM " MEASURE_ROWS
                                      " WHERE breakdown = 'all' AND value = 0"),
                         zero);
        assert_int_equal(count_of(db, "SELECT count(*) FROM metric.measure"
                                      " WHERE value::text LIKE '-%'"),
                         0);
        /* a ratio's observed count above its denominator is kept */
        assert_true(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE metric_id = 'r'"
                                 " AND numerator > denominator") > 0);
        /* the same bytes whatever the order */
        r = query(db, EVERYTHING);
        if (!first)
            first = strdup(PQgetvalue(r, 0, 0));
        else
            assert_string_equal(PQgetvalue(r, 0, 0), first);
        PQclear(r);
    }

    /* a proportion's numerator above its denominator, and a value not finite, are refused and
     * change nothing */
    char err[2048];
    hand_t bad = hand_version(H_RECORDS + 1, 99); /* in cells of its own */
    snprintf(bad.trust, sizeof bad.trust, "RZ9");
    snprintf(bad.site, sizeof bad.site, "RZ901");
    bad.n = 0;
    bad.c[bad.n++] = (contribution_t){.metric_id = "p", .numerator = 1, .held = true};
    metric_store_record_t rec = hand_record(&bad);
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(metric_store_replace(db, &rec, 1, hand_is_ratio, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "numerator 1 of denominator 0"));
    pg_fixture_exec(db, "ROLLBACK");
    bad.c[0] = (contribution_t){.metric_id = "m", .denominator = 1, .has_value = true};
    bad.c[0].value = strtod("inf", NULL);
    pg_fixture_exec(db, "BEGIN");
    assert_int_equal(metric_store_replace(db, &rec, 1, hand_is_ratio, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a finite number"));
    pg_fixture_exec(db, "ROLLBACK");
    PGresult *r = query(db, EVERYTHING);
    assert_string_equal(PQgetvalue(r, 0, 0), first);
    PQclear(r);

    /* every record superseded by one without contributions: nothing left */
    static metric_store_record_t none[H_RECORDS];
    for (size_t i = 0; i < H_RECORDS; i++)
        none[i] = (metric_store_record_t){.record_id = (long long)i + 1};
    pg_fixture_exec(db, "BEGIN");
    if (metric_store_replace(db, none, H_RECORDS, hand_is_ratio, NULL, err, sizeof err) != 0)
        fail_msg("%s", err);
    pg_fixture_exec(db, "COMMIT");
    assert_int_equal(count_of(db, "SELECT (SELECT count(*) FROM metric.aggregate)"
                                  " + (SELECT count(*) FROM metric.measure)"
                                  " + (SELECT count(*) FROM metric.contribution)"),
                     0);
    free(first);
    free(want);
    PQfinish(db);
}

/* Each period's 'all' sums per trust, site and metric (its months summed), as one string: what a
 * release of the period is built from, whatever the migrations have done to the months. (Cells of
 * records held back, which the contributions made before 0016 here leave out, aside.) */
#define PERIOD_SUMS                                                                                \
    "SELECT string_agg(concat_ws(' ', period, trust, site, metric_id, n, d), ','"                  \
    "   ORDER BY period, trust, site, metric_id) FROM (SELECT period, trust, site, metric_id,"     \
    "   sum(numerator) AS n, sum(denominator) AS d FROM metric.aggregate WHERE breakdown = 'all'"  \
    "   AND metric_id <> '" CONTRIBUTION_REJECTED "'"                                              \
    "   GROUP BY 1, 2, 3, 4 HAVING sum(denominator) > 0) x"

/* Marks the migrations from `from` up to (not including) `to` as not applied ("" no bound), then
 * applies them. */
static void migrate_range(PGconn *db, const char *from, const char *to)
{
    char err[2048];
    const char *p[] = {from, to};
    int applied = 0;
    if (db_execp(db,
                 "DELETE FROM public.ncap_schema_migration WHERE name >= $1"
                 " AND ($2 = '' OR name < $2)",
                 2, p, err, sizeof err) != 0 ||
        migrate_run(db, &applied, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* A deployment migrated before 0014: its contributions are there, without categories, months or
 * sums. 0014 puts their sums in as the 'all' rows; 0016 keeps them as cells of month '' and makes
 * metric take every record again, which fills in the breakdowns and the months and changes no
 * period's figures, at any point on the way. */
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
            if (c[j].denominator == 0)
                continue; /* held or missing: not known before 0016 */
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

    /* 0014 and 0015: the 'all' rows at once (no month yet) */
    migrate_range(db, "0014", "0016");
    PGresult *before = query(db, PERIOD_SUMS);
    assert_true(PQgetlength(before, 0, 0) > 100);
    /* 0016: the sums as cells of month '', every period's figures as they were */
    migrate_range(db, "0016", "");
    assert_sums_match_contributions(db);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE month <> ''"), 0);
    PGresult *now = query(db, PERIOD_SUMS);
    assert_string_equal(PQgetvalue(now, 0, 0), PQgetvalue(before, 0, 0));
    PQclear(now);
    /* metric takes every record again: part of the way, the periods' figures are still those */
    stage_close(&st);
    stage_open(&st, conninfo);
    def = nhfd(&st);
    for (int round = 0; round < 100; round++) {
        stage_keys_t out = {0};
        int got = stage_run_backlog(&st.ops, "metric", st.db, 64, 0, &out);
        stage_keys_free(&out);
        assert_true(got >= 0);
        if (round == 1) {
            assert_true(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE month = ''") > 0);
            assert_true(count_of(db, "SELECT count(*) FROM metric.aggregate WHERE month <> ''") >
                        0);
            assert_sums_match_contributions(db);
            now = query(db, PERIOD_SUMS);
            assert_string_equal(PQgetvalue(now, 0, 0), PQgetvalue(before, 0, 0));
            PQclear(now);
        }
        if (got == 0)
            break;
    }
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.record_state"
                                  " WHERE link_revision < 0"),
                     0);
    assert_aggregate_right(db, def, 4);
    assert_int_equal(
        count_of(db,
                 "SELECT count(*) FROM metric.aggregate WHERE month = '' AND breakdown = 'all'"),
        0);
    /* 0026: the invalid records taken again count once each as rejected */
    assert_true(count_of(db, "SELECT count(*) FROM metric.record_state"
                             " WHERE NOT valid AND period IS NOT NULL") > 0);
    assert_int_equal(count_of(db, "SELECT coalesce(sum(denominator), 0) FROM metric.aggregate"
                                  " WHERE metric_id = '" CONTRIBUTION_REJECTED "'"),
                     count_of(db, "SELECT count(*) FROM metric.record_state"
                                  " WHERE NOT valid AND period IS NOT NULL"));
    now = query(db, PERIOD_SUMS);
    assert_string_equal(PQgetvalue(now, 0, 0), PQgetvalue(before, 0, 0));
    PQclear(now);
    PQclear(before);
    free_versions(v, N_RECORDS);
    forget_latest();
    stage_close(&st);
    PQfinish(db);
}

/* A deployment before 0046 kept a breakdown's cells and values per month, as metric.contribution's
 * GROUP BY with each record's month: 0046 folds them into the period's cells (month ''), leaves the
 * month cells' keys for publish (metric.aggregate_gone, metric.measure_gone) and changes no
 * period's sums; 0053 then counts each value once under its record's categories; metric then goes
 * on from there. */
static void test_breakdown_months_folded(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("ncap_test_metric_aggregate_0046");
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "%s dbname=ncap_test_metric_aggregate_0046",
             getenv("NCAP_TEST_PG"));
    stage_t st;
    stage_open(&st, conninfo);
    const audit_def_t *def = nhfd(&st);
    forget_latest();
    static version_t v[N_RECORDS];
    for (size_t i = 0; i < N_RECORDS; i++) {
        v[i] = make_version((long long)i + 1, 1, 0, (unsigned)i * 6151u + 5);
        insert_version(db, &v[i]);
        keep_latest(&v[i]);
    }
    run_versions(&st, v, 0, N_RECORDS, 50);
    assert_aggregate_right(db, def, 4);

    /* the breakdowns as metric kept them before 0046: per month */
#define OLD_CELLS(cols)                                                                            \
    "SELECT c.audit, c.period, c.month, c.trust, c.site, c.metric_id, b.breakdown,"                \
    " b.category" cols                                                                             \
    " FROM metric.contribution c CROSS JOIN LATERAL (VALUES ('imd_decile', c.imd_decile),"         \
    "   ('ethnicity', c.ethnicity), ('sex', c.sex), ('age', c.age)) AS b(breakdown, category)"     \
    " WHERE b.category <> ''"
#define OLD_SUMS                                                                                   \
    "sum(c.numerator), sum(c.denominator), sum(c.expected_e9), count(*) FILTER (WHERE c.held),"    \
    " count(*) FILTER (WHERE c.missing)"
    pg_fixture_exec(db, "DELETE FROM metric.aggregate WHERE breakdown <> 'all'");
    pg_fixture_exec(db,
                    "INSERT INTO metric.aggregate (audit, period, month, trust, site,"
                    " metric_id, breakdown, category, numerator, denominator, expected_e9,"
                    " held, missing) " OLD_CELLS(", " OLD_SUMS) " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
                                                                " HAVING (" OLD_SUMS
                                                                ") <> (0, 0, 0, 0, 0)");
    /* and the values as 0041 kept them (a row per cell and value, every cell of a month),
     * before 0053 counted each once under its record's categories */
    pg_fixture_exec(db, "DROP TABLE metric.measure, metric.measure_gone, metric.cell");
    pg_fixture_exec(db, "CREATE TABLE metric.cell (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY"
                        " KEY, audit text NOT NULL, period text NOT NULL, month text NOT NULL"
                        " CONSTRAINT cell_month_check CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),"
                        " trust text NOT NULL, site text NOT NULL, metric_id text NOT NULL,"
                        " breakdown text NOT NULL, category text NOT NULL, UNIQUE (audit, period,"
                        " month, trust, site, metric_id, breakdown, category))");
    pg_fixture_exec(db, "CREATE TABLE metric.measure (cell bigint NOT NULL, value double"
                        " precision NOT NULL, count bigint NOT NULL, write_xid xid8 NOT NULL"
                        " DEFAULT pg_current_xact_id(), PRIMARY KEY (cell, value))");
    pg_fixture_exec(db, "CREATE TABLE metric.measure_gone (cell bigint NOT NULL, value double"
                        " precision NOT NULL, write_xid xid8 NOT NULL DEFAULT"
                        " pg_current_xact_id(), gone_at timestamptz NOT NULL DEFAULT"
                        " clock_timestamp())");
#define OLD_VALUES(join)                                                                           \
    " FROM metric.contribution c CROSS JOIN LATERAL (VALUES ('all', ''),"                          \
    "   ('imd_decile', c.imd_decile), ('ethnicity', c.ethnicity), ('sex', c.sex), ('age', c.age))" \
    "   AS b(breakdown, category)" join " WHERE (b.breakdown = 'all' OR b.category <> '')"         \
    "   AND c.value IS NOT NULL"
    pg_fixture_exec(db, "INSERT INTO metric.cell (audit, period, month, trust, site, metric_id,"
                        " breakdown, category) SELECT DISTINCT c.audit, c.period, c.month, c.trust,"
                        " c.site, c.metric_id, b.breakdown, b.category" OLD_VALUES(""));
    pg_fixture_exec(db, "INSERT INTO metric.measure (cell, value, count) SELECT x.id, c.value,"
                        " count(*)" OLD_VALUES(" JOIN metric.cell x ON (x.audit, x.period, x.month,"
                                               " x.trust, x.site, x.metric_id, x.breakdown,"
                                               " x.category) = (c.audit, c.period, c.month,"
                                               " c.trust, c.site, c.metric_id, b.breakdown,"
                                               " b.category)") " GROUP BY 1, 2");
#undef OLD_VALUES
#define OLD_MEASURE " FROM metric.measure m JOIN metric.cell c ON c.id = m.cell"
    long long month_cells = count_of(db, "SELECT count(*) FROM metric.aggregate"
                                         " WHERE breakdown <> 'all' AND month <> ''");
    long long month_values =
        count_of(db, "SELECT count(*)" OLD_MEASURE " WHERE c.breakdown <> 'all'");
    assert_true(month_cells > 100 && month_values > 100);
    long long old_counts = count_of(db, "SELECT sum(count)" OLD_MEASURE);
    PGresult *before = query(db, PERIOD_SUMS);
    pg_fixture_exec(db, "TRUNCATE metric.aggregate_gone, metric.measure_gone");

    migrate_range(db, "0046", "0047");
    PGresult *now = query(db, PERIOD_SUMS);
    assert_string_equal(PQgetvalue(now, 0, 0), PQgetvalue(before, 0, 0));
    PQclear(now);
    /* every month cell and value gone is left for publish, under the migration's transaction */
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.aggregate_gone"
                                  " WHERE breakdown <> 'all' AND month <> ''"),
                     month_cells);
    assert_int_equal(count_of(db, "SELECT count(*) FROM metric.measure_gone"), month_values);
    assert_int_equal(count_of(db, "SELECT count(DISTINCT write_xid) FROM (SELECT write_xid FROM"
                                  " metric.aggregate_gone UNION ALL SELECT write_xid FROM"
                                  " metric.aggregate WHERE breakdown <> 'all') x"),
                     1);
    /* the values folded into the period's cells: not one counted off */
    assert_int_equal(
        count_of(db, "SELECT count(*)" OLD_MEASURE " WHERE c.breakdown <> 'all' AND c.month <> ''"),
        0);
    assert_int_equal(count_of(db, "SELECT sum(count)" OLD_MEASURE), old_counts);
#define ALL_VALUES(rows)                                                                           \
    "SELECT string_agg(concat_ws(' ', " MEASURE_COLUMNS "), ',' ORDER BY " MEASURE_COLUMNS ")"     \
    " FROM " rows
    PGresult *folded = query(db, ALL_VALUES("(SELECT c.audit, c.period, c.month, c.trust, c.site,"
                                            " c.metric_id, c.breakdown, c.category, m.value,"
                                            " m.count" OLD_MEASURE ") o"));
#undef OLD_MEASURE

    /* 0053: each value counted once under its record's categories, as metric now counts it;
     * counted in every cell as publish spreads it, the same counts as before */
    migrate_range(db, "0053", "0054");
    assert_aggregate_right(db, def, 4);
    assert_int_equal(count_of(db, "SELECT sum(count) FROM " MEASURE_ROWS), old_counts);
    PGresult *counted = query(db, ALL_VALUES(MEASURE_ROWS));
#undef ALL_VALUES
    assert_true(PQgetlength(counted, 0, 0) > 1000);
    assert_string_equal(PQgetvalue(counted, 0, 0), PQgetvalue(folded, 0, 0));
    PQclear(counted);
    PQclear(folded);
    assert_true(count_of(db, "SELECT count(*) FROM metric.measure") * 3 <
                count_of(db, "SELECT count(*) FROM " MEASURE_ROWS));
    now = query(db, PERIOD_SUMS);
    assert_string_equal(PQgetvalue(now, 0, 0), PQgetvalue(before, 0, 0));
    PQclear(now);
    PQclear(before);

    /* metric goes on from the folded cells: changed versions of some records */
    static version_t v2[N_RECORDS / 4 + 1];
    size_t n2 = 0;
    for (size_t i = 0; i < N_RECORDS; i += 4) {
        v2[n2] = make_version((long long)i + 1, 2, 0, (unsigned)i * 104729u + 29);
        insert_version(db, &v2[n2]);
        keep_latest(&v2[n2++]);
    }
    run_versions(&st, v2, 0, n2, 40);
    assert_aggregate_right(db, def, 4);
    free_versions(v, N_RECORDS);
    free_versions(v2, n2);
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
        cmocka_unit_test(test_hand_made_contributions),
        cmocka_unit_test(test_breakdown_months_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
