/* ncap-webd - the portal, the release files and the read API over HTTP(S), and the trusts' API
 * into ingest: web_server.c around web_handler.c. Stateless: scale by starting more. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "db.h"
#include "log.h"
#include "trust_gateway.h"
#include "web_config.h"
#include "web_db.h"
#include "web_server.h"

/* The releases folder, waited for while it does not exist yet (publish makes it with its first
 * release). Returns its descriptor, or -1 on shutdown or another error (logged). */
static int open_releases(const char *dir)
{
    for (int attempt = 0; !daemon_shutdown; attempt++) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno != ENOENT) {
            ncap_log(LOG_ERROR, "could not open the releases folder", "dir", dir, "error",
                     strerror(errno), NULL);
            return -1;
        }
        if (attempt % 30 == 0)
            ncap_log(LOG_WARN, "the releases folder does not exist yet, waiting", "dir", dir, NULL);
        metrics_beat(metrics_installed(), daemon_now_ms());
        sleep(1);
    }
    return -1;
}

static trust_gateway *open_gateway(const web_config_t *cfg)
{
    if (!cfg->d.keys_dir && !cfg->d.insecure_plain) {
        ncap_log(LOG_WARN, "no --keys and no --insecure-plain: the trusts' API answers 503", NULL);
        return NULL;
    }
    trust_gateway_config gc = {.ingest = cfg->ingest,
                               .keys_dir = cfg->d.insecure_plain ? NULL : cfg->d.keys_dir,
                               .timeout_s = cfg->gateway_timeout_s};
    char err[512];
    trust_gateway *gw = trust_gateway_open(&gc, err, sizeof err);
    if (!gw)
        ncap_log(LOG_ERROR, "trust gateway not configured: the trusts' API answers 503", "error",
                 err, NULL);
    return gw;
}

int main(int argc, char **argv)
{
    web_config_t cfg;
    int rc = web_config_parse(&cfg, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    ncap_log_init(cfg.d.service);
    daemon_install_signals();
    char err[1024];
    daemon_metrics_t dm;
    if (daemon_metrics_start(&cfg.d, &dm, err, sizeof err) != 0) {
        ncap_log(LOG_ERROR, "could not start the metrics listener", "error", err, NULL);
        return 1;
    }
    metrics_set(dm.metrics, METRICS_REGISTERED, 1); /* no registry: a web server takes no nudges */
    web_context_t ctx = {.releases_fd = open_releases(cfg.releases)};
    if (ctx.releases_fd < 0) {
        daemon_metrics_stop(&dm);
        return daemon_shutdown ? 0 : 1;
    }
    ctx.db = web_db_new(db_conninfo(cfg.d.pg), (size_t)cfg.threads);
    ctx.gateway = open_gateway(&cfg);
    ctx.require_client_cert = cfg.tls_client_ca != NULL;
    web_server_t *server = ctx.db ? web_server_start(&cfg, &ctx, err, sizeof err) : NULL;
    if (!server) {
        ncap_log(LOG_ERROR, "could not start the web server", "error",
                 ctx.db ? err : "out of memory", NULL);
        rc = 1;
    } else {
        ncap_log(LOG_INFO, "serving the portal and the API", "url", web_server_url(server),
                 "releases", cfg.releases, "portal", "/site/", "api", "/api/v1/", NULL);
    }
    for (long long tick = 0; server && !daemon_shutdown; tick++) {
        metrics_beat(dm.metrics, daemon_now_ms());
        if (tick % 5 == 0) { /* the database's state for /readyz */
            int status;
            PGresult *r = web_db_query(ctx.db, "SELECT 1", 0, NULL, &status, err, sizeof err);
            PQclear(r);
        }
        sleep(1);
    }
    web_server_stop(&server);
    trust_gateway_close(ctx.gateway);
    web_db_destroy(&ctx.db);
    close(ctx.releases_fd);
    daemon_metrics_stop(&dm);
    ncap_log(LOG_INFO, "stopped", NULL);
    return rc;
}
