/* test_benchmark_spc.c - a release's run charts (spc.csv, spc_summary.csv): the headers exactly;
 * a trust's monthly proportions charted with the Making Data Count rules recomputed here from the
 * definitions (mean, moving ranges screened at 3.267 x their mean, limits mean -+ 2.66 x the mean
 * moving range, a point beyond them), and every row as spc_compute gives it (`ncap spc`);
 * improvement and assurance from the metric's polarity and target; regions and England summing
 * their trusts' months; a ratio's month O/E and a median's month median; disclosure control: a
 * small month hidden with what would give it away (its region's other trust, another month of its
 * quarter), the chart drawn from the shown months only, and no shown count under min_count. */
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
#include "release_checker.h"
#include "spc.h"
#include "test_skip.h"

static const benchmark_org_t orgs[] = {{"RAA", "Alpha Hospitals", "Y56", "London"},
                                       {"RBB", "Beta Hospitals", "Y56", "London"},
                                       {"RCC", "Gamma Hospitals", "Y58", NULL}};

static const benchmark_metric_t metrics[] = {
    {.id = "m1",
     .label = "Proportion",
     .polarity = POLARITY_HIGHER_BETTER,
     .kind = BENCHMARK_PROPORTION,
     .has_target = true,
     .target = 0.4},
    {.id = "smr", .label = "O/E", .polarity = POLARITY_LOWER_BETTER, .kind = BENCHMARK_RATIO},
    {.id = "hours", .label = "Median hours", .polarity = POLARITY_NONE, .kind = BENCHMARK_MEDIAN},
};

#define MCELL(t_, m_, month_, n_, d_, e9_)                                                         \
    (benchmark_cell_t)                                                                             \
    {                                                                                              \
        .trust = t_, .site = t_ "01", .metric = m_, .breakdown = "all", .category = "",            \
        .month = month_, .numerator = n_, .denominator = d_, .expected_e9 = e9_                    \
    }

typedef struct {
    benchmark_cell_t cells[200];
    size_t n;
    char months[24][8];
} series_t;

static const char *month(series_t *s, int i)
{
    snprintf(s->months[i], sizeof s->months[i], "%04d-%02d", 2025 + i / 12, i % 12 + 1);
    return s->months[i];
}

static benchmark_input_t input(const series_t *s, const benchmark_measure_t *ms, size_t n_ms,
                               long long min_count)
{
    return (benchmark_input_t){.audit = "nhfd",
                               .period = "2025Q4",
                               .metrics = metrics,
                               .n_metrics = 3,
                               .min_count = min_count,
                               .orgs = orgs,
                               .n_orgs = 3,
                               .series = s->cells,
                               .n_series = s->n,
                               .series_measures = ms,
                               .n_series_measures = n_ms};
}

static void spc_text(const benchmark_input_t *in, char **spc, char **summary)
{
    char err[256] = "";
    if (benchmark_spc_text(in, spc, summary, err, sizeof err) != 0) {
        print_error("benchmark_spc_text: %s\n", err);
        fail();
    }
}

