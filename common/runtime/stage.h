/* stage.h - the one stage contract: what a stage declares, and what the runtime does with it.
 *
 * A record stage (linkage, validation, metric) declares
 *   - where its work comes from: two SELECTs over its upstream's table that return the same
 *     columns, the record key first (record_id, version, link_revision), and only rows the stage
 *     has not processed yet and has not quarantined: load_sql for the keys nudged to it, and
 *     backlog_sql for what it finds on its timer after its watermark (a position in the upstream
 *     table below which it has taken everything, moved by advance_sql: migration 0018);
 *   - how a row becomes its input (read_row), a pure decision over a batch of inputs (decide),
 *     and how the decisions are stored (store).
 * The runtime owns everything else: the ZeroMQ inbox (with keys, a CurveZMQ server admitting only
 * the upstream stage's key) and the nudges to the next stage, the
 * transaction, retries, the quarantine, the backlog sweep and the daemon tick (reconnect,
 * registry heartbeat, downstream refresh).
 *
 * Periodic work (publish's rebuild, linkage's death sweep) is a second, separate kind of hook.
 *
 * A batch, step by step:
 *   1. keys arrive in nudges (gathered for gather_ms), or the sweep runs backlog_sql (after
 *      moving the stage's watermark over what it has taken: advance_sql);
 *   2. one query reads the rows (load_sql with the keys as two arrays $1 bigint[], $2 int[]);
 *   3. read_row makes each row an input; a row that cannot be read is quarantined
 * (STAGE_ERR_INPUT);
 *   4. decide (no SQL) marks the items it cannot process with an error class and a message;
 *   5. BEGIN; store writes the decisions of the items without error and marks those to pass on;
 *      the runtime writes the quarantine rows of the failed items and clears the quarantine of the
 *      stored ones; COMMIT; then nudges the next stage with the keys marked and calls after_commit.
 *   6. When the transaction fails: a serialization failure, a deadlock or a lost connection
 *      (db_retryable) is retried as it is (reconnecting); any other failure is retried record by
 *      record, and a record that still fails on its own is quarantined with the SQLSTATE, in a
 *      transaction of its own. Nothing is ever dropped, and nothing that failed is counted.
 * Idempotency: the key is (record_id, version, link_revision). store must have the effect of one
 * call when called twice for the same key (ON CONFLICT), and load_sql/backlog_sql must leave out
 * what the stage already holds, so a duplicate nudge costs one query and nothing else. What a
 * stage holds must stay held (its rows only move to newer keys, never back, never deleted): its
 * watermark has passed them for good. */
#ifndef NCAP_STAGE_H
#define NCAP_STAGE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* The longest an idle stage waits between two sweeps (ms), backing off from --sweep-interval-ms
 * while it finds nothing: work no nudge announces (deaths loaded by `ncap refdata load`, records
 * whose nudge was dropped) waits at most this long; an idle sweep costs well under a millisecond
 * of PostgreSQL (README.md "Performance"). */
#define STAGE_IDLE_SWEEP_MS 2000
/* The soonest a stage runs its periodic work again when due_in_ms says it comes due (ms): a hint
 * that is late by a clock's rounding never makes the loop spin. */
#define STAGE_DUE_MIN_MS 20

/* The idempotency key of every stage. */
typedef struct {
    int64_t record_id;
    int32_t version;
    int32_t link_revision;
} stage_key_t;

/* Where a stage's upstream rows stand (migration 0018): every table a stage reads has write_xid,
 * the transaction that wrote the row's current version, and an index on (write_xid, record_id,
 * version); <stage>.watermark is a position in that order below which the stage has taken (or holds
 * in quarantine) every row, moved by stage_run_advance. A query that starts from the watermark
 * takes it as its first three parameters ($1 write_xid, $2 record_id, $3 version: stage_wm_query
 * reads and passes them), so that the planner knows how few rows lie after it. The condition that
 * alias's row lies after the watermark: an index range scan from it. */
#define STAGE_AFTER_WATERMARK(alias)                                                               \
    "(" alias ".write_xid, " alias ".record_id, " alias ".version) > ($1::xid8, $2::bigint,"       \
    " $3::int)"
