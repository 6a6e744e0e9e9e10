/* ci.c - confidence intervals for published figures */
#include "ci.h"

#include <math.h>

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
