/* test_fs_em.c - expectation-maximisation with u fixed: one round worked by hand (with counts,
 * and with a null level), known m and prior recovered from a constructed population of
 * comparison vectors, and distinct vectors counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "fs_em.h"

static void assert_near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("got %.6f, want %.6f", got, want);
}

/* Two fields of two levels (1 agree, 2 disagree), three pairs, one EM round worked by hand.
 * u agree 0.1 and 0.2; start m agree 0.8 and 0.9, prior 0.5.
 *   (1,1): match 0.5*0.8*0.9 = 0.36, non-match 0.5*0.1*0.2 = 0.01, posterior 36/37
 *   (2,2): match 0.5*0.2*0.1 = 0.01, non-match 0.5*0.9*0.8 = 0.36, posterior 1/37
 *   (1,2): match 0.5*0.8*0.1 = 0.04, non-match 0.5*0.1*0.8 = 0.04, posterior 1/2
 * prior = (36/37 + 1/37 + 1/2) / 3 = 1/2; m agree field 0 = (36/37 + 1/2) / 1.5 = 0.981982,
 * field 1 = (36/37) / 1.5 = 0.648649. A pair with a null level says nothing about that field. */
static void em_worked_example(void **state)
{
    (void)state;
    const uint8_t gamma[] = {1, 1, 2, 2, 1, 2};
    size_t nlevels[2] = {3, 3};
    double u[2 * FS_MAX_LEVELS] = {0}, m[2 * FS_MAX_LEVELS] = {0};
    u[1] = 0.1, u[2] = 0.9, u[FS_MAX_LEVELS + 1] = 0.2, u[FS_MAX_LEVELS + 2] = 0.8;
    m[1] = 0.8, m[2] = 0.2, m[FS_MAX_LEVELS + 1] = 0.9, m[FS_MAX_LEVELS + 2] = 0.1;
    double lambda = 0.5;
    assert_int_equal(fs_em(gamma, 3, 2, nlevels, u, m, &lambda, 1), 1);
    assert_near(lambda, 0.5, 1e-9);
    assert_near(m[1], (36.0 / 37 + 0.5) / 1.5, 1e-9);
    assert_near(m[2], (1.0 / 37) / 1.5, 1e-9);
    assert_near(m[FS_MAX_LEVELS + 1], (36.0 / 37) / 1.5, 1e-9);
    assert_near(m[FS_MAX_LEVELS + 2], (1.0 / 37 + 0.5) / 1.5, 1e-9);

    /* the same pairs as distinct patterns with counts give the same round */
    const uint8_t patterns[] = {1, 1, 2, 2, 1, 2, 0, 1};
    const double count[] = {2, 2, 2, 0};
    double m2[2 * FS_MAX_LEVELS] = {0}, lambda2 = 0.5;
    m2[1] = 0.8, m2[2] = 0.2, m2[FS_MAX_LEVELS + 1] = 0.9, m2[FS_MAX_LEVELS + 2] = 0.1;
    fs_em_counts(patterns, count, 4, 2, nlevels, u, m2, &lambda2, 1);
    assert_near(lambda2, 0.5, 1e-9);
    assert_near(m2[1], m[1], 1e-9);
    assert_near(m2[FS_MAX_LEVELS + 1], m[FS_MAX_LEVELS + 1], 1e-9);

    /* field 0 null in a fourth pair (0,1): field 0's m is estimated from the three others */
    const uint8_t with_null[] = {1, 1, 2, 2, 1, 2, 0, 1};
    double m3[2 * FS_MAX_LEVELS] = {0}, lambda3 = 0.5;
    m3[1] = 0.8, m3[2] = 0.2, m3[FS_MAX_LEVELS + 1] = 0.9, m3[FS_MAX_LEVELS + 2] = 0.1;
    fs_em(with_null, 4, 2, nlevels, u, m3, &lambda3, 1);
    /* (0,1): match 0.5*0.9, non-match 0.5*0.2, posterior 9/11 */
    assert_near(lambda3, (36.0 / 37 + 1.0 / 37 + 0.5 + 9.0 / 11) / 4, 1e-9);
    assert_near(m3[1], m[1], 1e-9);
    assert_near(m3[FS_MAX_LEVELS + 1], (36.0 / 37 + 9.0 / 11) / (1.5 + 9.0 / 11), 1e-9);
}