/* The line of spc.csv (or the summary) that starts with prefix, copied into line. */
static bool line_of(const char *text, const char *prefix, char *line, size_t len)
{
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            snprintf(line, len, "%.*s", (int)n, p);
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Field i (0-based) of a CSV line without quotes. */
static void field(const char *line, int i, char *out, size_t len)
{
    const char *p = line;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    size_t n = p ? strcspn(p, ",") : 0;
    snprintf(out, len, "%.*s", (int)n, p ? p : "");
}

static void test_headers(void **state)
{
    (void)state;
    series_t s = {.n = 0};
    benchmark_input_t in = input(&s, NULL, 0, 0);
    char *spc, *summary;
    spc_text(&in, &spc, &summary);
    assert_string_equal(spc, "audit,metric,level,area_code,month,numerator,denominator,value,mean,"
                             "lpl,upl,special_cause,point_type\n");
    assert_string_equal(summary,
                        "audit,metric,level,area_code,mean,lpl,upl,n,variation,assurance\n");
    free(spc);
    free(summary);
}

static void test_proportion_chart(void **state)
{
    (void)state;
    static const int nums[12] = {50, 52, 48, 51, 49, 50, 53, 47, 50, 51, 49, 80};
    series_t s = {.n = 0};
    for (int i = 0; i < 12; i++) {
        s.cells[s.n++] = MCELL("RAA", "m1", month(&s, i), nums[i], 100, 0);
        s.cells[s.n++] = MCELL("RCC", "m1", s.months[i], 30, 60, 0);
    }
    /* a cell of another breakdown is no part of the run charts, nor one after the period */
    s.cells[s.n++] = MCELL("RAA", "m1", "2026-01", 1, 2, 0);
    s.cells[s.n++] = (benchmark_cell_t){.trust = "RAA",
                                        .site = "RAA01",
                                        .metric = "m1",
                                        .breakdown = "sex",
                                        .category = "male",
                                        .month = "2025-01",
                                        .numerator = 1,
                                        .denominator = 1};
    benchmark_input_t in = input(&s, NULL, 0, 0);
    char *spc, *summary;
    spc_text(&in, &spc, &summary);

    /* Making Data Count by hand: mean, moving ranges, screening, limits */
    double v[12], mr[11], mean = 0, mrbar = 0;
    for (int i = 0; i < 12; i++)
        mean += (v[i] = nums[i] / 100.0) / 12;
    for (int i = 0; i < 11; i++)
        mrbar += (mr[i] = fabs(v[i + 1] - v[i])) / 11;
    double kept = 0, n_kept = 0;
    for (int i = 0; i < 11; i++)
        if (mr[i] < 3.267 * mrbar)
            kept += mr[i], n_kept++;
    assert_true(n_kept == 10); /* the jump to 80 screened out */
    double amr = kept / n_kept, lpl = mean - 2.66 * amr, upl = mean + 2.66 * amr;
    assert_near(mean, 0.525, 1e-12);
    assert_true(v[11] > upl);

    char want[256], line[256];
    snprintf(want, sizeof want,
             "nhfd,m1,trust,RAA,2025-12,80,100,0.800000,%.6f,%.6f,%.6f,outside_limits,"
             "special_cause_improvement",
             mean, lpl, upl);
    assert_true(line_of(spc, "nhfd,m1,trust,RAA,2025-12,", line, sizeof line));
    assert_string_equal(line, want);
    /* every row of RAA as spc_compute gives it (increase, target 0.4) */
    spc_options_t opts;
    spc_options_init(&opts);
    opts.has_target = true;
    opts.target = 0.4;
    spc_point_t pts[12];
    spc_summary_t sum;
    char err[128];
    assert_int_equal(spc_compute(v, 12, &opts, pts, &sum, err, sizeof err), 0);
    for (int i = 0; i < 12; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "nhfd,m1,trust,RAA,%s,", s.months[i]);
        assert_true(line_of(spc, prefix, line, sizeof line));
        snprintf(want, sizeof want, "%s%d,100,%.6f,%.6f,%.6f,%.6f,%s,%s", prefix, nums[i], v[i],
                 pts[i].mean, pts[i].lpl, pts[i].upl, spc_cause_name(pts[i].cause),
                 spc_point_type_name(pts[i].type));
        assert_string_equal(line, want);
    }
    /* the summary: the last point's variation; the target below the lower limit: pass */
    assert_true(0.4 < lpl);
    snprintf(want, sizeof want,
             "nhfd,m1,trust,RAA,%.6f,%.6f,%.6f,12,special_cause_improvement,consistent_pass", mean,
             lpl, upl);
    assert_true(line_of(summary, "nhfd,m1,trust,RAA,", line, sizeof line));
    assert_string_equal(line, want);
    /* London is RAA alone; England the sum of both trusts' months */
    assert_true(line_of(spc, "nhfd,m1,region,Y56,2025-12,80,100,0.800000,", line, sizeof line));
    assert_true(
        line_of(spc, "nhfd,m1,england,E92000001,2025-12,110,160,0.687500,", line, sizeof line));
    assert_true(line_of(spc,
                        "nhfd,m1,region,Y58,2025-01,30,60,0.500000,0.500000,0.500000,"
                        "0.500000,,common_cause",
                        line, sizeof line));
    /* England first, then the regions, then the trusts; months in order */
    assert_true(strstr(spc, "nhfd,m1,england,E92000001,2025-01,") <
                strstr(spc, "nhfd,m1,region,Y56,2025-01,"));
    assert_true(strstr(spc, "nhfd,m1,region,Y58,2025-12,") <
                strstr(spc, "nhfd,m1,trust,RAA,2025-01,"));
    assert_null(strstr(spc, ",smr,")); /* no series, no chart */
    assert_null(strstr(spc, ",2026-01,"));
    free(spc);
    free(summary);
}

