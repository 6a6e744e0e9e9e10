/* distributions.c - normal, binomial, Poisson, gamma and chi-square probabilities and quantiles.
 *
 * Point probabilities use the saddle-point form (Loader 2000): log P(X = k) is written as
 * Stirling-series remainders plus deviance terms bd0(x, m) = x log(x/m) + m - x, each small and
 * computed without cancellation, so P(X = k) keeps ~15 digits even for n = 1e7 where the log of
 * a binomial coefficient is ~1e8. Cumulative probabilities sum the tail away from the mean,
 * where the terms fall geometrically, and take the other tail as the complement. */
#include "distributions.h"

#include <float.h>
#include <math.h>

#define LN_SQRT_2PI 0.918938533204672741780329736406 /* log(sqrt(2 pi)) */
#define TWO_PI 6.283185307179586476925286766559
#define SQRT2 1.414213562373095048801688724210

/* log(x!) - log(sqrt(2 pi x) (x/e)^x), the error of Stirling's formula, for x > 0. Above 15 the
 * asymptotic series 1/12x - 1/360x^3 + 1/1260x^5 - 1/1680x^7 + 1/1188x^9 is exact to double
 * precision; below, lgamma is accurate enough that the subtraction loses < 1e-14. */
static double stirlerr(double x)
{
    if (x > 15) {
        double x2 = x * x;
        return (1.0 / 12 -
                (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 - 1.0 / (1188 * x2)) / x2) / x2) / x2) /
               x;
    }
    return lgamma(x + 1) - (x + 0.5) * log(x) + x - LN_SQRT_2PI;
}

/* x log(x/m) + m - x for x >= 0, m > 0. Near x = m it is a difference of nearly equal large
 * numbers; there, with v = (x - m)/(x + m), it equals (x - m) v + 2x (v^3/3 + v^5/5 + ...). */
static double bd0(double x, double m)
{
    if (fabs(x - m) < 0.1 * (x + m)) {
        double v = (x - m) / (x + m);
        double s = (x - m) * v;
        double v2 = v * v;
        double ej = 2 * x * v;
        for (int j = 1; j < 1000; j++) {
            ej *= v2;
            double s1 = s + ej / (2 * j + 1);
            if (s1 == s)
                return s;
            s = s1;
        }
        return s;
    }
    return x * log1p((x - m) / m) + m - x;
}

static int is_whole(double x)
{
    return isfinite(x) && x == floor(x);
}

double dist_normal_cdf(double x)
{
    return 0.5 * erfc(-x / SQRT2);
}

/* A rational approximation good to ~5e-4 (Abramowitz and Stegun 26.2.23), then Halley steps on
 * Phi(x) - p, which converge cubically; Phi of a negative x is computed from erfc without loss,
 * so the lower half is worked and the upper half mirrored. */
