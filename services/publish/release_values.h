/* release_values.h - the values of a release's median and mean metrics as the publish daemon
 * hands them to benchmark_build (benchmark_measure_reader_t): from those it holds between rounds
 * (value_cache.h, within a budget), or else read from metric.measure through a cursor in
 * ascending order of value and handed on row by row, never held, so that publish's memory does
 * not grow with the records (a period's values are about one per record and breakdown). Either
 * way the same rows in ascending order of value; benchmark_build takes each row's few order
 * statistics and sums as they pass. */
#ifndef NCAP_RELEASE_VALUES_H
#define NCAP_RELEASE_VALUES_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "benchmark.h"
#include "value_cache.h"

/* A reader's state: the connection (in the round's transaction, so that the values are those of
 * the cells it read), the release's audit and period, and the values held between rounds
 * (value_cache.h; NULL: none): own, the period's are held; series, those of every period of the
 * audit up to it are. What is not held is streamed from metric.measure. */
typedef struct {
    PGconn *db;
    const char *audit, *period;
    value_cache_t *cache;
    bool own, series;
} release_values_t;

/* Reads the rows of (audit, period) of metric.measure into the cache, whole (value_cache_put). A
 * period whose rows alone are past the cache's budget is marked too big
 * (value_cache_mark_too_big). Returns 0, 1 when too big (not held), or -1 with err. */
int release_values_cache(PGconn *db, value_cache_t *c, const char *audit, const char *period,
                         char *err, size_t errlen);

/* How old the snapshot of a held period may be for release_values_deltas to bring it up to date
 * (ms): half of how long metric keeps the keys it deletes (metric_store.h's
 * MEASURE_GONE_HORIZON_S, 1 hour), so that no key deleted since the snapshot is gone from
 * metric.measure_gone yet. */
#define RELEASE_VALUES_DELTA_MAX_MS (1800 * 1000.0)

/* Brings the held periods[0..n) of audit up to the round's snapshot (value_cache_snapshot) from
 * their rows of metric.measure that changed since the snapshots they are those of (migration
 * 0040: of xmin h, value_cache_since), in one read for them all from the oldest h: the keys of
 * metric.measure_gone with write_xid >= h, each with its count now if it was written again, and
 * the periods' rows with write_xid >= h (migration 0047: an index range of metric.measure's
 * write_xid), each into its period's value_cache_apply. Every row written since a snapshot, or by
 * a transaction running then, has a write_xid of at least its h (migration 0018's rule), and
 * every count read is the round's: a key read again, or read from before its period's own h, is
 * harmless. A period of no snapshot, or of one older than RELEASE_VALUES_DELTA_MAX_MS, is
 * forgotten (read whole: release_values_cache); one whose rows could not all be held is as
 * release_values_cache leaves it (too big, or not held this round). Cost: the rows of every
 * period written since the oldest h (a round's worth), each looked up in metric.cell, once for
 * all the periods (a read per period walked the same range once each); never a row not written
 * since. Returns how many periods it brought up to date, or -1 with err. */
int release_values_deltas(PGconn *db, value_cache_t *c, const char *audit,
                          const char *const *periods, size_t n, char *err, size_t errlen);

/* benchmark_measure_reader_t over metric.measure (reader a release_values_t): series false, the
 * period's rows (every breakdown and month); true, the breakdown "all" rows of every month of the
 * periods up to it (the run charts'); from the cache where held (every month: the builder passes
 * over those before from_month), else from SQL, which leaves the cells of the months before
 * from_month (NULL: none) out before their values are joined; the same rows in the same order of
 * value. */
int release_values_read(void *reader, bool series, const char *from_month,
                        benchmark_each_measure_t each, void *ctx, char *err, size_t errlen);

#endif