/* RAA's values of metric hours in a month */
#define HOURS(month_, v_, n_)                                                                      \
    (benchmark_measure_t)                                                                          \
    {                                                                                              \
        .trust = "RAA", .site = "RAA01", .metric = "hours", .breakdown = "all", .category = "",    \
        .month = month_, .value = v_, .count = n_                                                  \
    }

static void test_ratio_and_median_months(void **state)
{
    (void)state;
    series_t s = {.n = 0};
    s.cells[s.n++] = MCELL("RAA", "smr", month(&s, 0), 3, 0, 2000000000LL);
    s.cells[s.n++] = MCELL("RAA", "smr", month(&s, 1), 6, 0, 4000000000LL);
    s.cells[s.n - 1].denominator = s.cells[s.n - 2].denominator = 50;
    benchmark_measure_t ms[] = {
        HOURS("2025-01", 20, 2),
        HOURS("2025-01", 30, 1),
        HOURS("2025-02", 10, 2),
    };
    benchmark_input_t in = input(&s, ms, 3, 0);
    char *spc, *summary;
    spc_text(&in, &spc, &summary);
    char line[256];
    /* O/E of the month: 3 / 2, 6 / 4 */
    assert_true(
        line_of(spc, "nhfd,smr,trust,RAA,2025-01,3,50,1.500000,1.500000,", line, sizeof line));
    assert_true(line_of(spc, "nhfd,smr,trust,RAA,2025-02,6,50,1.500000,", line, sizeof line));
    /* the month's median: 20, 20, 30 → 20; 10, 10 → 10; no numerator, the records counted */
    assert_true(
        line_of(spc, "nhfd,hours,trust,RAA,2025-01,,3,20.000000,15.000000,", line, sizeof line));
    assert_true(line_of(spc, "nhfd,hours,trust,RAA,2025-02,,2,10.000000,", line, sizeof line));
    /* neutral: no assurance without a target */
    assert_true(line_of(summary, "nhfd,hours,trust,RAA,15.000000,", line, sizeof line));
    char f[64];
    field(line, 7, f, sizeof f);
    assert_string_equal(f, "2");
    field(line, 9, f, sizeof f);
    assert_string_equal(f, "");
    free(spc);
    free(summary);
}

/* No shown count in 1..min_count-1 (numerator or complement) in spc.csv. */
static void assert_no_small_count(const char *spc, long long min_count)
{
    const char *p = strchr(spc, '\n') + 1;
    while (*p) {
        const char *end = strchr(p, '\n');
        char line[256], num[32], den[32], value[32];
        snprintf(line, sizeof line, "%.*s", (int)(end - p), p);
        field(line, 5, num, sizeof num);
        field(line, 6, den, sizeof den);
        field(line, 7, value, sizeof value);
        if (*num) {
            long long n = atoll(num), d = atoll(den);
            if ((n > 0 && n < min_count) || (d - n > 0 && d - n < min_count)) {
                print_error("a small count shown: %s\n", line);
                fail();
            }
        }
        if (!*num && *value && strstr(line, ",m1,")) {
            print_error("a value without its numerator: %s\n", line);
            fail();
        }
        p = end + 1;
    }
}

