/* test_benchmark_kinds.c - a release's ratio, median and mean rows, each figure checked against an
 * independent computation written out here (not ncap's earlier output): O/E with Byar's formula
 * and, below 10 observed, exact Poisson limits checked by summing the Poisson probabilities at
 * the limits (and Garwood's published 1.6235-11.6683 for 5); the ratio funnel's exact limits
 * from Poisson quantiles summed term by term, interpolated as Spiegelhalter (2005) A.1; the
 * median's order-statistic interval from binomial probabilities counted out (n = 10: the 2nd and
 * 9th values, as the tables give); the mean's t interval against t tables and the t density
 * integrated by Simpson's rule; cells of several months summed; the notes missing_risk_inputs and
 * follow_up_incomplete; disclosure control of ratios and medians; the CSV and Fingertips
 * columns of a ratio. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert_double.h"
#include "benchmark.h"
#include "benchmark_build.h"
#include "distributions.h"
#include "release_checker.h"
#include "test_skip.h"

#define Z95 1.9599639845400542
#define Z998 3.0902323061678136

static const benchmark_org_t orgs[] = {{"RAA", "Alpha Hospitals", "Y56", "London"},
                                       {"RBB", "Beta Hospitals", "Y56", "London"},
                                       {"RCC", "Gamma Hospitals", "Y58", NULL}};

static const benchmark_metric_t metrics[] = {
    {.id = "smr",
     .label = "Risk-adjusted mortality",
     .polarity = POLARITY_LOWER_BETTER,
     .overdispersion = FUNNEL_OD_NONE,
     .kind = BENCHMARK_RATIO,
     .observed_expr = "died_30d",
     .expected_model = "nela30",
     .follow_up_days = 30},
    {.id = "hours",
     .label = "Median hours to theatre",
     .polarity = POLARITY_LOWER_BETTER,
     .kind = BENCHMARK_MEDIAN,
     .value_expr = "hours_between(a, b)"},
    {.id = "mean_los",
     .label = "Mean length of stay",
     .polarity = POLARITY_NONE,
     .kind = BENCHMARK_MEAN,
     .value_expr = "los"},
};

#define RCELL(t_, m_, month_, o_, e9_, den_)                                                       \
    (benchmark_cell_t)                                                                             \
    {                                                                                              \
        .trust = t_, .site = t_ "01", .metric = m_, .breakdown = "all", .category = "",            \
        .month = month_, .numerator = o_, .denominator = den_, .expected_e9 = e9_                  \
    }

static benchmark_input_t input(const benchmark_cell_t *cells, size_t n_cells,
                               const benchmark_measure_t *measures, size_t n_measures,
                               long long min_count)
{
    return (benchmark_input_t){.audit = "nela",
                               .period = "2026Q1",
                               .metrics = metrics,
                               .n_metrics = 3,
                               .min_count = min_count,
                               .cells = cells,
                               .n_cells = n_cells,
                               .orgs = orgs,
                               .n_orgs = 3,
                               .measures = measures,
                               .n_measures = n_measures};
}

static void build(const benchmark_input_t *in, benchmark_release_t *r)
{
    char err[256] = "";
    if (benchmark_build(in, r, err, sizeof err) != 0) {
        print_error("benchmark_build: %s\n", err);
        fail();
    }
}

static const benchmark_row_t *must(const benchmark_release_t *r, const char *metric,
                                   const char *level, const char *code)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        if (strcmp(x->metric, metric) == 0 && strcmp(x->level, level) == 0 &&
            strcmp(x->area_code, code) == 0 && strcmp(x->breakdown, "all") == 0)
            return x;
    }
    print_error("no row %s %s %s\n", metric, level, code);
    fail();
    return NULL;
}

/* ---- independent formulas ---- */

static double byar_lower(double o, double z)
{
    double t = 1 - 1 / (9 * o) - z / (3 * sqrt(o));
    return o * t * t * t;
}

static double byar_upper(double o, double z)
{
    double t = 1 - 1 / (9 * (o + 1)) + z / (3 * sqrt(o + 1));
    return (o + 1) * t * t * t;
}

/* P(X <= k), X ~ Poisson(mu), summed term by term */
static double pois_cdf(int k, double mu)
{
    double term = exp(-mu), sum = term;
    for (int i = 1; i <= k; i++) {
        term *= mu / i;
        sum += term;
    }
    return sum;
}

