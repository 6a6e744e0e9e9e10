/* web_config.h - ncap-webd's flags (each also from the environment): where it listens and what
 * it serves, its limits, TLS, and the common daemon pieces (--pg, --metrics-listen, --keys) in a
 * daemon_config_t for the runtime's helpers. Pure but for reading the environment. */
#ifndef NCAP_WEB_CONFIG_H
#define NCAP_WEB_CONFIG_H

#include "daemon.h"

#define WEB_MAX_BODY_DEFAULT (64LL * 1024 * 1024)
#define WEB_HEADERS_MAX (16 * 1024)       /* a request's header lines, in bytes: 431 beyond */
#define WEB_CONNECTION_MEMORY (64 * 1024) /* libmicrohttpd's own 431/414 beyond this */

typedef struct {
    daemon_config_t d;    /* service, stage "web", pg, metrics_listen, advertise_host, keys */
    const char *listen;   /* --listen HOST:PORT ($NCAP_WEB_LISTEN, 127.0.0.1:8080) */
    const char *releases; /* --releases DIR ($NCAP_RELEASES, ./releases) */
    long long max_body;   /* --max-body BYTES ($NCAP_WEB_MAX_BODY, 64 MiB) */
    int threads;          /* --threads N (4) */
    int connections;      /* --connections N (256) */
    int per_ip;           /* --per-ip N (32) */
    int timeout_s;        /* --timeout S (30): a connection idle this long is closed */
    const char *tls_cert, *tls_key, *tls_client_ca; /* --tls-cert, --tls-key, --tls-client-ca */
    const char *ingest;    /* --ingest ENDPOINT ($NCAP_INGEST): the trusts' gateway */
    int gateway_timeout_s; /* --gateway-timeout S (60) */
} web_config_t;

/* Fills cfg from the environment, then argv. Returns 0 to run, 1 when --help was printed, 2 on a
 * usage error (printed on stderr). */
int web_config_parse(web_config_t *cfg, int argc, char **argv);

#endif
