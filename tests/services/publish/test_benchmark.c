/* test_benchmark.c - a benchmarked release from aggregates: the sums between levels and
 * categories, Wilson intervals against published worked values, trust rows exactly as
 * funnel_compute gives them (sites as funnel_point), the comparison rules with and without a
 * polarity, the trusts' breakdown threshold, a trust missing from the organisations, the order of
 * rows, suppression (and the trusts' phi over the published trusts only), the SII row, refused
 * input, the CSV and Fingertips headers exactly, the JSON; and tests/tools/release_check.py, an
 * independent recomputation in Python, run over simulated releases (and shown to catch a wrong
 * figure). */
/* ncap-test: long (ten seconds or more under the sanitizers: ctest starts it first) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assert_double.h"
#include "benchmark.h"
#include "benchmark_sim.h"
#include "ci.h"
#include "sii.h"
#include "test_skip.h"

#define CELL(t, s, m, b, c, n, d)                                                                  \
    {                                                                                              \
        .trust = t, .site = s, .metric = m, .breakdown = b, .category = c, .numerator = n,         \
        .denominator = d                                                                           \
    }

static const benchmark_org_t orgs[] = {{"RAA", "Alpha Hospitals", "Y56", "London"},
                                       {"RBB", "Beta Hospitals", "Y56", "London"},
                                       {"RCC", "Gamma Hospitals", "Y58", NULL}};

static const benchmark_metric_t one_metric[] = {{.id = "m1",
                                                 .label = "Metric one",
                                                 .polarity = POLARITY_HIGHER_BETTER,
                                                 .overdispersion = FUNNEL_OD_NONE,
                                                 .numerator_expr = NULL,
                                                 .denominator_expr = NULL}};

static void build(const benchmark_input_t *in, benchmark_release_t *r)
{
    char err[256] = "";
    if (benchmark_build(in, r, err, sizeof err) != 0) {
        print_error("benchmark_build: %s\n", err);
        fail();
    }
}

static const benchmark_row_t *find(const benchmark_release_t *r, const char *metric,
                                   const char *level, const char *code, const char *breakdown,
                                   const char *category)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        if (strcmp(x->metric, metric) == 0 && strcmp(x->level, level) == 0 &&
            strcmp(x->area_code, code) == 0 && strcmp(x->breakdown, breakdown) == 0 &&
            strcmp(x->category, category) == 0)
            return x;
    }
    return NULL;
}

static const benchmark_row_t *must(const benchmark_release_t *r, const char *metric,
                                   const char *level, const char *code, const char *breakdown,
                                   const char *category)
{
    const benchmark_row_t *x = find(r, metric, level, code, breakdown, category);
    if (!x) {
        print_error("no row %s %s %s %s %s\n", metric, level, code, breakdown, category);
        fail();
    }
    return x;
}

static void assert_counts(const benchmark_row_t *x, long long num, long long den)
{
    assert_true(x->has_numerator && x->has_denominator);
    assert_int_equal(x->numerator, num);
    assert_int_equal(x->denominator, den);
}

/* ---- levels and sums ---- */

static void test_levels_and_names(void **state)
{
    (void)state;
    const benchmark_cell_t cells[] = {
        CELL("RAA", "RAA01", "m1", "all", "", 10, 20),
        CELL("RAA", "RAA01", "m1", "imd_decile", "1", 4, 8),
        CELL("RAA", "RAA01", "m1", "imd_decile", "2", 2, 4),
        CELL("RAA", "RAA01", "m1", "imd_decile", "10", 4, 8),
        CELL("RAA", "RAA02", "m1", "all", "", 5, 10),
        CELL("RBB", "RBB01", "m1", "all", "", 30, 40),
        CELL("RBB", "RBB01", "m1", "imd_decile", "3", 30, 40),
        CELL("RCC", "RCC01", "m1", "all", "", 7, 9),
        CELL("RZZ", "RZZ01", "m1", "all", "", 3, 3),
    };
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 9,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    assert_counts(must(&r, "m1", "site", "RAA01", "all", ""), 10, 20);
    const benchmark_row_t *raa = must(&r, "m1", "trust", "RAA", "all", "");
    assert_counts(raa, 15, 30);
    assert_string_equal(raa->area_name, "Alpha Hospitals");
    assert_string_equal(raa->parent_code, "Y56");
    assert_string_equal(raa->parent_name, "London");
    const benchmark_row_t *site = must(&r, "m1", "site", "RAA02", "all", "");
    assert_string_equal(site->area_name, "RAA02");
    assert_string_equal(site->parent_code, "RAA");
    assert_string_equal(site->parent_name, "Alpha Hospitals");
    const benchmark_row_t *london = must(&r, "m1", "region", "Y56", "all", "");
    assert_counts(london, 45, 70);
    assert_string_equal(london->area_name, "London");
    assert_string_equal(london->parent_code, BENCHMARK_ENGLAND_CODE);
    /* a region without a name is named by its code */
    assert_string_equal(must(&r, "m1", "region", "Y58", "all", "")->area_name, "Y58");
    /* a trust not in the organisations: its code as its name, region unknown */
    const benchmark_row_t *rzz = must(&r, "m1", "trust", "RZZ", "all", "");
    assert_string_equal(rzz->area_name, "RZZ");
    assert_string_equal(rzz->parent_code, "unknown");
    const benchmark_row_t *unknown = must(&r, "m1", "region", "unknown", "all", "");
    assert_string_equal(unknown->area_name, "unknown");
    assert_counts(unknown, 3, 3);
    const benchmark_row_t *england = must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "all", "");
    assert_counts(england, 55, 82);
    assert_string_equal(england->area_name, "England");
    assert_string_equal(england->parent_code, "");
    /* deciles 1-2 make quintile 1, 3 quintile 2, 10 quintile 5 */
    assert_counts(must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "imd_quintile", "1"), 6, 12);
    assert_counts(must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "imd_quintile", "2"), 30, 40);
    assert_counts(must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "imd_quintile", "5"), 4, 8);
    assert_null(find(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "imd_quintile", "3"));
    assert_counts(must(&r, "m1", "region", "Y56", "imd_quintile", "1"), 6, 12);
    /* trust level: only from 30 up; never at site level */
    assert_null(find(&r, "m1", "trust", "RAA", "imd_quintile", "1"));
    assert_counts(must(&r, "m1", "trust", "RBB", "imd_quintile", "2"), 30, 40);
    for (size_t i = 0; i < r.n_rows; i++)
        if (strcmp(r.rows[i].level, "site") == 0)
            assert_string_equal(r.rows[i].breakdown, "all");
    benchmark_release_free(&r);
}

/* The sums between levels and categories on a simulated release: every trust the sum of its
 * sites, every region of its trusts, England of its regions; at England and region level each
 * breakdown's categories sum to the all row; at trust level the published ones to no more. */
