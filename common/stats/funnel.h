/* funnel.h - funnel plots for comparing units (trusts, hospitals) against a target: control
 * limits at 95% and 99.8% around the target for each unit's size, outlier flags, and the
 * overdispersion adjustments of Spiegelhalter (2005) and Spiegelhalter et al. (2012) as used for
 * SHMI and by CQC. Pure: units in, limits and flags out. Also the reader of the units file the
 * `ncap funnel` and `ncap ci` subcommands share (a buffer in memory in, units out). */
#ifndef NCAP_FUNNEL_H
#define NCAP_FUNNEL_H

#include <stddef.h>

typedef enum {
    FUNNEL_PROPORTION, /* numerator / denominator, counts */
    FUNNEL_RATIO       /* observed / expected, e.g. a standardised mortality ratio */
} funnel_type_t;

typedef enum { FUNNEL_LIMITS_EXACT, FUNNEL_LIMITS_NORMAL } funnel_limits_t;
/* The largest denominator (for ratios, expected times the target) exact limits take: well within
 * the distributions' DIST_MAX_COUNT, and about a second of work per unit there. */
#define FUNNEL_MAX_EXACT_COUNT 562949953421312.0 /* 2^49 */
typedef enum { FUNNEL_OD_NONE, FUNNEL_OD_MULTIPLICATIVE, FUNNEL_OD_ADDITIVE } funnel_od_t;
/* How ratios are transformed and trimmed to estimate overdispersion: shmi, log(O/E) truncated;
 * cqc, sqrt(O/E) Winsorised. Proportions are always asin(sqrt(p)), Winsorised. */
typedef enum { FUNNEL_METHOD_SHMI, FUNNEL_METHOD_CQC } funnel_method_t;

typedef enum {
    FUNNEL_NO_DATA, /* denominator (expected) 0: no value, no limits */
    FUNNEL_IN_CONTROL,
    FUNNEL_ALERT_HIGH, /* beyond 95%, within 99.8% */
    FUNNEL_ALERT_LOW,
    FUNNEL_ALARM_HIGH, /* beyond 99.8% */
    FUNNEL_ALARM_LOW
} funnel_flag_t;

typedef struct {
    funnel_type_t type;
    funnel_limits_t limits;
    funnel_od_t overdispersion;
    funnel_method_t method;
    double trim;   /* 0 <= trim < 0.5: share truncated or Winsorised at each end */
    double target; /* NaN: the pooled value for proportions, 1 for ratios */
} funnel_opts_t;

/* The defaults: exact limits, no overdispersion adjustment, shmi, trim 0.1, default target. */
funnel_opts_t funnel_opts_default(funnel_type_t type);

typedef struct {
    double numerator;   /* observed for ratios */
    double denominator; /* expected for ratios */
} funnel_unit_t;

typedef struct {
    double value; /* numerator / denominator; NaN (as are the limits) when the flag is no data */
    double lower95, upper95, lower998, upper998;
    funnel_flag_t flag;
} funnel_point_t;

typedef struct {
    double target; /* NaN when pooled over no data */
    double phi;    /* dispersion: mean of the trimmed squared z-scores; NaN without units */
    double tau2;   /* between-unit variance on the transformed scale; 0 unless phi > 1 */
    int adjusted;  /* the limits were widened: an adjustment was asked for and phi > 1 */
    size_t units;  /* units with a denominator (expected) > 0 */
    size_t alerts; /* beyond 95% but within 99.8% */
    size_t alarms; /* beyond 99.8% */
} funnel_summary_t;

/* Fills points[0..n) and *summary. Returns 0, or -1 with a message in err when an option or a
 * unit is out of range (a negative count, numerator > denominator, a fractional denominator
 * with exact limits for proportions, a target outside 0-1 or a ratio target <= 0). phi and tau2
 * are estimated whatever the adjustment asked for. */
int funnel_compute(const funnel_opts_t *opts, const funnel_unit_t *units, size_t n,
                   funnel_point_t *points, funnel_summary_t *summary, char *err, size_t errlen);

/* One more unit against the limits of a summary funnel_compute gave (its target, phi, tau2 and
 * whether it adjusted), e.g. a hospital site against the trusts' funnel: the value, limits and flag
 * funnel_compute gives a unit of these counts in the set it summarised. opts as given to
 * funnel_compute. Returns 0, or -1 with err when the unit is out of range as funnel_compute
 * says. */
int funnel_point(const funnel_opts_t *opts, const funnel_summary_t *summary,
                 const funnel_unit_t *unit, funnel_point_t *point, char *err, size_t errlen);

/* "in_control", "alert_high", ...; "" for no data. */
const char *funnel_flag_name(funnel_flag_t flag);

/* The units file: CSV with a header naming the columns unit,numerator,denominator (proportions)
 * or unit,observed,expected (ratios), in any order, other columns ignored. Counts of a
 * proportion must be whole numbers with numerator <= denominator; observed and expected are
 * numbers >= 0. Rows are numbered as lines of the file, the header being line 1. */
typedef struct funnel_input_t funnel_input_t;

/* Parses data[0..len). Returns NULL with a message naming the row and column in err. */
funnel_input_t *funnel_input_parse(const char *data, size_t len, funnel_type_t type, char *err,
                                   size_t errlen);
void funnel_input_destroy(funnel_input_t **self_p);
size_t funnel_input_size(const funnel_input_t *self);
const char *funnel_input_name(const funnel_input_t *self, size_t i);
const funnel_unit_t *funnel_input_units(const funnel_input_t *self);

#endif
