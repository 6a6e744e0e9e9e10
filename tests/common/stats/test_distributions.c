/* test_distributions.c - normal, binomial, Poisson, gamma and chi-square probabilities and
 * quantiles, against values known in closed form and against a slow reference written here:
 * point probabilities from lgammal in long double and cumulative probabilities by direct
 * summation, quantiles by scanning up from 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "distributions.h"

static void assert_close(double got, double want, double rel, const char *what)
{
    /* A probability below 1e-30 is exp(-70) or less: its log, a sum of terms of hundreds, carries
     * an absolute rounding error of ~1e-13 at best, which is its relative error. No funnel limit
     * looks that far out; those are checked to 1e-9. */
    if (fabs(want) < 1e-30 && rel < 1e-9)
        rel = 1e-9;
    double tol = rel * fabs(want) + 1e-300;
    if (!(fabs(got - want) <= tol)) {
        fprintf(stderr, "%s: got %.17g, want %.17g\n", what, got, want);
        fail();
    }
}

/* ---- the slow reference ---- */

static long double ref_binom_pmf(long n, long k, long double p)
{
    if (k < 0 || k > n)
        return 0;
    long double lc = lgammal(n + 1.0L) - lgammal(k + 1.0L) - lgammal(n - k + 1.0L);
    return expl(lc + k * logl(p) + (n - k) * log1pl(-p));
}

static long double ref_pois_pmf(long k, long double lambda)
{
    return expl(k * logl(lambda) - lambda - lgammal(k + 1.0L));
}

/* ---- normal ---- */

/* Phi^-1(0.975) = 1.959963984540054, Phi^-1(0.999) = 3.090232306167813 and
 * Phi^-1(1e-10) = -6.361340902404056 (published tables, 16 digits); Phi^-1(1/2) = 0. */
static void test_normal_quantile_known(void **state)
{
    (void)state;
    assert_close(dist_normal_quantile(0.975), 1.959963984540054, 1e-14, "q(0.975)");
    assert_close(dist_normal_quantile(0.025), -1.959963984540054, 1e-14, "q(0.025)");
    assert_close(dist_normal_quantile(0.999), 3.090232306167813, 1e-14, "q(0.999)");
    assert_close(dist_normal_quantile(1e-10), -6.361340902404056, 1e-13, "q(1e-10)");
    assert_true(dist_normal_quantile(0.5) == 0);
    assert_true(isinf(dist_normal_quantile(0)) && dist_normal_quantile(0) < 0);
    assert_true(isnan(dist_normal_quantile(1.5)));
    for (double p = 1e-300; p < 1; p = p < 1e-3 ? p * 1e7 : p + 0.0137)
        /* dPhi/Phi = x dx at x, so a last-bit error in x is x^2 * 1e-16 relative in p */
        assert_close(dist_normal_cdf(dist_normal_quantile(p)), p, 1e-13, "round trip");
}

/* ---- binomial against the reference over a grid of n and theta, every k ---- */
static void test_binom_cdf_against_reference(void **state)
{
    (void)state;
    static const long ns[] = {1, 2, 7, 20, 100, 1000, 5000};
    static const double thetas[] = {0.001, 0.01, 0.1, 0.3, 0.5, 0.77, 0.99};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t b = 0; b < sizeof thetas / sizeof thetas[0]; b++) {
            long n = ns[a];
            long double th = thetas[b];
            /* suffix sums, smallest terms first: tail[k] = P(X >= k) */
            static long double tail[5002];
            tail[n + 1] = 0;
            for (long k = n; k >= 0; k--)
                tail[k] = tail[k + 1] + ref_binom_pmf(n, k, th);
            long double cum = 0;
            for (long k = 0; k <= n; k++) {
                long double pm = ref_binom_pmf(n, k, th);
                cum += pm;
                double lower, upper;
                assert_int_equal(dist_binom_cdf((double)k, (double)n, thetas[b], &lower, &upper),
                                 0);
                char what[96];
                snprintf(what, sizeof what, "binom n %ld theta %g k %ld", n, thetas[b], k);
                if (pm > 1e-280L)
                    assert_close(dist_binom_pmf((double)k, (double)n, thetas[b]), (double)pm, 1e-12,
                                 what);
                if (cum > 1e-280L)
                    assert_close(lower, (double)cum, 1e-12, what);
                if (tail[k + 1] > 1e-280L)
                    assert_close(upper, (double)tail[k + 1], 1e-11, what);
            }
        }
    }
}

