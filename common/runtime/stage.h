/* stage.h - the one stage contract: what a stage declares, and what the runtime does with it.
 *
 * A record stage (linkage, validation, metric) declares
 *   - where its work comes from: two SELECTs over its upstream's table that return the same
 *     columns, the record key first (record_id, version, link_revision), and only rows the stage
 *     has not processed yet and has not quarantined: load_sql for the keys nudged to it, and
 *     backlog_sql for what it finds on its timer;
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
 *   1. keys arrive in nudges (gathered for gather_ms), or the sweep runs backlog_sql;
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
 * what the stage already holds, so a duplicate nudge costs one query and nothing else. */
#ifndef NCAP_STAGE_H
#define NCAP_STAGE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* The idempotency key of every stage. */
typedef struct {
    int64_t record_id;
    int32_t version;
    int32_t link_revision;
} stage_key_t;

/* The two queries of a stage that reads one upstream table, from its parts: select_from is
 * "SELECT <key columns, then the stage's> FROM <upstream table> <alias> [JOIN ...]", alias.at the
 * column that says when upstream committed the row (indexed), not_taken the condition (starting
 * with a space) that leaves out what the stage holds and what it holds in quarantine. */
#define STAGE_LOAD_SQL(select_from, alias, not_taken)                                              \
    select_from " JOIN unnest($1::bigint[], $2::int[]) AS k(record_id, version)"                   \
                " ON k.record_id = " alias ".record_id AND k.version = " alias ".version"          \
                " WHERE" not_taken
#define STAGE_BACKLOG_SQL(select_from, alias, at, not_taken)                                       \
    select_from " WHERE " alias "." at                                                             \
                " < now() - make_interval(secs => $2::double precision / 1000) AND" not_taken      \
                " ORDER BY " alias "." at ", " alias ".record_id LIMIT $1::int"

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
    stage_key_t out_key; /* set by store with forward: the key downstream sees (e.g. a revision) */
} stage_item_t;

typedef struct {
    stage_item_t *items;
    size_t n, cap;
} stage_batch_t;

/* Marks item as failed with class e and a printf-style message (first failure wins). */
void stage_item_fail(stage_item_t *item, stage_error_t e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keys to nudge the next stage with. */
typedef struct {
    stage_key_t *keys;
    size_t n, cap;
} stage_keys_t;

/* Appends a key. Returns 0, or -1 when out of memory. */
int stage_keys_push(stage_keys_t *k, stage_key_t key);
void stage_keys_free(stage_keys_t *k);

typedef struct {
    const char *upstream;   /* the only stage whose nudges the inbox admits (with keys, its
                               CurveZMQ key is the only one the inbox's ZAP handler accepts) */
    const char *downstream; /* the stage nudged after commit, or NULL */
    void *state;

    /* --- record hooks: NULL for a stage that only has periodic work (publish) --- */
    /* $1 bigint[] record ids, $2 int[] versions: the rows of those keys still to process. */
    const char *load_sql;
    /* $1 limit, $2 grace in milliseconds: the oldest rows still to process that are older than the
     * grace (younger ones are in flight on the fast path). */
    const char *backlog_sql;
    /* Makes the input of row `row` of r (columns of load_sql/backlog_sql). Returns it, or NULL
     * with err: the record is quarantined as STAGE_ERR_INPUT (or the class set in *class_out). */
    void *(*read_row)(void *state, const PGresult *r, int row, stage_error_t *class_out, char *err,
                      size_t errlen);
    void (*free_input)(void *state, void *input);
    /* Pure, no SQL (NULL when the stage has nothing to decide before storing): computes each
     * item's decision into its input, or fails the item (stage_item_fail). */
    void (*decide)(void *state, stage_batch_t *batch);
    /* Inside the runtime's transaction: stores the decisions of the items whose error is
     * STAGE_OK and sets forward (and out_key) on those the next stage must see. May fail single
     * items (stage_item_fail) it finds it cannot take. Returns 0, or -1 with err when a statement
     * failed (the runtime rolls back and retries as described above). May be called again for a
     * sub-batch of the same items after a failure: it must not rely on what an earlier call left in
     * the inputs. */
    int (*store)(void *state, PGconn *db, stage_batch_t *batch, char *err, size_t errlen);

    /* --- periodic hook (publish's rebuild, linkage's death sweep), or NULL --- */
    /* Called by the one instance holding the stage's sweep lock, inside a transaction of its own:
     * on the backlog timer and, for a stage without record hooks, soon after each nudge. Appends
     * keys to nudge the next stage with to out. Returns how many items it handled, at most limit
     * (it is called again in a new transaction while it returns more than 0 and time lasts), or
     * -1 with err (rolled back, retried on the next timer). */
    int (*periodic)(void *state, PGconn *db, int limit, stage_keys_t *out, char *err,
                    size_t errlen);
    /* After each commit of a batch or of periodic work (e.g. writing release files), or NULL. */
    void (*after_commit)(void *state, PGconn *db);

    /* Extra wait after the first nudge of a batch, for more to arrive (ms). */
    int gather_ms;
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
 * (a retryable failure that lasted; its records stay in the backlog). */
int stage_run_keys(const stage_ops_t *ops, const char *stage, PGconn *db, const stage_key_t *keys,
                   size_t n, stage_keys_t *out);
/* The same for the backlog: at most limit rows older than grace_ms. Returns the number of rows
 * found (0 when none), or -1 when the backlog could not be read. */
int stage_run_backlog(const stage_ops_t *ops, const char *stage, PGconn *db, int limit,
                      int grace_ms, stage_keys_t *out);
/* Runs the periodic hook once in a transaction of its own. Returns its result. */
int stage_run_periodic(const stage_ops_t *ops, PGconn *db, int limit, stage_keys_t *out, char *err,
                       size_t errlen);

/* Runs the daemon until SIGTERM/SIGINT; returns the exit status (0 after a clean drain). */
int stage_run(const stage_ops_t *ops, const daemon_config_t *cfg);

#endif