/* The condition that column (a write_xid) is at least since (an xid8 expression): the rows written
 * since a snapshot's xmin (migration 0018's rule), for a statement with no ORDER BY on the index
 * to lead the planner to it. The upper bound, the statement's own snapshot's xmax, holds of every
 * row the statement can see (a transaction at or past it is still running to that snapshot); it is
 * there for the planner: a bound on each side is a range, estimated a small share of the table
 * whatever the statistics, and one bound alone a third of it. A table loaded faster than
 * autovacuum analyses it has none (every table of a 100,000-record benchmark, whose run ends
 * before autovacuum's first look), and a prepared statement's generic plan knows no value: with
 * a third, publish read all of metric.measure for each period in each round, and all of
 * metric.record_state for its round's changed records, by sequential scans. */
#define STAGE_WRITTEN_SINCE(column, since)                                                         \
    "(" column " >= " since " AND " column " < pg_snapshot_xmax(pg_current_snapshot()))"
/* The record versions the operator released from stage's quarantine (`ncap quarantine retry`),
 * in order, each once, as k(record_id, version): a walk of the partial index of the released
 * (migration 0057), for a LATERAL probe of the upstream table per key; a statement that stops at
 * a limit reads as many as it takes (a retry of a mass quarantine releases them all: an array of
 * every one still released, made at every sweep, cost 17-22 ms a sweep at 200,000, O(left)). */
#define STAGE_RELEASED(stage)                                                                      \
    "(SELECT DISTINCT rq.record_id, rq.version FROM " stage ".quarantine rq WHERE NOT rq.held"     \
    " ORDER BY rq.record_id, rq.version) k"
/* The rows of alias's upstream table (select_from) of each released key k behind the watermark
 * and not taken, probed by its primary key (OFFSET 0 keeps the LATERAL from being flattened). */
#define STAGE_RELEASED_ROWS(stage, select_from, alias, not_taken)                                  \
    STAGE_RELEASED(stage)                                                                          \
    " CROSS JOIN LATERAL (" select_from " WHERE " alias ".record_id = k.record_id AND " alias      \
    ".version = k.version AND NOT " STAGE_AFTER_WATERMARK(alias) " AND" not_taken " OFFSET 0) x"

/* The queries of a stage that reads one upstream table, from its parts: select_from is
 * "SELECT <key columns, then the stage's> FROM <upstream table> <alias> [JOIN ...]", table the
 * "<upstream table>" alone, alias.at the column that says when upstream committed the row,
 * not_taken the condition (starting with a space, on alias's columns only) that leaves out what the
 * stage holds and what it holds in quarantine.
 * load_sql: the rows of the keys nudged ($1 bigint[] record ids, $2 int[] versions), each key
 * looked up by its own probe of the upstream table's primary key (a LATERAL subquery that OFFSET 0
 * keeps from being flattened into a join): as a join of the keys with the table (and the tables
 * select_from joins), the planner hashed a whole table per batch whenever its statistics made the
 * keys look many or the table few (ingest.record in linkage's load, 156 scans in a 100,000-record
 * benchmark: O(table) per batch).
 * backlog_sql: after the watermark ($1-$3), in order, the rows older than the grace ($5 ms), then
 * those behind it released from the quarantine, at most $4 of each: walked in order from the
 * watermark under stage_begin_walk, O(rows up to the $4-th one not taken), never O(table); the
 * released by STAGE_RELEASED_ROWS, O(released up to the $4-th one not taken). */
#define STAGE_LOAD_SQL(select_from, alias, not_taken)                                              \
    "SELECT x.* FROM unnest($1::bigint[], $2::int[]) AS k(record_id, version) CROSS JOIN LATERAL"  \
    " (" select_from " WHERE " alias ".record_id = k.record_id AND " alias ".version = k.version"  \
    " AND" not_taken " OFFSET 0) x"
#define STAGE_BACKLOG_SQL(stage, select_from, alias, at, not_taken)                                \
    "(" select_from " WHERE " STAGE_AFTER_WATERMARK(                                               \
        alias) " AND " alias "." at                                                                \
               " < now() - make_interval(secs => $5::double precision / 1000) AND" not_taken       \
               " ORDER BY " alias ".write_xid, " alias ".record_id, " alias                        \
               ".version LIMIT $4::int)"                                                           \
               " UNION ALL (SELECT x.* FROM " STAGE_RELEASED_ROWS(stage, select_from, alias,       \
                                                                  not_taken) " LIMIT $4::int)"
/* advance_sql: moves stage's watermark ($1-$3) over the rows after it, in order, while each is
 * taken or held (not not_taken) and was written by a transaction below the horizon, the oldest
 * still running when the statement's snapshot was taken, so that no transaction yet to commit can
 * write behind it (migration 0018 has the whole argument). $4 the most rows to look at; returns
 * one row, the rows passed, or none when it did not move. */
