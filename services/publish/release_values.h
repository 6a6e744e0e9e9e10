/* release_values.h - the values of a release's median and mean metrics as the publish daemon
 * hands them to benchmark_build (benchmark_measure_reader_t): read from metric.measure through a
 * cursor in ascending order of value and handed on row by row, never held, so that publish's
 * memory does not grow with the records (a period's values are about one per record and
 * breakdown). PostgreSQL sorts them; benchmark_build takes each row's few order statistics and
 * sums as they pass. */
#ifndef NCAP_RELEASE_VALUES_H
#define NCAP_RELEASE_VALUES_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "benchmark.h"

/* Rows are read through a cursor this many at a time: publish holds one chunk of a query's
 * result at once, never the whole of it. */
#define RELEASE_ROWS_PER_FETCH 8192

/* Runs sql (n parameters p; a SELECT) through a cursor and hands each row to row(ctx, result, i).
 * Returns 0, or -1 with err (a statement failed, or row() did: "out of memory"). */
int release_values_rows(PGconn *db, const char *sql, int n, const char *const *p,
                        int (*row)(void *ctx, const PGresult *r, int i), void *ctx, char *err,
                        size_t errlen);

/* A reader's state: the connection (in the round's transaction, so that the values are those of
 * the cells it read) and the release's audit and period. */
typedef struct {
    PGconn *db;
    const char *audit, *period;
} release_values_t;

/* benchmark_measure_reader_t over metric.measure (reader a release_values_t): series false, the
 * period's rows (every breakdown and month); true, the breakdown "all" rows of every month of the
 * periods up to it (the run charts'). */
int release_values_read(void *reader, bool series, benchmark_each_measure_t each, void *ctx,
                        char *err, size_t errlen);

#endif
