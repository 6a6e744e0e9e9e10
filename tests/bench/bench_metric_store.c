/* bench_metric_store.c - what ncap-metricd's store costs per record (metric_store.c on the
 * PostgreSQL of $NCAP_TEST_PG): 20,000 records of 3 trusts, 6 sites, 6 months, in batches of 500
 * as the daemon takes them, each with 12 contributions in 4 breakdowns plus the record count,
 * first stored, then superseded every one (old sums subtracted, new added). Twice: 12
 * proportions, then 10 proportions, a ratio (observed, expected x 1e9, held or missing) and a
 * median (a value counted in metric.measure, 48 distinct values). Prints records a second for
 * each, and the CPU time per record of this process and of its PostgreSQL backend (from
 * /proc/PID/stat when the server runs on this machine: on a machine others share, the wall time
 * varies with their load, the CPU time much less); asserts none. Without $NCAP_TEST_PG it says so
 * and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metric_store.h"
#include "pg_test_db.h"
#include "proc_cpu.h"

#define N_RECORDS 20000
#define BATCH 500
#define N_METRICS 12

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned next_random(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static const char *const metric_ids[N_METRICS] = {"m0", "m1", "m2", "m3", "m4",  "m5",
                                                  "m6", "m7", "m8", "m9", "m10", "m11"};

typedef struct {
    char trust[4], site[8], period[8], month[8];
    contribution_t c[N_METRICS + 1];
} rec_t;

static bool ratio_m10(void *ctx, const char *audit, const char *metric_id)
{
    (void)ctx;
    (void)audit;
    return strcmp(metric_id, "m10") == 0;
}

static void make(rec_t *r, metric_store_record_t *out, long long id, unsigned seed, bool kinds)
{
    unsigned s = seed;
    static const char *const trusts[] = {"RA1", "RB2", "RC3"};
    snprintf(r->trust, sizeof r->trust, "%s", trusts[next_random(&s) % 3]);
    snprintf(r->site, sizeof r->site, "%.3s0%u", r->trust, 1 + next_random(&s) % 2);
    int month = 1 + (int)(next_random(&s) % 6);
    snprintf(r->month, sizeof r->month, "2026-%02d", month);
    snprintf(r->period, sizeof r->period, "2026Q%d", (month + 2) / 3);
    for (int m = 0; m < N_METRICS; m++)
        r->c[m] = (contribution_t){
            .metric_id = metric_ids[m], .numerator = next_random(&s) % 2, .denominator = 1};
    if (kinds) {
        unsigned u = next_random(&s);
        r->c[10] = (contribution_t){.metric_id = "m10",
                                    .numerator = u % 3,
                                    .denominator = u % 17 != 0,
                                    .expected_e9 = u % 17 ? (long long)u * 30517 : 0,
                                    .missing = u % 17 == 0};
        r->c[11] = (contribution_t){.metric_id = "m11",
                                    .denominator = 1,
                                    .has_value = true,
                                    .value = 0.5 * (double)(next_random(&s) % 48)};
    }
    r->c[N_METRICS] = (contribution_t){.metric_id = CONTRIBUTION_RECORDS, .denominator = 1};
    static const char *const imd[] = {"1", "4", "7", "10", "unknown"};
    static const char *const eth[] = {"white", "asian", "black", "unknown"};
    static const char *const sex[] = {"male", "female"};
    static const char *const age[] = {"60-69", "70-79", "80-89", "90+"};
    *out = (metric_store_record_t){.record_id = id,
                                   .audit = "bench",
                                   .trust = r->trust,
                                   .site = r->site,
                                   .period = r->period,
                                   .month = r->month,
                                   .contrib = r->c,
                                   .n_contrib = N_METRICS + 1};
    out->categories[BREAKDOWN_IMD_DECILE] = imd[next_random(&s) % 5];
    out->categories[BREAKDOWN_ETHNICITY] = eth[next_random(&s) % 4];
    out->categories[BREAKDOWN_SEX] = sex[next_random(&s) % 2];
    out->categories[BREAKDOWN_AGE] = age[next_random(&s) % 4];
}

/* CPU seconds of this process and of db's backend. */
typedef struct {
    double self, backend;
} cpu_t;