/* Spiegelhalter (2005) A.1 for a Poisson mean mu = E: r the smallest with P(X <= r) >= p,
 * limit (r - (F(r) - p) / (F(r) - F(r - 1))) / E, target 1. */
static double pois_funnel_limit(double p, double e)
{
    int r = 0;
    while (pois_cdf(r, e) < p)
        r++;
    double f = pois_cdf(r, e), f1 = r > 0 ? pois_cdf(r - 1, e) : 0;
    return (r - (f - p) / (f - f1)) / e;
}

/* P(B <= k), B ~ Binomial(n, 1/2), counted out */
static double half_binom_cdf(int k, int n)
{
    double c = 1, sum = 0; /* C(n, i) */
    for (int i = 0; i <= k; i++) {
        sum += c;
        c = c * (n - i) / (i + 1);
    }
    return sum / pow(2, n);
}

/* P(T <= t) for t > 0, df degrees of freedom: 1/2 + the density integrated over [0, t] by
 * Simpson's rule (100,000 panels). */
static double t_cdf_simpson(double t, double df)
{
    double c = exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI);
    int n = 100000;
    double h = t / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        double x = i * h, f = c * pow(1 + x * x / df, -(df + 1) / 2);
        sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return 0.5 + sum * h / 3;
}

/* ---- ratio ---- */

static void test_ratio_byar_and_months(void **state)
{
    (void)state;
    /* RAA: two months, O = 3 + 9 = 12, E = 2.5 + 4.5 = 7 (records 40 + 60, held 4, missing 2);
     * RBB: O = 5, E = 4 (exact limits below 10); RCC: O = 30 > its 20 records (a count) */
    benchmark_cell_t cells[] = {
        RCELL("RAA", "smr", "2026-01", 3, 2500000000LL, 40),
        RCELL("RAA", "smr", "2026-02", 9, 4500000000LL, 60),
        RCELL("RBB", "smr", "2026-03", 5, 4000000000LL, 50),
        RCELL("RCC", "smr", "2026-03", 30, 20000000000LL, 20),
    };
    cells[1].held = 4;
    cells[1].missing = 2;
    benchmark_input_t in = input(cells, 4, NULL, 0, 0);
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *a = must(&r, "smr", "trust", "RAA");
    assert_true(a->has_numerator && a->has_expected);
    assert_int_equal(a->numerator, 12);
    assert_int_equal(a->denominator, 100);
    assert_near(a->expected, 7, 1e-12);
    assert_int_equal(a->held, 4);
    assert_int_equal(a->missing, 2);
    assert_string_equal(a->note, "missing_risk_inputs;follow_up_incomplete");
    assert_near(a->value, 12.0 / 7, 1e-12);
    assert_near(a->lower95, byar_lower(12, Z95) / 7, 1e-12);
    assert_near(a->upper95, byar_upper(12, Z95) / 7, 1e-12);
    assert_near(a->lower998, byar_lower(12, Z998) / 7, 1e-12);
    assert_near(a->upper998, byar_upper(12, Z998) / 7, 1e-12);
    /* Byar for 12 at 95%: 6.1935 - 20.9629 (the formula by hand) */
    assert_near(a->lower95 * 7, 6.1935, 1e-4);
    assert_near(a->upper95 * 7, 20.9629, 1e-4);

    /* exact below 10: Garwood's 95% limits for 5 are 1.6235 and 11.6683; each limit leaves
     * 2.5% (0.1%) in its tail */
    const benchmark_row_t *b = must(&r, "smr", "trust", "RBB");
    assert_near(b->value, 1.25, 1e-12);
    assert_near(b->lower95 * 4, 1.6235, 1e-4);
    assert_near(b->upper95 * 4, 11.6683, 1e-4);
    assert_near(1 - pois_cdf(4, b->lower95 * 4), 0.025, 1e-9);
    assert_near(pois_cdf(5, b->upper95 * 4), 0.025, 1e-9);
    assert_near(1 - pois_cdf(4, b->lower998 * 4), 0.001, 1e-9);
    assert_near(pois_cdf(5, b->upper998 * 4), 0.001, 1e-9);
    assert_string_equal(b->note, "");

    /* an observed count above the records is a count, not an error */
    const benchmark_row_t *c = must(&r, "smr", "trust", "RCC");
    assert_near(c->value, 1.5, 1e-12);

    /* England: O = 47, E = 31; the comparison with it by the 95% interval (lower is better) */
    const benchmark_row_t *e = must(&r, "smr", "england", "E92000001");
    assert_near(e->value, 47.0 / 31, 1e-12);
    assert_int_equal(e->held, 4);
    assert_near(a->england_value, 47.0 / 31, 1e-12);
    assert_string_equal(a->compared, "similar");

    /* the funnel around 1, exact Poisson limits interpolated (no overdispersion asked for) */
    const double ps[4] = {0.025, 0.975, 0.001, 0.999};
    const benchmark_row_t *rows[3] = {a, b, c};
    const double es[3] = {7, 4, 20};
    for (int i = 0; i < 3; i++) {
        assert_true(rows[i]->has_funnel);
        const double got[4] = {rows[i]->funnel_lower95, rows[i]->funnel_upper95,
                               rows[i]->funnel_lower998, rows[i]->funnel_upper998};
        for (int j = 0; j < 4; j++) {
            double want = pois_funnel_limit(ps[j], es[i]);
            assert_near(got[j], want > 0 ? want : 0, 1e-9);
        }
    }
    assert_string_equal(a->outlier, "in_control");
    /* RCC 30 / 20 = 1.5: above the 95% limit for E = 20, within 99.8% */
    assert_true(c->value > c->funnel_upper95 && c->value < c->funnel_upper998);
    assert_string_equal(c->outlier, "alert_high");
    assert_near(r.funnel[0].target, 1, 0);
    /* no SII for a ratio */
    for (size_t i = 0; i < r.n_rows; i++)
        assert_string_not_equal(r.rows[i].breakdown, "sii");
    benchmark_release_free(&r);
}

