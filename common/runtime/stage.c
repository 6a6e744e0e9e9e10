/* stage.c - fast path from ZeroMQ, backlog from PostgreSQL, batches in one transaction */
#include "stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "db.h"
#include "log.h"
#include "message.h"
#include "pusher.h"
#include "registry.h"

int stage_batch_push(stage_batch_t *b, const void *data, size_t len)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        stage_msg_t *items = realloc(b->items, cap * sizeof *items);
        if (!items)
            return -1;
        b->items = items;
        b->cap = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    b->items[b->n].data = copy;
    b->items[b->n].len = len;
    b->n++;
    return 0;
}

int stage_batch_push_msg(stage_batch_t *b, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    protobuf_c_message_pack(msg, buf);
    int rc = stage_batch_push(b, buf, len);
    free(buf);
    return rc;
}

void stage_envelope_from_row(const PGresult *r, int row, Ncap__V1__Envelope *env, char id[33])
{
    ncap__v1__envelope__init(env);
    message_new_id(id);
    env->message_id = id;
    env->record_id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    env->version = atoi(PQgetvalue(r, row, 1));
    env->audit = PQgetvalue(r, row, 2);
    env->trust = PQgetvalue(r, row, 3);
    env->site = PQgetvalue(r, row, 4);
    env->local_record_id = PQgetvalue(r, row, 5);
    env->submission_id = strtoll(PQgetvalue(r, row, 6), NULL, 10);
    env->row_number = atoi(PQgetvalue(r, row, 7));
}

void stage_batch_clear(stage_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->items[i].data);
    b->n = 0;
}

void stage_batch_free(stage_batch_t *b)
{
    stage_batch_clear(b);
    free(b->items);
    memset(b, 0, sizeof *b);
}

typedef struct {
    const stage_ops_t *ops;
    const daemon_config_t *cfg;
    PGconn *db;
    pusher_t *pusher;
    stage_batch_t in, out;
    unsigned long long processed, batches, failures;
} loop_t;

/* Processes in in one transaction and, after commit, passes the results on.
 * Returns 0, or -1 with err when the transaction failed (rolled back). */
static int commit_batch(loop_t *loop, const stage_batch_t *in, char *err, size_t errlen)
{
    stage_batch_clear(&loop->out);
    if (db_exec(loop->db, "BEGIN", err, errlen) != 0 ||
        loop->ops->process(loop->ops->state, loop->db, in, &loop->out, err, errlen) != 0 ||
        db_exec(loop->db, "COMMIT", err, errlen) != 0) {
        db_exec(loop->db, "ROLLBACK", NULL, 0);
        stage_batch_clear(&loop->out);
        return -1;
    }
    if (loop->ops->after_commit)
        loop->ops->after_commit(loop->ops->state, loop->db);
    for (size_t i = 0; loop->pusher && i < loop->out.n; i++)
        pusher_send(loop->pusher, loop->out.items[i].data, loop->out.items[i].len);
    stage_batch_clear(&loop->out);
    loop->processed += in->n;
    loop->batches++;
    return 0;
}

/* Processes loop->in. When the batch fails, each message is retried in a transaction of its own,
 * so that one bad record cannot hold back the others; what still fails stays in the backlog.
 * Returns the number of messages committed, or -1 when none could be. */
static int run_batch(loop_t *loop)
{
    char err[2048] = "";
    size_t n = loop->in.n;
    int done = -1;
    if (commit_batch(loop, &loop->in, err, sizeof err) == 0) {
        done = (int)n;
    } else if (n > 1 && db_alive(loop->db)) {
        char first[2048];
        snprintf(first, sizeof first, "%s", err);
        size_t ok = 0;
        for (size_t i = 0; i < n && db_alive(loop->db); i++) {
            stage_batch_t one = {&loop->in.items[i], 1, 1};
            if (commit_batch(loop, &one, err, sizeof err) == 0)
                ok++;
            else
                ncap_log(LOG_ERROR, "a record failed on its own; it stays in the backlog", "error",
                         err, NULL);
        }
        done = ok > 0 ? (int)ok : -1;
        if (ok < n) {
            char counts[64];
            snprintf(counts, sizeof counts, "%zu of %zu", n - ok, n);
            ncap_log(LOG_ERROR, "batch failed; retried record by record", "failed", counts, "error",
                     first, NULL);
        }
    }
    if (done < 0) {
        loop->failures++;
        char count[32];
        snprintf(count, sizeof count, "%zu", n);
        ncap_log(LOG_ERROR, "batch failed and was rolled back; its records stay in the backlog",
                 "records", count, "error", err, NULL);
    }
    stage_batch_clear(&loop->in);
    return done;
}

