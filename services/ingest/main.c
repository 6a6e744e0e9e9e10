/* ncap-ingestd - takes trusts' submissions over ZeroMQ, stores every record as received, answers
 * with a receipt only after commit, and passes the new record versions on to linkage. */
#include <stdio.h>
#include <unistd.h>
#include <zmq.h>

#include "ingest_config.h"
#include "ingest_server.h"
#include "log.h"
#include "registry.h"
#include "upload.h"

/* The web daemon's key (DIR/web.pub of --keys), when there is one, admitted as the trusts' HTTP
 * gateway, and the trusts' token hashes it must present (--trust-keys DIR/<ODS>.token, reread
 * when the folder changes). *tokens stays NULL without web.pub: no gateway. Returns 0, or -1. */
static int gateway_auth(const daemon_config_t *cfg, curve_auth_t *auth, trust_tokens_t **tokens,
                        char *err, size_t errlen)
{
    char pub[4096], n[24];
    daemon_key_file(cfg, "web", "pub", pub, sizeof pub);
    if (access(pub, F_OK) != 0)
        return 0;
    if (curve_auth_allow(auth, pub, INGEST_GATEWAY_USER, err, errlen) != 0)
        return -1;
    if (!(*tokens = trust_tokens_new(cfg->trust_keys_dir))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char terr[1024];
    if (trust_tokens_refresh(*tokens, daemon_now_ms(), terr, sizeof terr) < 0)
        ncap_log(LOG_WARN, "could not read every trust token", "error", terr, NULL);
    snprintf(n, sizeof n, "%zu", trust_tokens_count(*tokens));
    ncap_log(LOG_INFO, "web gateway admitted: it acts for a trust only with that trust's token",
             "key", pub, "tokens", n, NULL);
    return 0;
}

/* With keys, the trusts' side of CurveZMQ: ingest's secret key and the trusts' public keys
 * (--trust-keys), and the web gateway's (gateway_auth). *auth stays NULL in plain mode. Returns 0,
 * or -1 with err set. */
static int trust_auth(void *ctx, const daemon_config_t *cfg, curve_auth_t **auth,
                      trust_tokens_t **tokens, char *err, size_t errlen)
{
    *auth = NULL;
    *tokens = NULL;
    if (daemon_check_keys(cfg, err, errlen) != 0)
        return -1;
    if (cfg->insecure_plain) {
        ncap_log(LOG_WARN,
                 "INSECURE: no trust is authenticated; ingest believes the trust each "
                 "request states",
                 NULL);
        return 0;
    }
    if (!cfg->trust_keys_dir || !*cfg->trust_keys_dir) {
        snprintf(err, errlen,
                 "--keys is given but not --trust-keys DIR (NCAP_TRUST_KEYS): the folder of "
                 "<ODS>.pub of the trusts allowed to submit (ncap keys trusts DIR makes them)");
        return -1;
    }
    char secret[4096], n[24];
    daemon_key_file(cfg, cfg->stage, "key", secret, sizeof secret);
    if (!(*auth = curve_auth_new(ctx, secret, err, errlen)) ||
        curve_auth_allow_trusts(*auth, cfg->trust_keys_dir, err, errlen) != 0) {
        curve_auth_destroy(auth);
        return -1;
    }
    snprintf(n, sizeof n, "%zu", curve_auth_nkeys(*auth));
    ncap_log(curve_auth_nkeys(*auth) ? LOG_INFO : LOG_WARN,
             "CurveZMQ on: trusts authenticated by their keys", "trusts", n, "folder",
             cfg->trust_keys_dir, NULL);
    if (gateway_auth(cfg, *auth, tokens, err, errlen) != 0) {
        curve_auth_destroy(auth);
        trust_tokens_destroy(tokens);
        return -1;
    }
    return 0;
}

/* The ROUTER socket trusts submit to, a CurveZMQ server when auth is set, bound. NULL on failure
 * (logged). */
static void *bind_router(void *ctx, const daemon_config_t *cfg, curve_auth_t *auth)
{
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 1000;
    int64_t max_message = UPLOAD_MAX_MESSAGE_BYTES;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
    char err[1024], listen[300];
    if (auth && curve_auth_server_setup(auth, router, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "could not set up CurveZMQ", "error", err, NULL);
        zmq_close(router);
        return NULL;
    }
    if (cfg->listen)
        snprintf(listen, sizeof listen, "%s", cfg->listen);
    else
        snprintf(listen, sizeof listen, "tcp://%s:*", cfg->bind_host);
    if (zmq_bind(router, listen) != 0) {
        ncap_log(LOG_ERROR, "could not bind the submission endpoint", "endpoint", listen, "error",
                 zmq_strerror(zmq_errno()), NULL);
        zmq_close(router);
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
    ingest_server_parts_t parts = {
        .cfg = &cfg, .rate_limit = opts.rate_limit, .rate_window_s = opts.rate_window_s};
    char err[1024];
    if (trust_auth(ctx, &cfg, &parts.auth, &parts.tokens, err, sizeof err) != 0 ||
        !(parts.pusher = pusher_new(ctx, &cfg, "linkage", err, sizeof err))) {
        ncap_log(LOG_ERROR, "cannot start", "error", err, NULL);
        fprintf(stderr, "%s: %s\n", cfg.service, err);
        curve_auth_destroy(&parts.auth);
        trust_tokens_destroy(&parts.tokens);
        zmq_ctx_term(ctx);
        return 2;
    }
    if (!(parts.router = bind_router(ctx, &cfg, parts.auth)))
        return 1;
    daemon_metrics_t metrics;
    if (daemon_metrics_start(&cfg, &metrics, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "cannot start", "error", err, NULL);
        fprintf(stderr, "%s: %s\n", cfg.service, err);
        return 2;
    }
    parts.audits = audit_cache_new(cfg.audit_dir);
    char endpoint[320], n[32];
    registry_advertised_endpoint(parts.router, cfg.advertise_host, endpoint, sizeof endpoint);
    parts.presence = presence_new(&cfg, endpoint, parts.pusher);
    if (parts.presence)
        presence_set_metrics(parts.presence, daemon_metrics_url(&metrics));
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
    daemon_metrics_stop(&metrics); /* after the pool: its threads count database errors */
    pusher_destroy(&parts.pusher);
    zmq_close(parts.router);
    curve_auth_destroy(&parts.auth);
    trust_tokens_destroy(&parts.tokens);
    zmq_ctx_term(ctx);
    audit_cache_destroy(&parts.audits);
    ncap_log(LOG_INFO, "stopped cleanly", "records", n, NULL);
    return 0;
}