static void test_ratio_files(void **state)
{
    (void)state;
    benchmark_cell_t cells[] = {RCELL("RAA", "smr", "2026-01", 12, 7000000000LL, 100)};
    cells[0].held = 3;
    benchmark_input_t in = input(cells, 1, NULL, 0, 0);
    benchmark_release_t r;
    build(&in, &r);
    char *csv = benchmark_csv_text(&in, &r), *tips = benchmark_fingertips_text(&in, &r);
    assert_non_null(csv);
    assert_non_null(tips);
    /* latest.csv: observed in numerator, records in denominator, expected, held, missing last */
    char want[256];
    snprintf(want, sizeof want, "nela,2026Q1,trust,RAA,Alpha Hospitals,Y56,smr,all,,12,100,%.6f,",
             12.0 / 7);
    assert_non_null(strstr(csv, want));
    /* the bounds with the 3 held each at the mean expected 0.07: E' = 7.21 */
    snprintf(want, sizeof want, ",follow_up_incomplete,7.000000000,3,0,0,3,%.6f,%.6f,0\n",
             12 / 7.21, 15 / 7.21);
    assert_non_null(strstr(csv, want));
    /* Fingertips: O/E x 100, Count the observed, Denominator the expected */
    snprintf(want, sizeof want, "RAA,Alpha Hospitals,NHS trust,Persons,All ages,,,2026Q1,%.6f,",
             1200.0 / 7);
    assert_non_null(strstr(tips, want));
    assert_non_null(
        strstr(tips, ",12,7.000000000,Records whose follow-up is not complete yet left out,"));
    free(csv);
    free(tips);
    benchmark_release_free(&r);
}

static void test_ratio_suppressed(void **state)
{
    (void)state;
    /* RAA's 2 deaths are under min_count 5; the region's other trust RBB goes with it, so that
     * London less RBB does not give RAA away */
    benchmark_cell_t cells[] = {
        RCELL("RAA", "smr", "2026-01", 2, 3000000000LL, 40),
        RCELL("RBB", "smr", "2026-01", 20, 15000000000LL, 200),
        RCELL("RCC", "smr", "2026-01", 30, 25000000000LL, 300),
    };
    cells[0].missing = 1;
    benchmark_input_t in = input(cells, 3, NULL, 0, 5);
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *a = must(&r, "smr", "trust", "RAA");
    assert_false(a->has_numerator);
    assert_false(a->has_value);
    assert_false(a->has_funnel);
    assert_true(a->has_expected); /* the expected count is no count of patients */
    assert_string_equal(a->note, "suppressed;missing_risk_inputs");
    assert_false(must(&r, "smr", "trust", "RBB")->has_numerator);
    assert_true(must(&r, "smr", "trust", "RCC")->has_numerator);
    benchmark_release_free(&r);
}

/* ---- median ---- */

#define MEASURE(t_, m_, month_, v_, n_)                                                            \
    (benchmark_measure_t)                                                                          \
    {                                                                                              \
        .trust = t_, .site = t_ "01", .metric = m_, .breakdown = "all", .category = "",            \
        .month = month_, .value = v_, .count = n_                                                  \
    }

