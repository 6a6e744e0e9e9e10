/* daemon.h - what every ncap daemon shares: configuration by flags and environment, its keys (or
 * the explicit choice to run without), the shutdown flag set by signals, and a database connection
 * that survives PostgreSQL restarts.
 *
 * Keys (the key model, common/README.md): --keys DIR holds DIR/<stage>.key, the stage's own secret
 * key (one pair per stage, shared by its instances), and DIR/<other>.pub for each stage it talks
 * to: its upstream's, the only key its inbox admits, and its downstream's, the only server its
 * pusher sends to. Ingest also serves trusts with ingest.key and admits the trusts of
 * --trust-keys DIR (<ODS>.pub). Without keys a daemon runs only when told --insecure-plain. */
#ifndef NCAP_DAEMON_H
#define NCAP_DAEMON_H

#include <libpq-fe.h>
#include <signal.h>
#include <stddef.h>

#include "metrics.h"
#include "metrics_http.h"

typedef struct {
    const char *service;   /* e.g. "ncap-linkd" */
    const char *stage;     /* e.g. "linkage" */
    const char *pg;        /* --pg, $NCAP_PG */
    const char *audit_dir; /* --audit-dir, $NCAP_AUDIT_DIR */
    const char *bind_host; /* --bind-host, $NCAP_BIND_HOST (127.0.0.1) */
    const char
        *advertise_host;  /* --advertise-host, $NCAP_ADVERTISE_HOST (bind host, or hostname) */
    const char *listen;   /* --listen, $NCAP_LISTEN: ingest's submission endpoint */
    const char *out_dir;  /* --out, $NCAP_OUT: publish's release folder */
    const char *key_file; /* --key-file, $NCAP_PSEUDONYM_KEY_FILE: linkage's secret key */
    const char *keys_dir; /* --keys, $NCAP_KEYS_DIR: CurveZMQ keys (above), or NULL */
    const char *trust_keys_dir; /* --trust-keys, $NCAP_TRUST_KEYS: ingest's <ODS>.pub folder */
    int insecure_plain;         /* --insecure-plain, $NCAP_INSECURE_PLAIN=1: no CurveZMQ */
    int batch_max;              /* --batch (500) */
    int sweep_interval_ms;      /* --sweep-interval-ms (1000) */
    int sweep_grace_ms; /* --sweep-grace-ms (3000): backlog younger than this is in flight */
    const char *metrics_listen; /* --metrics-listen, $NCAP_METRICS_LISTEN: HOST:PORT of /metrics,
                                   /healthz and /readyz (metrics_http.h), or NULL: none */
    int interval_s;     /* publish: --interval, $NCAP_PUBLISH_INTERVAL (60): seconds between an
                           audit's rounds of new revisions (0: a round on every change) */
    int keep;           /* publish: --keep, $NCAP_PUBLISH_KEEP (20): provisional revisions kept
                           per period */
} daemon_config_t;

extern volatile sig_atomic_t daemon_shutdown;

/* Fills cfg from the environment, then from argv. about: one paragraph for --help.
 * Returns 0 to run, 1 when --help was printed (exit 0), 2 on a usage error (printed). */
int daemon_config_parse(daemon_config_t *cfg, const char *service, const char *stage,
                        const char *about, int argc, char **argv);
/* The daemon's choice of security, checked before it opens a socket: keys (--keys) or plain
 * (--insecure-plain, then logged as a loud warning), never neither and never both. Returns 0, or
 * -1 with err saying what to pass. */
int daemon_check_keys(const daemon_config_t *cfg, char *err, size_t errlen);
/* The key file --keys DIR/<name>.<ext> (ext "key" or "pub") into out. */
void daemon_key_file(const daemon_config_t *cfg, const char *name, const char *ext, char *out,
                     size_t outlen);
/* SIGTERM and SIGINT set daemon_shutdown; SIGPIPE is ignored. */
void daemon_install_signals(void);
/* Connects, retrying each second (logging each failure) until it succeeds or shutdown is asked.
 * Returns NULL only on shutdown. */
PGconn *daemon_connect(const daemon_config_t *cfg);
/* Monotonic milliseconds. */
long long daemon_now_ms(void);

/* A daemon's metrics (metrics.h), installed as the process's, and their HTTP listener; both NULL
 * without --metrics-listen (every hook then does nothing). */
typedef struct {
    metrics_t *metrics;
    metrics_http_t *http;
} daemon_metrics_t;
/* With --metrics-listen: makes the daemon's metrics, installs them as the process's and serves
 * them (logging the URL). Returns 0, or -1 with err (the daemon should not start). */
int daemon_metrics_start(const daemon_config_t *cfg, daemon_metrics_t *out, char *err,
                         size_t errlen);
/* The listener's URL ("http://HOST:PORT"), or NULL when there is none. */
const char *daemon_metrics_url(const daemon_metrics_t *dm);
/* Stops the listener, uninstalls and frees the metrics. */
void daemon_metrics_stop(daemon_metrics_t *dm);

#endif