/* Runs the stage's revise hook in a transaction of its own and, after commit, passes its output
 * on. Returns how many items it handled, or -1 with err (rolled back). */
static int revise(loop_t *loop, char *err, size_t errlen)
{
    stage_batch_clear(&loop->out);
    int n = -1;
    if (db_exec(loop->db, "BEGIN", err, errlen) != 0 ||
        (n = loop->ops->revise(loop->ops->state, loop->db, loop->cfg->batch_max, &loop->out, err,
                               errlen)) < 0 ||
        db_exec(loop->db, "COMMIT", err, errlen) != 0) {
        db_exec(loop->db, "ROLLBACK", NULL, 0);
        stage_batch_clear(&loop->out);
        return -1;
    }
    for (size_t i = 0; loop->pusher && i < loop->out.n; i++)
        pusher_send(loop->pusher, loop->out.items[i].data, loop->out.items[i].len);
    stage_batch_clear(&loop->out);
    return n;
}

/* Works off the backlog in PostgreSQL; only one instance of a stage sweeps at a time.
 * Returns the number of records found. */
static unsigned long long sweep(loop_t *loop, long long deadline_ms)
{
    char err[1024];
    char lock[160];
    snprintf(lock, sizeof lock, "SELECT pg_try_advisory_lock(hashtext('ncap.sweep.%s'))",
             loop->cfg->stage);
    PGresult *r = db_query(loop->db, lock, 0, NULL, err, sizeof err);
    if (!r)
        return 0;
    int got = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!got)
        return 0;
    unsigned long long found = 0;
    while (!daemon_shutdown && daemon_now_ms() < deadline_ms) {
        stage_batch_clear(&loop->in);
        if (loop->ops->backlog(loop->ops->state, loop->db, loop->cfg->batch_max,
                               loop->cfg->sweep_grace_ms, &loop->in, err, sizeof err) != 0) {
            ncap_log(LOG_ERROR, "could not read the backlog", "error", err, NULL);
            stage_batch_clear(&loop->in);
            break;
        }
        size_t n = loop->in.n;
        if (n == 0)
            break;
        found += n;
        if (run_batch(loop) < 0 || n < (size_t)loop->cfg->batch_max)
            break;
    }
    while (loop->ops->revise && !daemon_shutdown && daemon_now_ms() < deadline_ms) {
        int n = revise(loop, err, sizeof err);
        if (n < 0) {
            ncap_log(LOG_ERROR, "revision sweep failed and was rolled back; it is retried", "error",
                     err, NULL);
            break;
        }
        found += (unsigned long long)n;
        if (n == 0)
            break;
    }
    snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(hashtext('ncap.sweep.%s'))",
             loop->cfg->stage);
    db_exec(loop->db, lock, NULL, 0);
    if (found > 0) {
        char n[32];
        snprintf(n, sizeof n, "%llu", found);
        ncap_log(LOG_INFO, "worked off backlog found in PostgreSQL", "records", n, NULL);
    }
    return found;
}

