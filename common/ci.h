/* ci.h - confidence intervals for published figures. Pure functions: values in, values out. */
#ifndef NCAP_CI_H
#define NCAP_CI_H

#define NCAP_Z95 1.959964
#define NCAP_Z998 3.090232

/* Wilson score interval for x successes out of n:
 * (2x + z^2 -+ z*sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)). Returns 0, or -1 when n <= 0 or x is
 * outside 0..n (lo and hi are then set to NaN). */
int ci_wilson(double x, double n, double z, double *lo, double *hi);

#endif