static void test_sums_simulated(void **state)
{
    (void)state;
    bsim_t s;
    bsim_init(&s, 3, 25, 70, 2, 1);
    benchmark_input_t in = bsim_input(&s, 0);
    benchmark_release_t r;
    build(&in, &r);
    size_t checked = 0;
    for (size_t i = 0; i < r.n_rows; i++) {
        const benchmark_row_t *p = &r.rows[i];
        if (strcmp(p->level, "site") == 0 || strcmp(p->breakdown, "sii") == 0)
            continue;
        long long num = 0, den = 0;
        size_t kids = 0;
        const char *child_level = strcmp(p->level, "england") == 0  ? "region"
                                  : strcmp(p->level, "region") == 0 ? "trust"
                                                                    : "site";
        /* the level below, same breakdown and category */
        for (size_t j = 0; j < r.n_rows; j++) {
            const benchmark_row_t *c = &r.rows[j];
            if (strcmp(c->metric, p->metric) == 0 && strcmp(c->level, child_level) == 0 &&
                strcmp(c->parent_code, p->area_code) == 0 &&
                strcmp(c->breakdown, p->breakdown) == 0 && strcmp(c->category, p->category) == 0) {
                num += c->numerator;
                den += c->denominator;
                kids++;
            }
        }
        if (strcmp(p->breakdown, "all") == 0 || strcmp(p->level, "england") == 0) {
            assert_true(kids > 0);
            assert_int_equal(num, p->numerator);
            assert_int_equal(den, p->denominator);
            checked++;
        }
        if (strcmp(p->breakdown, "all") != 0)
            continue;
        /* the categories of each breakdown of this area */
        static const char *const bds[] = {"imd_quintile", "ethnicity", "sex", "age"};
        for (int b = 0; b < 4; b++) {
            num = den = 0;
            for (size_t j = 0; j < r.n_rows; j++) {
                const benchmark_row_t *c = &r.rows[j];
                if (strcmp(c->metric, p->metric) == 0 && strcmp(c->level, p->level) == 0 &&
                    strcmp(c->area_code, p->area_code) == 0 && strcmp(c->breakdown, bds[b]) == 0) {
                    num += c->numerator;
                    den += c->denominator;
                }
            }
            if (strcmp(p->level, "trust") == 0) {
                assert_true(num <= p->numerator && den <= p->denominator);
            } else {
                assert_int_equal(num, p->numerator);
                assert_int_equal(den, p->denominator);
                checked++;
            }
        }
    }
    assert_true(checked > 100);
    benchmark_release_free(&r);
    bsim_free(&s);
}

/* ---- figures ---- */

/* Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score without
 * continuity correction), to the 4 decimals published; 99.8% from the formula written out. */
static void test_wilson_worked(void **state)
{
    (void)state;
    static const struct {
        long long x, n;
        double lo, hi;
    } worked[] = {{81, 263, 0.2553, 0.3662},
                  {15, 148, 0.0624, 0.1605},
                  {0, 20, 0.0, 0.1611},
                  {1, 29, 0.0061, 0.1718}};
    for (size_t i = 0; i < 4; i++) {
        benchmark_cell_t cells[] = {
            CELL("RAA", "RAA01", "m1", "all", "", worked[i].x, worked[i].n)};
        benchmark_input_t in = {.audit = "nhfd",
                                .period = "2026Q1",
                                .metrics = one_metric,
                                .n_metrics = 1,
                                .min_count = 0,
                                .cells = cells,
                                .n_cells = 1,
                                .orgs = orgs,
                                .n_orgs = 3};
        benchmark_release_t r;
        build(&in, &r);
        const benchmark_row_t *t = must(&r, "m1", "trust", "RAA", "all", "");
        assert_true(t->has_value);
        assert_near(t->value, (double)worked[i].x / (double)worked[i].n, 1e-15);
        assert_near(t->lower95, worked[i].lo, 5e-5);
        assert_near(t->upper95, worked[i].hi, 5e-5);
        double x = (double)worked[i].x, n = (double)worked[i].n, z = NCAP_Z998;
        double root = z * sqrt(z * z + 4 * x * (1 - x / n));
        assert_near(t->lower998, (2 * x + z * z - root) / (2 * (n + z * z)), 1e-12);
        assert_near(t->upper998, (2 * x + z * z + root) / (2 * (n + z * z)), 1e-12);
        benchmark_release_free(&r);
    }
    /* no denominator, no value */
    benchmark_cell_t cells[] = {CELL("RAA", "RAA01", "m1", "all", "", 0, 0)};
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 1,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *t = must(&r, "m1", "trust", "RAA", "all", "");
    assert_false(t->has_value);
    assert_false(t->has_england);
    assert_false(t->has_funnel);
    assert_string_equal(t->compared, "");
    assert_string_equal(t->outlier, "");
    benchmark_release_free(&r);
}

/* Trust rows carry exactly what funnel_compute gives for the trusts with England's value as the
 * target, for every overdispersion setting; site rows what funnel_point gives against that
 * summary; England, region and breakdown rows no funnel. */
static void test_funnel_as_ncap_funnel(void **state)
{
    (void)state;
    bsim_t s;
    bsim_init(&s, 11, 40, 90, 3, 1); /* metric m has overdispersion m % 3 */
    benchmark_input_t in = bsim_input(&s, 0);
    benchmark_release_t r;
    build(&in, &r);
    for (size_t m = 0; m < 3; m++) {
        funnel_unit_t units[40];
        const benchmark_row_t *trow[40];
        size_t n = 0;
        for (size_t i = 0; i < r.n_rows; i++) {
            const benchmark_row_t *x = &r.rows[i];
            if (strcmp(x->metric, s.metric[m]) == 0 && strcmp(x->level, "trust") == 0 &&
                strcmp(x->breakdown, "all") == 0) {
                trow[n] = x;
                units[n].numerator = (double)x->numerator;
                units[n].denominator = (double)x->denominator;
                n++;
            }
        }
        assert_int_equal(n, 40);
        funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
        o.overdispersion = (funnel_od_t)(m % 3);
        o.target =
            must(&r, s.metric[m], "england", BENCHMARK_ENGLAND_CODE, "all", "")->england_value;
        funnel_point_t pts[40];
        funnel_summary_t sum;
        assert_int_equal(funnel_compute(&o, units, n, pts, &sum, NULL, 0), 0);
        assert_true(sum.target == r.funnel[m].target && sum.phi == r.funnel[m].phi &&
                    sum.tau2 == r.funnel[m].tau2 && sum.adjusted == r.funnel[m].adjusted);
        if (m > 0)
            assert_true(sum.adjusted); /* the simulated trusts are overdispersed */
        for (size_t i = 0; i < n; i++) {
            assert_true(trow[i]->has_funnel);
            assert_true(trow[i]->funnel_lower95 == pts[i].lower95);
            assert_true(trow[i]->funnel_upper95 == pts[i].upper95);
            assert_true(trow[i]->funnel_lower998 == pts[i].lower998);
            assert_true(trow[i]->funnel_upper998 == pts[i].upper998);
            assert_string_equal(trow[i]->outlier, funnel_flag_name(pts[i].flag));
        }
        for (size_t i = 0; i < r.n_rows; i++) {
            const benchmark_row_t *x = &r.rows[i];
            if (strcmp(x->metric, s.metric[m]) != 0)
                continue;
            if (strcmp(x->level, "site") == 0) {
                funnel_unit_t u = {(double)x->numerator, (double)x->denominator};
                funnel_point_t p;
                assert_int_equal(funnel_point(&o, &sum, &u, &p, NULL, 0), 0);
                assert_true(x->funnel_lower95 == p.lower95 && x->funnel_upper998 == p.upper998);
                assert_string_equal(x->outlier, funnel_flag_name(p.flag));
            } else if (strcmp(x->level, "trust") != 0 || strcmp(x->breakdown, "all") != 0) {
                assert_false(x->has_funnel);
                assert_string_equal(x->outlier, "");
            }
        }
    }
    /* the poorer trusts (every 20th from the 8th) are flagged low */
    const benchmark_row_t *poor = must(&r, s.metric[0], "trust", s.trust[7], "all", "");
    assert_string_equal(poor->outlier, "alarm_low");
    benchmark_release_free(&r);
    bsim_free(&s);
}

