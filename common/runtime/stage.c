/* stage.c - the stage contract's runtime: nudges in, rows from PostgreSQL, one transaction a batch,
 * retries and the quarantine, nudges out, the backlog sweep and periodic work. */
#include "stage.h"

#include <assert.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "curve_auth.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "nudge.h"
#include "pg_columns.h"
#include "presence.h"
#include "pusher.h"
#include "quarantine.h"
#include "registry.h"
#include "stage_gauges.h"
#include "tally.h"
#include "utf8.h"

/* Attempts of a batch whose transaction failed in a way worth retrying as it is (a deadlock, a
 * serialization failure), before its records are left to the next sweep. */
#define RETRIES 3
/* Rows of its upstream a stage's watermark looks at per statement (stage_run_advance). */
#define ADVANCE_ROWS 10000

const char *stage_error_name(stage_error_t e)
{
    switch (e) {
    case STAGE_OK:
        return "ok";
    case STAGE_ERR_INPUT:
        return "input";
    case STAGE_ERR_DEFINITION:
        return "definition";
    case STAGE_ERR_EVALUATION:
        return "evaluation";
    case STAGE_ERR_DATA:
        return "data";
    }
    return "unknown";
}

void stage_item_fail(stage_item_t *item, stage_error_t e, const char *fmt, ...)
{
    if (item->error != STAGE_OK)
        return;
    item->error = e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item->message, sizeof item->message, fmt, ap);
    va_end(ap);
    utf8_mend(item->message);
}

int stage_keys_push(stage_keys_t *k, stage_key_t key)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        stage_key_t *keys = realloc(k->keys, cap * sizeof *keys);
        if (!keys)
            return -1;
        k->keys = keys;
        k->cap = cap;
    }
    k->keys[k->n++] = key;
    return 0;
}

void stage_keys_free(stage_keys_t *k)
{
    free(k->keys);
    memset(k, 0, sizeof *k);
}

void stage_batch_free(const stage_ops_t *ops, stage_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].input && ops->free_input)
            ops->free_input(ops->state, b->items[i].input);
    free(b->items);
    stage_keys_free(&b->also);
    memset(b, 0, sizeof *b);
}

/* One transaction over b: store, quarantine, commit; then the keys to pass on go to out, and
 * those store deferred to again (NULL: left to the backlog). Returns 0, or -1 with err and the
 * SQLSTATE in sqlstate (rolled back). */
static int commit_batch(const stage_ops_t *ops, const char *stage, PGconn *db, stage_batch_t *b,
                        stage_keys_t *out, stage_keys_t *again, char *err, size_t errlen,
                        char sqlstate[6])
{
    size_t n_ok = 0;
    for (size_t i = 0; i < b->n; i++) {
        b->items[i].forward = false;
        b->items[i].deferred = false;
        n_ok += b->items[i].error == STAGE_OK;
    }
    b->also.n = 0;
    sqlstate[0] = '\0';
    if (db_exec(db, "BEGIN", err, errlen) != 0 ||
        (n_ok > 0 && ops->store(ops->state, db, b, err, errlen) != 0) ||
        quarantine_write(db, stage, b, err, errlen) != 0 ||
        db_exec(db, "COMMIT", err, errlen) != 0) {
        snprintf(sqlstate, 6, "%s", db_last_sqlstate());
        db_exec(db, "ROLLBACK", NULL, 0);
        stage_keys_free(&b->also);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        const stage_item_t *it = &b->items[i];
        if (it->error != STAGE_OK)
            continue;
        if (it->deferred) {
            if (again)
                stage_keys_push(again, it->key); /* out of memory: the backlog finds it */
        } else if (it->forward)
            stage_keys_push(out, it->out_key);
    }
    for (size_t k = 0; k < b->also.n; k++)
        stage_keys_push(out, b->also.keys[k]);
    stage_keys_free(&b->also);
    return 0;
}

/* The items of b store deferred (committed: neither stored nor quarantined). */
static size_t count_deferred(const stage_batch_t *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += b->items[i].error == STAGE_OK && b->items[i].deferred;
    return n;
}

