/* sums_cache.h - the sums of each audit period publish holds between its rounds (pure: no SQL), so
 * that a round reads from PostgreSQL only the cells of the trusts whose records changed, not the
 * whole period again.
 *
 * A period is held as metric.aggregate's rows of the period as stored (per month, the record
 * count's cells, metric "", among them), in the order of their interned strings' addresses
 * (compared by pointer, never by strcmp), and as release_sums.h
 * gives it to benchmark_build, made from them: its cells with the months summed, and its breakdown
 * "all" cells per month (its part of the run charts of this period and every later one), and the
 * records of each trust. What the holder puts is either all the period's rows, or those that
 * changed since the snapshot the period is of (migration 0045: metric.aggregate's write_xid, the
 * cells gone in metric.aggregate_gone), which set or drop single rows (sums_cache_apply). The
 * strings of what is put must be interned in sums_cache_strings (its keys never move).
 *
 * Cells only: the values of median and mean metrics (metric.measure, about one row per record's
 * value, migration 0053) are held apart, compactly and within a budget (value_cache.h), or streamed from
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

/* The current round's snapshot: its xmin (pg_snapshot_xmin, as text) and when it was taken (ms of
 * a monotonic clock); each period then put or applied is of it. Until one is given, periods put
 * are of no known snapshot. */
void sums_cache_snapshot(sums_cache_t *c, const char *xmin, double now_ms);
/* The xmin of the snapshot (audit, period)'s rows are those of, when held, of a known snapshot
 * taken at most max_age_ms before the current round's; otherwise NULL. */
const char *sums_cache_since(const sums_cache_t *c, const char *audit, const char *period,
                             double max_age_ms);

/* Puts the rows of (audit, period), the whole period (held or not): cells as metric.aggregate
 * keeps them (a cell of metric "" counts records: breakdown "all" ones give each trust's
 * records, the others are left out), their strings interned in sums_cache_strings. The period is
 * then of the round's snapshot. Returns 0, or -1 when out of memory (the period forgotten). */
int sums_cache_put(sums_cache_t *c, const char *audit, const char *period,
                   const benchmark_cell_t *cells, size_t n_cells);

/* Brings the held (audit, period) up to the round from what changed since its snapshot: the
 * cells of set (rows as sums_cache_put takes them) get their sums (those not held added), then
 * the cells of gone (their sums ignored) not in set are dropped. The period is then of the
 * round's snapshot. Cost: O(rows of the period + changed x log) and the period's sums made again
 * from its rows. Returns 0, 1 when the period is not held (nothing done), or -1 when out of
 * memory (the period forgotten). */
int sums_cache_apply(sums_cache_t *c, const char *audit, const char *period,
                     const benchmark_cell_t *gone, size_t n_gone, const benchmark_cell_t *set,
                     size_t n_set);

/* The sums of (audit, period) into s as release_sums.h has them (free with release_sums_free;
 * strings the cache's and extra's; no measures): the period's cells with extra (cells of month ""
 * of keys no held cell has, e.g. the records withheld under the opt-out), its records, and the
 * series of every period of the audit held up to this one (the holder holds every period of the
 * audit that has rows up to it). Returns 0, 1 when the period is not held, or -1 when out of
 * memory. */
int sums_cache_sums(sums_cache_t *c, const char *audit, const char *period,
                    const benchmark_cell_t *extra, size_t n_extra, release_sums_t *s);

#endif