/* Above, spanning, below England's value, for each polarity; England's own rows not compared. */
static void test_compared_rules(void **state)
{
    (void)state;
    const benchmark_metric_t metrics[] = {{.id = "hi",
                                           .label = "Higher is better",
                                           .polarity = POLARITY_HIGHER_BETTER,
                                           .overdispersion = FUNNEL_OD_NONE,
                                           .numerator_expr = NULL,
                                           .denominator_expr = NULL},
                                          {.id = "lo",
                                           .label = "Lower is better",
                                           .polarity = POLARITY_LOWER_BETTER,
                                           .overdispersion = FUNNEL_OD_NONE,
                                           .numerator_expr = NULL,
                                           .denominator_expr = NULL},
                                          {.id = "none",
                                           .label = "No polarity",
                                           .polarity = POLARITY_NONE,
                                           .overdispersion = FUNNEL_OD_NONE,
                                           .numerator_expr = NULL,
                                           .denominator_expr = NULL}};
    benchmark_cell_t cells[12];
    size_t n = 0;
    for (int m = 0; m < 3; m++) {
        cells[n++] = (benchmark_cell_t)CELL("RAA", "RAA01", metrics[m].id, "all", "", 95, 100);
        cells[n++] = (benchmark_cell_t)CELL("RBB", "RBB01", metrics[m].id, "all", "", 5, 100);
        cells[n++] = (benchmark_cell_t)CELL("RCC", "RCC01", metrics[m].id, "all", "", 50, 100);
        cells[n++] = (benchmark_cell_t)CELL("RDD", "RDD01", metrics[m].id, "all", "", 500, 1000);
    }
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = metrics,
                            .n_metrics = 3,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = n,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    static const char *const want[3][3] = {{"better", "worse", "similar"},
                                           {"worse", "better", "similar"},
                                           {"higher", "lower", "similar"}};
    for (int m = 0; m < 3; m++) {
        const char *id = metrics[m].id;
        const benchmark_row_t *e = must(&r, id, "england", BENCHMARK_ENGLAND_CODE, "all", "");
        assert_string_equal(e->compared, "");
        assert_true(e->has_england);
        assert_near(e->england_value, 650.0 / 1300, 1e-15);
        assert_string_equal(must(&r, id, "trust", "RAA", "all", "")->compared, want[m][0]);
        assert_string_equal(must(&r, id, "trust", "RBB", "all", "")->compared, want[m][1]);
        assert_string_equal(must(&r, id, "trust", "RCC", "all", "")->compared, want[m][2]);
        assert_string_equal(must(&r, id, "site", "RAA01", "all", "")->compared, want[m][0]);
        /* against the region: London is RAA and RBB, 100/200 */
        const benchmark_row_t *raa = must(&r, id, "trust", "RAA", "all", "");
        assert_true(raa->has_region);
        assert_near(raa->region_value, 0.5, 1e-15);
        assert_string_equal(raa->compared_region, want[m][0]);
        assert_string_equal(must(&r, id, "region", "Y56", "all", "")->compared_region, "");
    }
    benchmark_release_free(&r);
}

/* A trust's category from a denominator of 30; the region and England have every category. */
static void test_trust_breakdown_threshold(void **state)
{
    (void)state;
    const benchmark_cell_t cells[] = {
        CELL("RAA", "RAA01", "m1", "all", "", 40, 59),
        CELL("RAA", "RAA01", "m1", "sex", "male", 20, 29),
        CELL("RAA", "RAA01", "m1", "sex", "female", 20, 30),
    };
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 3,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    assert_null(find(&r, "m1", "trust", "RAA", "sex", "male"));
    assert_counts(must(&r, "m1", "trust", "RAA", "sex", "female"), 20, 30);
    assert_counts(must(&r, "m1", "region", "Y56", "sex", "male"), 20, 29);
    assert_counts(must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "sex", "male"), 20, 29);
    assert_null(find(&r, "m1", "site", "RAA01", "sex", "female"));
    benchmark_release_free(&r);
}