static void log_quarantined(const char *stage, const stage_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const stage_item_t *it = &b->items[i];
        if (it->error == STAGE_OK)
            continue;
        char rid[24], ver[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)it->key.record_id);
        snprintf(ver, sizeof ver, "%d", it->key.version);
        snprintf(lrev, sizeof lrev, "%d", it->key.link_revision);
        ncap_log(LOG_ERROR, "record quarantined: see ncap quarantine list", "stage", stage,
                 "record_id", rid, "version", ver, "link_revision", lrev, "class",
                 stage_error_name(it->error), "sqlstate", it->sqlstate, "error", it->message, NULL);
    }
}

/* After the commit of b: its records counted in the process's metrics, the quarantined logged. */
static void note_committed(const char *stage, const stage_batch_t *b)
{
    uint64_t failed = 0, deferred = count_deferred(b);
    for (size_t i = 0; i < b->n; i++)
        failed += b->items[i].error != STAGE_OK;
    metrics_t *m = metrics_installed();
    metrics_add(m, METRICS_RECORDS_PROCESSED, b->n - failed - deferred);
    metrics_add(m, METRICS_RECORDS_QUARANTINED, failed);
    metrics_add(m, METRICS_RECORDS_DEFERRED, deferred);
    log_quarantined(stage, b);
}

static int commit_items(const stage_ops_t *ops, const char *stage, PGconn *db, stage_batch_t *b,
                        stage_keys_t *out, stage_keys_t *again, bool split);

/* Commits each half of b (commit_items, without a word in the log for each split), the lower
 * first. Returns the records committed, or -1 when none could be. */
static int commit_halves(const stage_ops_t *ops, const char *stage, PGconn *db, stage_batch_t *b,
                         stage_keys_t *out, stage_keys_t *again)
{
    size_t half = b->n / 2;
    stage_batch_t part[2] = {{.items = b->items, .n = half, .cap = half},
                             {.items = b->items + half, .n = b->n - half, .cap = b->n - half}};
    int done = 0;
    for (int k = 0; k < 2 && db_alive(db); k++) {
        int n = commit_items(ops, stage, db, &part[k], out, again, true);
        done += n > 0 ? n : 0;
    }
    return done > 0 ? done : -1;
}

/* Commits b: as a whole (retrying what is worth retrying); when PostgreSQL refused data, in
 * halves, each committed as a whole or split again, down to the records that fail on their own,
 * which are quarantined: a record that fails in a batch of n costs about 2 log2(n) transactions,
 * not n (a batch of 500 with one bad record: 18). The keys store deferred go to again. split:
 * b is a half of a batch that failed (logged once, for the batch). Returns the records committed
 * (not those deferred), or -1 when none could be (they stay in the backlog). */
static int commit_items(const stage_ops_t *ops, const char *stage, PGconn *db, stage_batch_t *b,
                        stage_keys_t *out, stage_keys_t *again, bool split)
{
    char err[2048], sqlstate[6];
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        if (commit_batch(ops, stage, db, b, out, again, err, sizeof err, sqlstate) == 0) {
            note_committed(stage, b);
            return (int)(b->n - count_deferred(b));
        }
        if (!db_alive(db)) {
            ncap_log(LOG_WARN,
                     "lost the connection during a batch; its records stay in the backlog", "error",
                     err, NULL);
            return -1;
        }
        if (!db_retryable(db, sqlstate))
            break;
        ncap_log(LOG_WARN, "batch failed and is retried", "sqlstate", sqlstate, "error", err, NULL);
    }
    char count[32];
    snprintf(count, sizeof count, "%zu", b->n);
    if (!db_data_error(sqlstate)) {
        /* Not what a record holds (a retry that kept failing, a missing grant or table): the
         * records wait in the backlog for the next sweep, none is blamed. */
        ncap_log(LOG_ERROR, "batch failed; its records stay in the backlog", "records", count,
                 "sqlstate", sqlstate, "error", err, NULL);
        return -1;
    }
    if (b->n > 1) {
        if (!split)
            ncap_log(LOG_WARN,
                     "batch failed on its data; retried in halves down to the records that fail",
                     "records", count, "sqlstate", sqlstate, "error", err, NULL);
        return commit_halves(ops, stage, db, b, out, again);
    }
    stage_item_t *it = &b->items[0];
    if (it->error == STAGE_OK) {
        /* Its own data fails: quarantined, in a transaction of its own. */
        it->error = STAGE_ERR_DATA;
        snprintf(it->sqlstate, sizeof it->sqlstate, "%s", sqlstate);
        snprintf(it->message, sizeof it->message, "%.500s", err);
        utf8_mend(it->message);
        if (commit_batch(ops, stage, db, b, out, again, err, sizeof err, sqlstate) == 0) {
            note_committed(stage, b);
            return 1;
        }
    }
    ncap_log(LOG_ERROR, "could not quarantine a record; it stays in the backlog", "error", err,
             NULL);
    return -1;
}

