/* funnel.c - funnel plot limits, outlier flags and overdispersion (Spiegelhalter 2005,
 * Statistics in Medicine 24:1185; Spiegelhalter et al. 2012, JRSS A 175:1). */
#include "funnel.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci.h"
#include "csv.h"
#include "distributions.h"

#define HALF_PI 1.570796326794896619231321691640

/* The tail probabilities of the exact limits and the z of the normal ones, in the order
 * lower 99.8%, lower 95%, upper 95%, upper 99.8%. */
static const double limit_p[4] = {0.001, 0.025, 0.975, 0.999};
static const double limit_z[4] = {-NCAP_Z998, -NCAP_Z95, NCAP_Z95, NCAP_Z998};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

funnel_opts_t funnel_opts_default(funnel_type_t type)
{
    funnel_opts_t o = {type, FUNNEL_LIMITS_EXACT, FUNNEL_OD_NONE, FUNNEL_METHOD_SHMI, 0.1, NAN};
    return o;
}

const char *funnel_flag_name(funnel_flag_t flag)
{
    switch (flag) {
    case FUNNEL_IN_CONTROL:
        return "in_control";
    case FUNNEL_ALERT_HIGH:
        return "alert_high";
    case FUNNEL_ALERT_LOW:
        return "alert_low";
    case FUNNEL_ALARM_HIGH:
        return "alarm_high";
    case FUNNEL_ALARM_LOW:
        return "alarm_low";
    case FUNNEL_NO_DATA:
        break;
    }
    return "";
}

/* ---- the transformed scale of the overdispersion methods ---- */

static double transform(const funnel_opts_t *o, double v)
{
    if (o->type == FUNNEL_PROPORTION)
        return asin(sqrt(v));
    return o->method == FUNNEL_METHOD_SHMI ? log(v) : sqrt(v);
}

static double untransform(const funnel_opts_t *o, double y)
{
    if (o->type == FUNNEL_PROPORTION) {
        if (y <= 0)
            return 0;
        if (y >= HALF_PI)
            return 1;
        double s = sin(y);
        return s * s;
    }
    if (o->method == FUNNEL_METHOD_SHMI)
        return exp(y);
    return y <= 0 ? 0 : y * y;
}

/* Standard error on the transformed scale. */
static double transformed_se(const funnel_opts_t *o, double denominator)
{
    if (o->type == FUNNEL_RATIO && o->method == FUNNEL_METHOD_SHMI)
        return 1 / sqrt(denominator);
    return 1 / (2 * sqrt(denominator));
}

static int truncates(const funnel_opts_t *o)
{
    return o->type == FUNNEL_RATIO && o->method == FUNNEL_METHOD_SHMI;
}

typedef struct {
    double z;
    double w; /* 1 / s^2 */
} zscore_t;

static int cmp_z(const void *a, const void *b)
{
    double x = ((const zscore_t *)a)->z, y = ((const zscore_t *)b)->z;
    return (x > y) - (x < y);
}

/* R's type 7 quantile of sorted x[0..n): x[j] + (h - j)(x[j+1] - x[j]), h = (n - 1) f. */
static double quantile7(const zscore_t *x, size_t n, double f)
{
    double h = (double)(n - 1) * f;
    if (!(h > 0)) /* f is 0 (or NaN, which check() refuses): converted, it would be undefined */
        return x[0].z;
    if (h >= (double)(n - 1))
        return x[n - 1].z;
    size_t j = (size_t)floor(h); /* 0 <= j < n - 1 */
    return x[j].z + (h - (double)j) * (x[j + 1].z - x[j].z);
}

/* phi and tau2 from the z-scores z[0..n) (sorted here). Truncation drops floor(trim * n) at
 * each end and works over the rest; Winsorising clamps at the trim and 1 - trim quantiles and
 * keeps all. A z that is not finite (log(0/E) under shmi) that survives truncation is left out
 * of both sums, as it carries no information on the spread. */