/* Rows by metric as defined, level, area code, breakdown, category in the documented order. */
static void test_order(void **state)
{
    (void)state;
    const benchmark_metric_t metrics[] = {{.id = "zeta",
                                           .label = "Defined first",
                                           .polarity = POLARITY_NONE,
                                           .overdispersion = FUNNEL_OD_NONE,
                                           .numerator_expr = NULL,
                                           .denominator_expr = NULL},
                                          {.id = "alpha",
                                           .label = "Defined second",
                                           .polarity = POLARITY_NONE,
                                           .overdispersion = FUNNEL_OD_NONE,
                                           .numerator_expr = NULL,
                                           .denominator_expr = NULL}};
    const benchmark_cell_t cells[] = {
        CELL("RBB", "RBB02", "alpha", "all", "", 1, 2),
        CELL("RBB", "RBB01", "alpha", "all", "", 1, 2),
        CELL("RAA", "RAA01", "zeta", "age", "unknown", 1, 1),
        CELL("RAA", "RAA01", "zeta", "age", "100+", 1, 1),
        CELL("RAA", "RAA01", "zeta", "age", "90+", 1, 1),
        CELL("RAA", "RAA01", "zeta", "age", "60-69", 1, 1),
        CELL("RAA", "RAA01", "zeta", "age", "<60", 1, 1),
        CELL("RAA", "RAA01", "zeta", "sex", "unknown", 1, 1),
        CELL("RAA", "RAA01", "zeta", "sex", "female", 1, 1),
        CELL("RAA", "RAA01", "zeta", "ethnicity", "not_stated", 1, 1),
        CELL("RAA", "RAA01", "zeta", "ethnicity", "black", 1, 1),
        CELL("RAA", "RAA01", "zeta", "ethnicity", "white", 1, 1),
        CELL("RAA", "RAA01", "zeta", "imd_decile", "unknown", 1, 1),
        CELL("RAA", "RAA01", "zeta", "imd_decile", "10", 1, 1),
        CELL("RAA", "RAA01", "zeta", "imd_decile", "3", 1, 2),
        CELL("RAA", "RAA01", "zeta", "all", "", 5, 9),
        CELL("RZZ", "RZZ01", "zeta", "all", "", 1, 2),
    };
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = metrics,
                            .n_metrics = 2,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 17,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    static const char *const want[] = {
        "zeta england E92000001 all ",
        "zeta england E92000001 imd_quintile 2",
        "zeta england E92000001 imd_quintile 5",
        "zeta england E92000001 imd_quintile unknown",
        "zeta england E92000001 ethnicity white",
        "zeta england E92000001 ethnicity black",
        "zeta england E92000001 ethnicity not_stated",
        "zeta england E92000001 sex female",
        "zeta england E92000001 sex unknown",
        "zeta england E92000001 age <60",
        "zeta england E92000001 age 60-69",
        "zeta england E92000001 age 90+",
        "zeta england E92000001 age 100+",
        "zeta england E92000001 age unknown",
        "zeta england E92000001 sii ",
        "zeta region Y56 all ", /* then Y56's categories, as England's */
    };
    size_t nwant = sizeof want / sizeof *want;
    for (size_t i = 0; i < nwant; i++) {
        char got[128];
        const benchmark_row_t *x = &r.rows[i];
        snprintf(got, sizeof got, "%s %s %s %s %s", x->metric, x->level, x->area_code, x->breakdown,
                 x->category);
        assert_string_equal(got, want[i]);
    }
    /* levels and areas: every zeta row before alpha's; within a metric the levels in order and
     * area codes ascending ("unknown" after "Y56") */
    static const char *const levels[] = {"england", "region", "trust", "site"};
    size_t last_metric = 0, last_level = 0;
    const char *last_code = "";
    for (size_t i = 0; i < r.n_rows; i++) {
        const benchmark_row_t *x = &r.rows[i];
        size_t m = strcmp(x->metric, "zeta") == 0 ? 0 : 1, l = 0;
        while (strcmp(levels[l], x->level) != 0)
            l++;
        assert_true(m >= last_metric);
        if (m > last_metric)
            last_level = 0, last_code = "";
        assert_true(l >= last_level);
        if (l > last_level)
            last_code = "";
        assert_true(strcmp(x->area_code, last_code) >= 0);
        last_metric = m, last_level = l, last_code = x->area_code;
    }
    static const char *const alpha_sites[] = {"RAA01", "RBB01", "RBB02", "RZZ01"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(r.rows[r.n_rows - 4 + i].area_code, alpha_sites[i]);
    /* every trust and site has an all row in every metric */
    assert_counts(must(&r, "alpha", "trust", "RAA", "all", ""), 0, 0);
    assert_counts(must(&r, "zeta", "site", "RBB01", "all", ""), 0, 0);
    benchmark_release_free(&r);
}

/* A site row "unknown" for cells without a site only beside named sites of the trust. */
static void test_cells_without_site(void **state)
{
    (void)state;
    const benchmark_cell_t cells[] = {
        CELL("RAA", "", "m1", "all", "", 1, 2),
        CELL("RBB", "", "m1", "all", "", 1, 2),
        CELL("RBB", "RBB01", "m1", "all", "", 3, 4),
    };
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 3,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    assert_counts(must(&r, "m1", "trust", "RAA", "all", ""), 1, 2);
    size_t unknown_sites = 0;
    for (size_t i = 0; i < r.n_rows; i++)
        if (strcmp(r.rows[i].level, "site") == 0 && strcmp(r.rows[i].area_code, "unknown") == 0) {
            assert_string_equal(r.rows[i].parent_code, "RBB");
            unknown_sites++;
        }
    assert_int_equal(unknown_sites, 1);
    assert_counts(must(&r, "m1", "trust", "RBB", "all", ""), 4, 6);
    benchmark_release_free(&r);
}

/* ---- disclosure and SII ---- */

static void test_suppression(void **state)
{
    (void)state;
    const benchmark_cell_t cells[] = {
        CELL("RAA", "RAA01", "m1", "all", "", 3, 100),  /* 3: primary */
        CELL("RAA", "RAA02", "m1", "all", "", 40, 100), /* the lone sibling: secondary */
        CELL("RBB", "RBB01", "m1", "all", "", 50, 100),
        CELL("RCC", "RCC01", "m1", "all", "", 60, 100),
    };
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 8,
                            .cells = cells,
                            .n_cells = 4,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *x = must(&r, "m1", "site", "RAA01", "all", "");
    assert_false(x->has_numerator);
    assert_true(x->has_denominator);
    assert_int_equal(x->denominator, 100);
    assert_false(x->has_value);
    assert_false(x->has_funnel);
    assert_string_equal(x->outlier, "");
    assert_string_equal(x->compared, "");
    assert_string_equal(x->note, BENCHMARK_NOTE_SUPPRESSED);
    /* RAA's two sites: one hidden alone would be RAA minus the other */
    assert_false(must(&r, "m1", "site", "RAA02", "all", "")->has_numerator &&
                 must(&r, "m1", "trust", "RAA", "all", "")->has_numerator);
    const benchmark_row_t *e = must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "all", "");
    assert_true(e->has_numerator);
    assert_string_equal(e->note, "");
    benchmark_release_free(&r);
    /* min_count 0: nothing hidden */
    in.min_count = 0;
    build(&in, &r);
    assert_true(must(&r, "m1", "site", "RAA01", "all", "")->has_numerator);
    benchmark_release_free(&r);
}

/* Issue 12: phi and tau2 published beside a suppressed trust's neighbours would give its z-score
 * (and so its numerator) away, so the trusts' funnel is estimated over the trusts whose figures
 * are published only. Ten trusts, one site each, in two regions, overdispersed; RA4 and RA5 (3 and
 * 4 of 1000) are suppressed. */
static const benchmark_org_t od_orgs[] = {
    {"RA1", "A1", "Y56", "London"}, {"RA2", "A2", "Y56", "London"}, {"RA3", "A3", "Y56", "London"},
    {"RA4", "A4", "Y56", "London"}, {"RA5", "A5", "Y56", "London"}, {"RB1", "B1", "Y58", NULL},
    {"RB2", "B2", "Y58", NULL},     {"RB3", "B3", "Y58", NULL},     {"RB4", "B4", "Y58", NULL},
    {"RB5", "B5", "Y58", NULL}};
static const benchmark_metric_t od_metric[] = {{.id = "m1",
                                                .label = "Metric one",
                                                .polarity = POLARITY_HIGHER_BETTER,
                                                .overdispersion = FUNNEL_OD_MULTIPLICATIVE,
                                                .numerator_expr = NULL,
                                                .denominator_expr = NULL}};

/* The release's latest.csv and latest.json, concatenated (malloc'd). */
static char *release_text(const benchmark_input_t *in, const benchmark_release_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    benchmark_write_csv(f, in->audit, in->period, r);
    char *json = benchmark_json(in, r, NULL);
    assert_non_null(json);
    fputs(json, f);
    free(json);
    fclose(f);
    return buf;
}

