/* spc_verdict.c - a change's verdict from its run chart (see spc_verdict.h) */
#include "spc_verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERDICT_RUN 7 /* points in a shift or a trend */

const char *spc_verdict_name(spc_verdict_t v)
{
    switch (v) {
    case SPC_VERDICT_IMPROVED:
        return "improved";
    case SPC_VERDICT_NO_CHANGE:
        return "no change";
    case SPC_VERDICT_WORSE:
        return "worse";
    case SPC_VERDICT_HIGHER:
        return "higher";
    case SPC_VERDICT_LOWER:
        return "lower";
    case SPC_VERDICT_PENDING:
        break;
    }
    return "pending";
}

/* Marks in dir[] (+1 high, -1 low) and cause[] the points of y[0, n) a rule flags against the
 * baseline r; a later rule does not overwrite an earlier one's flag on the same point. */
static void flag(const double *y, size_t n, const spc_verdict_result_t *r, int *dir,
                 spc_cause_t *cause)
{
    for (size_t i = 0; i < n && r->has_limits; i++)
        if (y[i] > r->upl || y[i] < r->lpl) {
            dir[i] = y[i] > r->upl ? 1 : -1;
            cause[i] = SPC_CAUSE_OUTSIDE_LIMITS;
        }
    /* shifts: runs on one side of the mean */
    for (size_t i = 0; i < n;) {
        int side = (y[i] > r->mean) - (y[i] < r->mean);
        size_t j = i + 1;
        while (side != 0 && j < n && (y[j] > r->mean) - (y[j] < r->mean) == side)
            j++;
        for (size_t k = i; side != 0 && j - i >= VERDICT_RUN && k < j; k++)
            if (!dir[k]) {
                dir[k] = side;
                cause[k] = SPC_CAUSE_SHIFT;
            }
        i = j;
    }
    /* trends: runs of rises or falls (a run of d differences spans d + 1 points) */
    for (size_t i = 1; i < n;) {
        int sense = (y[i] > y[i - 1]) - (y[i] < y[i - 1]);
        size_t j = i + 1;
        while (sense != 0 && j < n && (y[j] > y[j - 1]) - (y[j] < y[j - 1]) == sense)
            j++;
        for (size_t k = i - 1; sense != 0 && j - i + 1 >= VERDICT_RUN && k < j; k++)
            if (!dir[k]) {
                dir[k] = sense;
                cause[k] = SPC_CAUSE_TREND;
            }
        i = j;
    }
    /* two of three beyond two thirds of the way to a limit, the three on that side */
    if (!r->has_limits)
        return;
    double hi = r->mean + (r->upl - r->mean) * 2.0 / 3.0,
           lo = r->mean - (r->mean - r->lpl) * 2.0 / 3.0;
    for (size_t i = 0; i + 2 < n; i++)
        for (int side = -1; side <= 1; side += 2) {
            int near = 0, same = 1;
            for (size_t k = i; k < i + 3; k++) {
                same &= side > 0 ? y[k] > r->mean : y[k] < r->mean;
                near += side > 0 ? y[k] > hi : y[k] < lo;
            }
            if (!same || near < 2)
                continue;
            for (size_t k = i; k < i + 3; k++)
                if (!dir[k] && (side > 0 ? y[k] > hi : y[k] < lo)) {
                    dir[k] = side;
                    cause[k] = SPC_CAUSE_TWO_IN_THREE;
                }
        }
}

int spc_verdict(const double *values, size_t n, size_t change, spc_improvement_t improvement,
                spc_verdict_result_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->verdict = SPC_VERDICT_PENDING;
    if (change == 0 || change > n) {
        snprintf(err, errlen, "the change is at point %zu of %zu, expected 1-%zu", change + 1, n,
                 n);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(values[i])) {
            snprintf(err, errlen, "point %zu is not a finite number", i + 1);
            return -1;
        }
    out->before = change;
    out->after = n - change;
    spc_options_t opts;
    spc_options_init(&opts);
    opts.improvement = improvement;
    spc_point_t *points = malloc(change * sizeof *points);
    spc_summary_t base;
    if (!points) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = spc_compute(values, change, &opts, points, &base, err, errlen);
    free(points);
    if (rc != 0)
        return -1;
    out->mean = base.mean;
    out->has_limits = base.has_limits;
    out->lpl = base.lpl;
    out->upl = base.upl;
    if (out->before < SPC_VERDICT_MIN_BEFORE || out->after < SPC_VERDICT_MIN_AFTER)
        return 0;
    int *dir = calloc(out->after, sizeof *dir);
    spc_cause_t *cause = calloc(out->after, sizeof *cause);
    if (!dir || !cause) {
        free(dir);
        free(cause);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    flag(values + change, out->after, out, dir, cause);
    int last = 0;
    for (size_t i = out->after; i-- > 0 && !last;)
        if (dir[i]) {
            last = dir[i];
            out->cause = cause[i];
            out->signal_at = i;
        }
    free(dir);
    free(cause);
    if (!last)
        out->verdict = SPC_VERDICT_NO_CHANGE;
    else if (improvement == SPC_IMPROVEMENT_NEUTRAL)
        out->verdict = last > 0 ? SPC_VERDICT_HIGHER : SPC_VERDICT_LOWER;
    else
        out->verdict = (last > 0) == (improvement == SPC_IMPROVEMENT_INCREASE)
                           ? SPC_VERDICT_IMPROVED
                           : SPC_VERDICT_WORSE;
    return 0;
}