static void test_median_order_statistics(void **state)
{
    (void)state;
    /* RAA: the values 1..10 over two months and two sites' worth of cells; RBB: 5 values (too
     * few for a 95% interval: 2 x 1/32 > 5%) */
    benchmark_measure_t ms[16];
    size_t n = 0;
    for (int v = 1; v <= 10; v++)
        if (v != 4 && v != 5)
            ms[n++] = MEASURE("RAA", "hours", v <= 5 ? "2026-01" : "2026-02", v, 1);
    ms[n++] = MEASURE("RAA", "hours", "2026-01", 4, 1);
    ms[n++] = MEASURE("RAA", "hours", "2026-02", 5, 1);
    for (int v = 1; v <= 5; v++)
        ms[n++] = MEASURE("RBB", "hours", "2026-03", 10 * v, 1);
    benchmark_cell_t cells[] = {
        RCELL("RAA", "hours", "2026-01", 0, 0, 4),
        RCELL("RAA", "hours", "2026-02", 0, 0, 6),
        RCELL("RBB", "hours", "2026-03", 0, 0, 5),
    };
    cells[2].missing = 2;
    benchmark_input_t in = input(cells, 3, ms, n, 0);
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *a = must(&r, "hours", "trust", "RAA");
    assert_false(a->has_numerator);
    assert_false(a->has_expected);
    assert_int_equal(a->denominator, 10);
    assert_near(a->value, 5.5, 0);
    /* 95%: l = 2 since P(B <= 1) = 11/1024 < 2.5% <= P(B <= 2) = 56/1024; the 2nd and 9th
     * values, coverage 1 - 2 x 11/1024 = 97.85%. 99.8%: P(B <= 0) = 1/1024 < 0.1% <= P(B <= 1):
     * the 1st and 10th. */
    assert_true(half_binom_cdf(1, 10) < 0.025 && half_binom_cdf(2, 10) >= 0.025);
    assert_true(half_binom_cdf(0, 10) < 0.001 && half_binom_cdf(1, 10) >= 0.001);
    assert_near(a->lower95, 2, 0);
    assert_near(a->upper95, 9, 0);
    assert_near(a->lower998, 1, 0);
    assert_near(a->upper998, 10, 0);
    assert_false(a->has_funnel);
    const benchmark_row_t *b = must(&r, "hours", "trust", "RBB");
    assert_near(b->value, 30, 0);
    assert_true(isnan(b->lower95) && isnan(b->upper998));
    assert_string_equal(b->compared, ""); /* no interval, no comparison */
    assert_string_equal(b->note, "missing_risk_inputs");
    /* England: 15 values 1..10 and 10..50: the 8th, 8 */
    const benchmark_row_t *e = must(&r, "hours", "england", "E92000001");
    assert_int_equal(e->denominator, 15);
    assert_near(e->value, 8, 0);
    /* 15 values: l = qbinom(0.025, 15, 1/2) = 4 (P(B <= 3) = 576/32768 < 2.5% <= P(B <= 4)) */
    assert_true(half_binom_cdf(3, 15) < 0.025 && half_binom_cdf(4, 15) >= 0.025);
    assert_near(e->lower95, 4, 0);  /* the 4th of 1..10, 10, 20, ... */
    assert_near(e->upper95, 20, 0); /* the 12th: 1..10, 10, 20 */
    char *csv = benchmark_csv_text(&in, &r);
    /* a median row: no numerator, the records with a value as denominator, no expected */
    assert_non_null(strstr(csv, "nela,2026Q1,trust,RBB,Beta Hospitals,Y56,hours,all,,,5,"
                                "30.000000,,,,,"));
    free(csv);
    benchmark_release_free(&r);
}

static void test_median_count_mismatch(void **state)
{
    (void)state;
    benchmark_measure_t ms[] = {MEASURE("RAA", "hours", "2026-01", 3, 2)};
    benchmark_cell_t cells[] = {RCELL("RAA", "hours", "2026-01", 0, 0, 3)};
    benchmark_input_t in = input(cells, 1, ms, 1, 0);
    benchmark_release_t r;
    char err[256] = "";
    assert_int_equal(benchmark_build(&in, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "the cells count 3 records with a value, their measures 2"));
    /* values of a proportion metric are refused */
    benchmark_measure_t bad[] = {MEASURE("RAA", "smr", "2026-01", 3, 1)};
    in = input(cells, 1, bad, 1, 0);
    assert_int_equal(benchmark_build(&in, &r, err, sizeof err), -1);
    assert_string_equal(err, "measure 1: metric \"smr\" is not a median or mean, expected no "
                             "values");
}