/* Binds the PULL socket on an ephemeral port and works out the endpoint others should use. */
static void *bind_inbox(void *ctx, const daemon_config_t *cfg, char *endpoint, size_t len)
{
    void *sock = zmq_socket(ctx, ZMQ_PULL);
    int hwm = 200000, linger = 0;
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char bind[300];
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

int stage_run(const stage_ops_t *ops, const daemon_config_t *cfg)
{
    loop_t loop = {.ops = ops, .cfg = cfg};
    daemon_install_signals();
    void *ctx = zmq_ctx_new();
    char endpoint[320];
    void *inbox = bind_inbox(ctx, cfg, endpoint, sizeof endpoint);
    if (!inbox) {
        zmq_ctx_term(ctx);
        return 1;
    }
    if (ops->downstream)
        loop.pusher = pusher_new(ctx, ops->downstream);
    char instance[300];
    registry_make_instance_id(instance, sizeof instance);
    ncap_log(LOG_INFO, "starting", "stage", cfg->stage, "instance", instance, "endpoint", endpoint,
             NULL);

    int registered = 0;
    long long next_tick = 0, next_sweep = 0, last_msg = 0;
    /* An idle stage sweeps less and less often (up to every 10 s) while it finds nothing; the
     * first sweep that finds work brings the interval back to --sweep-interval-ms. */
    long long sweep_every = cfg->sweep_interval_ms;
    zmq_pollitem_t items[] = {{inbox, 0, ZMQ_POLLIN, 0}};
    uint8_t *buf = malloc(16 << 20);
    const size_t bufsz = 16 << 20;
    while (!daemon_shutdown && buf) {
        if (!db_alive(loop.db)) {
            if (loop.db) {
                ncap_log(LOG_WARN, "lost the PostgreSQL connection, reconnecting", NULL);
                PQfinish(loop.db);
            }
            loop.db = daemon_connect(cfg);
            registered = 0;
            if (!loop.db)
                break;
        }
        long long now = daemon_now_ms();
        char err[1024];
        if (now >= next_tick) {
            int rc = registered ? registry_heartbeat(loop.db, instance, err, sizeof err)
                                : registry_register(loop.db, instance, cfg->stage, endpoint, err,
                                                    sizeof err);
            if (rc != 0)
                ncap_log(LOG_WARN, "could not update the instance registry", "error", err, NULL);
            else
                registered = 1;
            if (loop.pusher && pusher_refresh(loop.pusher, loop.db, err, sizeof err) != 0)
                ncap_log(LOG_WARN, "could not look up the next stage", "error", err, NULL);
            next_tick = now + 1000;
        }
        /* Sweep when idle, and at least every few intervals even when busy. */
        if (now >= next_sweep && (now - last_msg >= cfg->sweep_interval_ms ||
                                  now >= next_sweep + 5LL * cfg->sweep_interval_ms)) {
            if (sweep(&loop, now + 2000) > 0)
                sweep_every = cfg->sweep_interval_ms;
            else if (sweep_every < 10000)
                sweep_every *= 2;
            next_sweep = daemon_now_ms() + sweep_every;
            continue;
        }
        long long wait = next_tick - now;
        if (wait > 200)
            wait = 200;
        if (wait < 1)
            wait = 1;
        int rc = zmq_poll(items, 1, (long)wait);
        if (rc <= 0)
            continue;
        /* Gather a batch: everything waiting, and what arrives within gather_ms. */
        long long gather_until = daemon_now_ms() + ops->gather_ms;
        while (loop.in.n < (size_t)cfg->batch_max) {
            int n = zmq_recv(inbox, buf, bufsz, ZMQ_DONTWAIT);
            if (n < 0) {
                long long left = gather_until - daemon_now_ms();
                if (left <= 0 || daemon_shutdown)
                    break;
                if (zmq_poll(items, 1, (long)left) <= 0)
                    break;
                continue;
            }
            if ((size_t)n > bufsz) {
                ncap_log(LOG_ERROR, "dropped an oversized message; the backlog sweep will find it",
                         NULL);
                continue;
            }
            stage_batch_push(&loop.in, buf, (size_t)n);
        }
        last_msg = daemon_now_ms();
        if (loop.in.n > 0)
            run_batch(&loop);
    }
    /* Drain: the batch in hand was committed above; messages still queued are found again in
     * PostgreSQL by whichever instance sweeps next. */
    char n[32];
    snprintf(n, sizeof n, "%llu", loop.processed);
    if (loop.db) {
        registry_remove(loop.db, instance, NULL, 0);
        PQfinish(loop.db);
    }
    free(buf);
    pusher_destroy(&loop.pusher);
    zmq_close(inbox);
    zmq_ctx_term(ctx);
    stage_batch_free(&loop.in);
    stage_batch_free(&loop.out);
    ncap_log(LOG_INFO, "stopped cleanly", "processed", n, NULL);
    return 0;
}
