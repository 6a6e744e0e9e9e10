/* web_config.c - ncap-webd's flags */
#include "web_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int number(const char *opt, const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        fprintf(stderr,
                "ncap-webd: invalid value \"%s\" for %s: expected a whole number from %lld "
                "to %lld\n",
                s, opt, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int small(const char *opt, const char *s, int min, int max, int *out)
{
    long long v;
    if (number(opt, s, min, max, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

static void usage(void)
{
    printf(
        "usage: ncap-webd [options]\n\n"
        "Serves the portal and the release files publish writes (--releases), the read API\n"
        "/api/v1/... from the publish schema (as role ncap_web), and the trusts' API through\n"
        "ingest (services/web/openapi.yaml documents every path).\n\n"
        "options (each also read from the environment variable shown):\n"
        "  --listen HOST:PORT      where to serve HTTP(S) ($NCAP_WEB_LISTEN, 127.0.0.1:8080; HOST\n"
        "                          an address, a name or an interface name such as eth0;\n"
        "                          port 0: any free port, logged)\n"
        "  --releases DIR          publish's release folder, served read-only at /\n"
        "                          ($NCAP_RELEASES, ./releases; the portal is DIR/site/)\n"
        "  --pg CONNINFO           PostgreSQL as role ncap_web ($NCAP_PG; the password from\n"
        "                          $NCAP_PG_PASSWORD_FILE)\n"
        "  --max-body BYTES        larger request bodies refused (413) before they are read\n"
        "                          ($NCAP_WEB_MAX_BODY, 67108864)\n"
        "  --threads N             threads serving connections (4; also the database pool)\n"
        "  --connections N         connections at once (256), --per-ip N from one address (32)\n"
        "  --timeout S             an idle connection closed after S seconds (30)\n"
        "  --tls-cert FILE --tls-key FILE\n"
        "                          serve HTTPS with this certificate (PEM) and key\n"
        "  --tls-client-ca FILE    ask clients for a certificate: the trusts' API requires one\n"
        "                          signed by these authorities (PEM)\n"
        "  --ingest ENDPOINT       ingest's endpoint for the trusts' API ($NCAP_INGEST)\n"
        "  --keys DIR              web.key and ingest.pub for it ($NCAP_KEYS_DIR)\n"
        "  --insecure-plain        the trusts' API over a plain connection to ingest\n"
        "                          ($NCAP_INSECURE_PLAIN=1; a closed test network only)\n"
        "  --gateway-timeout S     how long to wait for ingest's answers (60)\n"
        "  --metrics-listen HOST:PORT\n"
        "                          /metrics, /healthz, /readyz ($NCAP_METRICS_LISTEN)\n"
        "  --advertise-host HOST   the host put in logged URLs ($NCAP_ADVERTISE_HOST)\n"
        "  --help                  this text\n\n"
        "Without --keys or --insecure-plain the trusts' routes answer 503. Logs one JSON\n"
        "object per line on standard error; SIGTERM stops it (answers in flight finish).\n");
}

int web_config_parse(web_config_t *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    daemon_config_t *d = &cfg->d;
    d->service = "ncap-webd";
    d->stage = "web";
    d->pg = env_or("NCAP_PG", "");
    d->audit_dir = env_or("NCAP_AUDIT_DIR", NCAP_DEFAULT_AUDIT_DIR);
    d->advertise_host = env_or("NCAP_ADVERTISE_HOST", NULL);
    d->metrics_listen = env_or("NCAP_METRICS_LISTEN", NULL);
    d->keys_dir = env_or("NCAP_KEYS_DIR", NULL);
    d->insecure_plain = strcmp(env_or("NCAP_INSECURE_PLAIN", "0"), "1") == 0;
    cfg->listen = env_or("NCAP_WEB_LISTEN", "127.0.0.1:8080");
    cfg->releases = env_or("NCAP_RELEASES", "releases");
    cfg->ingest = env_or("NCAP_INGEST", NULL);
    cfg->max_body = WEB_MAX_BODY_DEFAULT;
    cfg->threads = 4;
    cfg->connections = 256;
    cfg->per_ip = 32;
    cfg->timeout_s = 30;
    cfg->gateway_timeout_s = 60;
    const char *mb = env_or("NCAP_WEB_MAX_BODY", NULL);
    if (mb && number("$NCAP_WEB_MAX_BODY", mb, 0, 1LL << 40, &cfg->max_body) != 0)
        return 2;

    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"releases", required_argument, 0, 'r'},
                                         {"pg", required_argument, 0, 'p'},
                                         {"max-body", required_argument, 0, 'm'},
                                         {"threads", required_argument, 0, 't'},
                                         {"connections", required_argument, 0, 'c'},
                                         {"per-ip", required_argument, 0, 'i'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"tls-cert", required_argument, 0, 'C'},
                                         {"tls-key", required_argument, 0, 'K'},
                                         {"tls-client-ca", required_argument, 0, 'A'},
                                         {"ingest", required_argument, 0, 'g'},
                                         {"keys", required_argument, 0, 'k'},
                                         {"insecure-plain", no_argument, 0, 'P'},
                                         {"gateway-timeout", required_argument, 0, 'G'},
                                         {"metrics-listen", required_argument, 0, 'M'},
                                         {"advertise-host", required_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            cfg->listen = optarg;
            break;
        case 'r':
            cfg->releases = optarg;
            break;
        case 'p':
            d->pg = optarg;
            break;
        case 'm':
            rc = number("--max-body", optarg, 0, 1LL << 40, &cfg->max_body);
            break;
        case 't':
            rc = small("--threads", optarg, 1, 256, &cfg->threads);
            break;
        case 'c':
            rc = small("--connections", optarg, 1, 100000, &cfg->connections);
            break;
        case 'i':
            rc = small("--per-ip", optarg, 1, 100000, &cfg->per_ip);
            break;
        case 'T':
            rc = small("--timeout", optarg, 1, 3600, &cfg->timeout_s);
            break;
        case 'C':
            cfg->tls_cert = optarg;
            break;
        case 'K':
            cfg->tls_key = optarg;
            break;
        case 'A':
            cfg->tls_client_ca = optarg;
            break;
        case 'g':
            cfg->ingest = optarg;
            break;
        case 'k':
            d->keys_dir = optarg;
            break;
        case 'P':
            d->insecure_plain = 1;
            break;
        case 'G':
            rc = small("--gateway-timeout", optarg, 1, 3600, &cfg->gateway_timeout_s);
            break;
        case 'M':
            d->metrics_listen = optarg;
            break;
        case 'H':
            d->advertise_host = optarg;
            break;
        case 'h':
            usage();
            return 1;
        default:
            fprintf(stderr, "try 'ncap-webd --help'\n");
            return 2;
        }
    }
    if (rc != 0)
        return 2;
    if (optind < argc) {
        fprintf(stderr, "ncap-webd: unexpected argument \"%s\"; try 'ncap-webd --help'\n",
                argv[optind]);
        return 2;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(stderr, "ncap-webd: --tls-cert and --tls-key go together: give both or neither\n");
        return 2;
    }
    if (cfg->tls_client_ca && !cfg->tls_cert) {
        fprintf(stderr, "ncap-webd: --tls-client-ca needs --tls-cert and --tls-key (HTTPS)\n");
        return 2;
    }
    char host[256], err[512];
    int port;
    if (metrics_http_parse_listen("web listen", cfg->listen, host, sizeof host, &port, err,
                                  sizeof err) != 0 ||
        (d->metrics_listen &&
         metrics_http_parse_listen("metrics listen", d->metrics_listen, host, sizeof host, &port,
                                   err, sizeof err) != 0)) {
        fprintf(stderr, "ncap-webd: %s\n", err);
        return 2;
    }
    return 0;
}
