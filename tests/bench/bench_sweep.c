/* bench_sweep.c - what one backlog sweep and one `ncap status` cost as the tables grow (on the
 * PostgreSQL of $NCAP_TEST_PG). The tables are filled as if the pipeline had taken N records
 * (10,000, then 200,000), with a little new work on top: 100 records ingest holds that linkage
 * has not linked, 100 that validation has not validated and 100 that metric has not taken. One
 * sweep is what each record stage's sweep does (its watermark moved over what it has taken, then
 * its backlog query, which finds the 100) plus publish's periodic work with nothing changed; one
 * status is `ncap status`'s read. Each is timed five times at each size, after a first sweep that
 * catches the watermarks up with the rows just filled (printed too: it walks them, O(rows
 * filled)); the median is printed, and the ratio of the two sizes (flat is 1). Then the same at
 * 200,000 with as many linked records held in validation's quarantine (a definition that failed
 * every record of an audit), then with all of them released (`ncap quarantine retry --all`), the
 * sweep finding as many as it takes, and each one's ratio to the 200,000 without (flat is 1: a
 * count up to `ncap status`'s bound costs more). Asserts nothing.
 * Without $NCAP_TEST_PG it says so and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linkage_stage.h"
#include "metric_stage.h"
#include "pg_test_db.h"
#include "pipeline_status.h"
#include "publish_stage.h"
#include "validation_stage.h"

#define NEW_WORK 100
#define REPEAT 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec_or_die(PGconn *db, const char *sql)
{
    char err[2048];
    if (db_exec(db, sql, err, sizeof err) != 0) {
        fprintf(stderr, "bench_sweep: %s\nin: %.200s\n", err, sql);
        exit(1);
    }
}

/* The rows stage level (1 ingest, 2 linkage, 3 validation, 4 metric and publish) keeps for records
 * from..to, as its batches would leave them. */
static void put(PGconn *db, int level, long long from, long long to)
{
    static const char *const sql[] = {
        "INSERT INTO ingest.record (record_id, audit, trust, local_id, latest_version)"
        " SELECT g, 'bench', 'RA1', 'L' || g, 1 FROM generate_series($1::bigint, $2) g;"
        "INSERT INTO ingest.raw_record (record_id, version, submission_id, row_number, site,"
        " payload, content_hash) SELECT g, 1, 1, g, 'RA101',"
        " jsonb_build_object('local_id', 'L' || g, 'notes', repeat('x', 400)), md5(g::text)"
        " FROM generate_series($1::bigint, $2) g",
        "INSERT INTO linkage.link (record_id, version, patient_id, method)"
        " SELECT g, 1, 1, 'new' FROM generate_series($1::bigint, $2) g;"
        "INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site, local_id,"
        " submission_id, row_number, pseudonym, payload)"
        " SELECT g, 1, 'bench', 'RA1', 'RA101', 'L' || g, 1, g, 'P' || g,"
        " jsonb_build_object('notes', repeat('x', 400)) FROM generate_series($1::bigint, $2) g",
        "INSERT INTO validation.record (record_id, version, audit, trust, site, local_id,"
        " submission_id, row_number, pseudonym, valid, payload)"
        " SELECT g, 1, 'bench', 'RA1', 'RA101', 'L' || g, 1, g, 'P' || g, true,"
        " jsonb_build_object('notes', repeat('x', 400)) FROM generate_series($1::bigint, $2) g",
        "INSERT INTO metric.processed (record_id, version)"
        " SELECT g, 1 FROM generate_series($1::bigint, $2) g;"
        "INSERT INTO metric.record_state (record_id, version, audit, trust, period, valid)"
        " SELECT g, 1, 'bench', 'RA1', '2026Q1', true FROM generate_series($1::bigint, $2) g;"
        "INSERT INTO publish.seen (record_id, version, audit, period)"
        " SELECT g, 1, 'bench', '2026Q1' FROM generate_series($1::bigint, $2) g"};
    /* a statement at a time: parameters go with one statement only */
    char one[1024], err[1024], a[24], b[24];
    snprintf(a, sizeof a, "%lld", from);
    snprintf(b, sizeof b, "%lld", to);
    const char *p[] = {a, b};
    for (const char *q = sql[level - 1]; *q;) {
        const char *semi = strchr(q, ';');
        size_t len = semi ? (size_t)(semi - q) : strlen(q);
        snprintf(one, sizeof one, "%.*s", (int)len, q);
        if (db_execp(db, one, 2, p, err, sizeof err) != 0) {
            fprintf(stderr, "bench_sweep: %s\nin: %.200s\n", err, one);
            exit(1);
        }
        q += len + (semi != NULL);
    }
}