#define STAGE_ADVANCE_SQL(stage, table, alias, not_taken)                                          \
    "WITH w AS (SELECT " alias ".write_xid, " alias ".record_id, " alias ".version, " alias        \
    ".write_xid < (SELECT pg_snapshot_xmin(pg_current_snapshot())) AND NOT (" not_taken            \
    ") AS pass FROM " table " " alias " WHERE " STAGE_AFTER_WATERMARK(                             \
        alias) " ORDER BY 1, 2, 3 LIMIT $4::int),"                                                 \
               " p AS (SELECT *, bool_and(pass) OVER (ORDER BY write_xid, record_id, version"      \
               "   ROWS UNBOUNDED PRECEDING) AS prefix FROM w),"                                   \
               " last AS (SELECT write_xid, record_id, version, count(*) OVER () AS n FROM p "     \
               "WHERE prefix"                                                                      \
               "   ORDER BY write_xid DESC, record_id DESC, version DESC LIMIT 1)"                 \
               " UPDATE " stage                                                                    \
               ".watermark m SET write_xid = last.write_xid, record_id = last.record_id,"          \
               " version = last.version, moved_at = now() FROM last WHERE (m.write_xid, "          \
               "m.record_id,"                                                                      \
               " m.version) < (last.write_xid, last.record_id, last.version) RETURNING last.n"
/* backlog_count_sql: the stage's backlog as `ncap status` shows it, what backlog_sql would find
 * with no grace and no limit, counted ($1-$3 the watermark), each of its two parts up to $4 rows
 * (NULL: all of them; stage_gauges.c counts a bounded number every few seconds). */
#define STAGE_BACKLOG_COUNT_SQL(stage, table, alias, not_taken)                                    \
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM " table " " alias                                 \
    " WHERE " STAGE_AFTER_WATERMARK(                                                               \
        alias) " AND" not_taken " LIMIT $4::int) a)"                                               \
               " + (SELECT count(*) FROM (SELECT 1 FROM " STAGE_RELEASED_ROWS(                     \
                   stage, "SELECT 1 FROM " table " " alias, alias, not_taken) " LIMIT $4::int) b)"

/* The part of not_taken that leaves out what stage holds in quarantine: rows of alias whose
 * record version is held there at this link revision (the SQL expression revision) or a newer one.
 */
#define STAGE_NOT_QUARANTINED(stage, alias, revision)                                              \
    " AND NOT EXISTS (SELECT 1 FROM " stage ".quarantine q WHERE q.record_id = " alias             \
    ".record_id AND q.version = " alias ".version AND q.link_revision >= " revision " AND q.held)"

/* Why a record was quarantined: its class, as `ncap quarantine list` shows it. */
typedef enum {
    STAGE_OK = 0,
    STAGE_ERR_INPUT,      /* "input": the row could not be read (a payload that is not a record) */
    STAGE_ERR_DEFINITION, /* "definition": the record's audit definition does not load */
    STAGE_ERR_EVALUATION, /* "evaluation": an expression of the definition failed on the record */
    STAGE_ERR_DATA,       /* "data": PostgreSQL refused what the record made (22xxx, 23xxx, ...) */
} stage_error_t;

/* The name of a class, as stored in <stage>.quarantine.error_class. */
const char *stage_error_name(stage_error_t e);

/* One record in a batch. The runtime owns it; hooks fill the fields their contract names. */
typedef struct {
    stage_key_t key;
    void *input;         /* read_row's result, freed with free_input */
    stage_error_t error; /* set by read_row's failure, decide, or the runtime */
    char message[512];   /* why, when error is set */
    char sqlstate[6];    /* PostgreSQL's SQLSTATE, for STAGE_ERR_DATA */
    bool forward;        /* set by store: nudge the next stage with this key after commit */
    /* set by store: not taken now, because what it needs is held by another instance's
     * transaction (linkage: a blocking key's lock, taken without waiting); neither stored nor
     * quarantined nor counted, its key goes into this process's next batch (stage_run), and it
     * stays in the backlog meanwhile */
    bool deferred;
    stage_key_t out_key; /* set by store with forward: the key downstream sees (e.g. a revision) */
} stage_item_t;

/* Keys to nudge the next stage with. */
typedef struct {
    stage_key_t *keys;
    size_t n, cap;
} stage_keys_t;

typedef struct {
    stage_item_t *items;
    size_t n, cap;
    /* Set by store: keys of records outside the batch that it revised (linkage's patients merged),
     * to nudge the next stage with after commit beside the items forwarded. */
    stage_keys_t also;
} stage_batch_t;

