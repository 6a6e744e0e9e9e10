/* release_sums.h - the sums a release of one period is built from (benchmark_input_t's cells,
 * measures and series), as the publish daemon reads them from metric.aggregate and
 * metric.measure and `ncap release build` adds them up in memory. Both hand benchmark_build the
 * same values in the same order (release_sums_sort), so that they write the same bytes:
 *   cells     the period's cells, every breakdown, its months summed (month ""): metric.aggregate
 *             summed over month, the record count (metric "") left out and given as records
 *   measures  the period's values of median and mean metrics per cell, likewise (month ""):
 *             `ncap release build`'s; the publish daemon holds none, its builds stream them in
 *             value order (release_values.h), as the series_measures
 *   series    breakdown "all" cells of every month up to the end of the period, earlier periods'
 *             included (month "YYYY-MM"), for the run charts; cells of no month (a deployment
 *             before migration 0016, until metric has taken its records again) left out
 *   series_measures  the values of those months, likewise
 * A cell whose sums are all 0 is in none of them (metric.aggregate keeps none). Strings are
 * borrowed from whoever read or summed them. */
#ifndef NCAP_RELEASE_SUMS_H
#define NCAP_RELEASE_SUMS_H

#include <stddef.h>

#include "benchmark.h"

typedef struct {
    benchmark_cell_t *cells;
    size_t n_cells;
    benchmark_measure_t *measures;
    size_t n_measures;
    benchmark_cell_t *series;
    size_t n_series;
    benchmark_measure_t *series_measures;
    size_t n_series_measures;
    long long records; /* valid records of the period (the release's "records") */
} release_sums_t;

/* Sorts every array into the order both builders give benchmark_build: by trust, site, metric,
 * breakdown, category, month (bytes, as strcmp), then value. The strings are ranked once, then
 * the elements sorted on the ranks: O(n log n) integer comparisons. Returns 0, or -1 when out of
 * memory (s left as it was or partly sorted, its content the same). */
int release_sums_sort(release_sums_t *s);
/* Merges cells and measures that differ only in month into one of month "" (their sums added;
 * a measure's counts of one value), leaving them sorted (release_sums_sort). Returns 0, or -1
 * when out of memory (nothing merged). */
int release_sums_merge_months(release_sums_t *s);
/* Points in's cells, measures and series at s's. */
void release_sums_input(const release_sums_t *s, benchmark_input_t *in);
/* Frees the four arrays (not the strings). */
void release_sums_free(release_sums_t *s);

#endif