static cpu_t cpu_now(PGconn *db)
{
    return (cpu_t){(double)clock() / CLOCKS_PER_SEC, proc_cpu_seconds(PQbackendPID(db))};
}

/* Stores version `round` of every record; returns the seconds it took, and in *cpu the CPU
 * seconds used meanwhile. */
static double pass(PGconn *db, bool kinds, unsigned round, cpu_t *cpu)
{
    cpu_t c0 = cpu_now(db);
    static rec_t recs[BATCH];
    static metric_store_record_t batch[BATCH];
    char err[2048];
    double t0 = now();
    for (long long i = 0; i < N_RECORDS; i += BATCH) {
        for (int k = 0; k < BATCH; k++)
            make(&recs[k], &batch[k], i + k + 1, (unsigned)(i + k) * 2654435761u + round, kinds);
        if (db_exec(db, "BEGIN", err, sizeof err) != 0 ||
            metric_store_replace(db, batch, BATCH, ratio_m10, NULL, err, sizeof err) != 0 ||
            db_exec(db, "COMMIT", err, sizeof err) != 0) {
            fprintf(stderr, "bench_metric_store: %s\n", err);
            exit(1);
        }
    }
    cpu_t c1 = cpu_now(db);
    *cpu = (cpu_t){c1.self - c0.self, c0.backend < 0 ? -1 : c1.backend - c0.backend};
    return now() - t0;
}

int main(void)
{
    char conninfo[1024], err[2048];
    if (pg_test_db_create("ncap_bench_metric_store", conninfo, sizeof conninfo) != 0)
        return 1;
    if (!conninfo[0]) {
        printf("bench_metric_store: NCAP_TEST_PG is unset: no PostgreSQL to measure\n");
        return 0;
    }
    PGconn *db = db_connect(conninfo, "bench_metric_store", err, sizeof err);
    int applied = 0;
    if (!db || migrate_run(db, &applied, err, sizeof err) != 0) {
        fprintf(stderr, "bench_metric_store: %s\n", err);
        return 1;
    }
    printf("bench_metric_store: %d records, batches of %d, %d contributions each in 4 breakdowns\n",
           N_RECORDS, BATCH, N_METRICS + 1);
    for (int kinds = 0; kinds < 2; kinds++) {
        if (db_exec(db,
                    "TRUNCATE metric.record_contribution, metric.aggregate, metric.measure, "
                    "metric.cell",
                    err, sizeof err) != 0) {
            fprintf(stderr, "bench_metric_store: %s\n", err);
            return 1;
        }
        cpu_t c1, c2;
        double first = pass(db, kinds, 1, &c1), again = pass(db, kinds, 2, &c2);
        PGresult *r = db_query(db,
                               "SELECT (SELECT count(*) FROM metric.aggregate),"
                               " (SELECT count(*) FROM metric.measure)",
                               0, NULL, err, sizeof err);
        if (!r) {
            fprintf(stderr, "bench_metric_store: %s\n", err);
            return 1;
        }
        printf("  %-38s stored %7.0f records/s, superseded %7.0f records/s (%s cells, %s "
               "values)\n",
               kinds ? "10 proportions, a ratio and a median:" : "12 proportions:",
               N_RECORDS / first, N_RECORDS / again, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
        PQclear(r);
        if (c1.backend >= 0)
            printf("  %-38s CPU us/record: stored %.0f + backend %.0f, superseded %.0f + backend "
                   "%.0f\n",
                   "", 1e6 * c1.self / N_RECORDS, 1e6 * c1.backend / N_RECORDS,
                   1e6 * c2.self / N_RECORDS, 1e6 * c2.backend / N_RECORDS);
    }
    PQfinish(db);
    return 0;
}
