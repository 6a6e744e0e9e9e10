/* test_funnel.c - funnel limits, flags and overdispersion, with worked values and against a slow
 * reference for the exact limits written here (binomial and Poisson probabilities summed
 * directly in long double, the quantile found by scanning up from 0). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert_double.h"
#include "ci.h"
#include "funnel.h"

static const funnel_unit_t worked[6] = {{100, 108}, {150, 112}, {180, 165},
                                        {80, 95},   {120, 100}, {225, 220}};

static void run(const funnel_opts_t *o, const funnel_unit_t *u, size_t n, funnel_point_t *p,
                funnel_summary_t *s)
{
    char err[256] = "";
    if (funnel_compute(o, u, n, p, s, err, sizeof err) != 0) {
        fprintf(stderr, "funnel_compute: %s\n", err);
        fail();
    }
}

/* ---- the slow reference for exact limits ---- */

/* Spiegelhalter (2005) A.1 by brute force: F summed term by term from 0. */
static double ref_exact_limit(int poisson, double p, double size, double theta)
{
    long double lam = (long double)theta * size, f = 0, prev = 0;
    for (long r = 0;; r++) {
        long double pm;
        if (poisson)
            pm = expl(r * logl(lam) - lam - lgammal(r + 1.0L));
        else
            pm = expl(lgammal(size + 1.0L) - lgammal(r + 1.0L) - lgammal(size - r + 1.0L) +
                      r * logl(theta) + (size - r) * log1pl(-(long double)theta));
        prev = f;
        f += pm;
        if (f >= p || (!poisson && r == (long)size)) {
            long double alpha = (f - p) / (f - prev);
            double lim = (double)((r - alpha) / size);
            return lim < 0 ? 0 : lim;
        }
    }
}

static void test_exact_limits_against_reference(void **state)
{
    (void)state;
    static const double sizes[] = {1, 4, 10, 33, 100, 250, 1000, 3000};
    static const double thetas[] = {0.01, 0.08, 0.3, 0.5, 0.9};
    for (int poisson = 0; poisson <= 1; poisson++)
        for (size_t a = 0; a < 8; a++)
            for (size_t b = 0; b < 5; b++) {
                funnel_opts_t o = funnel_opts_default(poisson ? FUNNEL_RATIO : FUNNEL_PROPORTION);
                double size = poisson ? sizes[a] * 1.37 : sizes[a]; /* expected need not be whole */
                o.target = poisson ? thetas[b] * 2 : thetas[b];
                funnel_unit_t u = {0, size};
                funnel_point_t p;
                funnel_summary_t s;
                run(&o, &u, 1, &p, &s);
                double want[4];
                static const double ps[4] = {0.001, 0.025, 0.975, 0.999};
                for (int j = 0; j < 4; j++)
                    want[j] = ref_exact_limit(poisson, ps[j], size, o.target);
                double got[4] = {p.lower998, p.lower95, p.upper95, p.upper998};
                for (int j = 0; j < 4; j++)
                    if (fabs(got[j] - want[j]) > 1e-11 * fmax(1, want[j])) {
                        fprintf(stderr, "%s size %g theta %g p %g: got %.17g want %.17g\n",
                                poisson ? "poisson" : "binomial", size, o.target, ps[j], got[j],
                                want[j]);
                        fail();
                    }
            }
}

/* n = 1e7 for a proportion: the exact limits lie close to the normal ones, theta -+ z sd with
 * sd = sqrt(0.3 * 0.7 / 1e7) = 1.449e-4, and are skewed by the binomial's skewness (the
 * difference of the two is of the order sd^2 (1 - 2 theta) / 6 * (z^2 - 1) / sd ~ 1e-7 / n). */
static void test_exact_limits_very_large_n(void **state)
{
    (void)state;
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.target = 0.3;
    funnel_unit_t u = {3000000, 1e7};
    funnel_point_t p;
    funnel_summary_t s;
    run(&o, &u, 1, &p, &s);
    double sd = sqrt(0.3 * 0.7 / 1e7);
    assert_near(p.lower95, 0.3 - NCAP_Z95 * sd, 1e-6);
    assert_near(p.upper998, 0.3 + NCAP_Z998 * sd, 1e-6);
    assert_true(p.lower998 < p.lower95 && p.lower95 < 0.3 && 0.3 < p.upper95 &&
                p.upper95 < p.upper998);
    assert_int_equal(p.flag, FUNNEL_IN_CONTROL);
}

