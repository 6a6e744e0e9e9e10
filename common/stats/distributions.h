/* distributions.h - the probability distributions behind confidence intervals and funnel limits:
 * normal, binomial, Poisson, gamma and chi-square. Pure functions, written from the mathematics:
 * probabilities are computed in a way that stays accurate far into the tails and for very large
 * counts (saddle-point point probabilities, tail sums away from the mode, regularised incomplete
 * gamma by series or continued fraction), and quantiles start from a normal approximation and
 * then step or iterate, so a count of 1e7 costs no more than a few thousand operations. */
#ifndef NCAP_DISTRIBUTIONS_H
#define NCAP_DISTRIBUTIONS_H

/* The largest count (binomial n, Poisson lambda) the functions below take: 2^53, up to which
 * every whole number is a double. Past it a step of one is lost (r - 1 == r), and the sums and
 * steps over counts would never end: those arguments are out of range (-1, NaN). Up to it, the
 * cost grows as the square root of the count (about a second at 2^53). */
#define DIST_MAX_COUNT 9007199254740992.0

/* Standard normal: P(Z <= x), and its inverse for 0 < p < 1 (-inf at 0, +inf at 1, NaN outside). */
double dist_normal_cdf(double x);
double dist_normal_quantile(double p);

/* Binomial(n, theta), n a whole number >= 0, 0 <= theta <= 1, k a whole number:
 * P(X = k); P(X <= k) into *lower and P(X > k) into *upper (each accurate on its own, so a tail
 * of 1e-300 is not lost against 1). Returns 0, or -1 (NaNs) when an argument is out of range. */
double dist_binom_pmf(double k, double n, double theta);
int dist_binom_cdf(double k, double n, double theta, double *lower, double *upper);
/* The p-quantile, the smallest r with P(X <= r) >= p, for 0 < p < 1; with P(X <= r) and
 * P(X <= r - 1) at that r (needed for interpolated funnel limits). Returns 0 or -1. */
int dist_binom_quantile(double p, double n, double theta, double *r, double *cdf_r,
                        double *cdf_r_minus_1);

/* Poisson(lambda), lambda >= 0: the same three. */
double dist_pois_pmf(double k, double lambda);
int dist_pois_cdf(double k, double lambda, double *lower, double *upper);
int dist_pois_quantile(double p, double lambda, double *r, double *cdf_r, double *cdf_r_minus_1);

/* Regularised incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x), a > 0, x >= 0,
 * each computed directly (series below a + 1, continued fraction above). NaN when out of range. */
double dist_gamma_p(double a, double x);
double dist_gamma_q(double a, double x);
/* Quantile of Gamma(shape a, scale 1): x with P(a, x) = p, 0 < p < 1. NaN when out of range. */
double dist_gamma_quantile(double p, double a);
/* Quantile of the chi-square distribution with df > 0 degrees of freedom: 2 * gamma(p, df / 2). */
double dist_chisq_quantile(double p, double df);

/* Student's t with df > 0 degrees of freedom: P(T <= t) through the regularised incomplete beta
 * function (continued fraction, Lentz's method), and the p-quantile, 0 < p < 1, by bisection on
 * that (to the last bit). NaN when out of range. */
double dist_t_cdf(double t, double df);
double dist_t_quantile(double p, double df);

#endif
