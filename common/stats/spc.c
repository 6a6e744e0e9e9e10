/* spc.c - XmR charts as NHS England's "Making Data Count" defines them (see spc.h). */
#include "spc.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define SPC_LIMIT 2.66
#define SPC_SCREEN 3.267
#define SPC_RUN 7 /* points in a trend or a shift */

void spc_options_init(spc_options_t *opts)
{
    assert(opts);
    memset(opts, 0, sizeof *opts);
    opts->improvement = SPC_IMPROVEMENT_INCREASE;
    opts->screen = true;
}

/* Means are taken as R takes them (summary.c): a sum in long double, then one correcting pass,
 * so that our figures agree with NHSRplotthedots to the last bit wherever possible. */
static double mean_of(const double *y, size_t n)
{
    long double s = 0;
    for (size_t i = 0; i < n; i++)
        s += y[i];
    s /= (long double)n;
    if (isfinite((double)s)) {
        long double t = 0;
        for (size_t i = 0; i < n; i++)
            t += y[i] - s;
        s += t / (long double)n;
    }
    return (double)s;
}

/* Mean of the moving ranges |y[i] - y[i-1]|, i in [1, n), that are below cap (cap < 0: all).
 * Returns the number of moving ranges taken in *taken. */
static double mean_moving_range(const double *y, size_t n, double cap, size_t *taken)
{
    long double s = 0;
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        double mr = fabs(y[i] - y[i - 1]);
        if (cap < 0 || mr < cap) {
            s += mr;
            k++;
        }
    }
    *taken = k;
    if (k == 0)
        return 0;
    s /= (long double)k;
    if (isfinite((double)s)) {
        long double t = 0;
        for (size_t i = 1; i < n; i++) {
            double mr = fabs(y[i] - y[i - 1]);
            if (cap < 0 || mr < cap)
                t += mr - s;
        }
        s += t / (long double)k;
    }
    return (double)s;
}

static int sign_of(double d)
{
    return (d > 0) - (d < 0);
}

static spc_point_type_t type_for(int direction, spc_improvement_t improvement)
{
    switch (improvement) {
    case SPC_IMPROVEMENT_NEUTRAL:
        return direction > 0 ? SPC_SPECIAL_CAUSE_NEUTRAL_HIGH : SPC_SPECIAL_CAUSE_NEUTRAL_LOW;
    case SPC_IMPROVEMENT_DECREASE:
        direction = -direction;
        break;
    case SPC_IMPROVEMENT_INCREASE:
        break;
    }
    return direction > 0 ? SPC_SPECIAL_CAUSE_IMPROVEMENT : SPC_SPECIAL_CAUSE_CONCERN;
}

static void flag(spc_point_t *p, spc_cause_t cause, int direction, spc_improvement_t improvement)
{
    p->cause = cause;
    p->type = type_for(direction, improvement);
}

/* One group, y[0..n) with its points p[0..n). The rules run from the lowest precedence to the
 * highest, each overwriting what the one before flagged, so the first rule in precedence wins. */
static void compute_group(const double *y, size_t n, const spc_options_t *opts, size_t group,
                          spc_point_t *p)
{
    size_t m = opts->fix_after && opts->fix_after < n ? opts->fix_after : n;
    double mean = mean_of(y, m);
    size_t taken;
    double amr = mean_moving_range(y, m, -1, &taken);
    bool has_limits = taken > 0;
    /* Screening drops moving ranges >= 3.267 x their mean. When every moving range is 0 it
     * would drop them all; the limits then stay at the mean. */
    if (opts->screen && amr > 0)
        amr = mean_moving_range(y, m, SPC_SCREEN * amr, &taken);
    double lpl = mean - SPC_LIMIT * amr, upl = mean + SPC_LIMIT * amr;
    const double near = 2 * (SPC_LIMIT / 3);
    double nlpl = mean - near * amr, nupl = mean + near * amr;
    if (!has_limits)
        lpl = upl = nlpl = nupl = 0;

    for (size_t i = 0; i < n; i++) {
        p[i].group = group;
        p[i].mean = mean;
        p[i].has_limits = has_limits;
        p[i].lpl = lpl;
        p[i].upl = upl;
        p[i].cause = SPC_CAUSE_NONE;
        p[i].type = SPC_COMMON_CAUSE;
    }

    /* shift: 7 in a row on one side of the mean */
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        int side = sign_of(y[i] - mean);
        run = side != 0 && i > 0 && side == sign_of(y[i - 1] - mean) ? run + 1 : (side != 0);
        if (run >= SPC_RUN)
            for (size_t j = i + 1 - SPC_RUN; j <= i; j++)
                flag(&p[j], SPC_CAUSE_SHIFT, side, opts->improvement);
    }

    /* two in three: within 3 consecutive points all on one side, 2 or 3 near a limit */
    if (has_limits) {
        for (size_t i = 0; i + 3 <= n; i++) {
            int side = sign_of(y[i] - mean);
            if (side == 0 || sign_of(y[i + 1] - mean) != side || sign_of(y[i + 2] - mean) != side)
                continue;
            bool is_near[3];
            int nnear = 0;
            for (size_t k = 0; k < 3; k++) {
                double v = y[i + k];
                is_near[k] = v >= lpl && v <= upl && (v < nlpl || v > nupl);
                nnear += is_near[k];
            }
            if (nnear >= 2)
                for (size_t k = 0; k < 3; k++)
                    if (is_near[k])
                        flag(&p[i + k], SPC_CAUSE_TWO_IN_THREE, side, opts->improvement);
        }
    }

    /* trend: 6 consecutive differences of one sign; a point in two trends takes the later */
    run = 0;
    for (size_t i = 1; i < n; i++) {
        int d = sign_of(y[i] - y[i - 1]);
        run = d != 0 && i > 1 && d == sign_of(y[i - 1] - y[i - 2]) ? run + 1 : (d != 0);
        if (run >= SPC_RUN - 1)
            for (size_t j = i + 1 - SPC_RUN; j <= i; j++)
                flag(&p[j], SPC_CAUSE_TREND, d, opts->improvement);
    }

    /* outside the limits, strictly */
    if (has_limits)
        for (size_t i = 0; i < n; i++)
            if (y[i] > upl || y[i] < lpl)
                flag(&p[i], SPC_CAUSE_OUTSIDE_LIMITS, y[i] > mean ? 1 : -1, opts->improvement);
}

