/* bench_release.c - rebuilding a benchmarked release from aggregates: 200 trusts, 1,000 sites in
 * all, 10 metrics, every breakdown (IMD deciles, ethnic group, sex, age band), the cells the
 * metric stage keeps; benchmark_build (sums, intervals, funnels with every overdispersion setting,
 * the SII's 100,000 simulations per metric, disclosure control at min_count 8) then latest.csv,
 * fingertips.csv and latest.json written to memory. Then the same cells with every count 100
 * times larger (100 times the records): the rebuild works from the cells, so its time does not
 * follow the records (only the exact funnel limits grow, as the square root of a denominator).
 * Prints the times, best of 3; asserts none. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "benchmark.h"
#include "benchmark_sim.h"

#define REPEATS 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sink(FILE *f, const benchmark_input_t *in, const benchmark_release_t *r, size_t *bytes)
{
    benchmark_write_csv(f, in->audit, in->period, r);
    benchmark_write_fingertips(f, in, r);
    char *json = benchmark_json(in, r, NULL);
    if (!json) {
        fprintf(stderr, "bench_release: out of memory\n");
        exit(1);
    }
    fputs(json, f);
    free(json);
    fflush(f);
    *bytes = (size_t)ftell(f);
}

static void run(long long scale)
{
    bsim_t s;
    bsim_init(&s, 1, 200, 1000, 10, scale);
    benchmark_input_t in = bsim_input(&s, 8);
    long long records = 0;
    for (size_t i = 0; i < s.n_cells; i++)
        if (s.cells[i].breakdown[0] == 'a' && s.cells[i].breakdown[1] == 'l')
            records += s.cells[i].denominator;
    double best_build = 1e30, best_write = 1e30;
    size_t rows = 0, bytes = 0, alarms = 0;
    for (int rep = 0; rep < REPEATS; rep++) {
        benchmark_release_t r;
        char err[256];
        double t0 = now();
        if (benchmark_build(&in, &r, err, sizeof err) != 0) {
            fprintf(stderr, "bench_release: %s\n", err);
            exit(1);
        }
        double t1 = now();
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
            fprintf(stderr, "bench_release: out of memory\n");
            exit(1);
        }
        sink(f, &in, &r, &bytes);
        fclose(f);
        free(buf);
        double t2 = now();
        if (t1 - t0 < best_build)
            best_build = t1 - t0;
        if (t2 - t1 < best_write)
            best_write = t2 - t1;
        rows = r.n_rows;
        alarms = 0;
        for (size_t m = 0; m < r.n_metrics; m++)
            alarms += r.funnel[m].alarms;
        benchmark_release_free(&r);
    }
    printf("  counts x%-4lld %zu cells, %lld metric denominators (records x metrics): build %7.1f "
           "ms, write %6.1f ms (%zu rows, %.1f MB of files), %zu trust alarms\n",
           scale, s.n_cells, records, best_build * 1e3, best_write * 1e3, rows, (double)bytes / 1e6,
           alarms);
    bsim_free(&s);
}

int main(void)
{
    printf("release rebuild, 200 trusts, 1000 sites, 10 metrics, every breakdown, min_count 8, "
           "best of %d\n",
           REPEATS);
    run(1);
    run(100);
    return 0;
}
