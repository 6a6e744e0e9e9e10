/* ncap-ingestd - takes trusts' submissions over ZeroMQ, stores every record as received, answers
 * with a receipt only after commit, and passes the new record versions on to linkage. */
#include <stdio.h>
#include <zmq.h>

#include "ingest_config.h"
#include "ingest_server.h"
#include "log.h"
#include "registry.h"
#include "upload.h"

/* The ROUTER socket trusts submit to, with CurveZMQ when configured, bound. NULL on failure. */
static void *bind_router(void *ctx, const daemon_config_t *cfg, curve_auth_t **auth)
{
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 1000;
    int64_t max_message = UPLOAD_MAX_MESSAGE_BYTES;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
    char err[1024], listen[300], n[24];
    if (curve_auth_new(ctx, auth, err, sizeof err) != 0 ||
        (*auth && curve_auth_server_setup(*auth, router, err, sizeof err) != 0)) {
        ncap_log(LOG_ERROR, "could not set up CurveZMQ", "error", err, NULL);
        return NULL;
    }
    if (*auth) {
        snprintf(n, sizeof n, "%zu", curve_auth_ntrusts(*auth));
        ncap_log(LOG_INFO, "CurveZMQ on: trusts authenticated by their keys", "trusts", n, NULL);
    }
    if (cfg->listen)
        snprintf(listen, sizeof listen, "%s", cfg->listen);
    else
        snprintf(listen, sizeof listen, "tcp://%s:*", cfg->bind_host);
    if (zmq_bind(router, listen) != 0) {
        ncap_log(LOG_ERROR, "could not bind the submission endpoint", "endpoint", listen, "error",
                 zmq_strerror(zmq_errno()), NULL);
        return NULL;
    }
    return router;
}

int main(int argc, char **argv)
{
    daemon_config_t cfg;
    ingest_options_t opts;
    int rc = ingest_config_parse(&cfg, &opts, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.service);
    daemon_install_signals();
    void *ctx = zmq_ctx_new();
    ingest_server_parts_t parts = {.cfg = &cfg,
                                   .audits = audit_cache_new(cfg.audit_dir),
                                   .rate_limit = opts.rate_limit,
                                   .rate_window_s = opts.rate_window_s};
    if (!(parts.router = bind_router(ctx, &cfg, &parts.auth)))
        return 1;
    char endpoint[320], n[32];
    registry_advertised_endpoint(parts.router, cfg.advertise_host, endpoint, sizeof endpoint);
    parts.pusher = pusher_new(ctx, "linkage");
    parts.presence = presence_new(&cfg, endpoint, parts.pusher);
    snprintf(n, sizeof n, "%d", opts.store_workers);
    ncap_log(LOG_INFO, "starting", "stage", "ingest", "instance",
             parts.presence ? presence_instance(parts.presence) : "", "endpoint", endpoint,
             "store_workers", n, NULL);
    if (!(parts.pool = store_pool_new(&cfg, opts.store_workers))) {
        ncap_log(LOG_ERROR, "could not start the store workers", "store_workers", n, NULL);
        return 1;
    }
    ingest_server_t *srv =
        parts.presence && presence_tick(parts.presence) ? ingest_server_new(&parts) : NULL;
    while (srv && !ingest_server_finished(srv)) {
        if (daemon_shutdown)
            ingest_server_stop(srv); /* then polled until the files being stored are answered */
        ingest_server_tick(srv, daemon_now_ms());
        ingest_server_poll(srv, 200);
    }
    snprintf(n, sizeof n, "%llu", srv ? ingest_server_records(srv) : 0);
    ingest_server_destroy(&srv);
    store_pool_destroy(&parts.pool);
    pusher_destroy(&parts.pusher);
    zmq_close(parts.router);
    curve_auth_destroy(&parts.auth);
    zmq_ctx_term(ctx);
    audit_cache_destroy(&parts.audits);
    ncap_log(LOG_INFO, "stopped cleanly", "records", n, NULL);
    return 0;
}