static void test_median_suppressed(void **state)
{
    (void)state;
    /* RAA's median of 3 records is under min_count 5: hidden, and RBB with it (London) */
    benchmark_measure_t ms[] = {
        MEASURE("RAA", "hours", "2026-01", 7, 3),
        MEASURE("RBB", "hours", "2026-01", 9, 20),
        MEASURE("RCC", "hours", "2026-01", 11, 30),
    };
    benchmark_cell_t cells[] = {
        RCELL("RAA", "hours", "2026-01", 0, 0, 3),
        RCELL("RBB", "hours", "2026-01", 0, 0, 20),
        RCELL("RCC", "hours", "2026-01", 0, 0, 30),
    };
    benchmark_input_t in = input(cells, 3, ms, 3, 5);
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *a = must(&r, "hours", "trust", "RAA");
    assert_false(a->has_value);
    assert_int_equal(a->denominator, 3);
    assert_string_equal(a->note, "suppressed");
    assert_false(must(&r, "hours", "trust", "RBB")->has_value);
    assert_true(must(&r, "hours", "trust", "RCC")->has_value);
    assert_true(must(&r, "hours", "england", "E92000001")->has_value);
    benchmark_release_free(&r);
}

/* The selection ledger's bounds of the other kinds (README.md, "The selection ledger"): a ratio's
 * with every record left out not observed or observed, each with the mean expected value of the
 * records counted; a median's with every record left out below or above every value counted
 * (none when they are at least half of all); a mean's none. */
static void test_ledger_bounds(void **state)
{
    (void)state;
    benchmark_measure_t ms[24];
    size_t n = 0;
    for (int v = 1; v <= 10; v++)
        ms[n++] = MEASURE("RAA", "hours", "2026-01", v, 1);
    for (int v = 1; v <= 5; v++)
        ms[n++] = MEASURE("RBB", "hours", "2026-01", 10 * v, 1);
    for (int v = 1; v <= 3; v++)
        ms[n++] = MEASURE("RCC", "hours", "2026-01", v, 1);
    ms[n++] = MEASURE("RAA", "mean_los", "2026-01", 4, 5);
    benchmark_cell_t cells[] = {
        RCELL("RAA", "hours", "2026-01", 0, 0, 10),
        RCELL("RBB", "hours", "2026-01", 0, 0, 5),
        RCELL("RCC", "hours", "2026-01", 0, 0, 3),
        RCELL("RAA", "smr", "2026-01", 4, 5000000000LL, 50),
        RCELL("RAA", "mean_los", "2026-01", 0, 0, 5),
    };
    cells[0].missing = 2;
    cells[1].held = 2;
    cells[2].missing = 3;
    cells[3].missing = 10;
    cells[4].missing = 1;
    benchmark_input_t in = input(cells, 5, ms, n, 0);
    benchmark_release_t r;
    build(&in, &r);
    /* 1..10 and 2 left out: the 6th and 7th of 12 are the 4th and 5th counted, or the 6th and
     * 7th */
    const benchmark_row_t *a = must(&r, "hours", "trust", "RAA");
    assert_int_equal(a->left_out, 2);
    assert_true(a->has_bounds);
    assert_near(a->bound_lower, 4.5, 0);
    assert_near(a->bound_upper, 6.5, 0);
    assert_true(a->bound_lower <= a->value && a->value <= a->bound_upper);
    /* 10..50 and 2 held: the 4th of 7 is the 2nd counted, or the 4th */
    const benchmark_row_t *b = must(&r, "hours", "trust", "RBB");
    assert_near(b->bound_lower, 20, 0);
    assert_near(b->bound_upper, 40, 0);
    /* 3 counted, 3 left out: the median could be any value */
    assert_false(must(&r, "hours", "trust", "RCC")->has_bounds);
    /* 4 observed of expected 5 over 50 records, 10 left out: E' = 5 x 60 / 50 = 6 */
    const benchmark_row_t *s = must(&r, "smr", "trust", "RAA");
    assert_true(s->has_bounds);
    assert_near(s->bound_lower, 4.0 / 6, 1e-12);
    assert_near(s->bound_upper, 14.0 / 6, 1e-12);
    const benchmark_row_t *m = must(&r, "mean_los", "trust", "RAA");
    assert_true(m->has_ledger);
    assert_int_equal(m->left_out, 1);
    assert_false(m->has_bounds);
    benchmark_release_free(&r);
}

