/* benchmark_figures.c - the figures of a release's rows: the value and its intervals at 95% and
 * 99.8% (a proportion's Wilson; a ratio's exact Poisson below 10 observed, Byar's from 10, as
 * `ncap ci --type ratio`; a median's distribution-free order-statistic interval; a mean's t),
 * the comparisons with England and with the region, the funnel limits and outlier flags of trust
 * and site rows (proportions and ratios), and England's slope index of inequality
 * (proportions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "benchmark_build.h"
#include "ci.h"
#include "distributions.h"
#include "sii.h"

static void wilson(benchmark_row_t *row)
{
    row->has_value = row->has_denominator && row->denominator > 0;
    if (!row->has_value)
        return;
    double x = (double)row->numerator, n = (double)row->denominator;
    row->value = x / n;
    ci_wilson(x, n, NCAP_Z95, &row->lower95, &row->upper95);
    ci_wilson(x, n, NCAP_Z998, &row->lower998, &row->upper998);
}

/* O/E: observed over the expected sum, exact Poisson limits or Byar's (ci_ratio). */
static void ratio(benchmark_row_t *row)
{
    row->has_value = row->expected > 0;
    if (!row->has_value)
        return;
    double o = (double)row->numerator, e = row->expected;
    row->value = o / e;
    ci_ratio(o, e, NCAP_Z95, &row->lower95, &row->upper95);
    ci_ratio(o, e, NCAP_Z998, &row->lower998, &row->upper998);
}

/* The tail rank of the distribution-free interval of a median of n values at the two-sided level
 * of z: l, the tail-quantile of Binomial(n, 1/2) (the smallest l with P(B <= l) >= tail, R's
 * qbinom), so that P(x(l) <= median <= x(n - l + 1)) = 1 - 2 P(B <= l - 1) >= 1 - 2 tail; 0 (no
 * interval) when n is too small for that (at 95% below 6 values, at 99.8% below 10). */
static long long median_tail(long long n, double z)
{
    double l, f, f1;
    if (dist_binom_quantile(dist_normal_cdf(-z), (double)n, 0.5, &l, &f, &f1) != 0 || l < 1)
        return 0;
    return (long long)l;
}

void bench_stat_want_interval(bench_stat_t *s, double z)
{
    long long l = median_tail(s->n, z);
    if (l > 0) {
        bench_stat_want(s, l);
        bench_stat_want(s, s->n - l + 1);
    }
}

void bench_stat_interval(const bench_stat_t *s, double z, double *lo, double *hi)
{
    long long l = median_tail(s->seen, z);
    *lo = l > 0 ? bench_stat_order(s, l) : NAN;
    *hi = l > 0 ? bench_stat_order(s, s->seen - l + 1) : NAN;
}

/* The t interval of a mean of n values: mean -+ t(n - 1) s / sqrt(n); NaN for n < 2. */
static void mean_interval(double mean, double sd, long long n, double z, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 2)
        return;
    double t = dist_t_quantile(dist_normal_cdf(z), (double)(n - 1));
    double half = t * sd / sqrt((double)n);
    *lo = mean - half;
    *hi = mean + half;
}

/* A median's or mean's figures from what row r took of its values (bench_stat_t). */
static int continuous(const bench_t *b, benchmark_row_t *row, size_t r, char *err, size_t errlen)
{
    size_t m = b->metric_of[r];
    const bench_stat_t empty = {0}, *st = b->stat_of && b->stat_of[r] != SIZE_MAX
                                              ? &b->stats[b->stat_of[r]]
                                              : &empty;
    long long n = st->seen;
    if (n != row->denominator)
        return bench_fail(err, errlen,
                          "metric %s, %s %s, %s %s: the cells count %lld records with a value, "
                          "their measures %lld, expected the same",
                          row->metric, row->level, row->area_code, row->breakdown,
                          *row->category ? row->category : "(all)", row->denominator, n);
    row->has_value = n > 0;
    if (!row->has_value)
        return 0;
    row->value = bench_stat_value(st, bench_kind(b, m));
    if (bench_kind(b, m) == BENCHMARK_MEDIAN) {
        bench_stat_interval(st, NCAP_Z95, &row->lower95, &row->upper95);
        bench_stat_interval(st, NCAP_Z998, &row->lower998, &row->upper998);
        return 0;
    }
    double sd = n > 1 ? sqrt(st->ss / (double)(n - 1)) : NAN;
    mean_interval(row->value, sd, n, NCAP_Z95, &row->lower95, &row->upper95);
    mean_interval(row->value, sd, n, NCAP_Z998, &row->lower998, &row->upper998);
    return 0;
}

