/* bench_validate.c - how fast offline validation is (issue 3 asks for 200,000 rows/s or more on
 * one core): 1,000,000 simulated NHFD rows, made in memory, put through validate_file, the core of
 * `ncap validate` (shape, identifiers, derived fields, types, rules, history rules), one trust's
 * file at a time. Prints rows/s against the goal and peak memory; asserts nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "audit_def.h"
#include "sim.h"
#include "validate_file.h"

#define ROWS 1000000u
#define TRUSTS 50u
#define GOAL 200000.0

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of this process: the machine may be shared, and the goal is per core */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double peak_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

static void count(void *ctx, const file_problem_t *p)
{
    (void)ctx;
    (void)p;
}

int main(int argc, char **argv)
{
    /* a smaller run for profiling: bench_validate ROWS */
    unsigned long rows = argc > 1 ? strtoul(argv[1], NULL, 10) : ROWS;
    char err[512];
    audit_def_t *def =
        audit_def_load_named(NCAP_SOURCE_DIR "/deploy/audits", "nhfd", err, sizeof err);
    if (!def) {
        fprintf(stderr, "bench_validate: %s\n", err);
        return 1;
    }
    sim_opts_t opts;
    sim_opts_default(&opts);
    opts.records = rows ? rows : ROWS;
    opts.trusts = TRUSTS;
    double g0 = now();
    sim_t *sim = sim_new(&opts, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "bench_validate: %s\n", err);
        audit_def_destroy(&def);
        return 1;
    }
    size_t nt = sim_ntrusts(sim);
    char **buf = calloc(nt, sizeof *buf);
    size_t *len = calloc(nt, sizeof *len), bytes = 0;
    if (!buf || !len) {
        fprintf(stderr, "bench_validate: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < nt; i++) {
        if (sim_trust_buffer(sim, i, &buf[i], &len[i]) != 0) {
            fprintf(stderr, "bench_validate: could not write trust %zu's file\n", i);
            return 1;
        }
        bytes += len[i];
    }
    sim_stats_t st;
    sim_stats(sim, &st);
    printf("generated %zu rows of %zu trusts (%.1f MiB of CSV, %zu invalid) in %.2f s; "
           "peak memory so far %.0f MiB\n",
           st.records, nt, (double)bytes / 1048576.0, st.invalid, now() - g0, peak_mib());

    file_summary_t total = {0};
    double t0 = now(), c0 = cpu_now();
    for (size_t i = 0; i < nt; i++) {
        file_summary_t sum;
        if (validate_file(def, sim_trust_code(sim, i), buf[i], len[i], count, NULL, &sum) != 0) {
            fprintf(stderr, "bench_validate: validation failed on trust %zu\n", i);
            return 1;
        }
        total.data_rows += sum.data_rows;
        total.errors += sum.errors;
        total.warnings += sum.warnings;
    }
    double secs = now() - t0, cpu = cpu_now() - c0;
    double rate = (double)total.data_rows / cpu;
    printf("validated %u rows in %.2f s of CPU (%.2f s wall) on one core: %.0f rows/s "
           "(%.0f by the wall clock); %u errors, %u warnings\n",
           total.data_rows, cpu, secs, rate, (double)total.data_rows / secs, total.errors,
           total.warnings);
    printf("goal (issue 3) >= %.0f rows/s: %s (%.2fx)\n", GOAL, rate >= GOAL ? "met" : "NOT met",
           rate / GOAL);
    printf("peak memory (ru_maxrss) %.0f MiB\n", peak_mib());

    for (size_t i = 0; i < nt; i++)
        free(buf[i]);
    free(buf);
    free(len);
    sim_destroy(&sim);
    audit_def_destroy(&def);
    return 0;
}