static void test_disclosure(void **state)
{
    (void)state;
    /* 2025-10..12 (the release's quarter 2025Q4): RAA's October has 2 of 50, under min_count 5 */
    series_t s = {.n = 0};
    for (int i = 9; i < 12; i++) {
        s.cells[s.n++] = MCELL("RAA", "m1", month(&s, i), i == 9 ? 2 : 20, 50, 0);
        s.cells[s.n++] = MCELL("RBB", "m1", s.months[i], 30, 80, 0);
        s.cells[s.n++] = MCELL("RCC", "m1", s.months[i], 40, 90, 0);
    }
    benchmark_input_t in = input(&s, NULL, 0, 5);
    char *spc, *summary;
    spc_text(&in, &spc, &summary);
    char line[256], f[32];
    /* the small month: its denominator only */
    assert_true(line_of(spc, "nhfd,m1,trust,RAA,2025-10,", line, sizeof line));
    assert_string_equal(line, "nhfd,m1,trust,RAA,2025-10,,50,,,,,,");
    /* London's October less RBB's would give it: RBB's October is hidden too */
    assert_true(line_of(spc, "nhfd,m1,trust,RBB,2025-10,,80,", line, sizeof line));
    /* RAA's quarter (latest.csv's row) less its other months would give it: one more hidden */
    int hidden = 0;
    for (int i = 9; i < 12; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "nhfd,m1,trust,RAA,%s,", s.months[i]);
        assert_true(line_of(spc, prefix, line, sizeof line));
        field(line, 5, f, sizeof f);
        hidden += *f == '\0';
    }
    assert_true(hidden >= 2);
    /* the chart of the shown months only */
    assert_true(line_of(summary, "nhfd,m1,trust,RAA,", line, sizeof line));
    field(line, 7, f, sizeof f);
    assert_int_equal(atoi(f), 3 - hidden);
    assert_no_small_count(spc, 5);
    /* the next quarter's release shows the same months of 2025Q4 hidden, whatever its own months
     * (a small one of RBB's among them) */
    series_t later = s; /* its cells of 2025Q4 name s's months */
    for (int i = 12; i < 15; i++) {
        later.cells[later.n++] = MCELL("RAA", "m1", month(&later, i), 25, 50, 0);
        later.cells[later.n++] = MCELL("RBB", "m1", later.months[i], i == 13 ? 3 : 30, 80, 0);
        later.cells[later.n++] = MCELL("RCC", "m1", later.months[i], 40, 90, 0);
    }
    benchmark_input_t next = input(&later, NULL, 0, 5);
    next.period = "2026Q1";
    char *spc2, *summary2;
    spc_text(&next, &spc2, &summary2);
    const char *const units[] = {"trust,RAA",  "trust,RBB",  "trust,RCC",
                                 "region,Y56", "region,Y58", "england,E92000001"};
    for (size_t u = 0; u < 6; u++)
        for (int i = 9; i < 12; i++) {
            char prefix[64], a[256], b[256], fa[32], fb[32];
            snprintf(prefix, sizeof prefix, "nhfd,m1,%s,%s,", units[u], s.months[i]);
            assert_true(line_of(spc, prefix, a, sizeof a));
            assert_true(line_of(spc2, prefix, b, sizeof b));
            field(a, 5, fa, sizeof fa);
            field(b, 5, fb, sizeof fb);
            assert_string_equal(fa, fb);
        }
    assert_true(line_of(spc2, "nhfd,m1,trust,RBB,2026-02,,80,", line, sizeof line));
    assert_no_small_count(spc2, 5);
    free(spc2);
    free(summary2);
    /* min_count 0: everything shown */
    in.min_count = 0;
    free(spc);
    free(summary);
    spc_text(&in, &spc, &summary);
    assert_true(line_of(spc, "nhfd,m1,trust,RAA,2025-10,2,50,0.040000,", line, sizeof line));
    free(spc);
    free(summary);
}