/* The row's value and intervals, as its metric's kind has them. */
static int row_figures(const bench_t *b, benchmark_row_t *row, size_t r, char *err, size_t errlen)
{
    size_t m = b->metric_of[r];
    switch (bench_kind(b, m)) {
    case BENCHMARK_RATIO:
        ratio(row);
        return 0;
    case BENCHMARK_MEDIAN:
    case BENCHMARK_MEAN:
        return continuous(b, row, r, err, errlen);
    default:
        wilson(row);
        return 0;
    }
}

/* better, similar, worse (with a polarity) or higher, similar, lower: whether the row's 95%
 * interval lies above, spans (or touches) or lies below ref. */
static const char *compare(const benchmark_row_t *row, double ref, benchmark_polarity_t polarity)
{
    if (!row->has_value || isnan(row->lower95) || isnan(row->upper95))
        return "";
    int dir = row->lower95 > ref ? 1 : row->upper95 < ref ? -1 : 0;
    if (dir == 0)
        return "similar";
    if (polarity == POLARITY_LOWER_BETTER)
        dir = -dir;
    if (polarity == POLARITY_NONE)
        return dir > 0 ? "higher" : "lower";
    return dir > 0 ? "better" : "worse";
}

/* The region of a trust or site area; SIZE_MAX for England and regions. */
static size_t region_of(const bench_t *b, size_t a)
{
    switch (b->areas[a].level) {
    case BENCH_TRUST:
        return b->areas[a].parent;
    case BENCH_SITE:
        return b->areas[b->areas[a].parent].parent;
    default:
        return SIZE_MAX;
    }
}

static void set_funnel(benchmark_row_t *row, const funnel_point_t *p)
{
    if (p->flag == FUNNEL_NO_DATA)
        return;
    row->has_funnel = true;
    row->funnel_lower95 = p->lower95;
    row->funnel_upper95 = p->upper95;
    row->funnel_lower998 = p->lower998;
    row->funnel_upper998 = p->upper998;
    row->outlier = funnel_flag_name(p->flag);
}

/* An area's all row as a unit of the funnel: numerator and denominator, or observed and
 * expected. */
static funnel_unit_t funnel_unit(const bench_t *b, size_t m, size_t a)
{
    const bench_sum_t *s = bench_sum(b, m, a, 0);
    if (bench_kind(b, m) == BENCHMARK_RATIO)
        return (funnel_unit_t){(double)s->num, (double)s->e9 / BENCHMARK_EXPECTED_SCALE};
    return (funnel_unit_t){(double)s->num, (double)s->den};
}

/* Trust rows against the funnel of the trusts of the metric whose all row is not suppressed,
 * target England's value (a ratio's: 1, the model's expectation, `ncap funnel --type ratio`'s
 * default), with the metric's overdispersion: the numbers `ncap funnel` gives for these units and
 * target. phi and tau2 leave a suppressed trust out: estimated with it, they
 * would give its z-score, and so its numerator, away to anyone with the other trusts' figures. A
 * suppressed trust's row has no limits. Site rows against the same target, phi and tau2
 * (funnel_point). */