/* Normal limits, theta = 0.2, n = 100: sd = sqrt(0.2 * 0.8 / 100) = 0.04, so with
 * z = 1.95996398454005423552 and 3.09023230616781354154 (Phi^-1 of 0.975 and 0.999)
 * 0.2 -+ 0.04 z = 0.12160144061839783058, 0.27839855938160216942, 0.07639070775328745834,
 * 0.32360929224671254166. Ratio, theta 1, E = 25: 1 -+ z / 5 = 0.60800720309198915290,
 * 1.3919927969080108471, 0.38195353876643729169, 1.6180464612335627083. */
static void test_normal_limits_worked(void **state)
{
    (void)state;
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.limits = FUNNEL_LIMITS_NORMAL;
    o.target = 0.2;
    funnel_unit_t u = {30, 100};
    funnel_point_t p;
    funnel_summary_t s;
    run(&o, &u, 1, &p, &s);
    assert_near(p.lower95, 0.12160144061839783058, 1e-15);
    assert_near(p.upper95, 0.27839855938160216942, 1e-15);
    assert_near(p.lower998, 0.07639070775328745834, 1e-15);
    assert_near(p.upper998, 0.32360929224671254166, 1e-15);
    assert_int_equal(p.flag, FUNNEL_ALERT_HIGH); /* 0.3: beyond 95%, within 99.8% */
    assert_int_equal(s.alerts, 1);
    assert_int_equal(s.alarms, 0);

    o = funnel_opts_default(FUNNEL_RATIO);
    o.limits = FUNNEL_LIMITS_NORMAL;
    funnel_unit_t r = {5, 25};
    run(&o, &r, 1, &p, &s);
    assert_near(p.lower95, 0.60800720309198915290, 1e-15);
    assert_near(p.upper95, 1.3919927969080108471, 1e-15);
    assert_near(p.lower998, 0.38195353876643729169, 1e-15);
    assert_near(p.upper998, 1.6180464612335627083, 1e-15);
    assert_int_equal(p.flag, FUNNEL_ALARM_LOW); /* 0.2 */
    assert_int_equal(s.alarms, 1);
    assert_true(s.target == 1);
}

/* Normal limits for n = 4 at theta 0.5: 0.5 -+ 3.0902 * 0.25 goes past 0 and 1: truncated. */
static void test_normal_limits_truncated(void **state)
{
    (void)state;
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.limits = FUNNEL_LIMITS_NORMAL;
    o.target = 0.5;
    funnel_unit_t u = {2, 4};
    funnel_point_t p;
    funnel_summary_t s;
    run(&o, &u, 1, &p, &s);
    assert_true(p.lower998 == 0 && !signbit(p.lower998));
    assert_true(p.upper998 == 1);
}

/* "Beyond" is strict: with target 0 every limit is 0, and a unit at 0 is in control. */
static void test_on_the_limit_is_in_control(void **state)
{
    (void)state;
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.target = 0;
    funnel_unit_t u[2] = {{0, 10}, {1, 10}};
    funnel_point_t p[2];
    funnel_summary_t s;
    run(&o, u, 2, p, &s);
    assert_true(p[0].upper998 == 0 && p[0].lower998 == 0);
    assert_int_equal(p[0].flag, FUNNEL_IN_CONTROL);
    assert_int_equal(p[1].flag, FUNNEL_ALARM_HIGH);
    assert_string_equal(funnel_flag_name(p[1].flag), "alarm_high");
}

/* The worked example of the issue, shmi: z_i = sqrt(E) log(O/E), nothing truncated with six
 * units (floor(0.1 * 6) = 0), phi = mean z^2 = 2.948033. tau2 = (6 phi - 5) / (sum E -
 * sum E^2 / sum E) = 12.688199 / 651.4 = 0.019477530578021584 (weights 1/s^2 = E). */