double dist_normal_quantile(double p)
{
    if (isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    if (p == 0.5)
        return 0;
    if (p > 0.5)
        return -dist_normal_quantile(1 - p);
    double t = sqrt(-2 * log(p));
    double x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                         (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
    for (int i = 0; i < 4; i++) {
        double e = dist_normal_cdf(x) - p;
        double u = e * sqrt(TWO_PI) * exp(x * x / 2);
        double step = u / (1 + x * u / 2);
        x -= step;
        if (fabs(step) <= 1e-16 * fabs(x))
            break;
    }
    return x;
}

/* ---- binomial ---- */

static int binom_args_ok(double n, double theta)
{
    return is_whole(n) && n >= 0 && n <= DIST_MAX_COUNT && theta >= 0 && theta <= 1;
}

/* lambda within what the sums and steps over counts handle (see DIST_MAX_COUNT) */
static int pois_args_ok(double lambda)
{
    return lambda >= 0 && lambda <= DIST_MAX_COUNT;
}

double dist_binom_pmf(double k, double n, double theta)
{
    if (!binom_args_ok(n, theta) || isnan(k))
        return NAN;
    if (!is_whole(k) || k < 0 || k > n)
        return 0;
    if (theta == 0)
        return k == 0 ? 1 : 0;
    if (theta == 1)
        return k == n ? 1 : 0;
    if (k == 0)
        return exp(n * log1p(-theta));
    if (k == n)
        return exp(n * log(theta));
    double q = 1 - theta;
    double lc = stirlerr(n) - stirlerr(k) - stirlerr(n - k) - bd0(k, n * theta) - bd0(n - k, n * q);
    return exp(lc) / sqrt(TWO_PI * k * (1 - k / n));
}

/* Sum of P(X = j) from j = k away from the mean until the terms no longer count. */
static double binom_tail_down(double k, double n, double theta)
{
    double q = 1 - theta;
    double term = dist_binom_pmf(k, n, theta), sum = term;
    for (double j = k; j > 0 && term > 0; j--) {
        term *= j * q / ((n - j + 1) * theta);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

static double binom_tail_up(double k, double n, double theta)
{
    double q = 1 - theta;
    double term = dist_binom_pmf(k, n, theta), sum = term;
    for (double j = k; j < n && term > 0; j++) {
        term *= (n - j) * theta / ((j + 1) * q);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

int dist_binom_cdf(double k, double n, double theta, double *lower, double *upper)
{
    if (!binom_args_ok(n, theta) || isnan(k)) {
        *lower = *upper = NAN;
        return -1;
    }
    k = floor(k);
    if (k < 0 || k >= n || theta == 0 || theta == 1) {
        int all = k >= n || (k >= 0 && theta == 0);
        *lower = all ? 1 : 0;
        *upper = all ? 0 : 1;
        return 0;
    }
    if (k <= n * theta) {
        *lower = binom_tail_down(k, n, theta);
        *upper = 1 - *lower;
    } else {
        *upper = binom_tail_up(k + 1, n, theta);
        *lower = 1 - *upper;
    }
    return 0;
}

/* The smallest r with F(r) >= p, from a Cornish-Fisher start mu + sigma (z + g (z^2 - 1)/6)
 * (g the skewness), usually within a step or two of the answer; then steps of one, each adding
 * or removing one point probability. For p > 1/2 the test is made on the upper tail,
 * 1 - F(r) <= 1 - p, which keeps its digits where F(r) is close to 1. */
typedef struct {
    double mu, sigma, skew, max; /* max: the largest value, or INFINITY */
    double n, theta, lambda;     /* lambda < 0 for the binomial */
} discrete_t;

static double discrete_pmf(const discrete_t *d, double k)
{
    return d->lambda >= 0 ? dist_pois_pmf(k, d->lambda) : dist_binom_pmf(k, d->n, d->theta);
}

static void discrete_cdf(const discrete_t *d, double k, double *lower, double *upper)
{
    if (d->lambda >= 0)
        dist_pois_cdf(k, d->lambda, lower, upper);
    else
        dist_binom_cdf(k, d->n, d->theta, lower, upper);
}

static void discrete_quantile(const discrete_t *d, double p, double *r_out, double *cdf_r,
                              double *cdf_r1)
{
    double z = dist_normal_quantile(p);
    double x0 = d->mu + d->sigma * (z + d->skew * (z * z - 1) / 6);
    double r = floor(x0 + 0.5);
    if (!(r >= 0))
        r = 0;
    if (r > d->max)
        r = d->max;
    int use_upper = p > 0.5;
    double lo, up;
    discrete_cdf(d, r, &lo, &up);
#define REACHED(l, u) (use_upper ? (u) <= 1 - p : (l) >= p)
    double pm = discrete_pmf(d, r);
    if (REACHED(lo, up)) {
        while (r > 0) {
            double lo1 = lo - pm, up1 = up + pm;
            if (!REACHED(lo1, up1))
                break;
            if (lo1 < 0) /* rounding: F(r - 1) cannot be below 0 */
                lo1 = 0;
            r--;
            lo = lo1;
            up = up1;
            pm = discrete_pmf(d, r);
        }
    } else {
        while (r < d->max) {
            r++;
            pm = discrete_pmf(d, r);
            lo += pm;
            up -= pm;
            if (REACHED(lo, up))
                break;
        }
    }
#undef REACHED
    double f = use_upper ? 1 - up : lo;
    if (f > 1)
        f = 1;
    *r_out = r;
    *cdf_r = f;
    *cdf_r1 = r > 0 ? fmax(f - pm, 0) : 0;
}

int dist_binom_quantile(double p, double n, double theta, double *r, double *cdf_r,
                        double *cdf_r_minus_1)
{
    if (!binom_args_ok(n, theta) || !(p > 0 && p < 1)) {
        *r = *cdf_r = *cdf_r_minus_1 = NAN;
        return -1;
    }
    if (n == 0 || theta == 0 || theta == 1) { /* all the mass on one value */
        *r = theta == 1 ? n : 0;
        *cdf_r = 1;
        *cdf_r_minus_1 = 0;
        return 0;
    }
    double sigma = sqrt(n * theta * (1 - theta));
    discrete_t d = {n * theta, sigma, (1 - 2 * theta) / sigma, n, n, theta, -1};
    discrete_quantile(&d, p, r, cdf_r, cdf_r_minus_1);
    return 0;
}

/* ---- Poisson ---- */

double dist_pois_pmf(double k, double lambda)
{
    if (!(lambda >= 0) || !isfinite(lambda) || isnan(k))
        return NAN;
    if (!is_whole(k) || k < 0)
        return 0;
    if (lambda == 0)
        return k == 0 ? 1 : 0;
    if (k == 0)
        return exp(-lambda);
    return exp(-stirlerr(k) - bd0(k, lambda)) / sqrt(TWO_PI * k);
}

int dist_pois_cdf(double k, double lambda, double *lower, double *upper)
{
    if (!pois_args_ok(lambda) || isnan(k)) {
        *lower = *upper = NAN;
        return -1;
    }
    k = floor(k);
    if (k < 0 || lambda == 0 || isinf(k)) {
        *lower = k < 0 ? 0 : 1;
        *upper = 1 - *lower;
        return 0;
    }
    if (k <= lambda) {
        double term = dist_pois_pmf(k, lambda), sum = term;
        for (double j = k; j > 0 && term > 0; j--) {
            term *= j / lambda;
            sum += term;
            if (term < sum * 1e-17)
                break;
        }
        *lower = sum;
        *upper = 1 - sum;
    } else {
        double term = dist_pois_pmf(k + 1, lambda), sum = term;
        for (double j = k + 1; term > 0; j++) {
            term *= lambda / (j + 1);
            sum += term;
            if (term < sum * 1e-17)
                break;
        }
        *upper = sum;
        *lower = 1 - sum;
    }
    return 0;
}

int dist_pois_quantile(double p, double lambda, double *r, double *cdf_r, double *cdf_r_minus_1)
{
    if (!pois_args_ok(lambda) || !(p > 0 && p < 1)) {
        *r = *cdf_r = *cdf_r_minus_1 = NAN;
        return -1;
    }
    if (lambda == 0) {
        *r = 0;
        *cdf_r = 1;
        *cdf_r_minus_1 = 0;
        return 0;
    }
    double sigma = sqrt(lambda);
    discrete_t d = {lambda, sigma, 1 / sigma, INFINITY, 0, 0, lambda};
    discrete_quantile(&d, p, r, cdf_r, cdf_r_minus_1);
    return 0;
}

/* ---- gamma and chi-square ---- */

/* log(x^a e^-x / Gamma(a + 1)), the log of the Poisson point probability extended to real a,
 * in the saddle-point form that keeps its digits when a and x are large and close. Far below a
 * (x < 1e-250, only ever reached by quantiles that underflow) a log x - x - log Gamma(a + 1)
 * has no cancellation, and bd0 would overflow in (a - x) / x. */
static double log_gamma_front(double a, double x)
{
    if (x < 1e-250)
        return a * log(x) - x - lgamma(a + 1);
    return -stirlerr(a) - bd0(a, x) - 0.5 * log(TWO_PI * a);
}

/* x^a e^-x / Gamma(a + 1) */
static double gamma_front(double a, double x)
{
    if (x == 0)
        return 0;
    return exp(log_gamma_front(a, x));
}

/* 1 + x/(a+1) + x^2/((a+1)(a+2)) + ..., so that P(a, x) = front * the sum, for x < a + 1, where
 * the terms fall at least as fast as x/(a + 1) after the first: O(sqrt(a)) terms near x = a. */
static double gamma_p_series_sum(double a, double x)
{
    double term = 1, sum = 1;
    for (int n = 1; n < 100000; n++) {
        term *= x / (a + n);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

/* 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))), Legendre's continued fraction, so that
 * Q(a, x) = a * front * the fraction, for x >= a + 1; evaluated by the modified Lentz method. */
static double gamma_q_fraction(double a, double x)
{
    const double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16)
            break;
    }
    return h;
}

double dist_gamma_p(double a, double x)
{
    if (!(a > 0) || !(x >= 0) || isinf(a))
        return NAN;
    if (x == 0)
        return 0;
    if (isinf(x))
        return 1;
    return x < a + 1 ? gamma_front(a, x) * gamma_p_series_sum(a, x)
                     : 1 - a * gamma_front(a, x) * gamma_q_fraction(a, x);
}

double dist_gamma_q(double a, double x)
{
    if (!(a > 0) || !(x >= 0) || isinf(a))
        return NAN;
    if (x == 0)
        return 1;
    if (isinf(x))
        return 0;
    return x < a + 1 ? 1 - gamma_front(a, x) * gamma_p_series_sum(a, x)
                     : a * gamma_front(a, x) * gamma_q_fraction(a, x);
}

/* log P(a, x) (lower) or log Q(a, x), for 0 < x < inf, each relative to its own size, so that a
 * tail of 1e-300 or one past the range of a double (P(0.01, 1e-200) = e^-4600) still has its
 * digits; and into *log_density the log of the density x^(a-1) e^-x / Gamma(a). */
static double log_gamma_tail(double a, double x, int lower, double *log_density)
{
    double lf = log_gamma_front(a, x);
    *log_density = lf + log(a) - log(x);
    if (x < a + 1) {
        double lp = lf + log(gamma_p_series_sum(a, x));
        return lower ? lp : log1p(-exp(lp));
    }
    double lq = lf + log(a) + log(gamma_q_fraction(a, x));
    return lower ? log1p(-exp(lq)) : lq;
}

/* Newton's method on the log of the smaller tail: log P(a, x) = log p for p <= 1/2, in u = log x,
 * where far below the mode log P is close to a u + const; log Q(a, x) = log(1 - p) above, in u
 * downwards but in x upwards, where log Q is close to -x. On the log, a tail
 * of 1e-300, or one past the range of a double (P(0.01, 1e-200) = e^-4600), keeps its digits.
 * Each step is kept inside a bracket that shrinks with every evaluation; one that would leave it
 * bisects instead (in log x while the bracket spans more than a factor of 4). The answer is as
 * accurate as the log of the tail, a few units in the last place, divided by its slope in log x
 * (about a far below the mode): ~1e-15 relative for a >= 1, 1e-13 at a = 0.01. Start:
 * Wilson-Hilferty, a (1 - 1/9a + z/(3 sqrt a))^3, or for small a, or where that is not positive,
 * the x with x^a / Gamma(a + 1) = p, which P(a, x) approaches as x -> 0; 3-5 steps from there. */
double dist_gamma_quantile(double p, double a)
{
    if (!(a > 0) || isinf(a) || isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return 0;
    if (p == 1)
        return INFINITY;
    int lower = p <= 0.5;
    double target = lower ? log(p) : log1p(-p);
    double z = dist_normal_quantile(p);
    double t = 1 - 1 / (9 * a) + z / (3 * sqrt(a));
    double x = a * t * t * t;
    if (a < 1 || !(x > 0)) {
        x = exp((log(p) + lgamma(a + 1)) / a);
        if (!lower && !(x < 0.5)) /* not small: far out Q(a, x) is about e^-x / Gamma(a) */
            x = fmax(a + 1, -target - lgamma(a));
    }
    if (!(x > 0) || !isfinite(x))
        x = lower ? DBL_MIN : a + 1;
    double lo = 0, hi = INFINITY;
    for (int i = 0; i < 200; i++) {
        double ld, g = log_gamma_tail(a, x, lower, &ld) - target;
        if (g == 0)
            return x;
        if ((g < 0) == lower) /* below the quantile */
            lo = x;
        else
            hi = x;
        /* d log P / d log x = x density / P; d log Q / d log x = -x density / Q. Upwards, log Q
         * bends down faster than a line in log x (towards -x), so it steps in x there. */
        double slope = exp(ld + log(x) - (g + target));
        double step = lower ? -g / slope : g / slope;
        double next = !lower && step > 0 ? x * (1 + step) : x * exp(step);
        /* the step is in the last bits (of a subnormal x too) */
        if (fabs(next - x) <= 2 * DBL_EPSILON * x + 4 * DBL_TRUE_MIN)
            return next;
        if (!(next > lo && next < hi)) {
            if (isinf(hi))
                next = 4 * x + 1;
            else if (lo > 0 && hi > 4 * lo)
                next = sqrt(lo) * sqrt(hi);
            else if (lo == 0)
                next = hi / 16;
            else
                next = lo + (hi - lo) / 2;
        }
        if (isfinite(hi) && hi - lo <= 2 * DBL_EPSILON * hi + 4 * DBL_TRUE_MIN)
            return next;
        if (next == 0) /* the quantile is below the smallest double */
            return 0;
        x = next;
    }
    return x;
}

double dist_chisq_quantile(double p, double df)
{
    if (!(df > 0))
        return NAN;
    return 2 * dist_gamma_quantile(p, df / 2);
}

/* ---- Student's t ---- */

/* One step of the modified Lentz method on c and d for the partial numerator num (denominator
 * 1): the factor the fraction's value is multiplied by. */
static double lentz_step(double num, double *c, double *d)
{
    const double tiny = 1e-300;
    *d = 1 + num * *d;
    *d = fabs(*d) < tiny ? tiny : *d;
    *c = 1 + num / *c;
    *c = fabs(*c) < tiny ? tiny : *c;
    *d = 1 / *d;
    return *d * *c;
}

/* The continued fraction of the incomplete beta function I_x(a, b) (Numerical Recipes' betacf,
 * modified Lentz), which converges fast for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x)
{
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = fabs(d) < 1e-300 ? 1e-300 : d;
    d = 1 / d;
    double h = d;
    for (int m = 1; m < 10000; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((a + m2 - 1) * (a + m2)), &c, &d);
        double del = lentz_step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)), &c, &d);
        h *= del;
        if (fabs(del - 1) < 1e-16)
            break;
    }
    return h;
}

/* I_x(a, b), 0 <= x <= 1. */
static double beta_regularised(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_fraction(a, b, x) / a;
    return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double dist_t_cdf(double t, double df)
{
    if (!(df > 0) || isnan(t))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1 : 0;
    /* P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) */
    double tail = 0.5 * beta_regularised(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}

double dist_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p == 0.5)
        return 0;
    if (p < 0.5)
        return -dist_t_quantile(1 - p, df);
    double lo = 0, hi = 1;
    while (dist_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2;
    for (int i = 0; i < 2000; i++) {
        double mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi)
            break;
        if (dist_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}