static void estimate_dispersion(const funnel_opts_t *o, zscore_t *z, size_t n, double *phi,
                                double *tau2)
{
    *phi = NAN;
    *tau2 = 0;
    if (n == 0)
        return;
    qsort(z, n, sizeof *z, cmp_z);
    size_t from = 0, to = n;
    double zlo = -INFINITY, zhi = INFINITY;
    if (truncates(o)) {
        double drop = floor(o->trim * (double)n + 1e-9); /* check(): 0 <= trim < 0.5 */
        size_t k = drop > 0 && drop <= (double)n / 2 ? (size_t)drop : 0;
        from = k;
        to = n - k;
    } else if (o->trim > 0) {
        zlo = quantile7(z, n, o->trim);
        zhi = quantile7(z, n, 1 - o->trim);
    }
    double sum_z2 = 0, sum_w = 0, sum_w2 = 0;
    size_t kept = 0;
    for (size_t i = from; i < to; i++) {
        double zi = fmin(fmax(z[i].z, zlo), zhi);
        if (!isfinite(zi))
            continue;
        sum_z2 += zi * zi;
        sum_w += z[i].w;
        sum_w2 += z[i].w * z[i].w;
        kept++;
    }
    if (kept == 0)
        return;
    double I = (double)kept;
    *phi = sum_z2 / I;
    double denom = sum_w - sum_w2 / sum_w;
    if (*phi > 1 && kept > 1 && denom > 0)
        *tau2 = fmax(0, (I * *phi - (I - 1)) / denom);
}

/* ---- limits ---- */

/* Spiegelhalter (2005) A.1: r the p-quantile, alpha = (F(r) - p) / (F(r) - F(r - 1)),
 * limit = (r - alpha) / size. */
static double exact_limit(const funnel_opts_t *o, double p, double theta, double size)
{
    double r, f, f1;
    if (o->type == FUNNEL_PROPORTION)
        dist_binom_quantile(p, size, theta, &r, &f, &f1);
    else
        dist_pois_quantile(p, theta * size, &r, &f, &f1);
    double alpha = (f - p) / (f - f1);
    return (r - alpha) / size;
}

static double normal_limit(const funnel_opts_t *o, double z, double theta, double size)
{
    double var = o->type == FUNNEL_PROPORTION ? theta * (1 - theta) : theta;
    return theta + z * sqrt(var / size);
}

static double clamp_limit(const funnel_opts_t *o, double v)
{
    if (!(v > 0))
        return 0; /* also turns -0 into 0 */
    if (o->type == FUNNEL_PROPORTION && v > 1)
        return 1;
    return v;
}

static funnel_flag_t classify(const funnel_point_t *pt)
{
    if (pt->value > pt->upper998)
        return FUNNEL_ALARM_HIGH;
    if (pt->value < pt->lower998)
        return FUNNEL_ALARM_LOW;
    if (pt->value > pt->upper95)
        return FUNNEL_ALERT_HIGH;
    if (pt->value < pt->lower95)
        return FUNNEL_ALERT_LOW;
    return FUNNEL_IN_CONTROL;
}

/* One unit's value, limits and flag around theta, widened by phi or tau2 when adjust. */
static void unit_point(const funnel_opts_t *opts, double theta, double phi, double tau2, int adjust,
                       const funnel_unit_t *unit, funnel_point_t *pt)
{
    double den = unit->denominator;
    if (!(den > 0) || isnan(theta)) {
        pt->value = pt->lower95 = pt->upper95 = pt->lower998 = pt->upper998 = NAN;
        pt->flag = FUNNEL_NO_DATA;
        return;
    }
    pt->value = unit->numerator / den;
    double y0 = transform(opts, theta);
    double lim[4];
    for (int j = 0; j < 4; j++) {
        if (adjust) {
            double s = transformed_se(opts, den);
            double sd = opts->overdispersion == FUNNEL_OD_MULTIPLICATIVE ? sqrt(phi) * s
                                                                         : sqrt(s * s + tau2);
            lim[j] = untransform(opts, y0 + limit_z[j] * sd);
        } else if (opts->limits == FUNNEL_LIMITS_EXACT) {
            lim[j] = exact_limit(opts, limit_p[j], theta, den);
        } else {
            lim[j] = normal_limit(opts, limit_z[j], theta, den);
        }
        lim[j] = clamp_limit(opts, lim[j]);
    }
    pt->lower998 = lim[0];
    pt->lower95 = lim[1];
    pt->upper95 = lim[2];
    pt->upper998 = lim[3];
    pt->flag = classify(pt);
}