static void test_phi_worked_shmi(void **state)
{
    (void)state;
    funnel_opts_t o = funnel_opts_default(FUNNEL_RATIO);
    o.overdispersion = FUNNEL_OD_ADDITIVE;
    funnel_point_t p[6];
    funnel_summary_t s;
    run(&o, worked, 6, p, &s);
    assert_near(s.phi, 2.948033, 1e-6);
    assert_near(s.phi, 2.9480331751023592, 1e-12);
    assert_near(s.tau2, 0.019477530578021584, 1e-14);
    assert_true(s.adjusted);
    /* additive limits of unit 1 (E = 108): exp(0 -+ z sqrt(1/108 + tau2)) */
    double sd = sqrt(1.0 / 108 + s.tau2);
    assert_near(p[0].upper95, exp(NCAP_Z95 * sd), 1e-14);
    assert_near(p[0].lower998, exp(-NCAP_Z998 * sd), 1e-14);
    /* multiplicative: exp(-+ z sqrt(phi) / sqrt(E)) */
    o.overdispersion = FUNNEL_OD_MULTIPLICATIVE;
    run(&o, worked, 6, p, &s);
    assert_near(p[1].upper95, exp(NCAP_Z95 * sqrt(s.phi / 112)), 1e-14);
    /* 150/112 = 1.339 is inside exp(1.95996 sqrt(2.948033 / 112)) = 1.374, though outside the
     * unadjusted exact 95% limit */
    assert_int_equal(p[1].flag, FUNNEL_IN_CONTROL);
}

/* cqc: z = 2 sqrt(E) (sqrt(O/E) - 1), sorted -1.6050449, -0.7846097, 0.3352061, 1.1423506,
 * 1.9089023, 3.3288869; type 7 quantiles at 0.1 and 0.9 (h = 0.5 and 4.5) are
 * -1.6050449 + 0.5 * 0.8204352 = -1.1948273 and 1.9089023 + 0.5 * 1.4199846 = 2.6188946;
 * Winsorised, phi = 2.3271782575941194 (mpmath); tau2 = (6 phi - 5) / (4 sum E - 16 sum E^2 /
 * (4 sum E)) = 0.0034397801541862743. */
static void test_phi_worked_cqc(void **state)
{
    (void)state;
    funnel_opts_t o = funnel_opts_default(FUNNEL_RATIO);
    o.method = FUNNEL_METHOD_CQC;
    o.overdispersion = FUNNEL_OD_ADDITIVE;
    funnel_point_t p[6];
    funnel_summary_t s;
    run(&o, worked, 6, p, &s);
    assert_near(s.phi, 2.3271782575941194, 1e-12);
    assert_near(s.tau2, 0.0034397801541862743, 1e-14);
    double sd = sqrt(1.0 / (4 * 95) + s.tau2);
    double y = 1 - NCAP_Z998 * sd;
    assert_near(p[3].lower998, y * y, 1e-14);
}

/* Truncation drops floor(0.1 * 20) = 2 units at each end of the ranked z and averages z^2 over
 * the 16 kept; recomputed here from the definition. */
static void test_truncation_twenty_units(void **state)
{
    (void)state;
    funnel_unit_t u[20];
    double z[20];
    for (int i = 0; i < 20; i++) {
        u[i].denominator = 20 + 7 * i;
        u[i].numerator = floor(u[i].denominator * (0.6 + 0.04 * ((i * 7) % 20)));
        z[i] = sqrt(u[i].denominator) * log(u[i].numerator / u[i].denominator);
    }
    for (int i = 1; i < 20; i++) /* insertion sort */
        for (int j = i; j > 0 && z[j - 1] > z[j]; j--) {
            double t = z[j];
            z[j] = z[j - 1];
            z[j - 1] = t;
        }
    double sum = 0;
    for (int i = 2; i < 18; i++)
        sum += z[i] * z[i];
    funnel_opts_t o = funnel_opts_default(FUNNEL_RATIO);
    funnel_point_t p[20];
    funnel_summary_t s;
    run(&o, u, 20, p, &s);
    assert_near(s.phi, sum / 16, 1e-12);
    assert_int_equal(s.units, 20);
}

/* Proportions: asin(sqrt p) Winsorised; multiplicative limits sin^2(y0 -+ z sqrt(phi) s) with
 * s = 1/(2 sqrt n), y0 = asin(sqrt(pooled)). */
