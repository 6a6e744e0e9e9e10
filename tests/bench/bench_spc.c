/* bench_spc.c - how fast XmR charts are drawn: 10,000 series of 36 monthly points (noise around a
 * level, some with a step or a drift so every rule has work), charted with the default options
 * and with a target, a rebase and fixed limits. Prints figures; asserts no limits. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "spc.h"

#define SERIES 10000
#define POINTS 36
#define REPEATS 5

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Charts every series; returns seconds taken and counts special causes into *special. */
static double run(const double *values, const spc_options_t *opts, spc_point_t *points,
                  size_t *special)
{
    char err[128];
    spc_summary_t summary;
    size_t count = 0;
    double t0 = now();
    for (size_t s = 0; s < SERIES; s++) {
        if (spc_compute(values + s * POINTS, POINTS, opts, points, &summary, err, sizeof err) !=
            0) {
            fprintf(stderr, "bench_spc: %s\n", err);
            exit(1);
        }
        for (size_t i = 0; i < POINTS; i++)
            count += points[i].cause != SPC_CAUSE_NONE;
    }
    double t = now() - t0;
    *special = count;
    return t;
}

static void report(const char *what, const double *values, const spc_options_t *opts,
                   spc_point_t *points)
{
    double best = INFINITY;
    size_t special = 0;
    for (int r = 0; r < REPEATS; r++) {
        double t = run(values, opts, points, &special);
        best = t < best ? t : best;
    }
    printf("%-32s %6d series x %d points: %8.2f ms (best of %d), %6.0f ns per series, %zu "
           "special-cause points\n",
           what, SERIES, POINTS, best * 1e3, REPEATS, best * 1e9 / SERIES, special);
}

int main(void)
{
    double *values = malloc(sizeof *values * SERIES * POINTS);
    spc_point_t points[POINTS];
    if (!values) {
        fprintf(stderr, "bench_spc: out of memory\n");
        return 1;
    }
    for (size_t s = 0; s < SERIES; s++) {
        double level = 50 + 20 * uniform(), sd = 1 + 4 * uniform();
        int kind = (int)(s % 4); /* 0 noise, 1 step at month 24, 2 drift, 3 one outlier */
        for (size_t i = 0; i < POINTS; i++) {
            double v = level + sd * normal();
            if (kind == 1 && i >= 24)
                v += 3 * sd;
            if (kind == 2)
                v += 0.3 * sd * (double)i;
            if (kind == 3 && i == 20)
                v += 6 * sd;
            values[s * POINTS + i] = v;
        }
    }

    spc_options_t opts;
    spc_options_init(&opts);
    report("default", values, &opts, points);

    const size_t rebase[] = {24};
    opts.has_target = true;
    opts.target = 60;
    opts.rebase = rebase;
    opts.nrebase = 1;
    opts.fix_after = 12;
    report("target, rebase 25, fix after 12", values, &opts, points);

    free(values);
    return 0;
}