int stage_batch_read(const stage_ops_t *ops, const PGresult *r, stage_batch_t *out)
{
    int rows = PQntuples(r);
    *out =
        (stage_batch_t){.items = calloc((size_t)rows + 1, sizeof *out->items), .cap = (size_t)rows};
    if (!out->items)
        return -1;
    for (int i = 0; i < rows; i++) {
        stage_item_t *it = &out->items[out->n++];
        it->key.record_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        it->key.version = atoi(PQgetvalue(r, i, 1));
        it->key.link_revision = atoi(PQgetvalue(r, i, 2));
        it->out_key = it->key;
        stage_error_t cls = STAGE_ERR_INPUT;
        char err[512] = "";
        it->input = ops->read_row(ops->state, r, i, &cls, err, sizeof err);
        if (!it->input)
            stage_item_fail(it, cls, "%s", err[0] ? err : "could not read the record");
    }
    if (ops->decide)
        ops->decide(ops->state, out);
    return 0;
}

static unsigned long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* Blocks of at least this many bytes are mapped on their own (stage_run). */
#define STAGE_MMAP_THRESHOLD (128 * 1024)
/* The heap is trimmed at most this often (note_batch). */
#define STAGE_TRIM_US 1000000ULL

/* When note_batch last trimmed the heap (now_us). One thread per process. */
static unsigned long long trimmed_us;

/* A batch begun at since (now_us) that committed n records (or periodic items), in the process's
 * metrics; what the batches freed given back to the system at most every STAGE_TRIM_US. */
static void note_batch(int n, unsigned long long since)
{
    if (n > 0) {
        metrics_batch(metrics_installed(), (uint64_t)n, now_us() - since);
        if (now_us() - trimmed_us >= STAGE_TRIM_US) {
            malloc_trim(0);
            trimmed_us = now_us();
        }
    }
}

/* Rows of load_sql or backlog_sql -> a batch -> decide -> commit, the keys store deferred into
 * again (NULL: left to the backlog). Returns the rows committed (not those deferred), 0 when there
 * were none, -1 when none could be committed. */
static int run_rows(const stage_ops_t *ops, const char *stage, PGconn *db, PGresult *r,
                    stage_keys_t *out, stage_keys_t *again)
{
    int rows = PQntuples(r);
    if (rows == 0)
        return 0;
    stage_batch_t b;
    if (stage_batch_read(ops, r, &b) != 0) {
        ncap_log(LOG_ERROR, "out of memory reading a batch; its records stay in the backlog", NULL);
        return -1;
    }
    int done = commit_items(ops, stage, db, &b, out, again, false);
    int deferred = (int)count_deferred(&b);
    stage_batch_free(ops, &b);
    if (done >= 0 && ops->after_commit)
        ops->after_commit(ops->state, db);
    return done < 0 ? -1 : rows - deferred;
}

static int cmp_key(const void *a, const void *b)
{
    const stage_key_t *x = a, *y = b;
    if (x->record_id != y->record_id)
        return x->record_id < y->record_id ? -1 : 1;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return 0;
}

/* stage_run_keys, the keys store deferred into again (NULL: left to the backlog). */
static int run_keys(const stage_ops_t *ops, const char *stage, PGconn *db, const stage_key_t *keys,
                    size_t n, stage_keys_t *out, stage_keys_t *again)
{
    assert(ops && ops->load_sql);
    if (n == 0)
        return 0;
    /* One row per record version, whatever the revisions nudged: the query reads the newest. */
    stage_key_t *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, keys, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_key);
    pg_columns_t k;
    pg_columns_open(&k, 2);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && cmp_key(&sorted[i], &sorted[i - 1]) == 0)
            continue;
        char rid[24], ver[16];
        snprintf(rid, sizeof rid, "%lld", (long long)sorted[i].record_id);
        snprintf(ver, sizeof ver, "%d", sorted[i].version);
        const char *v[2] = {rid, ver};
        pg_columns_row(&k, v);
    }
    free(sorted);
    char err[1024];
    PGresult *r = NULL;
    unsigned long long since = now_us();
    if (pg_columns_close(&k) == 0)
        r = db_query(db, ops->load_sql, 2, k.params, err, sizeof err);
    else
        snprintf(err, sizeof err, "out of memory");
    pg_columns_free(&k);
    if (!r) {
        ncap_log(LOG_ERROR, "could not read the records nudged; the backlog will find them",
                 "error", err, NULL);
        return -1;
    }
    int done = run_rows(ops, stage, db, r, out, again);
    PQclear(r);
    note_batch(done, since);
    return done;
}

