/* bench_funnel.c - funnel limits for 10,000 units with every combination of limits,
 * overdispersion and method, for proportions (denominators 20-20,000) and ratios (expected
 * 2-2,000), plus one unit of n = 1e7 with exact limits. Prints the time per run; asserts no
 * limits. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "funnel.h"

#define UNITS 10000
#define REPEATS 3

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double time_run(const funnel_opts_t *o, const funnel_unit_t *u, size_t n, funnel_point_t *p,
                       funnel_summary_t *s)
{
    double best = 1e30;
    for (int r = 0; r < REPEATS; r++) {
        char err[256];
        double t0 = now();
        if (funnel_compute(o, u, n, p, s, err, sizeof err) != 0) {
            fprintf(stderr, "bench_funnel: %s\n", err);
            exit(1);
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return best;
}

int main(void)
{
    static funnel_unit_t prop[UNITS], ratio[UNITS];
    static funnel_point_t points[UNITS];
    for (size_t i = 0; i < UNITS; i++) {
        double n = floor(20 * pow(1000, uniform()));
        double p = 0.15 + 0.1 * uniform();
        prop[i].denominator = n;
        prop[i].numerator = floor(n * p);
        double e = 2 * pow(1000, uniform());
        ratio[i].denominator = e;
        ratio[i].numerator = floor(e * (0.8 + 0.4 * uniform()));
    }
    static const char *const limits[] = {"exact", "normal"};
    static const char *const ods[] = {"none", "multiplicative", "additive"};
    static const char *const methods[] = {"shmi", "cqc"};
    printf("funnel, %d units, best of %d runs\n", UNITS, REPEATS);
    for (int type = 0; type < 2; type++)
        for (int l = 0; l < 2; l++)
            for (int od = 0; od < 3; od++)
                for (int m = 0; m < (type == 0 ? 1 : 2); m++) {
                    funnel_opts_t o =
                        funnel_opts_default(type == 0 ? FUNNEL_PROPORTION : FUNNEL_RATIO);
                    o.limits = (funnel_limits_t)l;
                    o.overdispersion = (funnel_od_t)od;
                    o.method = (funnel_method_t)m;
                    funnel_summary_t s;
                    double t = time_run(&o, type == 0 ? prop : ratio, UNITS, points, &s);
                    printf("  %-10s %-6s %-14s %-4s  %8.2f ms   phi %.4f, %zu alerts, %zu "
                           "alarms\n",
                           type == 0 ? "proportion" : "ratio", limits[l], ods[od],
                           type == 0 ? "-" : methods[m], t * 1e3, s.phi, s.alerts, s.alarms);
                }
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.target = 0.3;
    funnel_unit_t big = {3000000, 1e7};
    funnel_summary_t s;
    double t = time_run(&o, &big, 1, points, &s);
    printf("  one unit of n = 1e7, exact limits: %.3f ms (95%% %.9f-%.9f)\n", t * 1e3,
           points[0].lower95, points[0].upper95);
    return 0;
}
