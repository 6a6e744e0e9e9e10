/* test_sums_cache.c - the sums publish holds between rounds (sums_cache.h) give benchmark_build
 * exactly the cells reading the periods whole gives (release_sums.h: the months summed, the record
 * count, the run charts' months of every period up to this one, one order): random rows of three
 * periods put whole, then the changes of some trusts' rows applied (rows changed, gone, new, a
 * trust with no row left, a trust new to the period; a row read twice, a row gone and written
 * again) many times over, each time against a reference built from all the rows as they stand;
 * extra cells (the records withheld) merged in; changes to a period not held refused; the
 * snapshot a period is of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sums_cache.h"

static const char *const TRUSTS[] = {"RA1", "RB2", "RC3", "R1", "RX9"};
static const char *const SITES[] = {"RA101", "RB201"};
static const char *const METRICS[] = {"", "surgery_36h", "!rejected", "los"};
static const char *const BREAKDOWNS[] = {"all", "sex"};
static const char *const CATEGORIES[] = {"F", "M"};
static const char *const PERIODS[] = {"2025Q4", "2026Q1", "2026Q2"};
static const char *const MONTHS[][3] = {{"2025-10", "2025-11", "2025-12"},
                                        {"2026-01", "2026-02", "2026-03"},
                                        {"2026-04", "2026-05", ""}};
#define N_OF(a) (sizeof(a) / sizeof *(a))
#define N_TRUSTS N_OF(TRUSTS)
#define N_PERIODS N_OF(PERIODS)
#define MAX_ROWS 400

static unsigned next(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* The rows of one trust in one period, as metric.aggregate holds them. */
typedef struct {
    benchmark_cell_t cells[MAX_ROWS];
    size_t n_cells;
} rows_t;

static rows_t rows[N_PERIODS][N_TRUSTS];

static const char *in(sums_cache_t *c, const char *s)
{
    size_t i;
    assert_true(str_map_put(sums_cache_strings(c), s, &i) >= 0);
    return str_map_key(sums_cache_strings(c), i);
}

/* New random rows for trust t in period p (keys unique, as the tables' primary keys). */
static void make_rows(sums_cache_t *c, unsigned *seed, size_t p, size_t t)
{
    rows_t *r = &rows[p][t];
    *r = (rows_t){0};
    if (next(seed) % 5 == 0)
        return; /* no row left */
    for (size_t s = 0; s < N_OF(SITES); s++)
        for (size_t m = 0; m < N_OF(METRICS); m++)
            for (size_t b = 0; b < N_OF(BREAKDOWNS); b++)
                for (size_t k = 0; k < (b == 0 ? 1 : N_OF(CATEGORIES)); k++)
                    for (size_t mo = 0; mo < 3; mo++) {
                        if (next(seed) % 3 == 0)
                            continue;
                        benchmark_cell_t x = {.trust = in(c, TRUSTS[t]),
                                              .site = in(c, SITES[s]),
                                              .metric = in(c, METRICS[m]),
                                              .breakdown = in(c, BREAKDOWNS[b]),
                                              .category = in(c, b == 0 ? "" : CATEGORIES[k]),
                                              .month = in(c, MONTHS[p][mo]),
                                              .numerator = next(seed) % 10,
                                              .denominator = 10 + next(seed) % 10,
                                              .expected_e9 = next(seed),
                                              .held = next(seed) % 2,
                                              .missing = next(seed) % 3};
                        r->cells[r->n_cells++] = x;
                    }
}

/* Every row of period p, as read whole, into cells (malloc'd). */
static void all_rows(size_t p, benchmark_cell_t **cells, size_t *nc)
{
    *cells = malloc(N_TRUSTS * MAX_ROWS * sizeof **cells);
    assert_non_null(*cells);
    *nc = 0;
    /* the trusts in another order than the cache's, as PostgreSQL may give them */
    for (size_t t = N_TRUSTS; t-- > 0;) {
        memcpy(*cells + *nc, rows[p][t].cells, rows[p][t].n_cells * sizeof **cells);
        *nc += rows[p][t].n_cells;
    }
}

