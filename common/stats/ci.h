/* ci.h - confidence intervals for published figures. Pure functions: values in, values out. */
#ifndef NCAP_CI_H
#define NCAP_CI_H

/* The z of the two levels every interval and funnel limit is drawn at, 95% and 99.8% two-sided:
 * Phi^-1(0.975) = 1.95996398454005423552... and Phi^-1(0.999) = 3.09023230616781354154..., to
 * the nearest double, so that the tail P(Z > z) an exact limit is drawn from is 0.025 or 0.001 to
 * ~1e-15. (z rounded to 7 digits, 1.959964 and 3.090232, moved the tail by 4e-8 and 1e-6
 * relative, and exact Poisson limits with it.) */
#define NCAP_Z95 1.9599639845400542
#define NCAP_Z998 3.0902323061678136

/* Wilson score interval for x successes out of n:
 * (2x + z^2 -+ z*sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)). Returns 0, or -1 when n <= 0 or x is
 * outside 0..n (lo and hi are then set to NaN). */
int ci_wilson(double x, double n, double z, double *lo, double *hi);

/* Exact limits for a Poisson count o >= 0 (not necessarily whole) at the two-sided level of z:
 * with tail = P(Z > z), lower = chisq(tail; 2o) / 2 (0 when o = 0) and
 * upper = chisq(1 - tail; 2o + 2) / 2. Returns 0, or -1 (NaNs) when o < 0 or not finite. */
int ci_count_exact(double o, double z, double *lo, double *hi);
/* Byar's approximation for a count o > 0: lower o (1 - 1/(9o) - z/(3 sqrt o))^3 (0 at o = 0),
 * upper (o + 1)(1 - 1/(9(o + 1)) + z/(3 sqrt(o + 1)))^3. Returns 0 or -1. */
int ci_count_byar(double o, double z, double *lo, double *hi);
/* The interval for a count: exact when o < 10, Byar otherwise. */
int ci_count(double o, double z, double *lo, double *hi);
/* The interval for an observed/expected ratio: ci_count(o) divided by e. Returns -1 (NaNs) when
 * o < 0 or e <= 0. */
int ci_ratio(double o, double e, double z, double *lo, double *hi);

#endif
