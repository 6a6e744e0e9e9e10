/* release_sums.c - a release's sums, in the one order both builders give them */
#include "release_sums.h"

#include <stdlib.h>
#include <string.h>

static int cmp_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* The key of a cell or measure without its month, then its month. */
static int cmp_key(const char *const x[5], const char *const y[5])
{
    for (int k = 0; k < 5; k++) {
        int c = cmp_text(x[k], y[k]);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_cell_no_month(const benchmark_cell_t *a, const benchmark_cell_t *b)
{
    const char *x[5] = {a->trust, a->site, a->metric, a->breakdown, a->category};
    const char *y[5] = {b->trust, b->site, b->metric, b->breakdown, b->category};
    return cmp_key(x, y);
}

static int cmp_measure_no_month(const benchmark_measure_t *a, const benchmark_measure_t *b)
{
    const char *x[5] = {a->trust, a->site, a->metric, a->breakdown, a->category};
    const char *y[5] = {b->trust, b->site, b->metric, b->breakdown, b->category};
    return cmp_key(x, y);
}

static int cmp_value(double a, double b)
{
    return (a > b) - (a < b);
}

static int cmp_cell(const void *pa, const void *pb)
{
    const benchmark_cell_t *a = pa, *b = pb;
    int c = cmp_cell_no_month(a, b);
    return c ? c : cmp_text(a->month, b->month);
}

static int cmp_measure(const void *pa, const void *pb)
{
    const benchmark_measure_t *a = pa, *b = pb;
    int c = cmp_measure_no_month(a, b);
    if (!c)
        c = cmp_text(a->month, b->month);
    return c ? c : cmp_value(a->value, b->value);
}

/* Measures by key and value, months aside: those to merge sit side by side. */
static int cmp_measure_merge(const void *pa, const void *pb)
{
    const benchmark_measure_t *a = pa, *b = pb;
    int c = cmp_measure_no_month(a, b);
    if (!c)
        c = cmp_value(a->value, b->value);
    return c ? c : cmp_text(a->month, b->month);
}

void release_sums_sort(release_sums_t *s)
{
    if (s->n_cells > 1)
        qsort(s->cells, s->n_cells, sizeof *s->cells, cmp_cell);
    if (s->n_measures > 1)
        qsort(s->measures, s->n_measures, sizeof *s->measures, cmp_measure);
    if (s->n_series > 1)
        qsort(s->series, s->n_series, sizeof *s->series, cmp_cell);
    if (s->n_series_measures > 1)
        qsort(s->series_measures, s->n_series_measures, sizeof *s->series_measures, cmp_measure);
}

void release_sums_merge_months(release_sums_t *s)
{
    if (s->n_cells > 1)
        qsort(s->cells, s->n_cells, sizeof *s->cells, cmp_cell);
    size_t m = 0;
    for (size_t i = 0; i < s->n_cells; i++) {
        benchmark_cell_t *c = &s->cells[i];
        if (m > 0 && cmp_cell_no_month(&s->cells[m - 1], c) == 0) {
            benchmark_cell_t *to = &s->cells[m - 1];
            to->numerator += c->numerator;
            to->denominator += c->denominator;
            to->expected_e9 += c->expected_e9;
            to->held += c->held;
            to->missing += c->missing;
            continue;
        }
        s->cells[m] = *c;
        s->cells[m++].month = "";
    }
    s->n_cells = m;
    if (s->n_measures > 1)
        qsort(s->measures, s->n_measures, sizeof *s->measures, cmp_measure_merge);
    m = 0;
    for (size_t i = 0; i < s->n_measures; i++) {
        benchmark_measure_t *x = &s->measures[i];
        if (m > 0 && cmp_measure_no_month(&s->measures[m - 1], x) == 0 &&
            s->measures[m - 1].value == x->value) {
            s->measures[m - 1].count += x->count;
            continue;
        }
        s->measures[m] = *x;
        s->measures[m++].month = "";
    }
    s->n_measures = m;
}

void release_sums_input(const release_sums_t *s, benchmark_input_t *in)
{
    in->cells = s->cells;
    in->n_cells = s->n_cells;
    in->measures = s->measures;
    in->n_measures = s->n_measures;
    in->series = s->series;
    in->n_series = s->n_series;
    in->series_measures = s->series_measures;
    in->n_series_measures = s->n_series_measures;
}

void release_sums_free(release_sums_t *s)
{
    free(s->cells);
    free(s->measures);
    free(s->series);
    free(s->series_measures);
    *s = (release_sums_t){0};
}
