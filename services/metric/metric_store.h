/* metric_store.h - what ncap-metricd keeps of the records it applies: each record's contributions
 * (one row per record, its contributions as arrays: metric.record_contribution, migration 0034;
 * the view metric.contribution shows them a row per record and metric), their sums per cell and
 * month (metric.aggregate) and, for median and mean metrics, how many records of a cell have each
 * value (metric.measure), all three changed in the caller's transaction so that publish never sees
 * one without the others (migrations 0014, 0016).
 *
 * A cell is (audit, period, month, trust, site, metric_id, breakdown, category): each contribution
 * counts in breakdown 'all' (category '') of its record's month and in every breakdown its record
 * has a category in, for the whole period (month '', migration 0046: releases sum a period's
 * months of every cell, and the run charts take breakdown 'all' only, so a breakdown's months were
 * never read apart; kept per month they made three times the cells, and at a steady load from
 * many trusts most of a batch's upserts). metric.aggregate is at all times metric.contribution's
 * GROUP BY cell (month '' where breakdown is not 'all'), the cells whose sums are all 0 left out;
 * metric.measure is its GROUP BY (cell of breakdown 'all' of the month, value, the record's four
 * categories) over the contributions with a value, as counts (migration 0053: a value once a
 * record; publish counts each row in breakdown 'all' and in each breakdown its categories name,
 * value_cache.h's value_measures_each, as metric.aggregate keeps the sums). Sums of integers (the
 * expected value in fixed point, x 1e9) are exact, so both are the same whatever order records
 * were applied in.
 *
 * Each row of metric.measure carries the transaction that wrote its current version (write_xid,
 * migration 0040), and each value deleted leaves its key in metric.measure_gone, so that publish
 * reads only what changed since its last round. metric.measure and metric.measure_gone key a
 * value by its cell's number in metric.cell, which holds each cell's six fields once (migration
 * 0041), then the value and the categories; a cell is inserted with a batch's first value in it
 * and never deleted. */
#ifndef NCAP_METRIC_STORE_H
#define NCAP_METRIC_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "breakdown.h"
#include "contribution.h"

/* How long metric.measure_gone and metric.aggregate_gone keep a deleted key (seconds): a
 * publisher whose values or sums were brought up to date longer ago than half of it reads them
 * whole (release_values.h's RELEASE_VALUES_DELTA_MAX_MS). */
#define MEASURE_GONE_HORIZON_S 3600

/* One record's new contributions (n_contrib may be 0: an invalid record, or one without a
 * period, keeps none). Strings borrowed. */
typedef struct {
    long long record_id;
    const char *audit, *trust, *site;
    const char *period;                      /* "YYYYQn" */
    const char *month;                       /* "YYYY-MM" */
    const char *categories[BREAKDOWN_COUNT]; /* breakdown_t order; "" where it has none */
    const contribution_t *contrib;
    int n_contrib;
} metric_store_record_t;

/* Whether metric_id of audit may have its numerator above its denominator (a ratio: the observed
 * count); any other metric's numerator above its denominator is refused. */
typedef bool (*metric_store_is_ratio_fn)(void *ctx, const char *audit, const char *metric_id);

/* Replaces every contribution of each record of recs (each record once) with its new ones, in
 * the caller's transaction: subtracts from metric.aggregate and metric.measure what the old ones
 * added, adds the new, each upserted in its table's key order (two instances lock rows in the
 * same order, which keeps deadlocks rare; 40P01 is retried by the caller), and deletes
 * a cell whose sums are all 0 and a value whose count is 0. Returns 0, or -1 with err when a
 * statement fails (its SQLSTATE kept, db.h) or when a sum would become impossible: negative, a
 * count below 0, the numerator of a metric not a ratio above its denominator (the sums no longer
 * match the contributions: the transaction must roll back), or a contribution's value not finite.
 * The net change per cell and per value (new less old) is added up here, in memory, and only the
 * cells and values that change are sent. Cost: O(contributions replaced), in three statements (a
 * row per record deleted, a row per record inserted, the cells' upsert), up to five more with
 * values (their cells' numbers, the counts' upsert) or emptied rows. The rows another instance's
 * batch may change too (the values' counts, then the cells' sums) are written last, so that an
 * instance waiting for one waits for little more than this transaction's commit. */
int metric_store_replace(PGconn *db, const metric_store_record_t *recs, size_t n,
                         metric_store_is_ratio_fn is_ratio, void *ctx, char *err, size_t errlen);

#endif
