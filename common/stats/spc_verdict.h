/* spc_verdict.h - what a change did to a run chart: a verdict on one action (a new pathway, a
 * staffing change) from the points before and after it, by NHS England's "Making Data Count"
 * rules applied across the action date.
 *
 * The baseline is the points before the change: its mean and process limits as spc_compute draws
 * them (mean -+ 2.66 x the mean moving range, large moving ranges screened), extended unchanged
 * over the points after it. The points after the change alone are then tested against that
 * baseline, each rule looking at points after the change only (no run may begin before it):
 *   - a point outside the baseline's limits (strictly);
 *   - a shift: 7 or more consecutive points on one side of the baseline mean (a point on the mean
 *     breaks the run);
 *   - a trend: 7 or more consecutive points each higher (or each lower) than the one before (a
 *     tie breaks it);
 *   - two of three consecutive points beyond two thirds of the way from the mean to the same
 *     limit, all three on that side of the mean.
 * A signal is high or low. The verdict follows the most recent point a rule flags (the process as
 * it now stands): with improvement increase, high is `improved` and low `worse`; with decrease the
 * reverse; with neutral (a metric with no better direction), `higher` or `lower`. No signal: `no
 * change`. `pending` until there are SPC_VERDICT_MIN_BEFORE points before the change (limits
 * resting on fewer mean little) and SPC_VERDICT_MIN_AFTER after it (the fewest a shift or trend
 * needs to show: a verdict of no change on fewer could not have seen one).
 *
 * Pure: values in, a verdict out. */
#ifndef NCAP_SPC_VERDICT_H
#define NCAP_SPC_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "spc.h"

#define SPC_VERDICT_MIN_BEFORE 6
#define SPC_VERDICT_MIN_AFTER 7

typedef enum {
    SPC_VERDICT_PENDING,
    SPC_VERDICT_IMPROVED,
    SPC_VERDICT_NO_CHANGE,
    SPC_VERDICT_WORSE,
    SPC_VERDICT_HIGHER, /* neutral improvement */
    SPC_VERDICT_LOWER
} spc_verdict_t;

typedef struct {
    spc_verdict_t verdict;
    size_t before, after; /* points on each side of the change */
    /* the baseline (before >= 2 for limits) */
    double mean, lpl, upl;
    bool has_limits;
    /* the most recent signal: its rule and the point (0-based among the points after the change);
     * SPC_CAUSE_NONE when there is none */
    spc_cause_t cause;
    size_t signal_at;
} spc_verdict_result_t;

/* The verdict on a change before values[change] (0 < change <= n: points [0, change) before it,
 * [change, n) after). Returns 0, or -1 with a message in err when a value is not finite or change
 * is out of range. */
int spc_verdict(const double *values, size_t n, size_t change, spc_improvement_t improvement,
                spc_verdict_result_t *out, char *err, size_t errlen);

/* "pending", "improved", "no change", "worse", "higher", "lower". */
const char *spc_verdict_name(spc_verdict_t v);

#endif
