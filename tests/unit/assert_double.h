/* assert_double.h - comparing doubles in the unit tests, in double precision. cmocka 1.1's
 * assert_float_equal converts its arguments to float first, so a tolerance of 1e-12 passed to it
 * checks ~7 digits at best; these keep all of them. Include after <cmocka.h>. */
#ifndef NCAP_TEST_ASSERT_DOUBLE_H
#define NCAP_TEST_ASSERT_DOUBLE_H

#include <math.h>

/* |got - want| <= tol; fails on NaN */
#define assert_near(got, want, tol) assert_near_at((got), (want), (tol), __FILE__, __LINE__)
/* |got - want| <= rel |want|; fails on NaN */
#define assert_close(got, want, rel)                                                               \
    assert_near_at((got), (want), (rel)*fabs((double)(want)), __FILE__, __LINE__)

static inline void assert_near_at(double got, double want, double tol, const char *file, int line)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("got %.17g, want %.17g (difference %.3g, allowed %.3g)\n", got, want,
                    fabs(got - want), tol);
        _fail(file, line);
    }
}

#endif