/* Quantiles: r the smallest with F(r) >= p found by scanning up from 0 with the reference. */
static void test_binom_quantile_against_reference(void **state)
{
    (void)state;
    static const long ns[] = {1, 3, 10, 37, 100, 500, 2000};
    static const double thetas[] = {0.002, 0.05, 0.2, 0.5, 0.65, 0.95};
    /* not 0.5: with theta = 0.5, F(r) = 0.5 exactly is a tie no floating-point sum can decide */
    static const double ps[] = {0.001, 0.025, 0.3, 0.6, 0.975, 0.999};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof thetas / sizeof thetas[0]; b++)
            for (size_t c = 0; c < sizeof ps / sizeof ps[0]; c++) {
                long n = ns[a];
                long double cum = 0, prev = 0;
                long r = 0;
                for (;; r++) {
                    prev = cum;
                    cum += ref_binom_pmf(n, r, thetas[b]);
                    if (cum >= ps[c] || r == n)
                        break;
                }
                double got_r, f, f1;
                assert_int_equal(dist_binom_quantile(ps[c], (double)n, thetas[b], &got_r, &f, &f1),
                                 0);
                char what[96];
                snprintf(what, sizeof what, "qbinom p %g n %ld theta %g", ps[c], n, thetas[b]);
                if (got_r != (double)r) {
                    fprintf(stderr, "%s: r %g, want %ld\n", what, got_r, r);
                    fail();
                }
                assert_close(f, (double)cum, 1e-12, what);
                assert_close(f1, (double)prev, 1e-10, what);
            }
}

static void test_binom_degenerate(void **state)
{
    (void)state;
    double r, f, f1, lo, up;
    assert_int_equal(dist_binom_quantile(0.5, 10, 0, &r, &f, &f1), 0);
    assert_true(r == 0 && f == 1 && f1 == 0);
    assert_int_equal(dist_binom_quantile(0.001, 10, 1, &r, &f, &f1), 0);
    assert_true(r == 10 && f == 1 && f1 == 0);
    assert_int_equal(dist_binom_cdf(3, 10, 0, &lo, &up), 0);
    assert_true(lo == 1 && up == 0);
    assert_int_equal(dist_binom_quantile(0.5, 10.5, 0.3, &r, &f, &f1), -1);
    assert_int_equal(dist_binom_quantile(1, 10, 0.3, &r, &f, &f1), -1);
    assert_int_equal(dist_binom_cdf(3, 10, 1.5, &lo, &up), -1);
    assert_true(isnan(lo) && isnan(up));
}

/* n = 1e7: the quantile is found from the normal start in a few steps. Checked against a
 * reference summed in long double from the quantile downwards by the ratio of neighbouring
 * probabilities, P(k - 1) = P(k) k (1 - theta) / ((n - k + 1) theta), starting from P(r) by
 * lgammal (whose relative error at lgamma(1e7) ~ 1.5e8 is ~1e-19 * 1.5e8 ~ 1e-11). */
static void test_binom_quantile_very_large_n(void **state)
{
    (void)state;
    const double n = 1e7, th = 0.3;
    static const double ps[] = {0.001, 0.025, 0.975, 0.999};
    for (size_t c = 0; c < 4; c++) {
        double r, f, f1;
        assert_int_equal(dist_binom_quantile(ps[c], n, th, &r, &f, &f1), 0);
        long double term = ref_binom_pmf((long)n, (long)r, th), sum = term;
        for (long k = (long)r; k > 0 && term > 1e-40L * sum; k--) {
            term *= (long double)k * (1 - th) / ((n - k + 1) * th);
            sum += term;
        }
        assert_close(f, (double)sum, 1e-9, "F(r) at n 1e7");
        assert_true(f >= ps[c] && f1 < ps[c]);
        /* about mu + z sigma = 3e6 + z * 1449.1 */
        assert_true(fabs(r - (3e6 + dist_normal_quantile(ps[c]) * sqrt(n * th * (1 - th)))) < 10);
    }
}