/* Marks item as failed with class e and a printf-style message (first failure wins). */
void stage_item_fail(stage_item_t *item, stage_error_t e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends a key. Returns 0, or -1 when out of memory. */
int stage_keys_push(stage_keys_t *k, stage_key_t key);
void stage_keys_free(stage_keys_t *k);

/* A gauge of a stage's own for its metrics (metrics.h), one series per value of label: sql
 * returns rows (label value, number), read by each instance every few seconds (stage_gauges.h),
 * e.g. publish's ncap_release_last_timestamp_seconds{audit}. name, help and label are string
 * constants. All NULL: none. */
typedef struct {
    const char *name, *help, *label, *sql;
} stage_gauge_t;

typedef struct {
    const char *upstream;   /* the only stage whose nudges the inbox admits (with keys, its
                               CurveZMQ key is the only one the inbox's ZAP handler accepts) */
    const char *downstream; /* the stage nudged after commit, or NULL */
    void *state;

    /* --- record hooks: NULL for a stage that only has periodic work (publish) --- */
    /* $1 bigint[] record ids, $2 int[] versions: the rows of those keys still to process. */
    const char *load_sql;
    /* STAGE_BACKLOG_SQL: after the watermark ($1-$3), the rows still to process older than the
     * grace ($5 ms; younger ones are in flight on the fast path), oldest first, at most $4; then
     * those released from its quarantine behind it. */
    const char *backlog_sql;
    /* STAGE_ADVANCE_SQL ($1-$3 the watermark, $4 the most rows to look at): moves the stage's
     * watermark over what it has taken; NULL for a stage without one. */
    const char *advance_sql;
    /* STAGE_BACKLOG_COUNT_SQL ($1-$3 the watermark, $4 the most rows to count in each part, NULL
     * for all): the stage's backlog counted, one row and column, for `ncap status` and the
     * backlog gauge; NULL when the stage counts none. */
    const char *backlog_count_sql;
    /* Makes the input of row `row` of r (columns of load_sql/backlog_sql). Returns it, or NULL
     * with err: the record is quarantined as STAGE_ERR_INPUT (or the class set in *class_out). */
    void *(*read_row)(void *state, const PGresult *r, int row, stage_error_t *class_out, char *err,
                      size_t errlen);
    void (*free_input)(void *state, void *input);
    /* Pure, no SQL (NULL when the stage has nothing to decide before storing): computes each
     * item's decision into its input, or fails the item (stage_item_fail). */
    void (*decide)(void *state, stage_batch_t *batch);
    /* Inside the runtime's transaction: stores the decisions of the items whose error is
     * STAGE_OK and sets forward (and out_key) on those the next stage must see; may append to
     * batch->also the keys of other records it revised (empty at each call). May fail single
     * items (stage_item_fail) it finds it cannot take, and defer those it cannot take yet
     * (deferred: another instance's transaction holds what they need; cleared at each call).
     * Returns 0, or -1 with err when a statement failed (the runtime rolls back and retries as
     * described above). May be called again for a sub-batch of the same items after a failure: it
     * must not rely on what an earlier call left in the inputs. */
    int (*store)(void *state, PGconn *db, stage_batch_t *batch, char *err, size_t errlen);

    /* --- periodic hook (publish's rebuild, linkage's death sweep), or NULL --- */
    /* Called by the one instance holding the stage's sweep lock, inside a transaction of its own:
     * on the backlog timer and, for a stage without record hooks, soon after each nudge. Appends
     * keys to nudge the next stage with to out. Returns how many items it handled, at most limit
     * (it is called again in a new transaction while it returns more than 0 and time lasts), or
     * -1 with err (rolled back, retried on the next timer). */
    int (*periodic)(void *state, PGconn *db, int limit, stage_keys_t *out, char *err,
                    size_t errlen);
    /* After each commit of a batch or of periodic work (e.g. writing release files, folding
     * counts), outside any transaction, or NULL. */
    void (*after_commit)(void *state, PGconn *db);

    /* Extra wait after the first nudge of a batch, for more to arrive (ms). */
    int gather_ms;
    /* The stage's own gauge for its metrics, or all NULL. */
    stage_gauge_t gauge;
    /* The longest an idle stage waits between sweeps (ms; 0: STAGE_IDLE_SWEEP_MS), for periodic
     * work that comes due by time (publish's rounds every --interval) rather than by a nudge. */
    int max_idle_ms;
    /* After a sweep: in how many ms the periodic work that waits comes due by time (publish's
     * next round, when changed records wait for it), or -1 when none waits; NULL: never. The
     * loop runs the periodic hook again then (at least STAGE_DUE_MIN_MS later), not at its next
     * idle sweep, which may come up to max_idle_ms after. */
    long long (*due_in_ms)(void *state);
} stage_ops_t;

/* Steps 3-4 of a batch, without a database: the batch of the rows of r (the columns of load_sql
 * and backlog_sql), read_row on each (a row it cannot read is failed with its class), then
 * decide. What stage_run_keys does between its query and its transaction; the fuzz targets of
 * tests/fuzz drive the stages' hooks through it. Returns 0, or -1 when out of memory. Free the
 * batch with stage_batch_free. */
int stage_batch_read(const stage_ops_t *ops, const PGresult *r, stage_batch_t *out);
void stage_batch_free(const stage_ops_t *ops, stage_batch_t *b);

/* Runs one batch of keys through the contract on db (steps 2-6 above, without the nudges out):
 * what stage_run does for each batch, exposed so that tests drive a stage against a real
 * PostgreSQL without sockets. Appends the keys to nudge downstream to out. Returns the number of
 * records committed (stored or quarantined), or -1 when the batch could not be committed at all
 * (a retryable failure that lasted; its records stay in the backlog). Records store deferred are
 * not counted and stay in the backlog (stage_run takes them again in its next batch). */
int stage_run_keys(const stage_ops_t *ops, const char *stage, PGconn *db, const stage_key_t *keys,
                   size_t n, stage_keys_t *out);
/* The same for the backlog: at most limit rows older than grace_ms, read in a transaction of its
 * own (stage_begin_walk) before the batch's. Returns the number of rows found (0 when none), or -1
 * when the backlog could not be read. */
int stage_run_backlog(const stage_ops_t *ops, const char *stage, PGconn *db, int limit,
                      int grace_ms, stage_keys_t *out);
/* Begins a transaction for a statement that walks or counts the rows after a stage's watermark:
 * a few thousand rows must cost a few thousand index probes, but the planner would rather hash
 * the whole table not_taken looks in (linkage.link, say: 330 ms at 140,000 links, O(table)), once
 * per statement; and on tables not yet analysed (a new deployment's first minute, a backfill
 * outgrowing its statistics) it takes a range after the watermark for a third of the table and
 * scans it whole (`ncap status` 0.7 s at 100,000 records, 0.2 ms once analysed). Hash and merge
 * joins and sequential scans off, and a work_mem too small for a hash, leave it the probes (SET
 * LOCAL: for this transaction alone; a table with no index for the statement is still scanned).
 * Returns 0, or -1 with err. */
int stage_begin_probes(PGconn *db, char *err, size_t errlen);
/* The same for a statement that reads the rows after the watermark in order up to a limit (the
 * backlog, stage_run_backlog), with bitmap scans and sorts off as well: it walks the upstream's
 * index on (write_xid, record_id, version) from the watermark, a probe of not_taken per row, and
 * stops at the limit. The planner, counting on not_taken to leave out nearly every row, read
 * every row after the watermark instead (a bitmap scan, or a sequential scan with a hash of the
 * whole of linkage.link), built each one's columns (the payload as text) and sorted them for the
 * first 500: O(rows after the watermark), i.e. O(the lag), per batch (linkage 20,000 rows behind
 * at 100,000 records: 320 ms a batch, walked 7 ms). Returns 0, or -1 with err. */
int stage_begin_walk(PGconn *db, char *err, size_t errlen);
/* Runs sql, a query of stage that starts from its watermark, with the watermark's position read
 * first as $1-$3 and then the n parameters p ($4 ...). Returns the result, or NULL with err. */
PGresult *stage_wm_query(PGconn *db, const char *stage, const char *sql, int n,
                         const char *const *p, char *err, size_t errlen);
/* Moves the stage's watermark (advance_sql) over at most limit rows, in autocommit. Returns the
 * rows passed (limit: call again, there may be more), 0 when it did not move, or -1 (logged). */
int stage_run_advance(const stage_ops_t *ops, const char *stage, PGconn *db, int limit);
/* Runs the periodic hook once in a transaction of its own. Returns its result. */
int stage_run_periodic(const stage_ops_t *ops, PGconn *db, int limit, stage_keys_t *out, char *err,
                       size_t errlen);

/* Runs the daemon until SIGTERM/SIGINT; returns the exit status (0 after a clean drain). */
int stage_run(const stage_ops_t *ops, const daemon_config_t *cfg);

#endif
