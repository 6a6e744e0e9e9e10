/* spc.h - statistical process control: NHS England's "Making Data Count" XmR charts, with the
 * conventions of the NHS-R community's NHSRplotthedots.
 *
 * A series is cut into groups (a rebase starts a new group). Per group: centre = mean, limits =
 * mean -+ 2.66 x mean moving range, where moving ranges >= 3.267 x their mean are screened out
 * before the final mean moving range (unless screening is off); with fix_after N only the first N
 * points of the group give the mean and the moving ranges, and those limits hold for the rest.
 * "Near a limit" is beyond mean -+ (2/3) x 2.66 x mean moving range but inside the limits.
 * Special causes, first match wins: a point outside the limits (strictly); a trend (7 points, 6
 * consecutive differences of one sign, a tie breaks it); two of three consecutive points near
 * the same limit with all three on that side of the mean (the near points are flagged); a shift
 * (7 consecutive points on one side of the mean; a point on the mean breaks it). Rules never
 * look across a rebase.
 *
 * Pure: values in, values out, no I/O, no allocation beyond what the caller passes. */
#ifndef NCAP_SPC_H
#define NCAP_SPC_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SPC_IMPROVEMENT_INCREASE,
    SPC_IMPROVEMENT_DECREASE,
    SPC_IMPROVEMENT_NEUTRAL
} spc_improvement_t;

typedef enum {
    SPC_CAUSE_NONE,
    SPC_CAUSE_OUTSIDE_LIMITS,
    SPC_CAUSE_TREND,
    SPC_CAUSE_TWO_IN_THREE,
    SPC_CAUSE_SHIFT
} spc_cause_t;

typedef enum {
    SPC_COMMON_CAUSE,
    SPC_SPECIAL_CAUSE_IMPROVEMENT,
    SPC_SPECIAL_CAUSE_CONCERN,
    SPC_SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPC_SPECIAL_CAUSE_NEUTRAL_LOW
} spc_point_type_t;

typedef enum {
    SPC_ASSURANCE_NONE, /* no target, improvement neutral, or no limits */
    SPC_ASSURANCE_CONSISTENT_PASS,
    SPC_ASSURANCE_CONSISTENT_FAIL,
    SPC_ASSURANCE_INCONSISTENT
} spc_assurance_t;

typedef struct {
    spc_improvement_t improvement; /* default increase, as NHSRplotthedots */
    bool has_target;
    double target;
    /* Points (0-based) where a new group starts, any order, duplicates allowed; 0 is a no-op.
     * Not owned. */
    const size_t *rebase;
    size_t nrebase;
    size_t fix_after; /* 0: every point of a group gives its limits */
    bool screen;      /* screen large moving ranges out (default true) */
} spc_options_t;

typedef struct {
    size_t group; /* 0 for the first group, +1 at each rebase */
    double mean;
    /* false when the group's limits rest on fewer than 2 points (no moving range): lpl and upl
     * are then 0 and meaningless, and no point is outside or near a limit */
    bool has_limits;
    double lpl, upl;
    spc_cause_t cause;
    spc_point_type_t type;
} spc_point_t;

typedef struct {
    size_t n;                   /* points in the series */
    double mean;                /* of the last group */
    bool has_limits;            /* of the last group */
    double lpl, upl;            /* of the last group */
    spc_point_type_t variation; /* the point type of the last point */
    spc_assurance_t assurance;
} spc_summary_t;

/* Increase, no target, no rebase, no fixing, screening on. */
void spc_options_init(spc_options_t *opts);

/* Computes points[0..n) and *summary (may be NULL) for values[0..n). Returns 0, or -1 with a
 * message in err when n is 0, a value is not finite, or a rebase is at or beyond n. */
int spc_compute(const double *values, size_t n, const spc_options_t *opts, spc_point_t *points,
                spc_summary_t *summary, char *err, size_t errlen);

/* The names used in CSV output: "outside_limits", "trend", "two_in_three", "shift" ("" for
 * none); "common_cause", "special_cause_improvement", ...; "consistent_pass", ... ("" for none). */
const char *spc_cause_name(spc_cause_t cause);
const char *spc_point_type_name(spc_point_type_t type);
const char *spc_assurance_name(spc_assurance_t assurance);
/* Parses "increase", "decrease" or "neutral"; returns 0 or -1. */
int spc_improvement_parse(const char *s, spc_improvement_t *out);

#endif