static void test_phi_without_suppressed(void **state)
{
    (void)state;
    benchmark_cell_t cells[] = {
        CELL("RA1", "RA101", "m1", "all", "", 200, 1000),
        CELL("RA2", "RA201", "m1", "all", "", 350, 1000),
        CELL("RA3", "RA301", "m1", "all", "", 500, 1000),
        CELL("RA4", "RA401", "m1", "all", "", 3, 1000),
        CELL("RA5", "RA501", "m1", "all", "", 4, 1000),
        CELL("RB1", "RB101", "m1", "all", "", 250, 1000),
        CELL("RB2", "RB201", "m1", "all", "", 420, 1000),
        CELL("RB3", "RB301", "m1", "all", "", 600, 1000),
        CELL("RB4", "RB401", "m1", "all", "", 300, 1000),
        CELL("RB5", "RB501", "m1", "all", "", 480, 1000),
    };
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = od_metric,
                            .n_metrics = 1,
                            .min_count = 8,
                            .cells = cells,
                            .n_cells = 10,
                            .orgs = od_orgs,
                            .n_orgs = 10};
    benchmark_release_t r;
    build(&in, &r);
    assert_false(must(&r, "m1", "trust", "RA4", "all", "")->has_numerator);
    assert_false(must(&r, "m1", "trust", "RA5", "all", "")->has_numerator);
    const benchmark_row_t *e = must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "all", "");
    assert_true(e->has_numerator && e->has_value);
    /* phi, tau2 and every published trust's limits: funnel_compute over the published trusts */
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.overdispersion = FUNNEL_OD_MULTIPLICATIVE;
    o.target = e->value;
    funnel_unit_t units[10], all[10];
    const benchmark_row_t *trow[10];
    size_t n = 0, n_all = 0;
    for (size_t i = 0; i < r.n_rows; i++) {
        const benchmark_row_t *x = &r.rows[i];
        if (strcmp(x->level, "trust") != 0 || strcmp(x->breakdown, "all") != 0)
            continue;
        all[n_all] = (funnel_unit_t){(double)cells[n_all].numerator, 1000};
        n_all++;
        if (!x->has_numerator) {
            assert_false(x->has_funnel);
            continue;
        }
        trow[n] = x;
        units[n++] = (funnel_unit_t){(double)x->numerator, (double)x->denominator};
    }
    assert_int_equal(n_all, 10);
    assert_true(n < 10);
    funnel_point_t pts[10];
    funnel_summary_t sum, with_hidden;
    assert_int_equal(funnel_compute(&o, units, n, pts, &sum, NULL, 0), 0);
    assert_true(sum.adjusted);
    assert_true(sum.phi == r.funnel[0].phi && sum.tau2 == r.funnel[0].tau2);
    assert_int_equal(r.funnel[0].units, n);
    for (size_t i = 0; i < n; i++) {
        assert_true(trow[i]->has_funnel);
        assert_true(trow[i]->funnel_lower95 == pts[i].lower95);
        assert_true(trow[i]->funnel_upper998 == pts[i].upper998);
        assert_string_equal(trow[i]->outlier, funnel_flag_name(pts[i].flag));
    }
    /* the trusts are in the order of their codes, as the cells: with the hidden ones phi differs */
    assert_int_equal(funnel_compute(&o, all, n_all, pts, &with_hidden, NULL, 0), 0);
    assert_true(with_hidden.phi != r.funnel[0].phi);
    char *before = release_text(&in, &r);
    benchmark_release_free(&r);
    /* RA4's numerator changed, still suppressed (RA5 takes the difference, so that the published
     * region and England totals stay as they are): not a byte of the release changes */
    cells[3].numerator = 6;
    cells[4].numerator = 1;
    build(&in, &r);
    assert_false(must(&r, "m1", "trust", "RA4", "all", "")->has_numerator);
    char *after = release_text(&in, &r);
    assert_string_equal(before, after);
    free(before);
    free(after);
    benchmark_release_free(&r);
}

/* ---- the attacker on a release's rows ---- */

/* A count the attacker reasons about: a row of the release, or a trust's category with no row
 * (its denominator under the publication threshold, or no patients: the attacker cannot tell). */
typedef struct {
    const char *metric, *level, *code, *parent, *breakdown, *category;
    long long den;
    bool published, hidden; /* hidden: a suppressed row */
    bool num_known, den_known;
} avar_t;

typedef struct {
    avar_t *v;
    size_t n;
    size_t *members; /* each relation: its parent, then its children */
    size_t *start;   /* relation i: members[start[i] .. start[i + 1]) */
    size_t n_rel, n_members;
} attack_t;

static bool same(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const char *level_below(const char *level)
{
    return same(level, "england") ? "region" : same(level, "region") ? "trust" : "site";
}

static void add_relation(attack_t *at, size_t parent,
                         bool (*child)(const avar_t *, const avar_t *, const void *),
                         const void *arg)
{
    size_t from = at->n_members;
    at->members[at->n_members++] = parent;
    for (size_t i = 0; i < at->n; i++)
        if (i != parent && child(&at->v[parent], &at->v[i], arg))
            at->members[at->n_members++] = i;
    if (at->n_members - from < 2) {
        at->n_members = from; /* nothing below: no relation */
        return;
    }
    at->start[++at->n_rel] = at->n_members;
}

/* the same slot of the areas below */
static bool below(const avar_t *p, const avar_t *c, const void *arg)
{
    (void)arg;
    return same(c->metric, p->metric) && same(c->level, level_below(p->level)) &&
           same(c->parent, p->code) && same(c->breakdown, p->breakdown) &&
           same(c->category, p->category);
}

/* the categories of one breakdown of the same area */
static bool category_of(const avar_t *p, const avar_t *c, const void *arg)
{
    return same(c->metric, p->metric) && same(c->level, p->level) && same(c->code, p->code) &&
           same(c->breakdown, (const char *)arg);
}

static const char *const attack_breakdowns[] = {"imd_quintile", "ethnicity", "sex", "age"};

/* The counts and relations of release r: every row but the SII; for each trust, each category
 * England shows that the trust has no row for; and every sum the release implies (each slot over
 * the same slot of the areas below, each all row over the categories of each breakdown). */
static void attack_init(attack_t *at, const benchmark_release_t *r)
{
    size_t cap = r->n_rows;
    for (size_t t = 0; t < r->n_rows; t++)
        if (same(r->rows[t].level, "trust") && same(r->rows[t].breakdown, "all"))
            for (size_t e = 0; e < r->n_rows; e++)
                cap +=
                    same(r->rows[e].level, "england") && same(r->rows[e].metric, r->rows[t].metric);
    at->v = calloc(cap, sizeof *at->v);
    assert_non_null(at->v);
    at->n = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        const benchmark_row_t *x = &r->rows[i];
        if (same(x->breakdown, "sii"))
            continue;
        at->v[at->n++] =
            (avar_t){x->metric,   x->level,       x->area_code, x->parent_code,    x->breakdown,
                     x->category, x->denominator, true,         !x->has_numerator, x->has_numerator,
                     true};
    }
    size_t n_rows = at->n;
    for (size_t t = 0; t < n_rows; t++) {
        const avar_t *trust = &at->v[t];
        if (!same(trust->level, "trust") || !same(trust->breakdown, "all"))
            continue;
        for (size_t e = 0; e < n_rows; e++) {
            const avar_t *eng = &at->v[e];
            if (!same(eng->level, "england") || !same(eng->metric, trust->metric) ||
                same(eng->breakdown, "all"))
                continue;
            bool has = false;
            for (size_t k = 0; k < n_rows && !has; k++)
                has = same(at->v[k].level, "trust") && same(at->v[k].code, trust->code) &&
                      same(at->v[k].metric, eng->metric) &&
                      same(at->v[k].breakdown, eng->breakdown) &&
                      same(at->v[k].category, eng->category);
            if (!has)
                at->v[at->n++] = (avar_t){trust->metric,  "trust",       trust->code, trust->parent,
                                          eng->breakdown, eng->category, 0,           false,
                                          false,          false,         false};
        }
    }
    /* each count is the parent of at most 1 + 4 relations, each member once per relation it is
     * in (at most 6 for a trust's category: its trust's breakdown and its region's category) */
    at->members = malloc(6 * at->n * sizeof *at->members + 1);
    at->start = malloc((5 * at->n + 1) * sizeof *at->start);
    assert_non_null(at->members);
    assert_non_null(at->start);
    at->n_rel = at->n_members = 0;
    at->start[0] = 0;
    for (size_t p = 0; p < at->n; p++) {
        if (same(at->v[p].level, "site"))
            continue;
        add_relation(at, p, below, NULL);
        if (same(at->v[p].breakdown, "all"))
            for (int b = 0; b < 4; b++)
                add_relation(at, p, category_of, attack_breakdowns[b]);
    }
}

/* Relation i tells the attacker: a denominator, when it is the only one unknown; that the
 * unknown ones are all 0, when they are children that the others leave nothing to; a numerator,
 * when it is the only one unknown. A count of denominator 0 has numerator 0. Returns whether
 * it learnt something. */