static void test_proportion_overdispersion(void **state)
{
    (void)state;
    funnel_unit_t u[5] = {{10, 100}, {30, 100}, {50, 200}, {5, 80}, {90, 300}};
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.overdispersion = FUNNEL_OD_MULTIPLICATIVE;
    funnel_point_t p[5];
    funnel_summary_t s;
    run(&o, u, 5, p, &s);
    double theta = 185.0 / 780;
    assert_near(s.target, theta, 1e-15);
    double y0 = asin(sqrt(theta)), zz[5];
    for (int i = 0; i < 5; i++)
        zz[i] = (asin(sqrt(u[i].numerator / u[i].denominator)) - y0) * 2 * sqrt(u[i].denominator);
    /* sorted: type 7 at 0.1, h = 0.4; at 0.9, h = 3.6 */
    for (int i = 1; i < 5; i++)
        for (int j = i; j > 0 && zz[j - 1] > zz[j]; j--) {
            double t = zz[j];
            zz[j] = zz[j - 1];
            zz[j - 1] = t;
        }
    double lo = zz[0] + 0.4 * (zz[1] - zz[0]), hi = zz[3] + 0.6 * (zz[4] - zz[3]);
    double sum = 0;
    for (int i = 0; i < 5; i++) {
        double c = fmin(fmax(zz[i], lo), hi);
        sum += c * c;
    }
    assert_near(s.phi, sum / 5, 1e-12);
    assert_true(s.phi > 1 && s.adjusted);
    double y = y0 + NCAP_Z95 * sqrt(s.phi) / (2 * sqrt(200.0));
    assert_near(p[2].upper95, sin(y) * sin(y), 1e-14);
}

/* funnel_point against a summary gives what funnel_compute gave each unit of the set it
 * summarised, for every overdispersion setting, and a unit outside the set its own limits: widened
 * by the set's phi (or tau2) when the set's were, exact otherwise. */
static void test_point_from_summary(void **state)
{
    (void)state;
    funnel_unit_t u[5] = {{10, 100}, {30, 100}, {50, 200}, {5, 80}, {90, 300}};
    for (int od = 0; od < 3; od++) {
        funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
        o.overdispersion = (funnel_od_t)od;
        o.target = 0.2;
        funnel_point_t p[5];
        funnel_summary_t s;
        run(&o, u, 5, p, &s);
        for (int i = 0; i < 5; i++) {
            funnel_point_t q;
            char err[256] = "";
            assert_int_equal(funnel_point(&o, &s, &u[i], &q, err, sizeof err), 0);
            assert_true(q.value == p[i].value && q.lower95 == p[i].lower95 &&
                        q.upper95 == p[i].upper95 && q.lower998 == p[i].lower998 &&
                        q.upper998 == p[i].upper998 && q.flag == p[i].flag);
        }
        funnel_unit_t site = {3, 40};
        funnel_point_t q;
        assert_int_equal(funnel_point(&o, &s, &site, &q, NULL, 0), 0);
        assert_near(q.value, 0.075, 1e-15);
        if (od != FUNNEL_OD_NONE) {
            assert_true(s.adjusted);
            double y0 = asin(sqrt(0.2)), se = 1 / (2 * sqrt(40.0));
            double sd = od == FUNNEL_OD_MULTIPLICATIVE ? sqrt(s.phi) * se : sqrt(se * se + s.tau2);
            assert_near(q.lower95, sin(y0 - NCAP_Z95 * sd) * sin(y0 - NCAP_Z95 * sd), 1e-14);
        }
        funnel_unit_t bad = {41, 40};
        char err[256] = "";
        assert_int_equal(funnel_point(&o, &s, &bad, &q, err, sizeof err), -1);
        assert_string_equal(err, "unit 1: numerator 41 is more than denominator 40");
        funnel_unit_t none = {0, 0};
        assert_int_equal(funnel_point(&o, &s, &none, &q, NULL, 0), 0);
        assert_int_equal(q.flag, FUNNEL_NO_DATA);
    }
}

/* All units alike: every z is 0, phi = 0, no adjustment: the limits are the exact ones. */
static void test_all_equal_no_adjustment(void **state)
{
    (void)state;
    funnel_unit_t u[4] = {{20, 100}, {20, 100}, {40, 200}, {2, 10}};
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    o.overdispersion = FUNNEL_OD_ADDITIVE;
    funnel_point_t p[4], q[4];
    funnel_summary_t s, t;
    run(&o, u, 4, p, &s);
    assert_near(s.phi, 0, 1e-24);
    assert_true(s.tau2 == 0 && !s.adjusted);
    o.overdispersion = FUNNEL_OD_NONE;
    run(&o, u, 4, q, &t);
    for (int i = 0; i < 4; i++) {
        assert_true(p[i].lower998 == q[i].lower998 && p[i].lower95 == q[i].lower95);
        assert_true(p[i].upper95 == q[i].upper95 && p[i].upper998 == q[i].upper998);
        assert_int_equal(p[i].flag, q[i].flag);
    }
}