int stage_run_keys(const stage_ops_t *ops, const char *stage, PGconn *db, const stage_key_t *keys,
                   size_t n, stage_keys_t *out)
{
    return run_keys(ops, stage, db, keys, n, out, NULL);
}

/* stage_wm_query in a transaction of its own that begin starts (stage_begin_probes or
 * stage_begin_walk) and that is committed, or rolled back on failure (NULL, with err). */
static PGresult *wm_query_alone(PGconn *db, int (*begin)(PGconn *, char *, size_t),
                                const char *stage, const char *sql, int n, const char *const *p,
                                char *err, size_t errlen)
{
    PGresult *r = NULL;
    if (begin(db, err, errlen) == 0 && (r = stage_wm_query(db, stage, sql, n, p, err, errlen)) &&
        db_exec(db, "COMMIT", err, errlen) != 0) {
        PQclear(r);
        r = NULL;
    }
    if (!r)
        db_exec(db, "ROLLBACK", NULL, 0);
    return r;
}

/* stage_run_backlog, the keys store deferred into again (NULL: left to the backlog). */
static int run_backlog(const stage_ops_t *ops, const char *stage, PGconn *db, int limit,
                       int grace_ms, stage_keys_t *out, stage_keys_t *again)
{
    assert(ops && ops->backlog_sql);
    char lim[16], grace[16], err[1024];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(grace, sizeof grace, "%d", grace_ms);
    const char *p[] = {lim, grace};
    unsigned long long since = now_us();
    PGresult *r =
        wm_query_alone(db, stage_begin_walk, stage, ops->backlog_sql, 2, p, err, sizeof err);
    if (!r) {
        ncap_log(LOG_ERROR, "could not read the backlog", "error", err, NULL);
        return -1;
    }
    int rows = PQntuples(r);
    int done = run_rows(ops, stage, db, r, out, again);
    PQclear(r);
    note_batch(done, since);
    return done < 0 ? -1 : rows;
}

int stage_run_backlog(const stage_ops_t *ops, const char *stage, PGconn *db, int limit,
                      int grace_ms, stage_keys_t *out)
{
    return run_backlog(ops, stage, db, limit, grace_ms, out, NULL);
}

PGresult *stage_wm_query(PGconn *db, const char *stage, const char *sql, int n,
                         const char *const *p, char *err, size_t errlen)
{
    assert(db && stage && sql && n >= 0 && n <= 4);
    char q[128];
    snprintf(q, sizeof q, "SELECT write_xid, record_id, version FROM %s.watermark", stage);
    PGresult *w = db_query(db, q, 0, NULL, err, errlen);
    if (!w)
        return NULL;
    if (PQntuples(w) != 1) {
        snprintf(err, errlen, "%s.watermark has %d rows, expected 1", stage, PQntuples(w));
        PQclear(w);
        return NULL;
    }
    const char *all[7];
    for (int i = 0; i < 3; i++)
        all[i] = PQgetvalue(w, 0, i);
    for (int i = 0; i < n; i++)
        all[3 + i] = p[i];
    PGresult *r = db_query(db, sql, 3 + n, all, err, errlen);
    PQclear(w);
    return r;
}

#define PROBES                                                                                     \
    "BEGIN; SET LOCAL work_mem = '64kB'; SET LOCAL enable_hashjoin = off;"                         \
    " SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off;"                           \
    " SET LOCAL max_parallel_workers_per_gather = 0"

int stage_begin_probes(PGconn *db, char *err, size_t errlen)
{
    return db_exec(db, PROBES, err, errlen);
}

int stage_begin_walk(PGconn *db, char *err, size_t errlen)
{
    return db_exec(db, PROBES "; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off",
                   err, errlen);
}