static bool attack_relation(attack_t *at, size_t i)
{
    size_t first = at->start[i], end = at->start[i + 1], dens = 0, nums = 0, which = 0;
    bool parent_unknown = false;
    long long rest = 0; /* the parent's denominator less the children's known to the attacker */
    for (size_t k = first; k < end; k++) {
        const avar_t *x = &at->v[at->members[k]];
        if (!x->den_known) {
            dens++;
            parent_unknown |= k == first;
        } else {
            rest += k == first ? x->den : -x->den;
        }
    }
    bool learnt = false;
    if (dens == 1 || (dens > 1 && !parent_unknown && rest == 0))
        for (size_t k = first; k < end; k++) {
            avar_t *x = &at->v[at->members[k]];
            if (!x->den_known) {
                x->den = dens > 1 ? 0 : k == first ? -rest : rest;
                x->den_known = learnt = true;
            }
        }
    for (size_t k = first; k < end; k++) {
        avar_t *x = &at->v[at->members[k]];
        if (x->den_known && x->den == 0 && !x->num_known)
            x->num_known = learnt = true;
        if (!x->num_known) {
            nums++;
            which = at->members[k];
        }
    }
    if (nums == 1)
        at->v[which].num_known = learnt = true;
    return learnt;
}

static void attack_free(attack_t *at)
{
    free(at->v);
    free(at->members);
    free(at->start);
}

/* Small counts, so that much is suppressed: each site's all cell of more than 40 patients
 * divided by 8, and its categories split again so that they still add up to it (bsim_init writes a
 * site's all cell of a metric, then its 11, 7, 4 and 6 categories). */
static void shrink(bsim_t *s)
{
    static const size_t ncat[4] = {11, 7, 4, 6};
    for (size_t i = 0; i < s->n_cells; i += 1 + 11 + 7 + 4 + 6) {
        assert_string_equal(s->cells[i].breakdown, "all");
        if (s->cells[i].denominator <= 40)
            continue;
        long long num = s->cells[i].numerator / 8, den = s->cells[i].denominator / 8;
        s->cells[i].numerator = num;
        s->cells[i].denominator = den;
        benchmark_cell_t *cat = &s->cells[i + 1];
        for (int b = 0; b < 4; cat += ncat[b++]) {
            double w[11];
            long long nums[11], dens[11];
            for (size_t k = 0; k < ncat[b]; k++)
                w[k] = 0.01 + (double)cat[k].denominator;
            bsim_split(s, num, den, w, ncat[b], nums, dens);
            for (size_t k = 0; k < ncat[b]; k++) {
                cat[k].numerator = nums[k];
                cat[k].denominator = dens[k];
            }
        }
    }
}

/* An attacker with the published rows and the relations between them: the sites of a trust,
 * trusts of a region, regions of England, in the all rows and in each category, and an area's
 * all row and the categories of each breakdown. It knows every shown numerator and every
 * published denominator, but not a trust's categories the release leaves out; it solves any
 * relation with one unknown, numerator or denominator, learns that categories are empty when
 * the denominators leave nothing to them, again and again with what it learnt. It recovers no
 * suppressed numerator; and the trust categories left out protect: some suppressed ones are
 * hidden only by them. */
static void test_no_subtraction_recovers(void **state)
{
    (void)state;
    size_t hidden_total = 0, derived_total = 0;
    for (uint64_t seed = 20; seed < 24; seed++) {
        bsim_t s;
        bsim_init(&s, seed, 15, 35, 2, 1);
        shrink(&s);
        benchmark_input_t in = bsim_input(&s, 8);
        benchmark_release_t r;
        build(&in, &r);
        attack_t at;
        attack_init(&at, &r);
        for (bool progress = true; progress;) {
            progress = false;
            for (size_t i = 0; i < at.n_rel; i++)
                progress |= attack_relation(&at, i);
        }
        for (size_t i = 0; i < at.n; i++) {
            const avar_t *x = &at.v[i];
            hidden_total += x->hidden;
            derived_total += !x->published && x->num_known;
            if (x->hidden && x->num_known) {
                print_error("seed %llu: %s %s %s %s %s recovered\n", (unsigned long long)seed,
                            x->metric, x->level, x->code, x->breakdown, x->category);
                fail();
            }
        }
        attack_free(&at);
        benchmark_release_free(&r);
        bsim_free(&s);
    }
    printf("%zu suppressed rows, none recovered; %zu trust categories left out learnt\n",
           hidden_total, derived_total);
    assert_true(hidden_total > 20); /* the attack had something to find */
}

static void test_sii_row(void **state)
{
    (void)state;
    benchmark_cell_t cells[12];
    static const char *const dec[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"};
    long long num_all = 0, den_all = 0;
    for (int d = 0; d < 10; d++) {
        long long den = 100 + 10 * d, num = 20 + 5 * d;
        cells[d] = (benchmark_cell_t)CELL("RAA", "RAA01", "m1", "imd_decile", dec[d], num, den);
        num_all += num;
        den_all += den;
    }
    cells[10] = (benchmark_cell_t)CELL("RAA", "RAA01", "m1", "all", "", num_all, den_all);
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 11,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    sii_group_t g[10];
    for (int d = 0; d < 10; d++) {
        g[d].population = (double)cells[d].denominator;
        g[d].value = (double)cells[d].numerator / g[d].population;
        ci_wilson((double)cells[d].numerator, g[d].population, NCAP_Z95, &g[d].lower95,
                  &g[d].upper95);
    }
    sii_result_t want;
    assert_int_equal(sii_compute(g, 10, BENCHMARK_SII_REPS, BENCHMARK_SII_SEED, &want, NULL, 0), 0);
    const benchmark_row_t *x = must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "sii", "");
    assert_false(x->has_numerator || x->has_denominator || x->has_funnel);
    assert_true(x->has_value);
    assert_true(x->value == want.sii && x->lower95 == want.lower95 && x->upper95 == want.upper95);
    assert_true(x->value > 0); /* the least deprived do better here */
    assert_null(find(&r, "m1", "region", "Y56", "sii", ""));
    benchmark_release_free(&r);
    /* one decile: no SII row */
    in.cells = cells + 9;
    in.n_cells = 1;
    build(&in, &r);
    assert_null(find(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "sii", ""));
    benchmark_release_free(&r);
}

/* ---- refused input ---- */

static void test_refused_cells(void **state)
{
    (void)state;
    static const struct {
        benchmark_cell_t cell;
        const char *message;
    } cases[] = {
        {CELL("RAA", "RAA01", "m9", "all", "", 1, 2),
         "cell 1: metric \"m9\" is not one of the definition's"},
        {CELL("RAA", "RAA01", "m1", "postcode", "x", 1, 2),
         "cell 1: breakdown \"postcode\", expected all, imd_decile, ethnicity, sex or age"},
        {CELL("RAA", "RAA01", "m1", "ethnicity", "purple", 1, 2),
         "cell 1: ethnicity category \"purple\", expected white, mixed, asian, black, other, "
         "not_stated or unknown"},
        {CELL("RAA", "RAA01", "m1", "imd_decile", "11", 1, 2),
         "cell 1: imd_decile category \"11\", expected 1 to 10 or unknown"},
        {CELL("RAA", "RAA01", "m1", "all", "", 3, 2),
         "cell 1: numerator 3 is more than denominator 2"},
        {CELL("RAA", "RAA01", "m1", "all", "", -1, 2),
         "cell 1: numerator -1 and denominator 2, expected counts >= 0"},
        {CELL("", "RAA01", "m1", "all", "", 1, 2),
         "cell 1: the trust is empty, expected an ODS code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        benchmark_input_t in = {.audit = "nhfd",
                                .period = "2026Q1",
                                .metrics = one_metric,
                                .n_metrics = 1,
                                .min_count = 0,
                                .cells = &cases[i].cell,
                                .n_cells = 1,
                                .orgs = orgs,
                                .n_orgs = 3};
        benchmark_release_t r;
        char err[256] = "";
        assert_int_equal(benchmark_build(&in, &r, err, sizeof err), -1);
        assert_string_equal(err, cases[i].message);
        assert_null(r.rows);
    }
}