/* What publish's whole read gives for period p (publish_stage.c, load_sums), with extra. */
static void reference(size_t p, const benchmark_cell_t *extra, size_t n_extra, release_sums_t *s)
{
    benchmark_cell_t *cells;
    size_t nc;
    all_rows(p, &cells, &nc);
    *s = (release_sums_t){.cells = malloc((nc + n_extra + 1) * sizeof *s->cells),
                          .series = malloc(N_PERIODS * N_TRUSTS * MAX_ROWS * sizeof *s->series)};
    for (size_t i = 0; i < nc; i++) {
        if (cells[i].metric[0] == '\0') {
            if (strcmp(cells[i].breakdown, "all") == 0)
                s->records += cells[i].denominator;
            continue;
        }
        s->cells[s->n_cells++] = cells[i];
    }
    for (size_t i = 0; i < n_extra; i++)
        s->cells[s->n_cells++] = extra[i];
    free(cells);
    for (size_t q = 0; q <= p; q++) {
        benchmark_cell_t *qc;
        size_t qnc;
        all_rows(q, &qc, &qnc);
        for (size_t i = 0; i < qnc; i++)
            if (strcmp(qc[i].breakdown, "all") == 0 && qc[i].month[0] && qc[i].metric[0])
                s->series[s->n_series++] = qc[i];
        free(qc);
    }
    assert_int_equal(release_sums_merge_months(s), 0);
    assert_int_equal(release_sums_sort(s), 0);
}

/* The key of a cell, month NULL as "". */
#define SAME_KEY(x, y)                                                                             \
    do {                                                                                           \
        assert_string_equal((x).trust, (y).trust);                                                 \
        assert_string_equal((x).site, (y).site);                                                   \
        assert_string_equal((x).metric, (y).metric);                                               \
        assert_string_equal((x).breakdown, (y).breakdown);                                         \
        assert_string_equal((x).category, (y).category);                                           \
        assert_string_equal((x).month ? (x).month : "", (y).month ? (y).month : "");               \
    } while (0)

static void same_cells(const benchmark_cell_t *a, size_t na, const benchmark_cell_t *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        SAME_KEY(a[i], b[i]);
        assert_int_equal(a[i].numerator, b[i].numerator);
        assert_int_equal(a[i].denominator, b[i].denominator);
        assert_int_equal(a[i].expected_e9, b[i].expected_e9);
        assert_int_equal(a[i].held, b[i].held);
        assert_int_equal(a[i].missing, b[i].missing);
    }
}

static void check(sums_cache_t *c, size_t p, const benchmark_cell_t *extra, size_t n_extra)
{
    release_sums_t want, got;
    reference(p, extra, n_extra, &want);
    assert_int_equal(sums_cache_sums(c, "nhfd", PERIODS[p], extra, n_extra, &got), 0);
    same_cells(got.cells, got.n_cells, want.cells, want.n_cells);
    assert_int_equal(got.n_measures, 0);
    same_cells(got.series, got.n_series, want.series, want.n_series);
    assert_int_equal(got.n_series_measures, 0);
    assert_int_equal(got.records, want.records);
    release_sums_free(&want);
    release_sums_free(&got);
}

static void put_whole(sums_cache_t *c, size_t p)
{
    benchmark_cell_t *cells;
    size_t nc;
    all_rows(p, &cells, &nc);
    assert_int_equal(sums_cache_put(c, "nhfd", PERIODS[p], cells, nc), 0);
    free(cells);
}

static bool same_key(const benchmark_cell_t *a, const benchmark_cell_t *b)
{
    return a->trust == b->trust && a->site == b->site && a->metric == b->metric &&
           a->breakdown == b->breakdown && a->category == b->category && a->month == b->month;
}

static const benchmark_cell_t *key_in(const benchmark_cell_t *x, const rows_t *r)
{
    for (size_t i = 0; i < r->n_cells; i++)
        if (same_key(x, &r->cells[i]))
            return &r->cells[i];
    return NULL;
}

/* What changed from old to new rows of a trust, as publish reads it (sums_delta): into set the
 * rows new or changed (and, now and then, one unchanged: read again), into gone the keys no longer
 * there (and, now and then, a key there again: gone, then written again). */
static void changes(unsigned *seed, const rows_t *old, const rows_t *now, benchmark_cell_t *set,
                    size_t *n_set, benchmark_cell_t *gone, size_t *n_gone)
{
    for (size_t i = 0; i < now->n_cells; i++) {
        const benchmark_cell_t *x = &now->cells[i], *o = key_in(x, old);
        bool same = o && o->numerator == x->numerator && o->denominator == x->denominator &&
                    o->expected_e9 == x->expected_e9 && o->held == x->held &&
                    o->missing == x->missing;
        bool again = next(seed) % 10 == 0; /* gone, then written again: read too */
        if (!same || again || next(seed) % 10 == 0)
            set[(*n_set)++] = *x;
        if (again) {
            gone[*n_gone] = *x;
            gone[(*n_gone)++].numerator = 99; /* the sums of a key gone are not taken */
        }
    }
    for (size_t i = 0; i < old->n_cells; i++)
        if (!key_in(&old->cells[i], now))
            gone[(*n_gone)++] = old->cells[i];
}

