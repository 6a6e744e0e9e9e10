/* metrics.h - what a daemon counts, in Prometheus's text exposition format (version 0.0.4): the
 * counters, gauges and histograms the runtime updates as it works, read by the daemon's own HTTP
 * listener (metrics_http.h) on another thread.
 *
 * Pure: no sockets, no SQL, no clock (callers pass the time). Every counter, gauge and histogram
 * bucket is a C11 atomic updated with relaxed ordering, so the daemon's loop never waits for a
 * scrape and a scrape never waits for the loop; only the gauges of a stage's own (one series per
 * audit, say, set every few seconds) sit behind a mutex held for a copy. A scrape reads each value
 * once: a histogram's _count is the sum of the bucket counts it read, so +Inf always equals _count
 * even while a batch is being observed.
 *
 * Every series carries the label stage="<stage>". What each metric means is in README.md,
 * "Operations: metrics, health and alerts"; tests/common/runtime/test_metrics.c holds the exact
 * text. */
#ifndef NCAP_METRICS_H
#define NCAP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct metrics_t metrics_t;

typedef enum {
    METRICS_RECORDS_PROCESSED,   /* ncap_records_processed_total: committed by this instance */
    METRICS_RECORDS_QUARANTINED, /* ncap_records_quarantined_total */
    METRICS_RECORDS_DEFERRED,    /* ncap_records_deferred_total: left to the next batch */
    METRICS_MESSAGES_RECEIVED,   /* ncap_messages_received_total: nudges in (ingest: requests) */
    METRICS_MESSAGES_SENT,       /* ncap_messages_sent_total: nudges out */
    METRICS_MESSAGES_DROPPED,    /* ncap_messages_dropped_total: nudges not sent (no room) */
    METRICS_DB_RECONNECTS,       /* ncap_db_reconnects_total: PostgreSQL connections re-made */
    METRICS_N_COUNTERS
} metrics_counter_t;

typedef enum {
    METRICS_STAGE_PROCESSED, /* ncap_stage_processed_records: `ncap status`'s processed */
    METRICS_BACKLOG,         /* ncap_backlog_records: what `ncap status` shows as the backlog */
    METRICS_QUARANTINE,      /* ncap_quarantine_records: held in <stage>.quarantine */
    METRICS_DB_CONNECTED,    /* ncap_db_connected: 1 while the loop's connection is up */
    METRICS_REGISTERED,      /* ncap_registered: 1 while this instance is in ops.instance */
    METRICS_N_GAUGES
} metrics_gauge_t;

/* How long the loop may go without metrics_beat before /healthz says it is stalled: longer than
 * any batch or sweep (each bounded to a few seconds), shorter than an operator's patience. */
#define METRICS_STALL_MS 60000
/* The most series of a stage's own gauges (metrics_family_set), all families together. */
#define METRICS_FAMILY_SERIES 64

/* New metrics for one daemon: stage and service name it, version is the build's (ncap_build_info).
 * NULL when out of memory. */
metrics_t *metrics_new(const char *stage, const char *service, const char *version);
void metrics_destroy(metrics_t **self_p);

/* The updates. Each does nothing when self is NULL, so that the runtime's hooks cost nothing in a
 * process that serves no metrics (the ncap command, unit tests). */
void metrics_add(metrics_t *self, metrics_counter_t c, uint64_t n);
void metrics_set(metrics_t *self, metrics_gauge_t g, int64_t v);
int64_t metrics_get(const metrics_t *self, metrics_gauge_t g);
uint64_t metrics_count(const metrics_t *self, metrics_counter_t c);
/* One committed batch: its records (ncap_batch_records) and how long it took from reading its rows
 * to its commit, in microseconds (ncap_batch_duration_seconds). */
void metrics_batch(metrics_t *self, uint64_t records, uint64_t micros);
/* A statement that failed with sqlstate ("" or NULL when the server gave none, e.g. a lost
 * connection): ncap_db_errors_total{class="<its first two characters>"} (class "none" then). */
void metrics_db_error(metrics_t *self, const char *sqlstate);
/* The loop is turning, at now_ms (monotonic): what /healthz checks. */
void metrics_beat(metrics_t *self, long long now_ms);
/* One series of a gauge of the stage's own, e.g. ncap_release_last_timestamp_seconds{audit="nhfd"}:
 * name and help must be string constants (kept, not copied), label a label name and value its
 * value for this series (copied). A name's help and label are those of its first call. Returns 0,
 * or -1 when METRICS_FAMILY_SERIES series are held already or out of memory (nothing changed). */
int metrics_family_set(metrics_t *self, const char *name, const char *help, const char *label,
                       const char *value, double v);

/* Alive: the loop has beaten within METRICS_STALL_MS of now_ms (or never yet: starting). When
 * not, why into why. */
bool metrics_alive(const metrics_t *self, long long now_ms, char *why, size_t whylen);
/* Ready: alive, connected to PostgreSQL and registered in ops.instance. When not, why into why. */
bool metrics_ready(const metrics_t *self, long long now_ms, char *why, size_t whylen);

/* Appends the text exposition of every metric to out (strbuf's oom flag says when memory ran
 * out). Metrics in a fixed order, series of a family by label value. */
void metrics_render(metrics_t *self, strbuf_t *out);

/* The process's metrics, which the runtime's hooks update (db.c, presence.c, pusher.c, stage.c,
 * ingest): NULL until a daemon installs its own at start (metrics_install), so that everything
 * else runs without. */
void metrics_install(metrics_t *m);
metrics_t *metrics_installed(void);

#endif