/* ---- Poisson ---- */
static void test_pois_against_reference(void **state)
{
    (void)state;
    static const double lambdas[] = {0.001, 0.5, 3, 10.7, 100, 2500.25};
    static const double ps[] = {0.001, 0.025, 0.5, 0.975, 0.999};
    for (size_t a = 0; a < sizeof lambdas / sizeof lambdas[0]; a++) {
        double lam = lambdas[a];
        long kmax = (long)(lam + 40 * sqrt(lam) + 60);
        static long double tail[8000];
        tail[kmax + 200] = 0;
        for (long k = kmax + 199; k >= 0; k--)
            tail[k] = tail[k + 1] + ref_pois_pmf(k, lam);
        long double cum = 0;
        for (long k = 0; k <= kmax; k++) {
            long double pm = ref_pois_pmf(k, lam);
            cum += pm;
            double lower, upper;
            assert_int_equal(dist_pois_cdf((double)k, lam, &lower, &upper), 0);
            char what[96];
            snprintf(what, sizeof what, "pois lambda %g k %ld", lam, k);
            if (pm > 1e-280L)
                assert_close(dist_pois_pmf((double)k, lam), (double)pm, 1e-12, what);
            if (cum > 1e-280L)
                assert_close(lower, (double)cum, 1e-12, what);
            if (tail[k + 1] > 1e-280L)
                assert_close(upper, (double)tail[k + 1], 1e-11, what);
        }
        for (size_t c = 0; c < sizeof ps / sizeof ps[0]; c++) {
            long double f = 0, prev = 0;
            long r = 0;
            for (;; r++) {
                prev = f;
                f += ref_pois_pmf(r, lam);
                if (f >= ps[c])
                    break;
            }
            double got_r, gf, gf1;
            assert_int_equal(dist_pois_quantile(ps[c], lam, &got_r, &gf, &gf1), 0);
            char what[96];
            snprintf(what, sizeof what, "qpois p %g lambda %g", ps[c], lam);
            if (got_r != (double)r) {
                fprintf(stderr, "%s: r %g, want %ld\n", what, got_r, r);
                fail();
            }
            assert_close(gf, (double)f, 1e-12, what);
            assert_close(gf1, (double)prev, 1e-10, what);
        }
    }
}

static void test_pois_zero_mean(void **state)
{
    (void)state;
    double r, f, f1;
    assert_int_equal(dist_pois_quantile(0.999, 0, &r, &f, &f1), 0);
    assert_true(r == 0 && f == 1 && f1 == 0);
    assert_true(dist_pois_pmf(0, 0) == 1 && dist_pois_pmf(1, 0) == 0);
    assert_int_equal(dist_pois_quantile(0.5, -1, &r, &f, &f1), -1);
}

/* ---- gamma and chi-square ---- */

/* P(k + 1, lambda) = P(Poisson(lambda) > k): two independent computations agree. */
static void test_gamma_matches_poisson(void **state)
{
    (void)state;
    static const double lambdas[] = {0.3, 2, 9.5, 40, 777};
    for (size_t a = 0; a < 5; a++)
        for (double k = 0; k < 3 * lambdas[a] + 20; k += 1 + floor(k / 7)) {
            double lower, upper;
            dist_pois_cdf(k, lambdas[a], &lower, &upper);
            if (upper > 1e-300)
                assert_close(dist_gamma_p(k + 1, lambdas[a]), upper, 1e-11, "P vs Poisson");
            if (lower > 1e-300)
                assert_close(dist_gamma_q(k + 1, lambdas[a]), lower, 1e-11, "Q vs Poisson");
        }
}

/* Chi-square with 2 degrees of freedom is exponential with mean 2: its p-quantile is
 * -2 log(1 - p): 0.025 -> -2 log 0.975 = 0.050635615968579795, 0.975 -> -2 log 0.025 =
 * 7.3777589082278725. With 1 degree of freedom it is Z^2: q(0.95) = 1.959963984540054^2 =
 * 3.8414588206941236. */
static void test_chisq_quantile_closed_forms(void **state)
{
    (void)state;
    assert_close(dist_chisq_quantile(0.025, 2), 0.050635615968579795, 1e-13, "chisq 2 0.025");
    assert_close(dist_chisq_quantile(0.975, 2), 7.3777589082278725, 1e-13, "chisq 2 0.975");
    assert_close(dist_chisq_quantile(0.95, 1), 3.8414588206941236, 1e-13, "chisq 1 0.95");
    assert_true(isnan(dist_chisq_quantile(0.5, 0)));
}

static void test_gamma_quantile_round_trip(void **state)
{
    (void)state;
    static const double shapes[] = {0.05, 0.5, 1, 3.5, 10, 20, 250, 1e5};
    static const double ps[] = {1e-12, 0.001, 0.025, 0.5, 0.975, 0.999, 1 - 1e-9};
    for (size_t a = 0; a < 8; a++)
        for (size_t c = 0; c < 7; c++) {
            double x = dist_gamma_quantile(ps[c], shapes[a]);
            char what[64];
            snprintf(what, sizeof what, "qgamma p %g a %g", ps[c], shapes[a]);
            /* p = 1e-12 with a = 1e5 lies 7 sd out, where dP/P = ~2000 dx/x */
            if (ps[c] <= 0.5)
                assert_close(dist_gamma_p(shapes[a], x), ps[c], 1e-11, what);
            else
                assert_close(dist_gamma_q(shapes[a], x), 1 - ps[c], 1e-9, what);
        }
}