int stage_run_advance(const stage_ops_t *ops, const char *stage, PGconn *db, int limit)
{
    assert(ops && ops->advance_sql);
    char lim[16], err[1024];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {lim};
    PGresult *r =
        wm_query_alone(db, stage_begin_probes, stage, ops->advance_sql, 1, p, err, sizeof err);
    if (!r) {
        ncap_log(LOG_ERROR, "could not move the watermark; the backlog is read from where it is",
                 "stage", stage, "error", err, NULL);
        return -1;
    }
    int n = PQntuples(r) > 0 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return n;
}

int stage_run_periodic(const stage_ops_t *ops, PGconn *db, int limit, stage_keys_t *out, char *err,
                       size_t errlen)
{
    assert(ops && ops->periodic);
    size_t before = out->n;
    int n = -1;
    unsigned long long since = now_us();
    if (db_exec(db, "BEGIN", err, errlen) != 0 ||
        (n = ops->periodic(ops->state, db, limit, out, err, errlen)) < 0 ||
        db_exec(db, "COMMIT", err, errlen) != 0) {
        db_exec(db, "ROLLBACK", NULL, 0);
        out->n = before;
        return -1;
    }
    if (ops->after_commit)
        ops->after_commit(ops->state, db);
    if (!ops->load_sql) { /* publish's rebuilds are its batches; linkage's death sweep is not */
        metrics_add(metrics_installed(), METRICS_RECORDS_PROCESSED, (uint64_t)n);
        note_batch(n, since);
    }
    return n;
}

/* --- the daemon ---------------------------------------------------------------------------- */

typedef struct {
    const stage_ops_t *ops;
    const daemon_config_t *cfg;
    presence_t *presence;
    pusher_t *pusher;
    stage_keys_t out;
    /* the keys of the last message gathered that did not fit in its batch (--batch), and those
     * store deferred: the next batch's first */
    stage_keys_t carry;
    unsigned long long processed;
} loop_t;

/* Passes the keys gathered in loop->out on to the next stage. */
static void pass_on(loop_t *loop)
{
    if (loop->pusher && loop->out.n > 0)
        nudge_send(loop->pusher, loop->out.keys, loop->out.n);
    loop->out.n = 0;
}

static int sweep_lock(PGconn *db, const char *stage, int take)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s(hashtext('ncap.sweep.%s'))",
             take ? "pg_try_advisory_lock" : "pg_advisory_unlock", stage);
    char err[512];
    PGresult *r = db_query(db, sql, 0, NULL, err, sizeof err);
    if (!r)
        return 0;
    int got = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return got;
}

/* Under the stage's sweep lock (one instance of a stage at a time) until deadline_ms: folds its
 * tally, moves its watermark over what it has taken, works off the backlog, then the periodic
 * work. Returns the items found (at least 1 when the watermark has more to pass), or -1 when
 * another instance holds the lock. */
static long long sweep(loop_t *loop, PGconn *db, long long deadline_ms)
{
    const stage_ops_t *ops = loop->ops;
    const daemon_config_t *cfg = loop->cfg;
    if (!sweep_lock(db, cfg->stage, 1))
        return -1;
    char fold_err[1024];
    if (tally_fold(db, cfg->stage, fold_err, sizeof fold_err) != 0)
        ncap_log(LOG_WARN, "could not fold the stage's counts; retried on the next sweep", "error",
                 fold_err, NULL);
    long long found = 0;
    bool behind = false;
    /* half the time at most, so that a long walk (after a migration) leaves the backlog its turn */
    long long advance_until = daemon_now_ms() + (deadline_ms - daemon_now_ms()) / 2;
    while (ops->advance_sql && !daemon_shutdown) {
        if (stage_run_advance(ops, cfg->stage, db, ADVANCE_ROWS) < ADVANCE_ROWS)
            break;
        if (daemon_now_ms() >= advance_until) {
            behind = true;
            break;
        }
    }
    while (ops->backlog_sql && !daemon_shutdown && daemon_now_ms() < deadline_ms) {
        int n = run_backlog(ops, cfg->stage, db, cfg->batch_max, cfg->sweep_grace_ms, &loop->out,
                            &loop->carry);
        pass_on(loop);
        if (n <= 0)
            break;
        found += n;
        loop->processed += (unsigned long long)n;
        if (n < cfg->batch_max)
            break;
    }
    while (ops->periodic && !daemon_shutdown && daemon_now_ms() < deadline_ms) {
        char err[1024];
        int n = stage_run_periodic(ops, db, cfg->batch_max, &loop->out, err, sizeof err);
        pass_on(loop);
        if (n < 0) {
            ncap_log(LOG_ERROR, "periodic work failed and was rolled back; it is retried", "error",
                     err, NULL);
            break;
        }
        found += n;
        if (n == 0)
            break;
    }
    sweep_lock(db, cfg->stage, 0);
    if (found > 0 && ops->backlog_sql) {
        char n[32];
        snprintf(n, sizeof n, "%lld", found);
        ncap_log(LOG_INFO, "worked off backlog found in PostgreSQL", "records", n, NULL);
    }
    return found == 0 && behind ? 1 : found;
}