/* Three fields agree (level 1) or disagree (level 2); the population of pairs is built exactly
 * from known m, u and prior; EM with u fixed must find m and the prior again. */
static void em_recovers_known_parameters(void **state)
{
    (void)state;
    const double m_true[3] = {0.9, 0.8, 0.95}, u_true[3] = {0.05, 0.1, 0.01}, prior = 0.2;
    static uint8_t gamma[200000 * 3];
    size_t n = 0;
    for (int pattern = 0; pattern < 8; pattern++) {
        double pm = prior, pu = 1 - prior;
        for (int f = 0; f < 3; f++) {
            int agree = (pattern >> f) & 1;
            pm *= agree ? m_true[f] : 1 - m_true[f];
            pu *= agree ? u_true[f] : 1 - u_true[f];
        }
        size_t count = (size_t)lround(100000 * (pm + pu));
        for (size_t k = 0; k < count; k++, n++)
            for (int f = 0; f < 3; f++)
                gamma[n * 3 + (size_t)f] = ((pattern >> f) & 1) ? 1 : 2;
    }
    size_t nlevels[3] = {3, 3, 3};
    double u[3 * FS_MAX_LEVELS] = {0}, m[3 * FS_MAX_LEVELS] = {0};
    for (size_t f = 0; f < 3; f++) {
        u[f * FS_MAX_LEVELS + 1] = u_true[f];
        u[f * FS_MAX_LEVELS + 2] = 1 - u_true[f];
        m[f * FS_MAX_LEVELS + 1] = 0.6; /* a poor start */
        m[f * FS_MAX_LEVELS + 2] = 0.4;
    }
    double lambda = 0.5;
    size_t iter = fs_em(gamma, n, 3, nlevels, u, m, &lambda, 1000);
    assert_true(iter < 1000);
    assert_near(lambda, prior, 1e-3);
    for (size_t f = 0; f < 3; f++) {
        assert_near(m[f * FS_MAX_LEVELS + 1], m_true[f], 2e-3);
        assert_near(m[f * FS_MAX_LEVELS + 1] + m[f * FS_MAX_LEVELS + 2], 1, 1e-9);
    }
}

static void patterns_counted(void **state)
{
    (void)state;
    fs_patterns_t pt = {.nfields = 3};
    const uint8_t rows[][3] = {{1, 1, 2}, {2, 2, 2}, {1, 1, 2}, {0, 1, 2}, {1, 1, 2}};
    size_t index[5];
    for (size_t r = 0; r < 5; r++)
        assert_int_equal(fs_patterns_add(&pt, rows[r], &index[r]), 0);
    assert_int_equal(pt.n, 3);
    assert_int_equal(index[0], index[2]);
    assert_int_equal(index[0], index[4]);
    assert_true(index[1] != index[0] && index[3] != index[0] && index[3] != index[1]);
    assert_near(pt.count[index[0]], 3, 0);
    assert_near(pt.count[index[1]], 1, 0);
    assert_memory_equal(pt.gamma + index[3] * 3, rows[3], 3);
    /* past the first table size (256): every vector of 4 fields of 5 levels, twice */
    fs_patterns_t big = {.nfields = 4};
    for (int round = 0; round < 2; round++)
        for (size_t v = 0; v < 625; v++) {
            uint8_t g[4] = {(uint8_t)(v % 5), (uint8_t)(v / 5 % 5), (uint8_t)(v / 25 % 5),
                            (uint8_t)(v / 125)};
            size_t i;
            assert_int_equal(fs_patterns_add(&big, g, &i), 0);
            assert_int_equal(i, v);
        }
    assert_int_equal(big.n, 625);
    assert_near(big.count[624], 2, 0);
    fs_patterns_free(&big);
    fs_patterns_free(&pt);
    assert_null(pt.gamma);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(em_worked_example),
        cmocka_unit_test(em_recovers_known_parameters),
        cmocka_unit_test(patterns_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