/* ---- mean ---- */

static void test_mean_t_interval(void **state)
{
    (void)state;
    /* 2, 4, 4, 4, 5, 5, 7, 9: mean 5, s^2 = 32 / 7 */
    benchmark_measure_t ms[] = {
        MEASURE("RAA", "mean_los", "2026-01", 2, 1), MEASURE("RAA", "mean_los", "2026-01", 4, 3),
        MEASURE("RAA", "mean_los", "2026-02", 5, 2), MEASURE("RAA", "mean_los", "2026-02", 7, 1),
        MEASURE("RAA", "mean_los", "2026-03", 9, 1), MEASURE("RBB", "mean_los", "2026-03", 6, 1),
    };
    benchmark_cell_t cells[] = {
        RCELL("RAA", "mean_los", "2026-01", 0, 0, 4),
        RCELL("RAA", "mean_los", "2026-02", 0, 0, 3),
        RCELL("RAA", "mean_los", "2026-03", 0, 0, 1),
        RCELL("RBB", "mean_los", "2026-03", 0, 0, 1),
    };
    benchmark_input_t in = input(cells, 4, ms, 6, 0);
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *a = must(&r, "mean_los", "trust", "RAA");
    assert_int_equal(a->denominator, 8);
    assert_near(a->value, 5, 1e-12);
    double se = sqrt(32.0 / 7) / sqrt(8);
    double t95 = (a->upper95 - 5) / se, t998 = (a->upper998 - 5) / se;
    /* t tables: t(0.975, 7) = 2.365, t(0.999, 7) = 4.785 */
    assert_near(t95, 2.364624, 1e-6);
    assert_near(t998, 4.785290, 1e-6);
    assert_near(5 - a->lower95, a->upper95 - 5, 1e-12);
    /* and the density integrated up to them */
    assert_near(t_cdf_simpson(t95, 7), 0.975, 1e-9);
    assert_near(t_cdf_simpson(t998, 7), 0.999, 1e-9);
    /* one value: a mean without an interval */
    const benchmark_row_t *b = must(&r, "mean_los", "trust", "RBB");
    assert_near(b->value, 6, 0);
    assert_true(isnan(b->lower95));
    benchmark_release_free(&r);
}

static void test_t_quantile(void **state)
{
    (void)state;
    /* t tables (two-sided 95% and 99.8%) and the Cauchy (df 1) in closed form */
    assert_near(dist_t_quantile(0.975, 1), tan(M_PI * (0.975 - 0.5)), 1e-9);
    assert_near(dist_t_quantile(0.975, 4), 2.776445, 1e-6);
    assert_near(dist_t_quantile(0.975, 9), 2.262157, 1e-6);
    assert_near(dist_t_quantile(0.999, 9), 4.296806, 1e-6);
    assert_near(dist_t_quantile(0.975, 30), 2.042272, 1e-6);
    assert_near(dist_t_quantile(0.025, 30), -2.042272, 1e-6);
    /* df large: the Cornish-Fisher expansion about the normal's z, z + (z^3 + z) / 4v +
     * (5z^5 + 16z^3 + 3z) / 96v^2 (the next term is of order v^-3) */
    for (double v = 1e3; v <= 1e6; v *= 10) {
        double z = Z95, z3 = z * z * z, z5 = z3 * z * z;
        assert_near(dist_t_quantile(0.975, v),
                    z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v), 1e-8);
    }
    assert_true(isnan(dist_t_quantile(1, 3)));
    assert_true(isnan(dist_t_quantile(0.5, 0)));
}

/* ---- tests/tools/release_check.py over simulated releases of every kind ---- */

static const benchmark_metric_t sim_metrics[] = {
    {.id = "smr_mult",
     .label = "O/E, multiplicative",
     .polarity = POLARITY_LOWER_BETTER,
     .overdispersion = FUNNEL_OD_MULTIPLICATIVE,
     .kind = BENCHMARK_RATIO},
    {.id = "smr_add",
     .label = "O/E, additive",
     .polarity = POLARITY_LOWER_BETTER,
     .overdispersion = FUNNEL_OD_ADDITIVE,
     .kind = BENCHMARK_RATIO},
    {.id = "hours", .label = "Median", .polarity = POLARITY_LOWER_BETTER, .kind = BENCHMARK_MEDIAN},
    {.id = "los", .label = "Mean", .polarity = POLARITY_NONE, .kind = BENCHMARK_MEAN},
};
#define SIM_TRUSTS 40
#define SIM_SITES 2