/* After a sweep that held the lock: when the stage says its periodic work comes due by time,
 * *periodic_due becomes that time (or stays, when sooner), at least STAGE_DUE_MIN_MS away. */
static void wake_when_due(const stage_ops_t *ops, long long *periodic_due)
{
    long long in = ops->due_in_ms ? ops->due_in_ms(ops->state) : -1;
    if (in < 0)
        return;
    long long at = daemon_now_ms() + (in < STAGE_DUE_MIN_MS ? STAGE_DUE_MIN_MS : in);
    if (*periodic_due < 0 || at < *periodic_due)
        *periodic_due = at;
}

/* Binds the PULL socket on an ephemeral port of the bind host (an address or an interface name)
 * and works out the endpoint others should use. With auth, a CurveZMQ server. */
static void *bind_inbox(void *ctx, const daemon_config_t *cfg, curve_auth_t *auth, char *endpoint,
                        size_t len)
{
    void *sock = zmq_socket(ctx, ZMQ_PULL);
    int hwm = 200000, linger = 0;
    int64_t max = NUDGE_MAX_BYTES;
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    char bind[300], err[1024];
    if (auth && curve_auth_server_setup(auth, sock, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "could not set up the inbox", "error", err, NULL);
        zmq_close(sock);
        return NULL;
    }
    snprintf(bind, sizeof bind, "tcp://%s:*", cfg->bind_host);
    if (zmq_bind(sock, bind) != 0) {
        ncap_log(LOG_ERROR, "could not bind", "endpoint", bind, "error", zmq_strerror(zmq_errno()),
                 NULL);
        zmq_close(sock);
        return NULL;
    }
    registry_advertised_endpoint(sock, cfg->advertise_host, endpoint, len);
    return sock;
}

/* With keys, the inbox's ZAP handler: this stage's secret key, admitting the upstream stage's
 * public key only. *out stays NULL in plain mode. Returns 0, or -1 (logged). */
static int inbox_auth(void *ctx, const stage_ops_t *ops, const daemon_config_t *cfg,
                      curve_auth_t **out)
{
    char err[1024], secret[4096], upstream[4096];
    *out = NULL;
    if (daemon_check_keys(cfg, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "cannot start", "error", err, NULL);
        fprintf(stderr, "%s: %s\n", cfg->service, err);
        return -1;
    }
    if (cfg->insecure_plain)
        return 0;
    if (!ops->upstream) {
        ncap_log(LOG_ERROR, "cannot start: the stage names no upstream to admit", NULL);
        return -1;
    }
    daemon_key_file(cfg, cfg->stage, "key", secret, sizeof secret);
    daemon_key_file(cfg, ops->upstream, "pub", upstream, sizeof upstream);
    if (!(*out = curve_auth_new(ctx, secret, err, sizeof err)) ||
        curve_auth_allow(*out, upstream, ops->upstream, err, sizeof err) != 0) {
        curve_auth_destroy(out);
        ncap_log(LOG_ERROR, "cannot start: could not load the stage's keys", "error", err, NULL);
        fprintf(stderr, "%s: %s\n", cfg->service, err);
        return -1;
    }
    ncap_log(LOG_INFO, "CurveZMQ on: the inbox admits only the upstream stage's key", "upstream",
             ops->upstream, NULL);
    return 0;
}

/* Reads into keys (at most batch_max) the keys carried over from the last batch, then the nudges
 * waiting and those that arrive within gather_ms, each message whole: the keys of the last one
 * that do not fit are carried over to the next batch, never dropped (their records would wait
 * for a sweep). Returns the number of messages read. */
