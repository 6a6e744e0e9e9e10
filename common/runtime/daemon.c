/* daemon.c - configuration, signals, resilient connection */
#include "daemon.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

volatile sig_atomic_t daemon_shutdown = 0;

static void on_signal(int sig)
{
    (void)sig;
    daemon_shutdown = 1;
}

void daemon_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int parse_int(const char *opt, const char *s, int min, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > 1000000000) {
        fprintf(stderr, "invalid value \"%s\" for %s: expected a whole number >= %d\n", s, opt,
                min);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int daemon_config_parse(daemon_config_t *cfg, const char *service, const char *stage,
                        const char *about, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->service = service;
    cfg->stage = stage;
    cfg->pg = env_or("NCAP_PG", "");
    cfg->audit_dir = env_or("NCAP_AUDIT_DIR", NCAP_DEFAULT_AUDIT_DIR);
    cfg->bind_host = env_or("NCAP_BIND_HOST", "127.0.0.1");
    cfg->advertise_host = env_or("NCAP_ADVERTISE_HOST", NULL);
    cfg->listen = env_or("NCAP_LISTEN", NULL);
    cfg->out_dir = env_or("NCAP_OUT", "releases");
    cfg->key_file = env_or("NCAP_PSEUDONYM_KEY_FILE", NULL);
    cfg->keys_dir = env_or("NCAP_KEYS_DIR", NULL);
    cfg->trust_keys_dir = env_or("NCAP_TRUST_KEYS", NULL);
    cfg->metrics_listen = env_or("NCAP_METRICS_LISTEN", NULL);
    const char *plain = env_or("NCAP_INSECURE_PLAIN", "0");
    if (strcmp(plain, "0") != 0 && strcmp(plain, "1") != 0) {
        fprintf(stderr, "invalid value \"%s\" for $NCAP_INSECURE_PLAIN: expected 1 or 0\n", plain);
        return 2;
    }
    cfg->insecure_plain = plain[0] == '1';
    cfg->batch_max = 500;
    cfg->sweep_interval_ms = 1000;
    cfg->sweep_grace_ms = 3000;
    /* publish's own settings are read by publish alone: a value meant for it (one environment
     * shared by every daemon, as docker-compose's) never stops another daemon from starting */
    bool publish = stage && strcmp(stage, "publish") == 0;
    cfg->interval_s = 60;
    cfg->keep = 20;
    if (publish &&
        (parse_int("$NCAP_PUBLISH_INTERVAL", env_or("NCAP_PUBLISH_INTERVAL", "60"), 0,
                   &cfg->interval_s) != 0 ||
         parse_int("$NCAP_PUBLISH_KEEP", env_or("NCAP_PUBLISH_KEEP", "20"), 1, &cfg->keep) != 0))
        return 2;

    static const struct option opts[] = {{"pg", required_argument, 0, 'p'},
                                         {"audit-dir", required_argument, 0, 'a'},
                                         {"bind-host", required_argument, 0, 'b'},
                                         {"advertise-host", required_argument, 0, 'A'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"out", required_argument, 0, 'o'},
                                         {"key-file", required_argument, 0, 'k'},
                                         {"keys", required_argument, 0, 'K'},
                                         {"trust-keys", required_argument, 0, 'T'},
                                         {"insecure-plain", no_argument, 0, 'P'},
                                         {"batch", required_argument, 0, 'B'},
                                         {"sweep-interval-ms", required_argument, 0, 'S'},
                                         {"sweep-grace-ms", required_argument, 0, 'G'},
                                         {"metrics-listen", required_argument, 0, 'M'},
                                         {"interval", required_argument, 0, 'I'},
                                         {"keep", required_argument, 0, 'N'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            cfg->pg = optarg;
            break;
        case 'a':
            cfg->audit_dir = optarg;
            break;
        case 'b':
            cfg->bind_host = optarg;
            break;
        case 'A':
            cfg->advertise_host = optarg;
            break;
        case 'l':
            cfg->listen = optarg;
            break;
        case 'o':
            cfg->out_dir = optarg;
            break;
        case 'k':
            cfg->key_file = optarg;
            break;
        case 'K':
            cfg->keys_dir = optarg;
            break;
        case 'T':
            cfg->trust_keys_dir = optarg;
            break;
        case 'P':
            cfg->insecure_plain = 1;
            break;
        case 'B':
            if (parse_int("--batch", optarg, 1, &cfg->batch_max) != 0)
                return 2;
            break;
        case 'S':
            if (parse_int("--sweep-interval-ms", optarg, 10, &cfg->sweep_interval_ms) != 0)
                return 2;
            break;
        case 'G':
            if (parse_int("--sweep-grace-ms", optarg, 0, &cfg->sweep_grace_ms) != 0)
                return 2;
            break;
        case 'M':
            cfg->metrics_listen = optarg;
            break;
        case 'I':
            if (parse_int("--interval", optarg, 0, &cfg->interval_s) != 0)
                return 2;
            break;
        case 'N':
            if (parse_int("--keep", optarg, 1, &cfg->keep) != 0)
                return 2;
            break;
        case 'h':
            printf(
                "usage: %s [options]\n\n%s\n\n"
                "options (each also read from the environment variable shown):\n"
                "  --pg CONNINFO            PostgreSQL connection string ($NCAP_PG; the password\n"
                "                           from the file $NCAP_PG_PASSWORD_FILE names)\n"
                "  --audit-dir DIR          audit definitions ($NCAP_AUDIT_DIR, default %s)\n"
                "  --bind-host HOST         address or interface name (e.g. eth0) to take work on\n"
                "                           ($NCAP_BIND_HOST, default 127.0.0.1; never all "
                "interfaces unless asked)\n"
                "  --advertise-host HOST    address other stages reach this one by\n"
                "                           ($NCAP_ADVERTISE_HOST, default the bind host, or the "
                "hostname when binding all)\n"
                "  --listen ENDPOINT        ingest: submission endpoint ($NCAP_LISTEN, default\n"
                "                           tcp://BIND_HOST:* registered in PostgreSQL)\n"
                "  --out DIR                publish: release folder ($NCAP_OUT, default "
                "./releases)\n"
                "  --key-file FILE          linkage: secret pseudonymisation key "
                "($NCAP_PSEUDONYM_KEY_FILE,\n"
                "                           mode 0600; never taken from the environment)\n"
                "  --keys DIR               CurveZMQ keys ($NCAP_KEYS_DIR): DIR/<stage>.key, this "
                "stage's secret\n"
                "                           key, and DIR/<stage>.pub of its upstream (the only "
                "stage it takes\n"
                "                           nudges from) and its downstream (the only one it "
                "sends to)\n"
                "  --trust-keys DIR         ingest: one <ODS>.pub per trust allowed to submit "
                "($NCAP_TRUST_KEYS)\n"
                "  --insecure-plain         no keys: plain connections, the trust a client states "
                "believed\n"
                "                           ($NCAP_INSECURE_PLAIN=1; for a closed test network "
                "only)\n"
                "  --batch N                records per transaction (default 500)\n"
                "  --sweep-interval-ms MS   how often to look for backlog in PostgreSQL (1000)\n"
                "  --sweep-grace-ms MS      backlog younger than this is taken as in flight "
                "(3000)\n"
                "  --metrics-listen HOST:PORT\n"
                "                           serve /metrics (Prometheus), /healthz and /readyz "
                "over HTTP\n"
                "                           ($NCAP_METRICS_LISTEN; HOST an address or interface "
                "name; port 0:\n"
                "                           any free port, logged and registered in "
                "ops.instance; default: none)\n"
                "  --interval S             publish: at most one round of new revisions per audit "
                "every S\n"
                "                           seconds, at once on `ncap release now` "
                "($NCAP_PUBLISH_INTERVAL,\n"
                "                           default 60; 0: a round on every change); after a round "
                "that took\n"
                "                           longer, twice as long as it took\n"
                "  --keep N                 publish: provisional revisions kept per period, older "
                "ones pruned\n"
                "                           ($NCAP_PUBLISH_KEEP, default 20; final releases are "
                "never pruned)\n"
                "  --help                   this text\n\n"
                "Logs one JSON object per line on standard error. SIGTERM finishes the batch in "
                "hand,\ncommits and exits 0.\n",
                service, about, NCAP_DEFAULT_AUDIT_DIR);
            return 1;
        default:
            fprintf(stderr, "try '%s --help'\n", service);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"; try '%s --help'\n", service, argv[optind],
                service);
        return 2;
    }
    if (cfg->metrics_listen) {
        char host[256], err[512];
        int port;
        if (metrics_http_parse_listen("metrics listen", cfg->metrics_listen, host, sizeof host,
                                      &port, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s (--metrics-listen or $NCAP_METRICS_LISTEN)\n", service, err);
            return 2;
        }
    }
    return 0;
}

int daemon_check_keys(const daemon_config_t *cfg, char *err, size_t errlen)
{
    bool keys = cfg->keys_dir && *cfg->keys_dir;
    if (keys && cfg->insecure_plain) {
        snprintf(err, errlen,
                 "both --keys (\"%s\") and --insecure-plain were given: choose one (is "
                 "NCAP_KEYS_DIR or NCAP_INSECURE_PLAIN set in the environment?)",
                 cfg->keys_dir);
        return -1;
    }
    if (!keys && !cfg->insecure_plain) {
        snprintf(err, errlen,
                 "no keys: pass --keys DIR (or set NCAP_KEYS_DIR) with DIR/%s.key and the .pub of "
                 "the stages it talks to (ncap keys stages DIR makes them), or --insecure-plain "
                 "(NCAP_INSECURE_PLAIN=1) to run without authentication on a closed test network",
                 cfg->stage);
        return -1;
    }
    if (cfg->insecure_plain)
        ncap_log(LOG_WARN,
                 "INSECURE: running without CurveZMQ (--insecure-plain): anyone who can reach "
                 "this daemon's sockets can send it work, and ingest believes the trust a client "
                 "states",
                 NULL);
    return 0;
}

void daemon_key_file(const daemon_config_t *cfg, const char *name, const char *ext, char *out,
                     size_t outlen)
{
    snprintf(out, outlen, "%s/%s.%s", cfg->keys_dir ? cfg->keys_dir : ".", name, ext);
}

PGconn *daemon_connect(const daemon_config_t *cfg)
{
    int attempt = 0;
    while (!daemon_shutdown) {
        char err[1024];
        PGconn *db = db_connect(cfg->pg, cfg->service, err, sizeof err);
        if (db) {
            if (attempt > 0)
                ncap_log(LOG_INFO, "connected to PostgreSQL", NULL);
            return db;
        }
        if (attempt++ % 10 == 0)
            ncap_log(LOG_WARN, "could not connect to PostgreSQL, retrying", "error", err, NULL);
        metrics_beat(metrics_installed(), daemon_now_ms()); /* waiting is not stalling */
        sleep(1);
    }
    return NULL;
}

long long daemon_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int daemon_metrics_start(const daemon_config_t *cfg, daemon_metrics_t *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!cfg->metrics_listen)
        return 0; /* nothing counted, nothing read for it: the loop as without metrics */
    if (!(out->metrics = metrics_new(cfg->stage, cfg->service, NCAP_VERSION))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    metrics_beat(out->metrics, daemon_now_ms());
    metrics_install(out->metrics);
    if (!(out->http = metrics_http_start(out->metrics, cfg->metrics_listen, cfg->advertise_host,
                                         err, errlen))) {
        daemon_metrics_stop(out);
        return -1;
    }
    ncap_log(LOG_INFO, "serving metrics and health", "url", metrics_http_url(out->http), "paths",
             "/metrics /healthz /readyz", NULL);
    return 0;
}

const char *daemon_metrics_url(const daemon_metrics_t *dm)
{
    return dm->http ? metrics_http_url(dm->http) : NULL;
}

void daemon_metrics_stop(daemon_metrics_t *dm)
{
    metrics_http_stop(&dm->http);
    if (metrics_installed() == dm->metrics)
        metrics_install(NULL);
    metrics_destroy(&dm->metrics);
}
