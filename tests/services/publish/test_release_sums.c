/* test_release_sums.c - release_sums_merge_months and release_sums_sort against a plain reference
 * (strcmp on every field, as the order is defined): random cells and measures over small pools of
 * keys, equal strings at different addresses (the ranking finds strings by address first) and
 * NULL fields; months merged with their sums added, measures of one value merged, every array in
 * order (trust, site, metric, breakdown, category, month, then value). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "release_sums.h"

static const char *const TRUSTS[] = {"RA1", "RB2", "RC3", "R1"};
static const char *const SITES[] = {"", "RA101", "RB201"};
static const char *const METRICS[] = {"surgery_36h", "mortality_30d", "los"};
static const char *const BREAKDOWNS[] = {"all", "sex", "age"};
static const char *const CATEGORIES[] = {"", "F", "M", "80-89"};
static const char *const MONTHS[] = {"2026-01", "2026-02", "2026-03", ""};
static const double VALUES[] = {0.5, 1.0, 2.0, 3.5, -1.25};
#define N_OF(a) (sizeof(a) / sizeof *(a))

/* Strings handed out, so that they can be freed. */
static char *copies[100000];
static size_t n_copies;

static unsigned next(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* A string of the pool: the pool's own address, a copy at another address, or NULL for "". */
static const char *pick(unsigned *seed, const char *const *pool, size_t n)
{
    const char *s = pool[next(seed) % n];
    unsigned how = next(seed) % 4;
    if (how == 0 && s[0] == '\0')
        return NULL;
    if (how == 1) {
        assert_true(n_copies < N_OF(copies));
        return copies[n_copies++] = strdup(s);
    }
    return s;
}

static const char *text(const char *s)
{
    return s ? s : "";
}

static int cmp_fields(const char *const x[6], const char *const y[6], int n)
{
    for (int k = 0; k < n; k++) {
        int c = strcmp(text(x[k]), text(y[k]));
        if (c)
            return c;
    }
    return 0;
}

#define FIELDS(c)                                                                                  \
    {                                                                                              \
        (c)->trust, (c)->site, (c)->metric, (c)->breakdown, (c)->category, (c)->month              \
    }

static int ref_cmp_cell(const void *pa, const void *pb)
{
    const benchmark_cell_t *a = pa, *b = pb;
    return cmp_fields((const char *[])FIELDS(a), (const char *[])FIELDS(b), 6);
}

static int ref_cmp_measure(const void *pa, const void *pb)
{
    const benchmark_measure_t *a = pa, *b = pb;
    int c = cmp_fields((const char *[])FIELDS(a), (const char *[])FIELDS(b), 6);
    return c ? c : (a->value > b->value) - (a->value < b->value);
}

/* The reference merge: sums per key without its month (month ""), in order. */
static size_t ref_merge_cells(benchmark_cell_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        c[i].month = "";
    qsort(c, n, sizeof *c, ref_cmp_cell);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && ref_cmp_cell(&c[m - 1], &c[i]) == 0) {
            c[m - 1].numerator += c[i].numerator;
            c[m - 1].denominator += c[i].denominator;
            c[m - 1].expected_e9 += c[i].expected_e9;
            c[m - 1].held += c[i].held;
            c[m - 1].missing += c[i].missing;
            continue;
        }
        c[m++] = c[i];
    }
    return m;
}

static size_t ref_merge_measures(benchmark_measure_t *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i].month = "";
    qsort(x, n, sizeof *x, ref_cmp_measure);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && ref_cmp_measure(&x[m - 1], &x[i]) == 0) {
            x[m - 1].count += x[i].count;
            continue;
        }
        x[m++] = x[i];
    }
    return m;
}

static benchmark_cell_t random_cell(unsigned *seed)
{
    return (benchmark_cell_t){.trust = pick(seed, TRUSTS, N_OF(TRUSTS)),
                              .site = pick(seed, SITES, N_OF(SITES)),
                              .metric = pick(seed, METRICS, N_OF(METRICS)),
                              .breakdown = pick(seed, BREAKDOWNS, N_OF(BREAKDOWNS)),
                              .category = pick(seed, CATEGORIES, N_OF(CATEGORIES)),
                              .month = pick(seed, MONTHS, N_OF(MONTHS)),
                              .numerator = next(seed) % 7,
                              .denominator = 7 + next(seed) % 5,
                              .expected_e9 = (long long)(next(seed) % 1000) * 1000000,
                              .held = next(seed) % 2,
                              .missing = next(seed) % 3};
}

