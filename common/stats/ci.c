/* ci.c - confidence intervals for published figures: Wilson for proportions; exact Poisson
 * (chi-square) limits or Byar's approximation for counts and observed/expected ratios */
#include "ci.h"

#include <math.h>

#include "distributions.h"

int ci_wilson(double x, double n, double z, double *lo, double *hi)
{
    if (!(n > 0) || !(x >= 0 && x <= n) || !isfinite(n)) {
        *lo = NAN;
        *hi = NAN;
        return -1;
    }
    double z2 = z * z;
    double centre = 2 * x + z2;
    double half = z * sqrt(z2 + 4 * x * (1 - x / n));
    double denom = 2 * (n + z2);
    double l = (centre - half) / denom;
    double h = (centre + half) / denom;
    /* The exact bounds lie in [0, 1] and are 0 at x = 0 and 1 at x = n; rounding must not push
     * them past. */
    *lo = x == 0 ? 0 : fmax(l, 0);
    *hi = x == n ? 1 : fmin(h, 1);
    return 0;
}

static int count_fail(double *lo, double *hi)
{
    *lo = NAN;
    *hi = NAN;
    return -1;
}

int ci_count_exact(double o, double z, double *lo, double *hi)
{
    if (!(o >= 0) || !isfinite(o) || !(z > 0))
        return count_fail(lo, hi);
    double tail = dist_normal_cdf(-z);
    *lo = o == 0 ? 0 : dist_chisq_quantile(tail, 2 * o) / 2;
    *hi = dist_chisq_quantile(1 - tail, 2 * o + 2) / 2;
    return 0;
}

int ci_count_byar(double o, double z, double *lo, double *hi)
{
    if (!(o >= 0) || !isfinite(o) || !(z > 0))
        return count_fail(lo, hi);
    if (o == 0) {
        *lo = 0;
    } else {
        double t = 1 - 1 / (9 * o) - z / (3 * sqrt(o));
        *lo = t > 0 ? o * t * t * t : 0;
    }
    double o1 = o + 1;
    double u = 1 - 1 / (9 * o1) + z / (3 * sqrt(o1));
    *hi = o1 * u * u * u;
    return 0;
}

int ci_count(double o, double z, double *lo, double *hi)
{
    return o < 10 ? ci_count_exact(o, z, lo, hi) : ci_count_byar(o, z, lo, hi);
}

int ci_ratio(double o, double e, double z, double *lo, double *hi)
{
    if (!(e > 0) || !isfinite(e) || ci_count(o, z, lo, hi) != 0)
        return count_fail(lo, hi);
    *lo /= e;
    *hi /= e;
    return 0;
}