static int gather(loop_t *loop, void *inbox, stage_keys_t *keys)
{
    size_t max = (size_t)loop->cfg->batch_max, from_carry = 0;
    for (; from_carry < loop->carry.n && keys->n < max; from_carry++)
        if (stage_keys_push(keys, loop->carry.keys[from_carry]) != 0)
            break;
    if (from_carry > 0) {
        loop->carry.n -= from_carry;
        memmove(loop->carry.keys, loop->carry.keys + from_carry,
                loop->carry.n * sizeof *loop->carry.keys);
    }
    zmq_pollitem_t items[] = {{inbox, 0, ZMQ_POLLIN, 0}};
    long long until = daemon_now_ms() + loop->ops->gather_ms;
    int messages = 0;
    while (keys->n < max) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, inbox, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            long long left = until - daemon_now_ms();
            if (left <= 0 || daemon_shutdown || zmq_poll(items, 1, (long)left) <= 0)
                break;
            continue;
        }
        messages++;
        /* a message whole (at most NUDGE_MAX_KEYS keys): what passes the batch goes to the next */
        if (nudge_read(zmq_msg_data(&msg), zmq_msg_size(&msg), NUDGE_MAX_KEYS, keys) < 0)
            ncap_log(LOG_WARN, "ignored a message that is not an ncap.v1.Nudge", NULL);
        zmq_msg_close(&msg);
    }
    for (size_t i = max; i < keys->n; i++)
        if (stage_keys_push(&loop->carry, keys->keys[i]) != 0)
            break; /* out of memory: the sweep finds those records */
    if (keys->n > max)
        keys->n = max;
    return messages;
}