static void test_refused(void **state)
{
    (void)state;
    series_t s = {.n = 0};
    s.cells[s.n++] = MCELL("RAA", "nope", "2025-01", 1, 2, 0);
    benchmark_input_t in = input(&s, NULL, 0, 0);
    char *spc, *summary, err[256];
    assert_int_equal(benchmark_spc_text(&in, &spc, &summary, err, sizeof err), -1);
    assert_string_equal(err, "series: metric \"nope\" is not one of the definition's");
    s.cells[0] = MCELL("RAA", "m1", "2025-1", 1, 2, 0);
    assert_int_equal(benchmark_spc_text(&in, &spc, &summary, err, sizeof err), -1);
    assert_string_equal(err, "series: month \"2025-1\", expected YYYY-MM");
}

/* ---- tests/tools/release_check.py --spc over simulated series ---- */

#define SIM_TRUSTS 12
#define SIM_MONTHS 18

typedef struct {
    char trust[SIM_TRUSTS][8], site[SIM_TRUSTS][8], months[SIM_MONTHS][8];
    benchmark_org_t orgs[SIM_TRUSTS];
    benchmark_cell_t series[SIM_TRUSTS * SIM_MONTHS * 3], cells[SIM_TRUSTS * 3 * 3];
    benchmark_measure_t smeasures[SIM_TRUSTS * SIM_MONTHS * 30], measures[SIM_TRUSTS * 3 * 30];
    size_t n_series, n_cells, n_smeasures, n_measures;
    uint64_t rng;
} sim_t;