/* No cells: England's all row of each metric, empty figures, nothing else. */
static void test_no_cells(void **state)
{
    (void)state;
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 8,
                            .cells = NULL,
                            .n_cells = 0,
                            .orgs = NULL,
                            .n_orgs = 0};
    benchmark_release_t r;
    build(&in, &r);
    assert_int_equal(r.n_rows, 1);
    assert_counts(&r.rows[0], 0, 0);
    assert_false(r.rows[0].has_value || r.rows[0].has_england || r.rows[0].has_funnel);
    benchmark_release_free(&r);
    benchmark_release_free(&r); /* harmless twice */
}

/* ---- files ---- */

__attribute__((noinline)) static char *
write_to_string(void (*fn)(FILE *, const benchmark_input_t *, const benchmark_release_t *),
                const benchmark_input_t *in, const benchmark_release_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, in, r);
    fclose(f);
    return buf;
}

static void csv_writer(FILE *f, const benchmark_input_t *in, const benchmark_release_t *r)
{
    benchmark_write_csv(f, in->audit, in->period, r);
}

/* The selection ledger: records whose validation failed (BENCHMARK_REJECTED cells), and those
 * withheld under the opt-out (BENCHMARK_WITHHELD), count in the all rows of every metric of their
 * site, trust, region and England, never in a category's or a figure; left_out adds held and
 * missing; a proportion's bounds are its value with every record left out outside or inside the
 * numerator; a suppressed row's ledger is empty. */
static void test_selection_ledger(void **state)
{
    (void)state;
    benchmark_cell_t cells[] = {
        CELL("RAA", "RAA01", "!rejected", "all", "", 0, 3),
        CELL("RAA", "RAA01", "!withheld_opt_out", "all", "", 0, 2),
        CELL("RAA", "RAA01", "m1", "all", "", 40, 80),
        CELL("RAA", "RAA01", "m1", "sex", "male", 20, 40),
        CELL("RAA", "RAA01", "m1", "sex", "female", 20, 40),
        CELL("RAA", "RAA02", "!rejected", "all", "", 0, 1),
        CELL("RAA", "RAA02", "m1", "all", "", 3, 20),
        CELL("RBB", "RBB01", "m1", "all", "", 50, 100),
        CELL("RCC", "RCC01", "m1", "all", "", 60, 100),
    };
    cells[2].held = 2; /* RAA01: 3 rejected + 2 held + 2 withheld left out */
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = sizeof cells / sizeof *cells,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    const benchmark_row_t *site = must(&r, "m1", "site", "RAA01", "all", "");
    assert_true(site->has_ledger);
    assert_int_equal(site->rejected, 3);
    assert_int_equal(site->withheld_opt_out, 2);
    assert_int_equal(site->left_out, 7);
    assert_true(site->has_bounds);
    assert_true(fabs(site->bound_lower - 40.0 / 87) < 1e-12);
    assert_true(fabs(site->bound_upper - 47.0 / 87) < 1e-12);
    const benchmark_row_t *trust = must(&r, "m1", "trust", "RAA", "all", "");
    assert_int_equal(trust->rejected, 4);
    assert_int_equal(trust->withheld_opt_out, 2);
    const benchmark_row_t *england = must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "all", "");
    assert_int_equal(england->rejected, 4);
    assert_int_equal(england->denominator, 300);
    const benchmark_row_t *male = must(&r, "m1", "england", BENCHMARK_ENGLAND_CODE, "sex", "male");
    assert_int_equal(male->rejected, 0);
    assert_int_equal(male->withheld_opt_out, 0);
    char *text = write_to_string(csv_writer, &in, &r);
    char want[200];
    snprintf(want, sizeof want, ",2,0,3,7,%.6f,%.6f,2\n", 40.0 / 87, 47.0 / 87);
    assert_non_null(strstr(text, want));
    free(text);
    benchmark_release_free(&r);
    /* with min_count 5, RAA02's 3 of 20 is suppressed, and so is its ledger: every row's (but
     * the SII's) is shown exactly when its numerator is */
    in.min_count = 5;
    build(&in, &r);
    const benchmark_row_t *hidden = must(&r, "m1", "site", "RAA02", "all", "");
    assert_false(hidden->has_numerator);
    assert_false(hidden->has_ledger);
    assert_false(hidden->has_bounds);
    for (size_t i = 0; i < r.n_rows; i++)
        if (strcmp(r.rows[i].breakdown, "sii") != 0)
            assert_int_equal(r.rows[i].has_ledger, r.rows[i].has_numerator);
    benchmark_release_free(&r);
    /* a rejected cell of a category, or with a numerator, is refused */
    cells[0].breakdown = "sex";
    cells[0].category = "male";
    char err[256] = "";
    assert_int_not_equal(benchmark_build(&in, &r, err, sizeof err), 0);
    assert_non_null(strstr(err, "records left out"));
}

static void test_csv_exact(void **state)
{
    (void)state;
    const benchmark_cell_t cells[] = {CELL("RAA", "RAA01", "m1", "all", "", 8, 10)};
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 1,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    char *text = write_to_string(csv_writer, &in, &r);
    const char *head =
        "audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,numerator,"
        "denominator,value,lower95,upper95,lower998,upper998,england_value,compared_to_england,"
        "funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,outlier,note,expected,"
        "held,missing,rejected,left_out,bound_lower,bound_upper,withheld_opt_out\n";
    assert_memory_equal(text, head, strlen(head));
    /* Wilson 8/10: 0.490162-0.943318 at 95%, 0.367431-0.971549 at 99.8% (the formula, z to 17
     * digits) */
    double lo95, hi95, lo998, hi998;
    ci_wilson(8, 10, NCAP_Z95, &lo95, &hi95);
    ci_wilson(8, 10, NCAP_Z998, &lo998, &hi998);
    char want[512];
    snprintf(want, sizeof want,
             "nhfd,2026Q1,england,E92000001,England,,m1,all,,8,10,0.800000,%.6f,%.6f,%.6f,%.6f,"
             "0.800000,,,,,,,,,0,0,0,0,0.800000,0.800000,0\n"
             "nhfd,2026Q1,region,Y56,London,E92000001,m1,all,,8,10,0.800000,%.6f,%.6f,%.6f,%.6f,"
             "0.800000,similar,,,,,,,,0,0,0,0,0.800000,0.800000,0\n",
             lo95, hi95, lo998, hi998, lo95, hi95, lo998, hi998);
    assert_memory_equal(text + strlen(head), want, strlen(want));
    assert_near(lo95, 0.490162, 1e-6);
    assert_near(hi95, 0.943318, 1e-6);
    /* the trust row: flagged against itself, in control, with the funnel's limits */
    const char *trust = strstr(text, "nhfd,2026Q1,trust,RAA,Alpha Hospitals,Y56,m1,all,,8,10,");
    assert_non_null(trust);
    assert_non_null(strstr(trust, ",similar,"));
    assert_non_null(strstr(trust, ",in_control,,,0,0,0,0,0.800000,0.800000,0\n"));
    free(text);
    benchmark_release_free(&r);
}