static int funnel_rows(bench_t *b, benchmark_release_t *out, size_t m, double target, char *err,
                       size_t errlen)
{
    const benchmark_metric_t *metric = &b->in->metrics[m];
    size_t t0 = b->first[BENCH_TRUST], nt = b->first[BENCH_SITE] - t0, n = 0;
    funnel_unit_t *units = calloc(nt ? nt : 1, sizeof *units);
    funnel_point_t *points = calloc(nt ? nt : 1, sizeof *points);
    size_t *row = calloc(nt ? nt : 1, sizeof *row);
    int rc = -1;
    if (!units || !points || !row) {
        bench_fail(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nt; i++) {
        row[n] = bench_row(b, m, t0 + i, 0);
        if (b->suppressed && b->suppressed[row[n]])
            continue;
        units[n] = funnel_unit(b, m, t0 + i);
        n++;
    }
    funnel_opts_t opts =
        funnel_opts_default(bench_kind(b, m) == BENCHMARK_RATIO ? FUNNEL_RATIO : FUNNEL_PROPORTION);
    opts.overdispersion = metric->overdispersion;
    opts.target = target;
    char why[256];
    if (funnel_compute(&opts, units, n, points, &out->funnel[m], why, sizeof why) != 0) {
        bench_fail(err, errlen, "metric %s: funnel of the trusts: %s", metric->id, why);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        set_funnel(&out->rows[row[i]], &points[i]);
    for (size_t a = b->first[BENCH_SITE]; a < b->n_areas; a++) {
        if (!b->areas[a].emit)
            continue;
        funnel_unit_t u = funnel_unit(b, m, a);
        funnel_point_t p;
        if (funnel_point(&opts, &out->funnel[m], &u, &p, why, sizeof why) != 0) {
            bench_fail(err, errlen, "metric %s: funnel of site %s: %s", metric->id,
                       b->areas[a].code, why);
            goto out;
        }
        set_funnel(&out->rows[bench_row(b, m, a, 0)], &p);
    }
    rc = 0;
out:
    free(units);
    free(points);
    free(row);
    return rc;
}

/* The SII's normal draws (BENCHMARK_SII_SEED, BENCHMARK_SII_REPS, ten deciles), made at the first
 * SII and kept for the process: every SII takes the same ones (sii.h). One thread per process. */
static sii_draws_t sii_draws;

/* The SII across England's IMD deciles with a denominator, most deprived first. A decile at 0% or
 * 100% has no interval on the logit scale the simulation draws on (phe_sii gives NA): the row is
 * then left empty, with a note. */
static int sii_row(bench_t *b, benchmark_release_t *out, size_t m, char *err, size_t errlen)
{
    sii_group_t groups[10];
    size_t n = 0;
    benchmark_row_t *row = &out->rows[b->sii_row[m]];
    for (size_t d = 0; d < 10; d++) {
        const bench_sum_t *s = &b->deciles[m * 10 + d];
        if (s->den <= 0)
            continue;
        if (s->num == 0 || s->num == s->den) {
            row->note = BENCHMARK_NOTE_SII_UNDEFINED;
            return 0;
        }
        sii_group_t *g = &groups[n++];
        g->population = (double)s->den;
        g->value = (double)s->num / (double)s->den;
        ci_wilson((double)s->num, (double)s->den, NCAP_Z95, &g->lower95, &g->upper95);
    }
    sii_result_t res;
    char why[256];
    if ((!sii_draws.z && sii_draws_make(&sii_draws, 10, BENCHMARK_SII_REPS, BENCHMARK_SII_SEED, why,
                                        sizeof why) != 0) ||
        sii_compute_draws(groups, n, &sii_draws, &res, why, sizeof why) != 0)
        return bench_fail(err, errlen, "metric %s: slope index of inequality: %s",
                          b->in->metrics[m].id, why);
    row->has_value = true;
    row->value = res.sii;
    row->lower95 = res.lower95;
    row->upper95 = res.upper95;
    row->lower998 = row->upper998 = NAN; /* the SII has a 95% interval only */
    return 0;
}

int bench_figures(bench_t *b, benchmark_release_t *out, char *err, size_t errlen)
{
    const benchmark_input_t *in = b->in;
    out->n_metrics = in->n_metrics;
    out->funnel = calloc(in->n_metrics ? in->n_metrics : 1, sizeof *out->funnel);
    if (!out->funnel)
        return bench_fail(err, errlen, "out of memory");
    for (size_t r = 0; r < out->n_rows; r++)
        if (b->slot_of[r] != SIZE_MAX && row_figures(b, &out->rows[r], r, err, errlen) != 0)
            return -1;
    for (size_t r = 0; r < out->n_rows; r++) {
        benchmark_row_t *row = &out->rows[r];
        size_t m = b->metric_of[r], a = b->area_of[r];
        if (b->slot_of[r] == SIZE_MAX)
            continue;
        benchmark_polarity_t pol = in->metrics[m].polarity;
        const benchmark_row_t *england = &out->rows[bench_row(b, m, 0, 0)];
        row->has_england = england->has_value;
        if (row->has_england) {
            row->england_value = england->value;
            if (a != 0)
                row->compared = compare(row, england->value, pol);
        }
        size_t region = region_of(b, a);
        if (region != SIZE_MAX) {
            const benchmark_row_t *rr = &out->rows[bench_row(b, m, region, 0)];
            row->has_region = rr->has_value;
            if (rr->has_value) {
                row->region_value = rr->value;
                row->compared_region = compare(row, rr->value, pol);
            }
        }
    }
    for (size_t m = 0; m < in->n_metrics; m++) {
        const benchmark_row_t *england = &out->rows[bench_row(b, m, 0, 0)];
        double target = bench_kind(b, m) == BENCHMARK_RATIO ? NAN /* 1 */
                        : england->has_value                ? england->value
                                                            : NAN;
        if (!bench_continuous(b, m) && funnel_rows(b, out, m, target, err, errlen) != 0)
            return -1;
        if (b->sii_row[m] != SIZE_MAX && sii_row(b, out, m, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* ---- the values of a median or mean metric (bench_stat_t) ---- */

void bench_stat_init(bench_stat_t *s, long long n)
{
    *s = (bench_stat_t){.n = n};
}

void bench_stat_want(bench_stat_t *s, long long i)
{
    if (i < 1 || i > s->n || s->n_ranks == BENCH_RANKS)
        return;
    for (int j = 0; j < s->n_ranks; j++)
        if (s->rank[j] == i)
            return;
    s->rank[s->n_ranks] = i;
    s->at[s->n_ranks++] = NAN;
}

void bench_stat_want_median(bench_stat_t *s)
{
    bench_stat_want(s, (s->n + 1) / 2);
    if (s->n % 2 == 0)
        bench_stat_want(s, s->n / 2 + 1);
}

/* The value being merged, passed: into the sum and the ranks it covers, or the squares. */
static void stat_flush(bench_stat_t *s)
{
    if (!s->pending)
        return;
    s->pending = false;
    long long before = s->seen;
    s->seen += s->count;
    if (s->squares) {
        s->ss += (s->value - s->mean) * (s->value - s->mean) * (double)s->count;
        return;
    }
    s->sum += s->value * (double)s->count;
    for (int j = 0; j < s->n_ranks; j++)
        if (s->rank[j] > before && s->rank[j] <= s->seen)
            s->at[j] = s->value;
}

void bench_stat_add(bench_stat_t *s, double value, long long count)
{
    if (count == 0)
        return;
    if (s->pending && s->value == value) {
        s->count += count;
        return;
    }
    stat_flush(s);
    s->pending = true;
    s->value = value;
    s->count = count;
}

void bench_stat_end(bench_stat_t *s)
{
    stat_flush(s);
}

void bench_stat_squares(bench_stat_t *s)
{
    s->mean = s->seen > 0 ? s->sum / (double)s->seen : NAN;
    s->seen = 0;
    s->ss = 0;
    s->squares = true;
}

double bench_stat_order(const bench_stat_t *s, long long i)
{
    for (int j = 0; j < s->n_ranks; j++)
        if (s->rank[j] == i)
            return s->at[j];
    return NAN;
}

double bench_stat_value(const bench_stat_t *s, benchmark_kind_t kind)
{
    long long n = s->seen;
    if (n <= 0)
        return NAN;
    if (kind == BENCHMARK_MEDIAN)
        return n % 2 ? bench_stat_order(s, (n + 1) / 2)
                     : (bench_stat_order(s, n / 2) + bench_stat_order(s, n / 2 + 1)) / 2;
    return s->sum / (double)n;
}

/* Whether x is of a month from from on (from NULL: every measure is). */
static bool from_month_on(const benchmark_measure_t *x, const char *from)
{
    return !from || (x->month && strcmp(x->month, from) >= 0);
}

/* The measures handed on to a bench_take_t (those of the months from `from` on), counted, their
 * order checked. */
typedef struct {
    bench_take_t take;
    void *ctx;
    const char *from;
    size_t i;
    bool unordered;
    double last, next; /* the last value; the one found below it */
    char why[512];
} passing_t;

static int pass_one(void *ctx, const benchmark_measure_t *x)
{
    passing_t *p = ctx;
    if (!from_month_on(x, p->from))
        return 0;
    if (p->i > 0 && x->value < p->last) {
        p->unordered = true;
        p->next = x->value;
        return -1;
    }
    p->last = x->value;
    return p->take(p->ctx, p->i++, x, p->why, sizeof p->why);
}

/* A measure of the arrays by value, then place. */
typedef struct {
    double value;
    size_t at;
} placed_t;

static int by_value(const void *pa, const void *pb)
{
    const placed_t *a = pa, *b = pb;
    int c = (a->value > b->value) - (a->value < b->value);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

int bench_values(const benchmark_input_t *in, bool series, const char *from_month,
                 bench_take_t take, void *ctx, char *err, size_t errlen)
{
    if (!series)
        from_month = NULL;
    passing_t p = {.take = take, .ctx = ctx, .from = from_month};
    if (in->read_measures) {
        if (in->read_measures(in->reader, series, from_month, pass_one, &p, err, errlen) == 0)
            return 0;
        if (p.unordered)
            return bench_fail(err, errlen, "%s: a value %g after %g, expected ascending values",
                              series ? "series measures" : "measures", p.next, p.last);
        return p.why[0] ? bench_fail(err, errlen, "%s", p.why) : -1;
    }
    const benchmark_measure_t *x = series ? in->series_measures : in->measures;
    size_t n = series ? in->n_series_measures : in->n_measures;
    placed_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return bench_fail(err, errlen, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (from_month_on(&x[i], from_month))
            order[m++] = (placed_t){x[i].value, i};
    n = m;
    qsort(order, n, sizeof *order, by_value);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = take(ctx, order[i].at, &x[order[i].at], p.why, sizeof p.why);
    free(order);
    return rc == 0 ? 0 : bench_fail(err, errlen, "%s", p.why[0] ? p.why : "out of memory");
}
