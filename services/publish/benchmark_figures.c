/* benchmark_figures.c - the figures of a release's rows: value and Wilson intervals at 95% and
 * 99.8%, the comparisons with England and with the region, the funnel limits and outlier flags of
 * trust and site rows, and England's slope index of inequality. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark_build.h"
#include "ci.h"
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

/* better, similar, worse (with a polarity) or higher, similar, lower: whether the row's 95%
 * interval lies above, spans (or touches) or lies below ref. */
static const char *compare(const benchmark_row_t *row, double ref, benchmark_polarity_t polarity)
{
    if (!row->has_value)
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

/* Trust rows against the funnel of the trusts of the metric whose all row is not suppressed,
 * target England's value, with the metric's overdispersion: the numbers `ncap funnel` gives for
 * these units and target. phi and tau2 leave a suppressed trust out: estimated with it, they
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
        const bench_sum_t *s = bench_sum(b, m, t0 + i, 0);
        units[n].numerator = (double)s->num;
        units[n].denominator = (double)s->den;
        n++;
    }
    funnel_opts_t opts = funnel_opts_default(FUNNEL_PROPORTION);
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
        const bench_sum_t *s = bench_sum(b, m, a, 0);
        funnel_unit_t u = {(double)s->num, (double)s->den};
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
    if (sii_compute(groups, n, BENCHMARK_SII_REPS, BENCHMARK_SII_SEED, &res, why, sizeof why) != 0)
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
        if (b->slot_of[r] != SIZE_MAX)
            wilson(&out->rows[r]);
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
        if (funnel_rows(b, out, m, england->has_value ? england->value : NAN, err, errlen) != 0)
            return -1;
        if (b->sii_row[m] != SIZE_MAX && sii_row(b, out, m, err, errlen) != 0)
            return -1;
    }
    return 0;
}