/* Far tails, against quantiles found independently for whole shapes a: bisection on
 * P(a, x) = e^-x sum_{k >= a} x^k / k! or Q(a, x) = e^-x sum_{k < a} x^k / k! in 80-digit decimal
 * arithmetic (the first two agree with mpmath's incomplete gamma to 20 digits); and
 * Q(1, x) = e^-x = 2^-40 at x = 40 log 2. Newton on P - p itself once sent a = 10, p = 1e-20 to
 * x = 8e117. */
static void test_gamma_quantile_far_tails(void **state)
{
    (void)state;
    assert_close(dist_gamma_quantile(1e-20, 10), 4.54748631612471673435e-2, 1e-14, "a 10 p 1e-20");
    assert_close(dist_gamma_quantile(1e-100, 100), 3.95079880854006436489, 1e-14, "a 100 1e-100");
    assert_close(dist_gamma_quantile(1e-300, 3), 1.81712059283213965889e-100, 1e-14, "a 3 1e-300");
    assert_close(dist_gamma_quantile(1 - 0x1p-40, 5), 3.93411238088887367180e+1, 1e-14,
                 "a 5 Q 2^-40");
    assert_close(dist_gamma_quantile(1 - 0x1p-40, 1), 2.77258872223978123767e+1, 1e-14,
                 "a 1 Q 2^-40");
    /* a quantile below the smallest double: P(0.01, x) = 1e-10 at x ~ 1e-1000 */
    assert_true(dist_gamma_quantile(1e-10, 0.01) == 0);
}

/* Counts past DIST_MAX_COUNT, NaN and infinities are out of range (-1 and NaN), at once: past 2^53
 * a step of one is lost, and a sum or step over counts would never end. */
static void test_counts_out_of_range(void **state)
{
    (void)state;
    static const double bad[] = {NAN, INFINITY, -INFINITY, 1e300, 1e18, DIST_MAX_COUNT * 2, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double r, f, f1, lo, up;
        assert_int_equal(dist_binom_quantile(0.5, bad[i], 0.5, &r, &f, &f1), -1);
        assert_true(isnan(r) && isnan(f) && isnan(f1));
        assert_int_equal(dist_binom_cdf(10, bad[i], 0.5, &lo, &up), -1);
        assert_true(isnan(lo) && isnan(up));
        assert_true(isnan(dist_binom_pmf(10, bad[i], 0.5)));
        assert_int_equal(dist_pois_quantile(0.5, bad[i], &r, &f, &f1), -1);
        assert_true(isnan(r));
        assert_int_equal(dist_pois_cdf(10, bad[i], &lo, &up), -1);
        assert_true(isnan(lo) && isnan(up));
    }
    /* k itself may be anything: a count far past the mean, or a NaN */
    double lo, up;
    assert_int_equal(dist_pois_cdf(1e300, 10, &lo, &up), 0);
    assert_true(lo == 1 && up == 0);
    assert_int_equal(dist_pois_cdf(INFINITY, 10, &lo, &up), 0);
    assert_true(lo == 1 && up == 0);
    assert_int_equal(dist_pois_cdf(NAN, 10, &lo, &up), -1);
    assert_int_equal(dist_binom_cdf(1e300, 100, 0.5, &lo, &up), 0);
    assert_true(lo == 1 && up == 0);
    /* DIST_MAX_COUNT itself is taken */
    double r, f, f1;
    assert_int_equal(dist_binom_quantile(0.5, DIST_MAX_COUNT, 0.5, &r, &f, &f1), 0);
    assert_true(fabs(r - DIST_MAX_COUNT / 2) < 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_quantile_known),
        cmocka_unit_test(test_binom_cdf_against_reference),
        cmocka_unit_test(test_binom_quantile_against_reference),
        cmocka_unit_test(test_binom_degenerate),
        cmocka_unit_test(test_binom_quantile_very_large_n),
        cmocka_unit_test(test_pois_against_reference),
        cmocka_unit_test(test_pois_zero_mean),
        cmocka_unit_test(test_gamma_matches_poisson),
        cmocka_unit_test(test_chisq_quantile_closed_forms),
        cmocka_unit_test(test_gamma_quantile_round_trip),
        cmocka_unit_test(test_gamma_quantile_far_tails),
        cmocka_unit_test(test_counts_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