static void test_fingertips_exact(void **state)
{
    (void)state;
    const benchmark_cell_t cells[] = {CELL("RAA", "RAA01", "m1", "all", "", 8, 10),
                                      CELL("RAA", "RAA01", "m1", "sex", "female", 8, 10)};
    benchmark_input_t in = {.audit = "nhfd",
                            .period = "2026Q1",
                            .metrics = one_metric,
                            .n_metrics = 1,
                            .min_count = 0,
                            .cells = cells,
                            .n_cells = 2,
                            .orgs = orgs,
                            .n_orgs = 3};
    benchmark_release_t r;
    build(&in, &r);
    char *text = write_to_string(benchmark_write_fingertips, &in, &r);
    const char *head =
        "Indicator ID,Indicator Name,Parent Code,Parent Name,Area Code,Area Name,Area Type,Sex,"
        "Age,Category Type,Category,Time period,Value,Lower CI 95.0 limit,Upper CI 95.0 limit,"
        "Lower CI 99.8 limit,Upper CI 99.8 limit,Count,Denominator,Value note,Recent Trend,"
        "Compared to England value or percentiles,Compared to Region value or percentiles,"
        "Time period Sortable,New data,Compared to goal\n";
    assert_memory_equal(text, head, strlen(head));
    const char *eng = text + strlen(head);
    const char *want_eng = "m1,Metric one,,,E92000001,England,England,Persons,All ages,,,2026Q1,"
                           "80.000000,";
    assert_memory_equal(eng, want_eng, strlen(want_eng));
    assert_non_null(strstr(eng, ",8,10,,,Not compared,Not compared,20260100,,\n"));
    assert_non_null(strstr(text, "m1,Metric one,,,E92000001,England,England,Female,All ages,,,"));
    assert_non_null(strstr(text, "m1,Metric one,Y56,London,RAA,Alpha Hospitals,NHS trust,Persons,"
                                 "All ages,,,2026Q1,80.000000,"));
    assert_non_null(strstr(text, ",8,10,,,Similar,Similar,20260100,,\n"));
    assert_non_null(strstr(text, "m1,Metric one,RAA,Alpha Hospitals,RAA01,RAA01,Hospital site,"));
    free(text);
    benchmark_release_free(&r);
}

static void test_json(void **state)
{
    (void)state;
    bsim_t s;
    bsim_init(&s, 5, 12, 20, 3, 1);
    benchmark_input_t in = bsim_input(&s, 8);
    benchmark_release_t r;
    build(&in, &r);
    json_t *prov = json_pack("{s:s}", "source", "test");
    char *text = benchmark_json(&in, &r, prov);
    json_decref(prov);
    assert_non_null(text);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "audit")), "nhfd");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "provenance"), "source")), "test");
    assert_int_equal(json_array_size(json_object_get(o, "columns")), 32);
    assert_int_equal(json_array_size(json_object_get(o, "rows")), r.n_rows);
    json_t *metrics = json_object_get(o, "metrics");
    assert_int_equal(json_array_size(metrics), 3);
    json_t *m1 = json_array_get(metrics, 1);
    assert_string_equal(json_string_value(json_object_get(m1, "overdispersion")), "multiplicative");
    assert_string_equal(json_string_value(json_object_get(m1, "polarity")), "higher_is_better");
    json_t *funnel = json_object_get(m1, "funnel");
    assert_near(json_real_value(json_object_get(funnel, "phi")), r.funnel[1].phi, 1e-12);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "methods"), "min_count")), 8);
    /* row 0: England's all row of the first metric, null where the CSV is empty */
    json_t *row0 = json_array_get(json_object_get(o, "rows"), 0);
    assert_string_equal(json_string_value(json_array_get(row0, 2)), "england");
    assert_true(json_is_null(json_array_get(row0, 5)));
    assert_int_equal(json_integer_value(json_array_get(row0, 10)), r.rows[0].denominator);
    json_decref(o);
    free(text);
    benchmark_release_free(&r);
    bsim_free(&s);
}

/* ---- the independent check ---- */

static bool have_python3(void)
{
    return system("command -v python3 >/dev/null 2>&1") == 0;
}

static int run_checker(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 %s/tests/tools/release_check.py %s/latest.csv",
             NCAP_SOURCE_DIR, dir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_release(const char *dir, const benchmark_input_t *in,
                          const benchmark_release_t *r)
{
    char path[512];
    snprintf(path, sizeof path, "%s/latest.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    benchmark_write_csv(f, in->audit, in->period, r);
    fclose(f);
    snprintf(path, sizeof path, "%s/latest.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    char *json = benchmark_json(in, r, NULL);
    assert_non_null(json);
    fputs(json, f);
    free(json);
    fclose(f);
}

static void remove_release(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/latest.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/latest.json", dir);
    unlink(path);
    rmdir(dir);
}

/* Simulated releases for several seeds, with and without overdispersion (metric m has m % 3)
 * and with and without suppression: the checker agrees with every figure. */
static void test_independent_check(void **state)
{
    (void)state;
    if (!have_python3())
        ncap_skip_or_fail("python3 not found: tests/tools/release_check.py needs it");
    for (uint64_t seed = 1; seed <= 4; seed++) {
        char dir[] = "/tmp/ncap_release_check_XXXXXX";
        assert_non_null(mkdtemp(dir));
        bsim_t s;
        bsim_init(&s, seed, 30 + 5 * seed, 80, 3, seed == 4 ? 40 : 1);
        benchmark_input_t in = bsim_input(&s, seed % 2 ? 8 : 0);
        benchmark_release_t r;
        build(&in, &r);
        write_release(dir, &in, &r);
        assert_int_equal(run_checker(dir), 0);
        remove_release(dir);
        benchmark_release_free(&r);
        bsim_free(&s);
    }
}

/* The checker is not blind: one trust's upper funnel limit moved by 1e-5 is reported. */
static void test_independent_check_catches(void **state)
{
    (void)state;
    if (!have_python3())
        ncap_skip_or_fail("python3 not found: tests/tools/release_check.py needs it");
    char dir[] = "/tmp/ncap_release_check_XXXXXX";
    assert_non_null(mkdtemp(dir));
    bsim_t s;
    bsim_init(&s, 9, 20, 40, 2, 1);
    benchmark_input_t in = bsim_input(&s, 0);
    benchmark_release_t r;
    build(&in, &r);
    for (size_t i = 0; i < r.n_rows; i++)
        if (strcmp(r.rows[i].level, "trust") == 0 && r.rows[i].has_funnel) {
            r.rows[i].funnel_upper95 += 1e-5;
            break;
        }
    write_release(dir, &in, &r);
    assert_int_equal(run_checker(dir), 1);
    remove_release(dir);
    benchmark_release_free(&r);
    bsim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_names),
        cmocka_unit_test(test_sums_simulated),
        cmocka_unit_test(test_wilson_worked),
        cmocka_unit_test(test_funnel_as_ncap_funnel),
        cmocka_unit_test(test_compared_rules),
        cmocka_unit_test(test_trust_breakdown_threshold),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_cells_without_site),
        cmocka_unit_test(test_suppression),
        cmocka_unit_test(test_phi_without_suppressed),
        cmocka_unit_test(test_no_subtraction_recovers),
        cmocka_unit_test(test_sii_row),
        cmocka_unit_test(test_refused_cells),
        cmocka_unit_test(test_no_cells),
        cmocka_unit_test(test_selection_ledger),
        cmocka_unit_test(test_csv_exact),
        cmocka_unit_test(test_fingertips_exact),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_independent_check),
        cmocka_unit_test(test_independent_check_catches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