static double sim_uniform(sim_t *s)
{
    s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

/* 18 months (2024-07 .. 2025-12) of 12 trusts in 3 regions: a proportion (a step up half way in
 * some trusts), a ratio, a median; the release's period 2025Q4 (its cells: the last 3 months). */
static void sim_init(sim_t *s, uint64_t seed)
{
    static const char *const regions[] = {"Y56", "Y58", "Y60"};
    memset(s, 0, sizeof *s);
    s->rng = seed;
    for (int i = 0; i < SIM_MONTHS; i++)
        snprintf(s->months[i], 8, "%04d-%02d", 2024 + (i + 6) / 12, (i + 6) % 12 + 1);
    for (int t = 0; t < SIM_TRUSTS; t++) {
        snprintf(s->trust[t], 8, "R%02d", t);
        snprintf(s->site[t], 8, "R%02d01", t);
        s->orgs[t] = (benchmark_org_t){s->trust[t], s->trust[t], regions[t % 3], NULL};
        for (int i = 0; i < SIM_MONTHS; i++) {
            bool in_period = i >= SIM_MONTHS - 3;
            long long d = (t < 2 ? 3 : 20) + (long long)(sim_uniform(s) * 30), n = 0, e9 = 0, o = 0;
            double p = 0.4 + (t % 4 == 1 && i > 9 ? 0.3 : 0);
            for (long long k = 0; k < d; k++) {
                n += sim_uniform(s) < p;
                double risk = 0.05 + 0.2 * sim_uniform(s);
                e9 += llround(risk * BENCHMARK_EXPECTED_SCALE);
                o += sim_uniform(s) < risk;
            }
            const benchmark_cell_t c[2] = {{.trust = s->trust[t],
                                            .site = s->site[t],
                                            .metric = "m1",
                                            .breakdown = "all",
                                            .category = "",
                                            .month = s->months[i],
                                            .numerator = n,
                                            .denominator = d},
                                           {.trust = s->trust[t],
                                            .site = s->site[t],
                                            .metric = "smr",
                                            .breakdown = "all",
                                            .category = "",
                                            .month = s->months[i],
                                            .numerator = o,
                                            .denominator = d,
                                            .expected_e9 = e9}};
            long long k_values = 1 + (long long)(sim_uniform(s) * (t < 2 ? 4 : 25));
            benchmark_cell_t h = {.trust = s->trust[t],
                                  .site = s->site[t],
                                  .metric = "hours",
                                  .breakdown = "all",
                                  .category = "",
                                  .month = s->months[i],
                                  .denominator = k_values};
            for (int k = 0; k < 2; k++) {
                s->series[s->n_series++] = c[k];
                if (in_period)
                    s->cells[s->n_cells++] = c[k];
            }
            s->series[s->n_series++] = h;
            if (in_period)
                s->cells[s->n_cells++] = h;
            for (long long k = 0; k < k_values; k++) {
                benchmark_measure_t x = {.trust = s->trust[t],
                                         .site = s->site[t],
                                         .metric = "hours",
                                         .breakdown = "all",
                                         .category = "",
                                         .month = s->months[i],
                                         .value = floor(10 * 40 * sim_uniform(s)) / 10,
                                         .count = 1};
                s->smeasures[s->n_smeasures++] = x;
                if (in_period)
                    s->measures[s->n_measures++] = x;
            }
        }
    }
}

static int run_checker(const benchmark_input_t *in, bool spoil)
{
    benchmark_release_t r;
    char err[256] = "";
    if (benchmark_build(in, &r, err, sizeof err) != 0) {
        print_error("benchmark_build: %s\n", err);
        fail();
    }
    char *csv = benchmark_csv_text(in, &r), *json = benchmark_json(in, &r, NULL), *spc, *summary;
    spc_text(in, &spc, &summary);
    if (spoil) { /* the mean of R05's first month moved by 1e-5 */
        char *mean = strstr(spc, ",trust,R05,");
        assert_non_null(mean);
        for (int i = 0; i < 6; i++) /* the 9th column: 6 commas on from ",trust" */
            mean = strchr(mean + 1, ',');
        assert_true(mean[1] >= '0' && mean[1] <= '9');
        char *digit = mean + strcspn(mean + 1, ",") - 1;
        *digit = *digit == '9' ? '0' : (char)(*digit + 1);
    }
    const char *names[] = {"latest.csv", "latest.json", "spc.csv", "spc_summary.csv"};
    const char *texts[] = {csv, json, spc, summary};
    int rc = release_checker_run(names, texts, 4);
    for (int i = 0; i < 4; i++)
        free((char *)texts[i]);
    benchmark_release_free(&r);
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
        benchmark_input_t in = {.audit = "nhfd",
                                .period = "2025Q4",
                                .metrics = metrics,
                                .n_metrics = 3,
                                .min_count = seed == 2 ? 0 : 5,
                                .cells = s.cells,
                                .n_cells = s.n_cells,
                                .orgs = s.orgs,
                                .n_orgs = SIM_TRUSTS,
                                .measures = s.measures,
                                .n_measures = s.n_measures,
                                .series = s.series,
                                .n_series = s.n_series,
                                .series_measures = s.smeasures,
                                .n_series_measures = s.n_smeasures};
        assert_int_equal(run_checker(&in, false), 0);
        if (seed == 2)
            assert_int_equal(run_checker(&in, true), 1);
    }
}

/* text without its lines starting with prefix (a copy). */
/* A reader of the run charts' values in ascending order of value (as release_values_read hands
 * them), of the months from from_month on up to last (the period's end), counting the values it
 * hands. */
typedef struct {
    const benchmark_measure_t *m;
    size_t *order, n, handed;
    const char *last;
} counting_t;

static const benchmark_measure_t *sorting;

static int by_value_then_index(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = sorting[i].value, y = sorting[j].value;
    return x < y ? -1 : x > y ? 1 : (i > j) - (i < j);
}

static int counting_read(void *reader, bool series, const char *from_month,
                         benchmark_each_measure_t each, void *ctx, char *err, size_t errlen)
{
    counting_t *c = reader;
    for (size_t k = 0; series && k < c->n; k++) {
        const benchmark_measure_t *x = &c->m[c->order[k]];
        if ((from_month && strcmp(x->month, from_month) < 0) || strcmp(x->month, c->last) > 0)
            continue;
        c->handed++;
        if (each(ctx, x) != 0) {
            snprintf(err, errlen, "stopped");
            return -1;
        }
    }
    return 0;
}