/* A single unit: phi = its z^2, tau2 0 (the weights leave no between-unit spread). */
static void test_single_unit(void **state)
{
    (void)state;
    funnel_unit_t u = {150, 100};
    funnel_opts_t o = funnel_opts_default(FUNNEL_RATIO);
    o.overdispersion = FUNNEL_OD_ADDITIVE;
    funnel_point_t p;
    funnel_summary_t s;
    run(&o, &u, 1, &p, &s);
    assert_near(s.phi, 100 * log(1.5) * log(1.5), 1e-12);
    assert_true(s.tau2 == 0);
    assert_int_equal(s.units, 1);
}

/* Denominator 0 (and expected 0): no value, no limits, no flag, not counted; no NaN reaches
 * phi. */
static void test_zero_denominator(void **state)
{
    (void)state;
    funnel_unit_t u[3] = {{0, 0}, {12, 40}, {9, 30}};
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    funnel_point_t p[3];
    funnel_summary_t s;
    run(&o, u, 3, p, &s);
    assert_int_equal(p[0].flag, FUNNEL_NO_DATA);
    assert_true(isnan(p[0].value) && isnan(p[0].upper95));
    assert_string_equal(funnel_flag_name(p[0].flag), "");
    assert_int_equal(s.units, 2);
    assert_near(s.target, 0.3, 1e-15);
    assert_false(isnan(s.phi));

    o = funnel_opts_default(FUNNEL_RATIO);
    funnel_unit_t r[2] = {{3, 0}, {0, 4.5}}; /* O = 0: log 0 under shmi, left out of phi */
    run(&o, r, 2, p, &s);
    assert_int_equal(p[0].flag, FUNNEL_NO_DATA);
    /* P(X = 0) = e^-4.5 = 0.0111 < 0.025 < P(X <= 1) = 0.0611, so the lower 95% limit is
     * (1 - (0.0611 - 0.025) / 0.0500) / 4.5 = 0.062 and 0 is below it */
    assert_int_equal(p[1].flag, FUNNEL_ALERT_LOW);
    assert_true(isnan(s.phi)); /* no finite z-score at all */
}