typedef struct {
    char trust[SIM_TRUSTS][8], site[SIM_TRUSTS * SIM_SITES][8];
    benchmark_org_t orgs[SIM_TRUSTS];
    benchmark_cell_t cells[SIM_TRUSTS * SIM_SITES * 4 * 6];
    benchmark_measure_t measures[SIM_TRUSTS * SIM_SITES * 2 * 6 * 40];
    size_t n_cells, n_measures;
    uint64_t rng;
} sim_t;

static double sim_uniform(sim_t *s)
{
    s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

/* Trusts of 2 sites in 3 regions; per site, metric and sex (male, female: breakdown cells and
 * the all cell their sum) a month's cells: ratios with a trust effect (some trusts twice the
 * risk), medians and means of a few dozen values; some held and missing. */
static void sim_init(sim_t *s, uint64_t seed)
{
    static const char *const regions[] = {"Y56", "Y58", "Y60"};
    static const char *const sexes[] = {"male", "female"};
    memset(s, 0, sizeof *s);
    s->rng = seed;
    for (int t = 0; t < SIM_TRUSTS; t++) {
        snprintf(s->trust[t], sizeof s->trust[t], "R%02d", t);
        s->orgs[t] = (benchmark_org_t){s->trust[t], s->trust[t], regions[t % 3], NULL};
        double effect = t % 9 == 4 ? 2 : 0.7 + 0.6 * sim_uniform(s);
        for (int k = 0; k < SIM_SITES; k++) {
            char *site = s->site[t * SIM_SITES + k];
            snprintf(site, 8, "R%02d%02d", t, k);
            for (size_t m = 0; m < 4; m++) {
                long long all_n = 0, all_d = 0, all_e9 = 0, all_held = 0, all_missing = 0;
                for (int x = 0; x < 2; x++) {
                    long long d = 2 + (long long)(sim_uniform(s) * (t < 3 ? 6 : 60)), n = 0, e9 = 0;
                    long long held = sim_uniform(s) < 0.2 ? 1 + (long long)(sim_uniform(s) * 5) : 0;
                    long long missing = sim_uniform(s) < 0.1 ? 1 : 0;
                    if (m < 2) {
                        for (long long i = 0; i < d; i++) {
                            double p = 0.02 + 0.2 * sim_uniform(s);
                            e9 += (long long)llround(p * BENCHMARK_EXPECTED_SCALE);
                            n += sim_uniform(s) < p * effect;
                        }
                    } else {
                        for (long long i = 0; i < d; i++) {
                            double v = floor(10 * (5 + 40 * sim_uniform(s) * sim_uniform(s))) / 10;
                            s->measures[s->n_measures++] =
                                (benchmark_measure_t){.trust = s->trust[t],
                                                      .site = site,
                                                      .metric = sim_metrics[m].id,
                                                      .breakdown = "sex",
                                                      .category = sexes[x],
                                                      .month = "2026-01",
                                                      .value = v,
                                                      .count = 1};
                            s->measures[s->n_measures] = s->measures[s->n_measures - 1];
                            s->measures[s->n_measures].breakdown = "all";
                            s->measures[s->n_measures++].category = "";
                        }
                    }
                    s->cells[s->n_cells++] = (benchmark_cell_t){.trust = s->trust[t],
                                                                .site = site,
                                                                .metric = sim_metrics[m].id,
                                                                .breakdown = "sex",
                                                                .category = sexes[x],
                                                                .month = "2026-01",
                                                                .numerator = n,
                                                                .denominator = d,
                                                                .expected_e9 = e9,
                                                                .held = held,
                                                                .missing = missing};
                    all_n += n;
                    all_d += d;
                    all_e9 += e9;
                    all_held += held;
                    all_missing += missing;
                }
                s->cells[s->n_cells++] = (benchmark_cell_t){.trust = s->trust[t],
                                                            .site = site,
                                                            .metric = sim_metrics[m].id,
                                                            .breakdown = "all",
                                                            .category = "",
                                                            .month = "2026-01",
                                                            .numerator = all_n,
                                                            .denominator = all_d,
                                                            .expected_e9 = all_e9,
                                                            .held = all_held,
                                                            .missing = all_missing};
            }
        }
    }
}

static int run_checker(const benchmark_input_t *in, const benchmark_release_t *r, bool spoil)
{
    char *csv = benchmark_csv_text(in, r), *json = benchmark_json(in, r, NULL);
    assert_non_null(csv);
    assert_non_null(json);
    if (spoil) { /* a ratio's interval moved in its last printed digit */
        char *field = strstr(csv, ",trust,R05,");
        assert_non_null(field);
        for (int i = 0; i < 12; i++)
            field = strchr(field + 1, ',');
        field[7] = field[7] == '9' ? '0' : (char)(field[7] + 1);
    }
    const char *names[] = {"latest.csv", "latest.json"}, *texts[] = {csv, json};
    int rc = release_checker_run(names, texts, 2);
    free(csv);
    free(json);
    return rc;
}

static void test_independent_check(void **state)
{
    (void)state;
    if (!release_checker_available())
        ncap_skip_or_fail("python3 not found: tests/tools/release_check.py needs it");
    static sim_t s;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        sim_init(&s, seed);
        benchmark_input_t in = {.audit = "nela",
                                .period = "2026Q1",
                                .metrics = sim_metrics,
                                .n_metrics = 4,
                                .min_count = seed == 2 ? 0 : 8,
                                .cells = s.cells,
                                .n_cells = s.n_cells,
                                .orgs = s.orgs,
                                .n_orgs = SIM_TRUSTS,
                                .measures = s.measures,
                                .n_measures = s.n_measures};
        benchmark_release_t r;
        build(&in, &r);
        assert_int_equal(run_checker(&in, &r, false), 0);
        if (seed == 2) /* and it is not blind */
            assert_int_equal(run_checker(&in, &r, true), 1);
        benchmark_release_free(&r);
    }
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A stat (bench_stat_t) fed values in ascending order, equal ones in several pieces, takes at each
 * rank wanted the value a sort of every record's value has there, and its sum is that of the
 * values with equal ones merged, added in ascending order (as the buckets of every value it
 * replaced summed them). */
static void test_stat_ranks(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(round * 7 % 300);
        double *v = malloc(n * sizeof *v);
        long long *c = malloc(n * sizeof *c), total = 0;
        double *each = NULL;
        assert_non_null(v);
        assert_non_null(c);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            v[i] = (double)((seed >> 16) % 50) / 4;
            c[i] = 1 + (long long)((seed >> 8) % 4);
            total += c[i];
        }
        assert_non_null(each = malloc((size_t)total * sizeof *each));
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            for (long long j = 0; j < c[i]; j++)
                each[k++] = v[i];
        qsort(each, (size_t)total, sizeof *each, by_double);
        bench_stat_t s;
        bench_stat_init(&s, total);
        bench_stat_want_median(&s);
        bench_stat_want(&s, 1);
        bench_stat_want(&s, total);
        bench_stat_want(&s, 1 + total / 3);
        /* the pieces in ascending order of value: one (value, count) piece per record */
        for (long long i = 0; i < total; i++)
            bench_stat_add(&s, each[i], 1);
        bench_stat_end(&s);
        assert_int_equal(s.seen, total);
        long long ranks[] = {1, total, 1 + total / 3, (total + 1) / 2};
        for (int r = 0; r < 4; r++)
            assert_true(bench_stat_order(&s, ranks[r]) == each[ranks[r] - 1]);
        double median = total % 2 ? each[total / 2] : (each[total / 2 - 1] + each[total / 2]) / 2;
        assert_true(bench_stat_value(&s, BENCHMARK_MEDIAN) == median);
        double sum = 0;
        for (long long i = 0; i < total;) {
            long long j = i;
            while (j < total && each[j] == each[i])
                j++;
            sum += each[i] * (double)(j - i);
            i = j;
        }
        assert_true(bench_stat_value(&s, BENCHMARK_MEAN) == sum / (double)total);
        assert_true(isnan(bench_stat_order(&s, 2 + total / 3 + total))); /* not wanted */
        free(v);
        free(c);
        free(each);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratio_byar_and_months),
        cmocka_unit_test(test_ratio_files),
        cmocka_unit_test(test_ratio_suppressed),
        cmocka_unit_test(test_median_order_statistics),
        cmocka_unit_test(test_median_count_mismatch),
        cmocka_unit_test(test_median_suppressed),
        cmocka_unit_test(test_ledger_bounds),
        cmocka_unit_test(test_mean_t_interval),
        cmocka_unit_test(test_t_quantile),
        cmocka_unit_test(test_independent_check),
        cmocka_unit_test(test_stat_ranks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