/* The builds of one snapshot's periods in order, with a memo of the run charts' months
 * (benchmark_series_memo_t), write the same spc.csv and spc_summary.csv as each read alone, and
 * read each month's values once: 2025Q2's build its 12 months, 2025Q3's and 2025Q4's their 3
 * each. A trust first seen in 2025Q3 (no unit of 2025Q2's build, so none of the memo's months)
 * is charted as without the memo; so are a second round's builds once the memo is cleared. Both
 * ways in: a reader, and the arrays. */
static void test_months_taken_once(void **state)
{
    (void)state;
    static sim_t s;
    sim_init(&s, 7);
    /* R11 first seen in 2025-07 */
    size_t n = 0;
    for (size_t i = 0; i < s.n_series; i++)
        if (strcmp(s.series[i].trust, "R11") != 0 || strcmp(s.series[i].month, "2025-07") >= 0)
            s.series[n++] = s.series[i];
    s.n_series = n;
    n = 0;
    size_t late = 0; /* values of 2025-07 on */
    for (size_t i = 0; i < s.n_smeasures; i++)
        if (strcmp(s.smeasures[i].trust, "R11") != 0 ||
            strcmp(s.smeasures[i].month, "2025-07") >= 0) {
            late += strcmp(s.smeasures[i].month, "2025-07") >= 0;
            s.smeasures[n++] = s.smeasures[i];
        }
    s.n_smeasures = n;
    size_t *order = malloc(n * sizeof *order);
    assert_non_null(order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sorting = s.smeasures;
    qsort(order, n, sizeof *order, by_value_then_index);
    counting_t c = {.m = s.smeasures, .order = order, .n = n};
    benchmark_series_memo_t *memo = benchmark_series_memo_new(),
                            *arrays = benchmark_series_memo_new();
    assert_non_null(memo);
    assert_non_null(arrays);
    const char *periods[] = {"2025Q2", "2025Q3", "2025Q4"},
               *ends[] = {"2025-06", "2025-09", "2025-12"};
    for (int round = 0; round < 2; round++) {
        size_t handed = 0;
        for (int p = 0; p < 3; p++) {
            benchmark_input_t in = {.audit = "nhfd",
                                    .period = periods[p],
                                    .metrics = metrics,
                                    .n_metrics = 3,
                                    .min_count = 5,
                                    .orgs = s.orgs,
                                    .n_orgs = SIM_TRUSTS,
                                    .series = s.series,
                                    .n_series = s.n_series,
                                    .series_measures = s.smeasures,
                                    .n_series_measures = s.n_smeasures};
            char *alone, *alone_summary, *spc, *summary;
            spc_text(&in, &alone, &alone_summary);
            in.series_memo = arrays;
            spc_text(&in, &spc, &summary);
            assert_string_equal(spc, alone);
            assert_string_equal(summary, alone_summary);
            free(spc);
            free(summary);
            in.series_measures = NULL;
            in.n_series_measures = 0;
            in.read_measures = counting_read;
            in.reader = &c;
            in.series_memo = memo;
            c.handed = 0;
            c.last = ends[p];
            spc_text(&in, &spc, &summary);
            handed += c.handed;
            assert_string_equal(spc, alone);
            assert_string_equal(summary, alone_summary);
            free(spc);
            free(summary);
            free(alone);
            free(alone_summary);
        }
        /* every value once: the last build read only 2025Q4's */
        assert_int_equal(handed, n);
        assert_true(c.handed < late);
        assert_true(benchmark_series_memo_bytes(memo) > 0);
        benchmark_series_memo_clear(memo);
        benchmark_series_memo_clear(arrays);
        assert_int_equal(benchmark_series_memo_bytes(memo), 0);
    }
    benchmark_series_memo_destroy(&memo);
    benchmark_series_memo_destroy(&arrays);
    assert_null(memo);
    free(order);
}

static char *without(const char *text, const char *prefix)
{
    char *out = malloc(strlen(text) + 1), *w = out;
    assert_non_null(out);
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) != 0) {
            memcpy(w, p, n);
            w += n;
        }
        p += n;
    }
    *w = '\0';
    return out;
}

