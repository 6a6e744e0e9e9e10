/* ingest_server.h - ncap-ingestd's request loop body: trusts' requests on the ROUTER socket
 * (submission chunks, feedback requests), finished uploads handed to the store pool, receipts
 * sent when the pool hands them back committed, and the stored versions passed on to linkage.
 *
 * Everything here runs on the loop's thread, the only one that touches the ROUTER socket and the
 * pusher; parsing and storing happen in the pool's threads. Invariant: a receipt is sent only for
 * a job the pool handed back committed (store_job_run has returned STORED).
 *
 * Passing on is cut into slices of INGEST_PASS_ON_SLICE versions, one per ingest_server_poll, so
 * that a million-row submission never holds the loop for more than a few milliseconds. */
#ifndef NCAP_INGEST_SERVER_H
#define NCAP_INGEST_SERVER_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "audit_cache.h"
#include "curve_auth.h"
#include "daemon.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/outlier.pb-c.h"
#include "presence.h"
#include "pusher.h"
#include "store_pool.h"
#include "trust_token.h"

#define INGEST_MAX_STORE_JOBS 256 /* finished uploads waiting for, or in, the store pool */
#define INGEST_PASS_ON_SLICE 500  /* versions passed on per poll */
#define INGEST_FEEDBACK_PAGE 1000 /* problems per feedback reply: at most ~1 MB */
/* The first frame of a two-frame request names its type, the message's full protobuf name (for
 * feedback ncap__v1__feedback_request__descriptor.name, "ncap.v1.FeedbackRequest", as the clients
 * send it); a bare frame is a SubmitRequest. */
#define INGEST_FEEDBACK_REQUEST_TYPE (ncap__v1__feedback_request__descriptor.name)
/* an outlier request (outlier_request.h): "ncap.v1.OutlierRequest" */
#define INGEST_OUTLIER_REQUEST_TYPE (ncap__v1__outlier_request__descriptor.name)
/* The name the ZAP handler gives the web daemon's key (DIR/web.pub of --keys): never a trust's
 * (ODS codes have no ':'). A connection under it is the trusts' HTTP gateway, which speaks for a
 * trust only with that trust's bearer token in each request (trust_token.h). */
#define INGEST_GATEWAY_USER "stage:web"

/* What the server works with. It borrows all but db, which it owns from ingest_server_new on. */
typedef struct {
    const daemon_config_t *cfg; /* to reconnect db */
    void *router;               /* the bound submission endpoint (ZMQ_ROUTER) */
    curve_auth_t *auth;         /* CurveZMQ with the trusts' keys, or NULL: plain connections */
    /* the trusts' token hashes of --trust-keys DIR when auth admits the web gateway's key, else
     * NULL (no gateway) */
    trust_tokens_t *tokens;
    pusher_t *pusher;           /* to linkage */
    audit_cache_t *audits;
    store_pool_t *pool;
    /* the loop's own connection (feedback), this instance in the registry and the pusher's
     * refresh: the daemon tick every daemon runs (presence.h) */
    presence_t *presence;
    /* at most rate_limit submissions begun per trust per rate_window_s seconds (trust_rate.h;
     * rate_limit 0: no limit) */
    unsigned rate_limit, rate_window_s;
} ingest_server_parts_t;

typedef struct ingest_server_t ingest_server_t;

/* The server, owning parts->presence from now on; NULL when out of memory (presence destroyed all
 * the same). */
ingest_server_t *ingest_server_new(const ingest_server_parts_t *parts);
/* Drops uploads in progress and the versions not yet passed on (linkage finds them in its
 * backlog), handing their jobs to the pool to destroy, and destroys the presence. Call it when
 * ingest_server_finished, and before store_pool_destroy. */
void ingest_server_destroy(ingest_server_t **self_p);

/* Waits up to timeout_ms (0 while versions remain to pass on) for a request, a ZAP request or a
 * finished job, then answers one request, sends the receipts of every finished job and passes on
 * one slice. Returns 0, or -1 when polling failed (other than by a signal). */
int ingest_server_poll(ingest_server_t *self, int timeout_ms);
/* Once a second (at most; call it as often as you like): the instance's heartbeat in the
 * registry (registered again if its row went), the linkage instances to pass on to, and the
 * uploads that sent nothing for UPLOAD_EXPIRY_MS dropped. Nothing once stopped. */
void ingest_server_tick(ingest_server_t *self, long long now_ms);
/* Stops taking uploads (at shutdown): the instance leaves the registry, so clients go to another;
 * uploads in progress are dropped, finished ones the pool has not begun are refused (the client
 * is told nothing was kept), and every later chunk is refused; feedback is still answered. The
 * jobs being stored go on: poll until ingest_server_finished. Calling it again does nothing. */
void ingest_server_stop(ingest_server_t *self);
/* True once stopped and every job of the pool has been answered. */
bool ingest_server_finished(ingest_server_t *self);
/* The loop's connection, reconnected when lost (blocking, as daemon_connect); NULL only when
 * shutdown was asked while there was none. */
PGconn *ingest_server_db(ingest_server_t *self);
/* Record versions stored (receipts' accepted) so far. */
unsigned long long ingest_server_records(const ingest_server_t *self);

#endif