static int check(const funnel_opts_t *o, const funnel_unit_t *units, size_t n, char *err,
                 size_t errlen)
{
    if (!(o->trim >= 0 && o->trim < 0.5))
        return fail(err, errlen, "trim %g is out of range, expected 0 <= trim < 0.5", o->trim);
    if (!isnan(o->target)) {
        if (o->type == FUNNEL_PROPORTION && !(o->target >= 0 && o->target <= 1))
            return fail(err, errlen, "target %g is out of range, expected 0-1", o->target);
        if (o->type == FUNNEL_RATIO && !(o->target > 0 && isfinite(o->target)))
            return fail(err, errlen, "target %g is out of range, expected a number > 0", o->target);
    }
    for (size_t i = 0; i < n; i++) {
        double num = units[i].numerator, den = units[i].denominator;
        if (!(num >= 0 && isfinite(num)) || !(den >= 0 && isfinite(den)))
            return fail(err, errlen,
                        "unit %zu: numerator %g and denominator %g, expected "
                        "numbers >= 0",
                        i + 1, num, den);
        if (o->type == FUNNEL_PROPORTION) {
            if (num > den)
                return fail(err, errlen, "unit %zu: numerator %g is more than denominator %g",
                            i + 1, num, den);
            if (o->limits == FUNNEL_LIMITS_EXACT && den != floor(den))
                return fail(err, errlen,
                            "unit %zu: denominator %g is not a whole number, "
                            "needed for exact limits",
                            i + 1, den);
        }
        /* the binomial's n, or the Poisson's mean: counts the distributions take */
        double count = o->type == FUNNEL_RATIO && !isnan(o->target) ? den * o->target : den;
        if (o->limits == FUNNEL_LIMITS_EXACT && count > FUNNEL_MAX_EXACT_COUNT)
            return fail(err, errlen,
                        "unit %zu: %s %g, expected at most %.0f for exact limits (normal limits "
                        "take any)",
                        i + 1,
                        o->type == FUNNEL_RATIO ? "expected count (expected times the target)"
                                                : "denominator",
                        count, FUNNEL_MAX_EXACT_COUNT);
    }
    return 0;
}

int funnel_compute(const funnel_opts_t *opts, const funnel_unit_t *units, size_t n,
                   funnel_point_t *points, funnel_summary_t *summary, char *err, size_t errlen)
{
    assert(opts);
    assert(summary);
    memset(summary, 0, sizeof *summary);
    summary->target = summary->phi = NAN;
    if (check(opts, units, n, err, errlen) != 0)
        return -1;

    double theta = opts->target;
    if (isnan(theta)) {
        if (opts->type == FUNNEL_RATIO) {
            theta = 1;
        } else {
            double sum_num = 0, sum_den = 0;
            for (size_t i = 0; i < n; i++) {
                sum_num += units[i].numerator;
                sum_den += units[i].denominator;
            }
            theta = sum_den > 0 ? sum_num / sum_den : NAN;
        }
    }
    summary->target = theta;

    zscore_t *z = malloc((n ? n : 1) * sizeof *z);
    if (!z)
        return fail(err, errlen, "out of memory");
    size_t nz = 0;
    double y0 = transform(opts, theta);
    for (size_t i = 0; i < n; i++) {
        double den = units[i].denominator;
        if (!(den > 0) || isnan(theta))
            continue;
        double s = transformed_se(opts, den);
        z[nz].z = (transform(opts, units[i].numerator / den) - y0) / s;
        /* 1/s^2, written out so that one unit's weights cancel exactly in tau2 */
        z[nz].w = truncates(opts) ? den : 4 * den;
        nz++;
    }
    summary->units = nz;
    double phi, tau2;
    estimate_dispersion(opts, z, nz, &phi, &tau2);
    free(z);
    summary->phi = phi;
    summary->tau2 = tau2;
    int adjust = opts->overdispersion != FUNNEL_OD_NONE && phi > 1;
    summary->adjusted = adjust;

    for (size_t i = 0; i < n; i++) {
        funnel_point_t *pt = &points[i];
        unit_point(opts, theta, phi, tau2, adjust, &units[i], pt);
        if (pt->flag == FUNNEL_ALERT_HIGH || pt->flag == FUNNEL_ALERT_LOW)
            summary->alerts++;
        else if (pt->flag == FUNNEL_ALARM_HIGH || pt->flag == FUNNEL_ALARM_LOW)
            summary->alarms++;
    }
    return 0;
}

int funnel_point(const funnel_opts_t *opts, const funnel_summary_t *summary,
                 const funnel_unit_t *unit, funnel_point_t *point, char *err, size_t errlen)
{
    assert(opts);
    assert(summary);
    assert(unit);
    assert(point);
    if (check(opts, unit, 1, err, errlen) != 0)
        return -1;
    int adjust = opts->overdispersion != FUNNEL_OD_NONE && summary->adjusted;
    unit_point(opts, summary->target, summary->phi, summary->tau2, adjust, unit, point);
    return 0;
}

/* ---- the units file ---- */

struct funnel_input_t {
    funnel_unit_t *units;
    char **names;
    size_t n, cap;
};

void funnel_input_destroy(funnel_input_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    funnel_input_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free(self->names[i]);
    free(self->names);
    free(self->units);
    free(self);
    *self_p = NULL;
}