/* A change a trust registered starts a new period of its chart of that metric, and of nothing
 * else: its months before keep the old mean, those from the first month after the action get
 * their own; England's and the regions' charts, and other trusts', are as without it. */
static void test_an_action_starts_a_new_period(void **state)
{
    (void)state;
    char m[8];
    benchmark_action_month("2025-06-15", m);
    assert_string_equal(m, "2025-07");
    benchmark_action_month("2025-07-01", m);
    assert_string_equal(m, "2025-07");
    benchmark_action_month("2025-12-02", m);
    assert_string_equal(m, "2026-01");
    benchmark_action_month("2025-13-01", m);
    assert_string_equal(m, "");
    benchmark_action_month("15/06/2025", m);
    assert_string_equal(m, "");

    series_t s = {.n = 0};
    for (int i = 0; i < 12; i++) {
        s.cells[s.n++] = MCELL("RAA", "m1", month(&s, i), i < 6 ? 50 : 70, 100, 0);
        s.cells[s.n++] = MCELL("RCC", "m1", s.months[i], 30, 60, 0);
    }
    benchmark_input_t in = input(&s, NULL, 0, 0);
    char *spc0, *sum0, *spc1, *sum1, line[256], f[40];
    spc_text(&in, &spc0, &sum0);
    const benchmark_action_t actions[] = {
        {"RAA", "m1", "2025-06-15"},  /* a new pathway: the chart breaks before 2025-07 */
        {"RCC", "smr", "2025-03-01"}, /* another metric: RCC's m1 chart unchanged */
        {"RBB", "m1", "2025-02-01"},  /* a trust without months: nothing */
        {"RAA", "m1", "2024-01-01"},  /* before the first month: no break */
    };
    in.actions = actions;
    in.n_actions = sizeof actions / sizeof *actions;
    spc_text(&in, &spc1, &sum1);
    /* without the action: one period, mean 0.6 */
    assert_true(line_of(spc0, "nhfd,m1,trust,RAA,2025-01,", line, sizeof line));
    field(line, 8, f, sizeof f);
    assert_string_equal(f, "0.600000");
    /* with it: 0.5 before, 0.7 from 2025-07; no month outside its period's limits */
    assert_true(line_of(spc1, "nhfd,m1,trust,RAA,2025-06,", line, sizeof line));
    field(line, 8, f, sizeof f);
    assert_string_equal(f, "0.500000");
    assert_true(line_of(spc1, "nhfd,m1,trust,RAA,2025-07,", line, sizeof line));
    field(line, 8, f, sizeof f);
    assert_string_equal(f, "0.700000");
    field(line, 12, f, sizeof f);
    assert_string_equal(f, "common_cause");
    assert_true(line_of(sum1, "nhfd,m1,trust,RAA,", line, sizeof line));
    field(line, 4, f, sizeof f);
    assert_string_equal(f, "0.700000");
    /* everything but RAA's m1 rows is byte for byte the same */
    char *rest0 = without(spc0, "nhfd,m1,trust,RAA,"), *rest1 = without(spc1, "nhfd,m1,trust,RAA,");
    assert_string_equal(rest0, rest1);
    assert_true(strlen(rest0) > 1000);
    free(rest0);
    free(rest1);
    rest0 = without(sum0, "nhfd,m1,trust,RAA,");
    rest1 = without(sum1, "nhfd,m1,trust,RAA,");
    assert_string_equal(rest0, rest1);
    free(rest0);
    free(rest1);
    free(spc0);
    free(sum0);
    free(spc1);
    free(sum1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_proportion_chart),
        cmocka_unit_test(test_ratio_and_median_months),
        cmocka_unit_test(test_disclosure),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_an_action_starts_a_new_period),
        cmocka_unit_test(test_independent_check),
        cmocka_unit_test(test_months_taken_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