static benchmark_measure_t random_measure(unsigned *seed)
{
    benchmark_cell_t c = random_cell(seed);
    return (benchmark_measure_t){.trust = c.trust,
                                 .site = c.site,
                                 .metric = c.metric,
                                 .breakdown = c.breakdown,
                                 .category = c.category,
                                 .month = c.month,
                                 .value = VALUES[next(seed) % N_OF(VALUES)],
                                 .count = 1 + next(seed) % 3};
}

static void assert_same_cells(const benchmark_cell_t *a, const benchmark_cell_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ref_cmp_cell(&a[i], &b[i]), 0);
        assert_int_equal(a[i].numerator, b[i].numerator);
        assert_int_equal(a[i].denominator, b[i].denominator);
        assert_int_equal(a[i].expected_e9, b[i].expected_e9);
        assert_int_equal(a[i].held, b[i].held);
        assert_int_equal(a[i].missing, b[i].missing);
    }
}

static void assert_same_measures(const benchmark_measure_t *a, const benchmark_measure_t *b,
                                 size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ref_cmp_measure(&a[i], &b[i]), 0);
        assert_int_equal(a[i].count, b[i].count);
    }
}

static void test_merge_and_sort_as_the_reference(void **state)
{
    (void)state;
    for (unsigned round = 0; round < 20; round++) {
        unsigned seed = 7 + round;
        size_t n = 50 + next(&seed) % 3000;
        release_sums_t s = {.cells = calloc(n, sizeof(benchmark_cell_t)),
                            .measures = calloc(n, sizeof(benchmark_measure_t)),
                            .series = calloc(n, sizeof(benchmark_cell_t)),
                            .series_measures = calloc(n, sizeof(benchmark_measure_t))};
        benchmark_cell_t *want_cells = calloc(n, sizeof *want_cells),
                         *want_series = calloc(n, sizeof *want_series);
        benchmark_measure_t *want_measures = calloc(n, sizeof *want_measures),
                            *want_series_measures = calloc(n, sizeof *want_series_measures);
        assert_non_null(want_cells);
        assert_non_null(want_series);
        assert_non_null(want_measures);
        assert_non_null(want_series_measures);
        for (size_t i = 0; i < n; i++) {
            want_cells[i] = s.cells[i] = random_cell(&seed);
            want_measures[i] = s.measures[i] = random_measure(&seed);
            want_series[i] = s.series[i] = random_cell(&seed);
            want_series_measures[i] = s.series_measures[i] = random_measure(&seed);
        }
        s.n_cells = s.n_measures = s.n_series = s.n_series_measures = n;

        assert_int_equal(release_sums_merge_months(&s), 0);
        assert_int_equal(release_sums_sort(&s), 0);

        size_t nc = ref_merge_cells(want_cells, n), nm = ref_merge_measures(want_measures, n);
        qsort(want_series, n, sizeof *want_series, ref_cmp_cell);
        qsort(want_series_measures, n, sizeof *want_series_measures, ref_cmp_measure);
        assert_int_equal(s.n_cells, nc);
        assert_int_equal(s.n_measures, nm);
        assert_int_equal(s.n_series, n);
        assert_int_equal(s.n_series_measures, n);
        assert_same_cells(s.cells, want_cells, nc);
        assert_same_measures(s.measures, want_measures, nm);
        assert_same_cells(s.series, want_series, n);
        assert_same_measures(s.series_measures, want_series_measures, n);

        release_sums_free(&s);
        free(want_cells);
        free(want_series);
        free(want_measures);
        free(want_series_measures);
        for (size_t i = 0; i < n_copies; i++)
            free(copies[i]);
        n_copies = 0;
    }
}

static void test_empty(void **state)
{
    (void)state;
    release_sums_t s = {0};
    assert_int_equal(release_sums_merge_months(&s), 0);
    assert_int_equal(release_sums_sort(&s), 0);
    assert_int_equal(s.n_cells + s.n_measures + s.n_series + s.n_series_measures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_and_sort_as_the_reference),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