size_t funnel_input_size(const funnel_input_t *self)
{
    assert(self);
    return self->n;
}

const char *funnel_input_name(const funnel_input_t *self, size_t i)
{
    assert(self);
    return i < self->n ? self->names[i] : NULL;
}

const funnel_unit_t *funnel_input_units(const funnel_input_t *self)
{
    assert(self);
    return self->units;
}

/* A plain decimal number: digits, one point, an exponent; no hex, inf or nan. */
static int parse_number(const char *s, double *out)
{
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int add_unit(funnel_input_t *self, const char *name, double num, double den)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        funnel_unit_t *u = realloc(self->units, cap * sizeof *u);
        if (!u)
            return -1;
        self->units = u;
        char **names = realloc(self->names, cap * sizeof *names);
        if (!names)
            return -1;
        self->names = names;
        self->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    self->names[self->n] = copy;
    self->units[self->n].numerator = num;
    self->units[self->n].denominator = den;
    self->n++;
    return 0;
}

static int parse_rows(funnel_input_t *self, csv_reader_t *csv, funnel_type_t type, char *err,
                      size_t errlen)
{
    const char *want[3] = {"unit", type == FUNNEL_PROPORTION ? "numerator" : "observed",
                           type == FUNNEL_PROPORTION ? "denominator" : "expected"};
    int rc = csv_reader_next(csv);
    if (rc < 0)
        return fail(err, errlen, "row %zu: %s", csv_reader_line(csv), csv_reader_error(csv));
    if (rc == 0)
        return fail(err, errlen, "no header, expected the columns %s,%s,%s", want[0], want[1],
                    want[2]);
    size_t ncols = csv_reader_nfields(csv);
    size_t col[3];
    for (int c = 0; c < 3; c++) {
        col[c] = ncols;
        for (size_t i = 0; i < ncols; i++) {
            const char *h = csv_reader_field(csv, i);
            if (i == 0 && strncmp(h, "\xEF\xBB\xBF", 3) == 0) /* a byte order mark */
                h += 3;
            if (strcmp(h, want[c]) == 0) {
                col[c] = i;
                break;
            }
        }
        if (col[c] == ncols)
            return fail(err, errlen, "row 1: header has no column \"%s\", expected %s,%s,%s",
                        want[c], want[0], want[1], want[2]);
    }
    const char *whole = type == FUNNEL_PROPORTION ? "a whole number >= 0" : "a number >= 0";
    while ((rc = csv_reader_next(csv)) != 0) {
        size_t row = csv_reader_line(csv);
        if (rc < 0)
            return fail(err, errlen, "row %zu: %s", row, csv_reader_error(csv));
        if (csv_reader_nfields(csv) != ncols)
            return fail(err, errlen, "row %zu: %zu fields, expected %zu as in the header", row,
                        csv_reader_nfields(csv), ncols);
        const char *name = csv_reader_field(csv, col[0]);
        if (!*name)
            return fail(err, errlen, "row %zu: \"%s\" is empty", row, want[0]);
        double v[2];
        for (int c = 1; c < 3; c++) {
            const char *s = csv_reader_field(csv, col[c]);
            if (parse_number(s, &v[c - 1]) != 0 || !(v[c - 1] >= 0) ||
                (type == FUNNEL_PROPORTION && v[c - 1] != floor(v[c - 1])))
                return fail(err, errlen, "row %zu: \"%s\" is \"%s\", expected %s", row, want[c], s,
                            whole);
        }
        if (type == FUNNEL_PROPORTION && v[0] > v[1])
            return fail(err, errlen,
                        "row %zu: \"numerator\" is \"%s\", more than \"denominator\" "
                        "\"%s\"",
                        row, csv_reader_field(csv, col[1]), csv_reader_field(csv, col[2]));
        if (add_unit(self, name, v[0], v[1]) != 0)
            return fail(err, errlen, "out of memory");
    }
    return 0;
}

funnel_input_t *funnel_input_parse(const char *data, size_t len, funnel_type_t type, char *err,
                                   size_t errlen)
{
    funnel_input_t *self = calloc(1, sizeof *self);
    csv_reader_t *csv = csv_reader_new(data, len, true);
    if (!self || !csv) {
        fail(err, errlen, "out of memory");
        funnel_input_destroy(&self);
        csv_reader_destroy(&csv);
        return NULL;
    }
    if (parse_rows(self, csv, type, err, errlen) != 0)
        funnel_input_destroy(&self);
    csv_reader_destroy(&csv);
    return self;
}