static void test_changes_applied(void **state)
{
    (void)state;
    sums_cache_t *c = sums_cache_new();
    assert_non_null(c);
    unsigned seed = 14;
    for (size_t p = 0; p < N_PERIODS; p++) {
        for (size_t t = 0; t < N_TRUSTS; t++)
            make_rows(c, &seed, p, t);
        put_whole(c, p);
    }
    /* the records withheld: cells of month '' the held ones do not have */
    benchmark_cell_t extra[] = {{in(c, "RB2"), in(c, "RB201"), in(c, "!withheld_opt_out"),
                                 in(c, "all"), in(c, ""), in(c, ""), 0, 3, 0, 0, 0},
                                {in(c, "RB2"), in(c, "RB201"), in(c, "!withheld_opt_out"),
                                 in(c, "all"), in(c, ""), in(c, ""), 0, 2, 0, 0, 0},
                                {in(c, "R1"), in(c, "RA101"), in(c, "!withheld_opt_out"),
                                 in(c, "all"), in(c, ""), in(c, ""), 0, 1, 0, 0, 0}};
    for (size_t p = 0; p < N_PERIODS; p++)
        check(c, p, extra, N_OF(extra));
    static benchmark_cell_t set[2 * N_TRUSTS * MAX_ROWS], gone[2 * N_TRUSTS * MAX_ROWS];
    for (int round = 0; round < 60; round++) {
        size_t p = next(&seed) % N_PERIODS, n_set = 0, n_gone = 0;
        for (size_t t = 0; t < N_TRUSTS; t++) {
            if (next(&seed) % 3 != 0)
                continue;
            rows_t old = rows[p][t];
            make_rows(c, &seed, p, t);
            changes(&seed, &old, &rows[p][t], set, &n_set, gone, &n_gone);
        }
        if (n_set > 0 && round % 4 == 0) /* a row read twice */
            set[n_set++] = set[0];
        assert_int_equal(sums_cache_apply(c, "nhfd", PERIODS[p], gone, n_gone, set, n_set), 0);
        for (size_t q = 0; q < N_PERIODS; q++)
            check(c, q, extra, round % 2 ? N_OF(extra) : 0);
    }
    assert_true(sums_cache_bytes(c) > 0);

    /* a period not held: changes refused */
    assert_int_equal(sums_cache_apply(c, "nhfd", "2030Q1", NULL, 0, NULL, 0), 1);
    assert_false(sums_cache_has(c, "nhfd", "2030Q1"));
    release_sums_t s;
    assert_int_equal(sums_cache_sums(c, "nhfd", "2030Q1", NULL, 0, &s), 1);
    sums_cache_clear(c);
    assert_false(sums_cache_has(c, "nhfd", PERIODS[0]));
    sums_cache_destroy(&c);
    assert_null(c);
}

/* A period is of the snapshot of the round that put or applied rows into it, until too old. */
static void test_snapshot(void **state)
{
    (void)state;
    sums_cache_t *c = sums_cache_new();
    assert_non_null(c);
    unsigned seed = 7;
    /* every row anew, its strings interned in this cache (the last test's cache is gone) */
    for (size_t p = 0; p < N_PERIODS; p++)
        for (size_t t = 0; t < N_TRUSTS; t++)
            make_rows(c, &seed, p, t);
    put_whole(c, 0); /* no snapshot given: none known */
    assert_null(sums_cache_since(c, "nhfd", PERIODS[0], 1000));
    sums_cache_snapshot(c, "100", 0);
    put_whole(c, 0);
    put_whole(c, 1);
    sums_cache_snapshot(c, "200", 500);
    assert_string_equal(sums_cache_since(c, "nhfd", PERIODS[0], 1000), "100");
    assert_int_equal(sums_cache_apply(c, "nhfd", PERIODS[1], NULL, 0, NULL, 0), 0);
    assert_string_equal(sums_cache_since(c, "nhfd", PERIODS[1], 1000), "200");
    sums_cache_snapshot(c, "300", 1200);
    assert_null(sums_cache_since(c, "nhfd", PERIODS[0], 1000)); /* taken 1200 ms before */
    assert_string_equal(sums_cache_since(c, "nhfd", PERIODS[1], 1000), "200");
    assert_null(sums_cache_since(c, "nhfd", PERIODS[2], 1000)); /* not held */
    sums_cache_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_applied),
        cmocka_unit_test(test_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
