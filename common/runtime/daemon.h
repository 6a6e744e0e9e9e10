/* daemon.h - what every ncap daemon shares: configuration by flags and environment, the shutdown
 * flag set by signals, and a database connection that survives PostgreSQL restarts. */
#ifndef NCAP_DAEMON_H
#define NCAP_DAEMON_H

#include <libpq-fe.h>
#include <signal.h>

typedef struct {
    const char *service;   /* e.g. "ncap-linkd" */
    const char *stage;     /* e.g. "linkage" */
    const char *pg;        /* --pg, $NCAP_PG */
    const char *audit_dir; /* --audit-dir, $NCAP_AUDIT_DIR */
    const char *bind_host; /* --bind-host, $NCAP_BIND_HOST (127.0.0.1) */
    const char
        *advertise_host;   /* --advertise-host, $NCAP_ADVERTISE_HOST (bind host, or hostname) */
    const char *listen;    /* --listen, $NCAP_LISTEN: ingest's submission endpoint */
    const char *out_dir;   /* --out, $NCAP_OUT: publish's release folder */
    const char *key_file;  /* --key-file, $NCAP_PSEUDONYM_KEY_FILE: linkage's secret key */
    int batch_max;         /* --batch (500) */
    int sweep_interval_ms; /* --sweep-interval-ms (1000) */
    int sweep_grace_ms;    /* --sweep-grace-ms (3000): backlog younger than this is in flight */
} daemon_config_t;

extern volatile sig_atomic_t daemon_shutdown;

/* Fills cfg from the environment, then from argv. about: one paragraph for --help.
 * Returns 0 to run, 1 when --help was printed (exit 0), 2 on a usage error (printed). */
int daemon_config_parse(daemon_config_t *cfg, const char *service, const char *stage,
                        const char *about, int argc, char **argv);
/* SIGTERM and SIGINT set daemon_shutdown; SIGPIPE is ignored. */
void daemon_install_signals(void);
/* Connects, retrying each second (logging each failure) until it succeeds or shutdown is asked.
 * Returns NULL only on shutdown. */
PGconn *daemon_connect(const daemon_config_t *cfg);
/* Monotonic milliseconds. */
long long daemon_now_ms(void);

#endif