static void test_rejects_bad_units_and_options(void **state)
{
    (void)state;
    char err[256];
    funnel_point_t p[1];
    funnel_summary_t s;
    funnel_opts_t o = funnel_opts_default(FUNNEL_PROPORTION);
    funnel_unit_t more = {11, 10};
    assert_int_equal(funnel_compute(&o, &more, 1, p, &s, err, sizeof err), -1);
    assert_string_equal(err, "unit 1: numerator 11 is more than denominator 10");
    funnel_unit_t frac = {1, 10.5};
    assert_int_equal(funnel_compute(&o, &frac, 1, p, &s, err, sizeof err), -1);
    o.trim = 0.5;
    funnel_unit_t ok = {1, 10};
    assert_int_equal(funnel_compute(&o, &ok, 1, p, &s, err, sizeof err), -1);
    assert_string_equal(err, "trim 0.5 is out of range, expected 0 <= trim < 0.5");
    o.trim = NAN;
    assert_int_equal(funnel_compute(&o, &ok, 1, p, &s, err, sizeof err), -1);
    assert_string_equal(err, "trim nan is out of range, expected 0 <= trim < 0.5");
    o.trim = 0.1;
    /* NaN, infinities and counts past what exact limits take (their sums would not end) */
    funnel_unit_t nan_den = {1, NAN}, inf_num = {INFINITY, INFINITY};
    assert_int_equal(funnel_compute(&o, &nan_den, 1, p, &s, err, sizeof err), -1);
    assert_string_equal(err, "unit 1: numerator 1 and denominator nan, expected numbers >= 0");
    assert_int_equal(funnel_compute(&o, &inf_num, 1, p, &s, err, sizeof err), -1);
    funnel_unit_t huge = {5e17, 1e18};
    assert_int_equal(funnel_compute(&o, &huge, 1, p, &s, err, sizeof err), -1);
    assert_string_equal(err, "unit 1: denominator 1e+18, expected at most 562949953421312 for "
                             "exact limits (normal limits take any)");
    funnel_opts_t ratio = funnel_opts_default(FUNNEL_RATIO);
    funnel_unit_t huge_ratio = {5e300, 1e300};
    assert_int_equal(funnel_compute(&ratio, &huge_ratio, 1, p, &s, err, sizeof err), -1);
    assert_string_equal(err, "unit 1: expected count (expected times the target) 1e+300, "
                             "expected at most 562949953421312 for exact limits (normal limits "
                             "take any)");
    ratio.target = 1e6; /* the Poisson mean is expected times the target */
    funnel_unit_t big_mean = {1e10, 1e10};
    assert_int_equal(funnel_compute(&ratio, &big_mean, 1, p, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected count (expected times the target) 1e+16"));
    /* normal limits take them */
    o.limits = FUNNEL_LIMITS_NORMAL;
    run(&o, &huge, 1, p, &s);
    assert_true(p[0].value == 0.5 && p[0].flag == FUNNEL_IN_CONTROL);
}

/* ---- the units file ---- */

static void test_input_parse(void **state)
{
    (void)state;
    const char *text = "region,unit,denominator,numerator\nN,RXX,\"100\",12\nS,RYY,0,0\n";
    char err[256];
    funnel_input_t *in = funnel_input_parse(text, strlen(text), FUNNEL_PROPORTION, err, sizeof err);
    assert_non_null(in);
    assert_int_equal(funnel_input_size(in), 2);
    assert_string_equal(funnel_input_name(in, 0), "RXX");
    assert_true(funnel_input_units(in)[0].numerator == 12);
    assert_true(funnel_input_units(in)[0].denominator == 100);
    funnel_input_destroy(&in);
    funnel_input_destroy(&in);
    assert_null(in);
}

static void test_input_errors_name_row_and_column(void **state)
{
    (void)state;
    static const struct {
        funnel_type_t type;
        const char *text, *message;
    } cases[] = {
        {FUNNEL_PROPORTION, "unit,numerator,denominator\nA,1,2\nB,1,2\nC,1,-3\n",
         "row 4: \"denominator\" is \"-3\", expected a whole number >= 0"},
        {FUNNEL_PROPORTION, "unit,numerator,denominator\nA,12,10\n",
         "row 2: \"numerator\" is \"12\", more than \"denominator\" \"10\""},
        {FUNNEL_PROPORTION, "unit,numerator,denominator\nA,1.5,10\n",
         "row 2: \"numerator\" is \"1.5\", expected a whole number >= 0"},
        {FUNNEL_RATIO, "unit,observed,expected\nA,3,abc\n",
         "row 2: \"expected\" is \"abc\", expected a number >= 0"},
        {FUNNEL_RATIO, "unit,observed,expected\nA,3,inf\n",
         "row 2: \"expected\" is \"inf\", expected a number >= 0"},
        {FUNNEL_RATIO, "unit,observed\nA,3\n",
         "row 1: header has no column \"expected\", expected unit,observed,expected"},
        {FUNNEL_RATIO, "unit,observed,expected\nA,3\n",
         "row 2: 2 fields, expected 3 as in the header"},
        {FUNNEL_RATIO, "unit,observed,expected\n,3,4\n", "row 2: \"unit\" is empty"},
        {FUNNEL_RATIO, "", "no header, expected the columns unit,observed,expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        funnel_input_t *in = funnel_input_parse(cases[i].text, strlen(cases[i].text), cases[i].type,
                                                err, sizeof err);
        assert_null(in);
        assert_string_equal(err, cases[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_limits_against_reference),
        cmocka_unit_test(test_exact_limits_very_large_n),
        cmocka_unit_test(test_normal_limits_worked),
        cmocka_unit_test(test_normal_limits_truncated),
        cmocka_unit_test(test_on_the_limit_is_in_control),
        cmocka_unit_test(test_phi_worked_shmi),
        cmocka_unit_test(test_phi_worked_cqc),
        cmocka_unit_test(test_truncation_twenty_units),
        cmocka_unit_test(test_proportion_overdispersion),
        cmocka_unit_test(test_point_from_summary),
        cmocka_unit_test(test_all_equal_no_adjustment),
        cmocka_unit_test(test_single_unit),
        cmocka_unit_test(test_zero_denominator),
        cmocka_unit_test(test_rejects_bad_units_and_options),
        cmocka_unit_test(test_input_parse),
        cmocka_unit_test(test_input_errors_name_row_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
