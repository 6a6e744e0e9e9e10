/* metrics_http.c - /metrics, /healthz and /readyz over libmicrohttpd, on a thread of its own */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define EXPOSITION_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

struct metrics_http_t {
    struct MHD_Daemon *daemon;
    metrics_t *metrics;
    char url[320];
};

int metrics_http_parse_listen(const char *what, const char *listen, char *host, size_t hostlen,
                              int *port, char *err, size_t errlen)
{
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    const char *h = listen, *h_end = colon;
    if (colon && listen[0] == '[') { /* [v6]:port */
        h = listen + 1;
        h_end = colon > listen && colon[-1] == ']' ? colon - 1 : NULL;
    }
    char *end = NULL;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || !h_end || h_end <= h || (size_t)(h_end - h) >= hostlen || colon[1] == '\0' ||
        *end != '\0' || p < 0 || p > 65535) {
        snprintf(err, errlen,
                 "invalid %s address \"%s\": expected HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, "
                 "0.0.0.0:9464; port 0 for any free port)",
                 what, listen ? listen : "");
        return -1;
    }
    memcpy(host, h, (size_t)(h_end - h));
    host[h_end - h] = '\0';
    *port = (int)p;
    return 0;
}

int metrics_http_answer(metrics_t *m, const char *method, const char *path, long long now_ms,
                        strbuf_t *body, const char **content_type)
{
    assert(m && method && path && body && content_type);
    *content_type = TEXT_TYPE;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        strbuf_appendf(body, "method %.32s not allowed: only GET and HEAD\n", method);
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    }
    char why[256];
    if (strcmp(path, "/metrics") == 0) {
        *content_type = EXPOSITION_TYPE;
        metrics_render(m, body);
        return MHD_HTTP_OK;
    }
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
        bool ok = path[1] == 'h' ? metrics_alive(m, now_ms, why, sizeof why)
                                 : metrics_ready(m, now_ms, why, sizeof why);
        if (ok)
            strbuf_append(body, path[1] == 'h' ? "alive\n" : "ready\n");
        else
            strbuf_appendf(body, "%s: %s\n", path[1] == 'h' ? "not alive" : "not ready", why);
        return ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    strbuf_append(body, "not found: the paths are /metrics, /healthz and /readyz\n");
    return MHD_HTTP_NOT_FOUND;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    metrics_http_t *self = cls;
    strbuf_t body = {0};
    const char *type;
    int status = metrics_http_answer(self->metrics, method, url, now_ms(), &body, &type);
    /* a request's body is never read: answered at once, the connection is closed after */
    *upload_data_size = 0;
    struct MHD_Response *rep;
    if (body.oom || !body.s) {
        strbuf_free(&body);
        static const char oom[] = "out of memory\n";
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        rep = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    } else {
        rep = MHD_create_response_from_buffer(body.len, body.s, MHD_RESPMEM_MUST_FREE);
        if (!rep)
            strbuf_free(&body);
    }
    if (!rep)
        return MHD_NO;
    MHD_add_response_header(rep, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(rep, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, rep);
    MHD_destroy_response(rep);
    return rc;
}

void metrics_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    ncap_log(LOG_DEBUG, cls ? (const char *)cls : "http listener", "detail", msg, NULL);
}

void metrics_http_block_signals(sigset_t *old)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, old);
}

/* The URL's host: advertise_host; the machine's name for every interface; else host. */
static void url_host(const char *host, const char *advertise_host, const struct sockaddr *sa,
                     char *out, size_t outlen)
{
    bool any = (sa->sa_family == AF_INET &&
                ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
               (sa->sa_family == AF_INET6 && memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
                                                    &in6addr_any, sizeof in6addr_any) == 0);
    const char *h = host;
    char name[256] = "";
    if (advertise_host && *advertise_host) {
        h = advertise_host;
    } else if (any && gethostname(name, sizeof name - 1) == 0 && name[0]) {
        h = name;
    }
    bool v6 = strchr(h, ':') != NULL;
    snprintf(out, outlen, "%s%s%s", v6 ? "[" : "", h, v6 ? "]" : "");
}

/* When name is a network interface (eth0, lo), its IPv4 address into out: true. */
static bool interface_address(const char *name, char *out, size_t outlen)
{
    struct ifaddrs *all = NULL;
    bool found = false;
    if (getifaddrs(&all) != 0)
        return false;
    for (struct ifaddrs *i = all; i && !found; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp(i->ifa_name, name) == 0)
            found = inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out,
                              (socklen_t)outlen) != NULL;
    freeifaddrs(all);
    return found;
}

int metrics_http_resolve(const char *what, const char *listen, char *host, size_t hostlen,
                         struct addrinfo **ai, char *err, size_t errlen)
{
    int port;
    *ai = NULL;
    if (metrics_http_parse_listen(what, listen, host, hostlen, &port, err, errlen) != 0)
        return -1;
    char ifaddr[INET_ADDRSTRLEN];
    if (interface_address(host, ifaddr, sizeof ifaddr)) /* as --bind-host: eth0 in compose */
        snprintf(host, hostlen, "%s", ifaddr);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, ai);
    if (gai != 0 || !*ai) {
        snprintf(err, errlen, "could not resolve %s host \"%s\": %s", what, host,
                 gai_strerror(gai));
        if (*ai)
            freeaddrinfo(*ai);
        *ai = NULL;
        return -1;
    }
    return port;
}

const char *metrics_http_url_host(const char *host, const char *advertise_host,
                                  const struct sockaddr *sa, char *out, size_t outlen)
{
    url_host(host, advertise_host, sa, out, outlen);
    return out;
}

metrics_http_t *metrics_http_start(metrics_t *m, const char *listen, const char *advertise_host,
                                   char *err, size_t errlen)
{
    assert(m && listen);
    char host[256];
    struct addrinfo *ai = NULL;
    int port = metrics_http_resolve("metrics listen", listen, host, sizeof host, &ai, err, errlen);
    if (port < 0)
        return NULL;
    metrics_http_t *self = calloc(1, sizeof *self);
    if (!self) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->metrics = m;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The listener's thread takes no signal: SIGTERM stays the loop's to see. */
    sigset_t old;
    metrics_http_block_signals(&old);
    errno = 0;
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, self, MHD_OPTION_EXTERNAL_LOGGER, metrics_http_mhd_log,
        "metrics listener", MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)METRICS_HTTP_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)METRICS_HTTP_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)METRICS_HTTP_MEMORY, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)16, MHD_OPTION_END);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf(err, errlen, "could not serve metrics on %s: %s", listen,
                 saved ? strerror(saved) : "libmicrohttpd could not start");
        freeaddrinfo(ai);
        free(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char h[300];
    url_host(host, advertise_host, ai->ai_addr, h, sizeof h);
    snprintf(self->url, sizeof self->url, "http://%s:%u", h,
             info ? (unsigned)info->port : (unsigned)port);
    freeaddrinfo(ai);
    return self;
}

const char *metrics_http_url(const metrics_http_t *self)
{
    assert(self);
    return self->url;
}

void metrics_http_stop(metrics_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    metrics_http_t *self = *self_p;
    MHD_stop_daemon(self->daemon);
    free(self);
    *self_p = NULL;
}