int spc_compute(const double *values, size_t n, const spc_options_t *opts, spc_point_t *points,
                spc_summary_t *summary, char *err, size_t errlen)
{
    assert(values && opts && points);
    if (n == 0) {
        snprintf(err, errlen, "series has no points");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i])) {
            snprintf(err, errlen, "point %zu has value \"%g\", expected a finite number", i + 1,
                     values[i]);
            return -1;
        }
    for (size_t r = 0; r < opts->nrebase; r++)
        if (opts->rebase[r] >= n) {
            snprintf(err, errlen, "rebase at point %zu is beyond the series (%zu points)",
                     opts->rebase[r] + 1, n);
            return -1;
        }

    /* points[].group is scratch here: 1 where a group starts */
    for (size_t i = 0; i < n; i++)
        points[i].group = i == 0;
    for (size_t r = 0; r < opts->nrebase; r++)
        points[opts->rebase[r]].group = 1;
    size_t group = 0, start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || points[i].group) {
            compute_group(values + start, i - start, opts, group, points + start);
            group++;
            start = i;
        }
    }

    if (summary) {
        const spc_point_t *last = &points[n - 1];
        summary->n = n;
        summary->mean = last->mean;
        summary->has_limits = last->has_limits;
        summary->lpl = last->lpl;
        summary->upl = last->upl;
        summary->variation = last->type;
        summary->assurance = SPC_ASSURANCE_NONE;
        if (opts->has_target && opts->improvement != SPC_IMPROVEMENT_NEUTRAL && last->has_limits) {
            bool increase = opts->improvement == SPC_IMPROVEMENT_INCREASE;
            if (opts->target > last->upl)
                summary->assurance =
                    increase ? SPC_ASSURANCE_CONSISTENT_FAIL : SPC_ASSURANCE_CONSISTENT_PASS;
            else if (opts->target < last->lpl)
                summary->assurance =
                    increase ? SPC_ASSURANCE_CONSISTENT_PASS : SPC_ASSURANCE_CONSISTENT_FAIL;
            else
                summary->assurance = SPC_ASSURANCE_INCONSISTENT;
        }
    }
    return 0;
}

const char *spc_cause_name(spc_cause_t cause)
{
    switch (cause) {
    case SPC_CAUSE_OUTSIDE_LIMITS:
        return "outside_limits";
    case SPC_CAUSE_TREND:
        return "trend";
    case SPC_CAUSE_TWO_IN_THREE:
        return "two_in_three";
    case SPC_CAUSE_SHIFT:
        return "shift";
    case SPC_CAUSE_NONE:
        break;
    }
    return "";
}

const char *spc_point_type_name(spc_point_type_t type)
{
    switch (type) {
    case SPC_SPECIAL_CAUSE_IMPROVEMENT:
        return "special_cause_improvement";
    case SPC_SPECIAL_CAUSE_CONCERN:
        return "special_cause_concern";
    case SPC_SPECIAL_CAUSE_NEUTRAL_HIGH:
        return "special_cause_neutral_high";
    case SPC_SPECIAL_CAUSE_NEUTRAL_LOW:
        return "special_cause_neutral_low";
    case SPC_COMMON_CAUSE:
        break;
    }
    return "common_cause";
}

const char *spc_assurance_name(spc_assurance_t assurance)
{
    switch (assurance) {
    case SPC_ASSURANCE_CONSISTENT_PASS:
        return "consistent_pass";
    case SPC_ASSURANCE_CONSISTENT_FAIL:
        return "consistent_fail";
    case SPC_ASSURANCE_INCONSISTENT:
        return "inconsistent";
    case SPC_ASSURANCE_NONE:
        break;
    }
    return "";
}

int spc_improvement_parse(const char *s, spc_improvement_t *out)
{
    assert(out);
    if (!s)
        return -1;
    if (strcmp(s, "increase") == 0)
        *out = SPC_IMPROVEMENT_INCREASE;
    else if (strcmp(s, "decrease") == 0)
        *out = SPC_IMPROVEMENT_DECREASE;
    else if (strcmp(s, "neutral") == 0)
        *out = SPC_IMPROVEMENT_NEUTRAL;
    else
        return -1;
    return 0;
}
