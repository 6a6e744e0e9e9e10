/* stage_gauges.h - the gauges a stage's daemon reads from PostgreSQL for its metrics (metrics.h),
 * each as `ncap status` counts it: the records the stage has processed (its tally, tally.h), its
 * backlog (the stage's backlog_count_sql, after its watermark), the records held in its quarantine,
 * and the stage's own gauge (stage_ops_t.gauge, e.g. publish's latest release per audit). Every
 * instance reads them on its own, every STAGE_GAUGES_MS, as often as Prometheus scrapes them
 * (deploy/monitoring/prometheus.yml): four short statements in autocommit, each O(what is new)
 * like `ncap status`. Read every 5 s, the backlog's
 * bounded count (below) of a stage behind was about 2% of the pipeline's CPU at 100,000 records
 * (linkage's 77 ms a read), two reads of three never scraped. The backlog is
 * counted up to STAGE_GAUGES_BACKLOG_BOUND rows, exactly as `ncap status` counts it below that;
 * a bigger backlog (a stage behind, where a count cost 143 ms a read at 100,000 records) is
 * counted whole at most every STAGE_GAUGES_RECOUNT_MS, and less often when the count takes long
 * (at most STAGE_GAUGES_RECOUNT_SHARE percent of the time: the count is O(backlog), and it holds up
 * the stage's loop: a catch-up of 2,000,000 records spent 23.7 s of linkage's 436 s of PostgreSQL
 * in 61 reads, nearly all of it in the dozen whole counts), the gauge giving between two counts
 * the last less what the stage has processed since (its tally: the backlog as it drains, never
 * below the bounded count; what upstream adds meanwhile shows at the next whole count). The
 * backlog is counted in a transaction of its own without hash or merge joins: by index probes,
 * O(rows counted), where the planner's hash of the whole table the stage's not_taken looks in
 * (linkage.link) made each count O(table). The records held in the quarantine are counted the
 * same way, up to the bound and whole as seldom, the last whole count standing between two. */
#ifndef NCAP_STAGE_GAUGES_H
#define NCAP_STAGE_GAUGES_H

#include <libpq-fe.h>

#include "metrics.h"
#include "stage.h"

#define STAGE_GAUGES_MS 15000
#define STAGE_GAUGES_BACKLOG_BOUND 10000
#define STAGE_GAUGES_RECOUNT_MS 60000
#define STAGE_GAUGES_RECOUNT_SHARE 1

/* Reads the gauges of stage into m (nothing when m is NULL). Returns 0, or -1 when a statement
 * failed (logged; the gauges keep their last values). */
int stage_gauges_read(const stage_ops_t *ops, const char *stage, PGconn *db, metrics_t *m);

#endif
