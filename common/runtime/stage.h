/* stage.h - the loop every downstream stage runs (linkage, validation, metric, publish):
 *
 *   take work from ZeroMQ (fast path) and, on a timer, from PostgreSQL (backlog: what upstream
 * holds that this stage has not processed) -> process a batch in one transaction -> commit -> pass
 * the results on to the next stage's live instances.
 *
 * Stage logic sees only batches of encoded messages and a connection inside a transaction. */
#ifndef NCAP_STAGE_H
#define NCAP_STAGE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "daemon.h"
#include "ncap/v1/records.pb-c.h"

typedef struct {
    uint8_t *data;
    size_t len;
} stage_msg_t;

typedef struct {
    stage_msg_t *items;
    size_t n, cap;
} stage_batch_t;

/* Copies data into the batch. Returns 0 or -1 when out of memory. */
int stage_batch_push(stage_batch_t *b, const void *data, size_t len);
/* Packs a protobuf message into the batch. Returns 0 or -1 when out of memory. */
int stage_batch_push_msg(stage_batch_t *b, const ProtobufCMessage *msg);
void stage_batch_clear(stage_batch_t *b);
/* Fills env from columns 0-7 of a backlog row: record_id, version, audit, trust, site,
 * local_id, submission_id, row_number (strings point into r; id gets a new message id). */
void stage_envelope_from_row(const PGresult *r, int row, Ncap__V1__Envelope *env, char id[33]);
void stage_batch_free(stage_batch_t *b);

typedef struct {
    const char *downstream; /* stage to pass results to, or NULL */
    void *state;
    /* Processes in inside a transaction the loop has begun; appends messages for the next stage
     * to out (sent only after commit). Returns 0, or -1 with err (the loop rolls back; the records
     * stay in the backlog and are retried). Must be idempotent. */
    int (*process)(void *state, PGconn *db, const stage_batch_t *in, stage_batch_t *out, char *err,
                   size_t errlen);
    /* Loads up to limit backlog items older than grace_ms as encoded input messages. */
    int (*backlog)(void *state, PGconn *db, int limit, int grace_ms, stage_batch_t *in, char *err,
                   size_t errlen);
    /* Optional (NULL when none): work that only one instance of the stage may do at a time, such
     * as re-deriving records already passed on whose inputs changed. Called on the backlog timer
     * by the instance holding the stage's sweep lock, inside a transaction of its own; appends
     * messages for the next stage to out (sent only after commit). Returns how many items it
     * handled, at most limit (it is called again, in a new transaction, while it returns more
     * than 0 and the sweep's time lasts), or -1 with err (rolled back). */
    int (*revise)(void *state, PGconn *db, int limit, stage_batch_t *out, char *err, size_t errlen);
    /* Called after each commit (e.g. to write files for what was committed), or NULL. */
    void (*after_commit)(void *state, PGconn *db);
    /* Extra wait after the first message of a batch, for more to arrive (ms). */
    int gather_ms;
} stage_ops_t;

/* Runs until SIGTERM/SIGINT; returns the exit status (0 after a clean drain). */
int stage_run(const stage_ops_t *ops, const daemon_config_t *cfg);

#endif
