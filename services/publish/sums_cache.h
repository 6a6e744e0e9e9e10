/* sums_cache.h - the sums of each audit period publish holds between its rounds (pure: no SQL), so
 * that a round reads from PostgreSQL only the cells of the trusts whose records changed, not the
 * whole period again.
 *
 * A period is held as release_sums.h gives it to benchmark_build: its cells with the months
 * summed, and its breakdown "all" cells per month (its part of the run charts of this period and
 * every later one), each array in release_sums_sort's order, and the records of each trust. What
 * the holder puts is metric.aggregate's rows of the period as stored (per month, the record
 * count's cells, metric "", among them), either all of them or those of some trusts, which then
 * replace what was held of those trusts: trust is the first key, so a trust's elements are one run
 * of each array. The strings of what is put must be interned in sums_cache_strings (its keys never
 * move): elements are compared by pointer for their trust.
 *
 * Cells only: the values of median and mean metrics (metric.measure, about one row per record and
 * breakdown) are held apart, compactly and within a budget (value_cache.h), or streamed from
 * PostgreSQL in value order (release_values.h).
 *
 * Memory: what the periods held take (sums_cache_bytes), bounded by the holder (publish forgets
 * every period and stops holding any when the budget is passed). */
#ifndef NCAP_SUMS_CACHE_H
#define NCAP_SUMS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "benchmark.h"
#include "release_sums.h"
#include "str_map.h"

typedef struct sums_cache sums_cache_t;

/* An empty cache, or NULL when out of memory. */
sums_cache_t *sums_cache_new(void);
/* Frees everything and sets *c to NULL; harmless on NULL. */
void sums_cache_destroy(sums_cache_t **c);
/* Forgets every period held (the strings stay: there are few). */
void sums_cache_clear(sums_cache_t *c);
/* The map the strings of what is put are interned in. */
str_map_t *sums_cache_strings(sums_cache_t *c);
/* Whether (audit, period) is held. */
bool sums_cache_has(const sums_cache_t *c, const char *audit, const char *period);
/* The bytes the periods held take. */
size_t sums_cache_bytes(const sums_cache_t *c);

/* Puts the rows of (audit, period): cells as metric.aggregate keeps them (a cell of metric ""
 * counts records: breakdown "all" ones give each trust's records, the others are left out), their
 * strings interned in sums_cache_strings. trusts NULL: the rows are
 * the whole period (held or not); otherwise they are those of the n_trusts trusts named (interned
 * too, and only those: a row of another trust is an error), which replace what the held period
 * had of them (a trust with no row left: none of it). Returns 0, 1 when trusts are given and the
 * period is not held (nothing done), or -1 when out of memory or a row is of another trust (the
 * period forgotten). */
int sums_cache_put(sums_cache_t *c, const char *audit, const char *period,
                   const char *const *trusts, size_t n_trusts, const benchmark_cell_t *cells,
                   size_t n_cells);

/* The sums of (audit, period) into s as release_sums.h has them (free with release_sums_free;
 * strings the cache's and extra's; no measures): the period's cells with extra (cells of month ""
 * of keys no held cell has, e.g. the records withheld under the opt-out), its records, and the
 * series of every period of the audit held up to this one (the holder holds every period of the
 * audit that has rows up to it). Returns 0, 1 when the period is not held, or -1 when out of
 * memory. */
int sums_cache_sums(sums_cache_t *c, const char *audit, const char *period,
                    const benchmark_cell_t *extra, size_t n_extra, release_sums_t *s);

#endif