int stage_run(const stage_ops_t *ops, const daemon_config_t *cfg)
{
    loop_t loop = {.ops = ops, .cfg = cfg};
    daemon_install_signals();
    /* A batch's memory is freed at its end but stayed the process's: glibc raises its mmap
     * threshold after each large block freed (up to 32 MB), so that the next batches' arrays and
     * results came from the heap, which fragmented and grew with the blocks of candidates
     * (linkage's resident memory 19 -> 42 MB over 300,000 records in tests/bench/pipeline.sh,
     * its heap's peak 17 MB). A fixed threshold keeps large blocks mapped (unmapped when freed)
     * and note_batch trims the heap at most once a second (trimmed after every batch, the pages
     * given back were faulted in again by the next: a tenth of linkage's processor time):
     * 42 -> 31 MB. */
    mallopt(M_MMAP_THRESHOLD, STAGE_MMAP_THRESHOLD);
    void *ctx = zmq_ctx_new();
    char endpoint[320], err[1024];
    curve_auth_t *auth = NULL;
    void *inbox = NULL;
    if (inbox_auth(ctx, ops, cfg, &auth) != 0) {
        zmq_ctx_term(ctx);
        return 2; /* the configuration: what to pass was said */
    }
    daemon_metrics_t metrics;
    if (daemon_metrics_start(cfg, &metrics, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "cannot start", "error", err, NULL);
        fprintf(stderr, "%s: %s\n", cfg->service, err);
        curve_auth_destroy(&auth);
        zmq_ctx_term(ctx);
        return 2;
    }
    if (!(inbox = bind_inbox(ctx, cfg, auth, endpoint, sizeof endpoint))) {
        daemon_metrics_stop(&metrics);
        curve_auth_destroy(&auth);
        zmq_ctx_term(ctx);
        return 1;
    }
    if (ops->downstream &&
        !(loop.pusher = pusher_new(ctx, cfg, ops->downstream, err, sizeof err))) {
        ncap_log(LOG_ERROR, "cannot start: could not set up the pusher", "error", err, NULL);
        fprintf(stderr, "%s: %s\n", cfg->service, err);
        zmq_close(inbox);
        daemon_metrics_stop(&metrics);
        curve_auth_destroy(&auth);
        zmq_ctx_term(ctx);
        return 2;
    }
    loop.presence = presence_new(cfg, endpoint, loop.pusher);
    if (!loop.presence) {
        ncap_log(LOG_ERROR, "out of memory at start-up", NULL);
        pusher_destroy(&loop.pusher);
        zmq_close(inbox);
        daemon_metrics_stop(&metrics);
        curve_auth_destroy(&auth);
        zmq_ctx_term(ctx);
        return 1;
    }
    presence_set_metrics(loop.presence, daemon_metrics_url(&metrics));
    ncap_log(LOG_INFO, "starting", "stage", cfg->stage, "instance",
             presence_instance(loop.presence), "endpoint", endpoint, NULL);

    long long next_sweep = 0, last_msg = 0, periodic_due = -1, next_gauges = 0;
    /* An idle stage sweeps less and less often (up to every STAGE_IDLE_SWEEP_MS, or max_idle_ms)
     * while it finds nothing; the first sweep that finds work brings the interval back to
     * --sweep-interval-ms. */
    long long sweep_every = cfg->sweep_interval_ms;
    /* the inbox, and its ZAP handler (a handshake waits for its answer) */
    zmq_pollitem_t items[] = {{inbox, 0, ZMQ_POLLIN, 0},
                              {auth ? curve_auth_socket(auth) : NULL, 0, ZMQ_POLLIN, 0}};
    int nitems = auth ? 2 : 1;
    stage_keys_t keys = {0};
    while (!daemon_shutdown) {
        PGconn *db = presence_tick(loop.presence);
        if (!db)
            break;
        long long now = daemon_now_ms();
        if (now >= next_gauges) {
            stage_gauges_read(ops, cfg->stage, db, metrics.metrics);
            next_gauges = now + STAGE_GAUGES_MS;
        }
        /* A stage with only periodic work runs it soon after a nudge; when another instance holds
         * the lock, it looks again shortly, so a nudge is never lost between two instances. */
        if (periodic_due >= 0 && now >= periodic_due) {
            long long found = sweep(&loop, db, now + 2000);
            periodic_due = found < 0 ? now + 100 : -1;
            if (found >= 0)
                wake_when_due(ops, &periodic_due);
            continue;
        }
        /* Sweep when idle, and at least every few intervals even when busy. */
        if (now >= next_sweep && (now - last_msg >= cfg->sweep_interval_ms ||
                                  now >= next_sweep + 5LL * cfg->sweep_interval_ms)) {
            long long idle_max = ops->max_idle_ms > 0 ? ops->max_idle_ms : STAGE_IDLE_SWEEP_MS;
            long long found = sweep(&loop, db, now + 2000);
            if (found > 0)
                sweep_every = cfg->sweep_interval_ms;
            else if (sweep_every < idle_max)
                sweep_every = sweep_every * 2 < idle_max ? sweep_every * 2 : idle_max;
            if (found >= 0)
                wake_when_due(ops, &periodic_due);
            next_sweep = daemon_now_ms() + sweep_every;
            continue;
        }
        long wait = periodic_due >= 0 ? (long)(periodic_due - now) : 200;
        if (wait > 200)
            wait = 200;
        /* keys carried over from the last batch: at once */
        int ready = zmq_poll(items, nitems, loop.carry.n > 0 ? 0 : wait < 1 ? 1 : wait);
        if (ready > 0 && auth && (items[1].revents & ZMQ_POLLIN))
            while (curve_auth_handle(auth) > 0)
                ;
        if (loop.carry.n == 0 && (ready <= 0 || !(items[0].revents & ZMQ_POLLIN)))
            continue;
        keys.n = 0;
        int messages = gather(&loop, inbox, &keys);
        metrics_add(metrics.metrics, METRICS_MESSAGES_RECEIVED, (uint64_t)messages);
        if (messages == 0 && keys.n == 0)
            continue;
        last_msg = daemon_now_ms();
        if (!ops->load_sql) {
            if (periodic_due < 0)
                periodic_due = last_msg;
            continue;
        }
        int n = run_keys(ops, cfg->stage, db, keys.keys, keys.n, &loop.out, &loop.carry);
        pass_on(&loop);
        if (n > 0)
            loop.processed += (unsigned long long)n;
    }
    /* Drain: the batch in hand was committed above; nudges still queued are found again in
     * PostgreSQL by whichever instance sweeps next. */
    char n[32];
    snprintf(n, sizeof n, "%llu", loop.processed);
    presence_destroy(&loop.presence);
    pusher_destroy(&loop.pusher);
    zmq_close(inbox);
    daemon_metrics_stop(&metrics);
    curve_auth_destroy(&auth);
    zmq_ctx_term(ctx);
    stage_keys_free(&keys);
    stage_keys_free(&loop.out);
    stage_keys_free(&loop.carry);
    ncap_log(LOG_INFO, "stopped cleanly", "processed", n, NULL);
    return 0;
}