/* Records from..to, each through the stages up to level upto. */
static void fill(PGconn *db, long long from, long long to, int upto)
{
    for (int level = 1; level <= upto; level++)
        put(db, level, from, to);
}

/* The new work on top of the records 1..n taken: 100 records waiting at each record stage. */
static void add_new_work(PGconn *db, long long n)
{
    fill(db, n + 1, n + NEW_WORK, 1);
    fill(db, n + NEW_WORK + 1, n + 2 * NEW_WORK, 2);
    fill(db, n + 2 * NEW_WORK + 1, n + 3 * NEW_WORK, 3);
}

/* Takes the new work of add_new_work (as its stages would). */
static void take_new_work(PGconn *db, long long n)
{
    put(db, 2, n + 1, n + NEW_WORK);
    put(db, 3, n + 1, n + 2 * NEW_WORK);
    put(db, 4, n + 1, n + 3 * NEW_WORK);
}

typedef struct {
    const char *name;
    stage_ops_t ops;
} stage_t;

/* One sweep of every stage: each record stage's watermark moved, then its backlog query (what it
 * finds is not processed here: it is the finding that grows with the tables), then publish's
 * periodic work. Returns the records found. */
static long long sweep(PGconn *db, const stage_t *stages, size_t n, const stage_ops_t *publish)
{
    long long found = 0;
    char err[1024];
    for (size_t i = 0; i < n; i++) {
        /* as the daemon's sweep: the watermark first, as far as it goes */
        int moved;
        while ((moved = stage_run_advance(&stages[i].ops, stages[i].name, db, 10000)) == 10000)
            ;
        if (moved < 0)
            exit(1);
        const char *p[] = {"500", "0"};
        PGresult *r =
            stage_wm_query(db, stages[i].name, stages[i].ops.backlog_sql, 2, p, err, sizeof err);
        if (!r) {
            fprintf(stderr, "bench_sweep: backlog of %s: %s\n", stages[i].name, err);
            exit(1);
        }
        found += PQntuples(r);
        PQclear(r);
    }
    stage_keys_t out = {0};
    if (stage_run_periodic(publish, db, 500, &out, err, sizeof err) < 0) {
        fprintf(stderr, "bench_sweep: publish: %s\n", err);
        exit(1);
    }
    stage_keys_free(&out);
    return found;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The first sweep after a fill (its watermarks walk every row just filled), then the median of
 * REPEAT sweeps and of REPEAT status reads, in ms. */
static void measure(PGconn *db, const stage_t *stages, size_t n, const stage_ops_t *publish,
                    double *catch_up_ms, double *sweep_ms, double *status_ms, long long *found,
                    long long *backlog)
{
    double s[REPEAT], t[REPEAT];
    char err[1024];
    double t0 = now();
    sweep(db, stages, n, publish); /* catches up with the rows just filled */
    *catch_up_ms = (now() - t0) * 1000;
    for (int k = 0; k < REPEAT; k++) {
        t0 = now();
        *found = sweep(db, stages, n, publish);
        s[k] = (now() - t0) * 1000;
        stage_status_t st[PIPELINE_STAGES];
        t0 = now();
        if (pipeline_status_read(db, PIPELINE_STATUS_BOUND, st, err, sizeof err) != 0) {
            fprintf(stderr, "bench_sweep: status: %s\n", err);
            exit(1);
        }
        t[k] = (now() - t0) * 1000;
        *backlog = 0;
        for (int i = 0; i < PIPELINE_STAGES; i++)
            *backlog += st[i].backlog;
    }
    qsort(s, REPEAT, sizeof *s, cmp_double);
    qsort(t, REPEAT, sizeof *t, cmp_double);
    *sweep_ms = s[REPEAT / 2];
    *status_ms = t[REPEAT / 2];
}

int main(void)
{
    char conninfo[1024], err[1024];
    if (pg_test_db_create_migrated("ncap_bench_sweep", conninfo, sizeof conninfo) != 0)
        return 1;
    if (!conninfo[0]) {
        printf("bench_sweep: $NCAP_TEST_PG is not set; nothing measured\n");
        return 0;
    }
    PGconn *db = db_connect(conninfo, "bench_sweep", err, sizeof err);
    if (!db) {
        fprintf(stderr, "bench_sweep: %s\n", err);
        return 1;
    }
    exec_or_die(db, "INSERT INTO ingest.submission (submission_id, audit, trust)"
                    " VALUES (1, 'bench', 'RA1');"
                    "INSERT INTO linkage.patient (patient_id) VALUES (1)");
    const stage_t stages[] = {{"linkage", linkage_stage_ops(NULL)},
                              {"validation", validation_stage_ops(NULL)},
                              {"metric", metric_stage_ops(NULL)}};
    const size_t n_stages = sizeof stages / sizeof *stages;
    publish_t ps = {.out_dir = "."};
    stage_ops_t publish = publish_stage_ops(&ps);

    static const long long sizes[] = {10000, 200000};
    double sweep_ms[2], status_ms[2];
    long long done = 0;
    printf("%10s %14s %12s %12s %10s %10s\n", "records", "catch-up ms", "sweep ms", "status ms",
           "found", "backlog");
    for (int i = 0; i < 2; i++) {
        if (done > 0)
            take_new_work(db, done);
        long long from = done > 0 ? done + 3 * NEW_WORK + 1 : 1;
        fill(db, from, sizes[i], 4);
        exec_or_die(db, "ANALYZE");
        done = sizes[i];
        add_new_work(db, done);
        long long found, backlog;
        double catch_up;
        measure(db, stages, n_stages, &publish, &catch_up, &sweep_ms[i], &status_ms[i], &found,
                &backlog);
        printf("%10lld %14.1f %12.1f %12.1f %10lld %10lld\n", sizes[i], catch_up, sweep_ms[i],
               status_ms[i], found, backlog);
    }
    printf("ratio 200k/10k: sweep %.2f, status %.2f (flat is 1)\n", sweep_ms[1] / sweep_ms[0],
           status_ms[1] / status_ms[0]);

    /* a definition failed every record of an audit: 200,000 linked records held in validation's
     * quarantine, the new work taken first so that the watermark passes them; then new work
     * again */
    take_new_work(db, done);
    exec_or_die(db, "INSERT INTO linkage.pseudo_record (record_id, version, audit, trust, site,"
                    " local_id, submission_id, row_number, pseudonym, payload)"
                    " SELECT 10000000 + g, 1, 'bench', 'RA1', 'RA101', 'Q' || g, 1, g, 'P' || g,"
                    " jsonb_build_object('notes', repeat('x', 400))"
                    " FROM generate_series(1, 200000) g;"
                    "INSERT INTO validation.quarantine (record_id, version, stage, error_class,"
                    " message) SELECT 10000000 + g, 1, 'validation', 'definition',"
                    " 'the definition of a metric failed' FROM generate_series(1, 200000) g;"
                    "ANALYZE");
    add_new_work(db, 30000000);
    double held_sweep, held_status, catch_up;
    long long found, backlog;
    measure(db, stages, n_stages, &publish, &catch_up, &held_sweep, &held_status, &found, &backlog);
    printf("%10s %14.1f %12.1f %12.1f %10lld %10lld\n", "+200k held", catch_up, held_sweep,
           held_status, found, backlog);
    printf("ratio with 200k held/without: sweep %.2f, status %.2f (flat is 1)\n",
           held_sweep / sweep_ms[1], held_status / status_ms[1]);

    /* the definition mended, `ncap quarantine retry --all`: all 200,000 released behind the
     * watermark, validation's backlog; a sweep reads the first of them it takes (500) */
    exec_or_die(db, "UPDATE validation.quarantine SET held = false");
    exec_or_die(db, "VACUUM ANALYZE validation.quarantine");
    double rel_sweep, rel_status;
    measure(db, stages, n_stages, &publish, &catch_up, &rel_sweep, &rel_status, &found, &backlog);
    printf("%10s %14.1f %12.1f %12.1f %10lld %10lld\n", "+200k rel", catch_up, rel_sweep,
           rel_status, found, backlog);
    printf("ratio with 200k released/without: sweep %.2f, status %.2f (flat is 1)\n",
           rel_sweep / sweep_ms[1], rel_status / status_ms[1]);
    publish_stage_clear(&ps);
    PQfinish(db);
    return 0;
}
