/* web_server.c - ncap-webd's HTTP(S) server on libmicrohttpd */
#include "web_server.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_read.h"
#include "log.h"
#include "web_path.h"
#include "web_problem.h"

#define MAX_QUERY 32

struct web_server_t {
    struct MHD_Daemon *daemon;
    web_context_t ctx;
    long long max_body;
    bool tls, client_ca;
    char *cert, *key, *ca; /* PEM, kept while the daemon runs */
    char url[320];
};

/* One request's state across the handler's calls. */
typedef struct {
    bool body_wanted; /* the headers passed: its body is being read */
    bool answered;    /* a response is queued: the rest of the body is dropped */
    bool over;        /* the body passed --max-body: the rest is read and dropped, then 413 */
    size_t dropped;   /* bytes dropped since */
    strbuf_t body;
} request_state_t;

/* A chunked body past --max-body is read on (and dropped) for at most this many bytes so that
 * the client, still sending, reads the 413 after its last chunk; beyond, the 413 is sent at once
 * and the connection closed (a client still sending may then see a reset instead). */
#define WEB_DRAIN_MAX (4 * 1024 * 1024)

/* The query's values and the path are left percent-encoded: web_path.h and web_query.h decode
 * them once, seeing every escape (an encoded NUL or slash is refused there, not hidden here). */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

typedef struct {
    web_kv_t kv[MAX_QUERY];
    size_t n;
    bool too_many;
} query_acc_t;

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    query_acc_t *q = cls;
    if (q->n == MAX_QUERY) {
        q->too_many = true;
        return MHD_NO;
    }
    q->kv[q->n].key = key;
    q->kv[q->n].value = value;
    q->n++;
    return MHD_YES;
}

static enum MHD_Result sum_headers(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static bool client_cert_ok(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned int n = 0, status = 1;
    if (!gnutls_certificate_get_peers(s, &n) || n == 0)
        return false;
    return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, web_reply_t *rep, bool tls)
{
    struct MHD_Response *r;
    if (rep->fd >= 0) {
        r = MHD_create_response_from_fd64(rep->fd_size, rep->fd);
        if (r)
            rep->fd = -1; /* the response closes it */
    } else {
        size_t len = rep->body.len;
        char *s = rep->body.s;
        if (rep->body.oom) {
            web_reply_problem(rep, 500, NULL, "out of memory", NULL);
            len = rep->body.len;
            s = rep->body.s;
        }
        r = MHD_create_response_from_buffer(len, s ? s : (void *)"",
                                            s ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (r)
            memset(&rep->body, 0, sizeof rep->body); /* the response frees it */
    }
    if (!r) {
        web_reply_free(rep);
        return MHD_NO;
    }
    if (rep->content_type && rep->status != 304)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
    if (rep->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, rep->etag);
    if (rep->last_modified[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, rep->last_modified);
    if (rep->location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rep->location);
    if (rep->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rep->allow);
    if (rep->link[0])
        MHD_add_response_header(r, "Link", rep->link);
    if (rep->cache_control)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, rep->cache_control);
    if (rep->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ncap\"");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (rep->html)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self' "
                                "'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
                                "frame-ancestors 'none'; form-action 'self'");
    if (tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)rep->status, r);
    MHD_destroy_response(r);
    if (rep->status >= 500)
        ncap_logf(LOG_WARN, "answered %d", rep->status);
    web_reply_free(rep);
    return rc;
}

static enum MHD_Result problem(struct MHD_Connection *conn, int status, const char *slug,
                               const char *detail, const char *url, bool tls)
{
    web_reply_t rep;
    web_reply_init(&rep);
    rep.instance = url && strlen(url) <= WEB_PATH_MAX ? url : NULL;
    web_reply_problem(&rep, status, slug, detail, NULL);
    return send_reply(conn, &rep, tls);
}

static void fill_request(struct MHD_Connection *conn, const char *url, const char *method,
                         query_acc_t *q, web_request_t *req, bool check_cert)
{
    memset(req, 0, sizeof *req);
    req->method = method;
    req->path = url;
    req->query = q->kv;
    req->n_query = q->n;
    req->accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    req->authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    req->content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->if_none_match =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    req->client_cert_ok = check_cert && client_cert_ok(conn);
}

/* The checks of a request's first call, from its request line and headers alone. Returns true
 * when one refused it (a response queued into *rc). */
static bool refuse_early(web_server_t *self, struct MHD_Connection *conn, const char *url,
                         enum MHD_Result *rc)
{
    char detail[200];
    if (strlen(url) > WEB_PATH_MAX) {
        snprintf(detail, sizeof detail, "request path of %zu bytes: at most %d", strlen(url),
                 WEB_PATH_MAX);
        *rc = problem(conn, 414, NULL, detail, NULL, self->tls);
        return true;
    }
    size_t header_bytes = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, sum_headers, &header_bytes);
    if (header_bytes > WEB_HEADERS_MAX) {
        snprintf(detail, sizeof detail, "request header fields of %zu bytes: at most %d",
                 header_bytes, WEB_HEADERS_MAX);
        *rc = problem(conn, 431, NULL, detail, url, self->tls);
        return true;
    }
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || *end || n > (unsigned long long)self->max_body) {
            snprintf(detail, sizeof detail,
                     "request body of %.24s bytes: at most %lld (refused before reading it)", cl,
                     self->max_body);
            *rc = problem(conn, 413, NULL, detail, url, self->tls);
            return true;
        }
    }
    return false;
}

static bool has_body(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return (cl && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Answers a request from its request line and headers, or marks its body as wanted. */
static enum MHD_Result answer_headers(web_server_t *self, struct MHD_Connection *conn,
                                      const char *url, const char *method, request_state_t *st)
{
    query_acc_t q = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    if (q.too_many) {
        st->answered = true;
        return problem(conn, 400, "bad-query", "more than 32 query parameters", url, self->tls);
    }
    web_request_t req;
    fill_request(conn, url, method, &q, &req, self->client_ca);
    web_reply_t rep;
    web_reply_init(&rep);
    if (web_handle_headers(&self->ctx, &req, &rep)) {
        st->answered = true;
        return send_reply(conn, &rep, self->tls);
    }
    web_reply_free(&rep);
    st->body_wanted = true;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    web_server_t *self = cls;
    request_state_t *st = *con_cls;
    enum MHD_Result rc = MHD_YES;
    if (!st) { /* the first call: request line and headers */
        if (!(st = calloc(1, sizeof *st)))
            return MHD_NO;
        *con_cls = st;
        if (refuse_early(self, conn, url, &rc)) {
            st->answered = true;
            return rc;
        }
        /* a request without a body is answered on the next call, once libmicrohttpd has it
         * whole, so that the connection is kept alive; one with a body is checked now, before
         * its body is read (a refusal then closes the connection, the body unread) */
        if (!has_body(conn))
            return MHD_YES;
        return answer_headers(self, conn, url, method, st);
    }
    if (!st->body_wanted && !st->answered) /* the second call of a request without a body */
        return answer_headers(self, conn, url, method, st);
    if (st->answered) { /* the body of a request already refused: dropped unread */
        *upload_data_size = 0;
        return MHD_YES;
    }
    char detail[160];
    snprintf(detail, sizeof detail,
             "request body over %lld bytes: refused (what came after the limit was not kept)",
             self->max_body);
    if (*upload_data_size) {
        if (!st->over && (long long)(st->body.len + *upload_data_size) > self->max_body) {
            strbuf_free(&st->body);
            st->over = true;
        }
        if (st->over) {
            st->dropped += *upload_data_size;
            *upload_data_size = 0;
            if (st->dropped <= WEB_DRAIN_MAX)
                return MHD_YES;
            st->answered = true;
            return problem(conn, 413, NULL, detail, url, self->tls);
        }
        strbuf_append_n(&st->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return st->body.oom ? MHD_NO : MHD_YES;
    }
    if (st->over) {
        st->answered = true;
        return problem(conn, 413, NULL, detail, url, self->tls);
    }
    /* the whole body is in */
    query_acc_t q = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    web_request_t req;
    fill_request(conn, url, method, &q, &req, self->client_ca);
    req.body = st->body.s;
    req.body_len = st->body.len;
    web_reply_t rep;
    web_reply_init(&rep);
    web_handle(&self->ctx, &req, &rep);
    st->answered = true;
    return send_reply(conn, &rep, self->tls);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request_state_t *st = *con_cls;
    if (st) {
        strbuf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
    size_t len = 0;
    char *s = NULL;
    if (file_read_max(path, 1 << 20, &s, &len) != 0) {
        snprintf(err, errlen, "could not read the %s \"%s\": %s", what, path, strerror(errno));
        return NULL;
    }
    return s;
}

static void free_self(web_server_t *self)
{
    if (self->key)
        explicit_bzero(self->key, strlen(self->key));
    free(self->cert);
    free(self->key);
    free(self->ca);
    free(self);
}

web_server_t *web_server_start(const web_config_t *cfg, const web_context_t *ctx, char *err,
                               size_t errlen)
{
    char host[256];
    struct addrinfo *ai = NULL;
    int port = metrics_http_resolve("web listen", cfg->listen, host, sizeof host, &ai, err, errlen);
    if (port < 0)
        return NULL;
    web_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->ctx = *ctx;
    self->max_body = cfg->max_body;
    self->tls = cfg->tls_cert != NULL;
    self->client_ca = cfg->tls_client_ca != NULL;
    if (self->tls && (!(self->cert = read_pem(cfg->tls_cert, "TLS certificate", err, errlen)) ||
                      !(self->key = read_pem(cfg->tls_key, "TLS key", err, errlen)) ||
                      (self->client_ca &&
                       !(self->ca = read_pem(cfg->tls_client_ca, "client CA", err, errlen))))) {
        freeaddrinfo(ai);
        free_self(self);
        return NULL;
    }
    if (self->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "this libmicrohttpd has no TLS: HTTPS cannot be served");
        freeaddrinfo(ai);
        free_self(self);
        return NULL;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (self->tls)
        flags |= MHD_USE_TLS;
    sigset_t old;
    metrics_http_block_signals(&old);
    struct MHD_OptionItem tls_opts[] = {
        {self->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, self->key},
        {self->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, self->cert},
        {self->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, self->ca},
        {MHD_OPTION_END, 0, NULL}};
    /* an option array stops at its first END: the TLS items first, in order, when present */
    struct MHD_OptionItem *tls_list = tls_opts;
    if (!self->tls)
        tls_list = &tls_opts[3];
    else if (!self->client_ca)
        tls_opts[2].option = MHD_OPTION_END;
    errno = 0;
    self->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, self, MHD_OPTION_EXTERNAL_LOGGER, metrics_http_mhd_log,
        "web server", MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONNECTION_MEMORY,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)128, MHD_OPTION_ARRAY, tls_list,
        MHD_OPTION_END);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf(err, errlen, "could not serve on %s: %s", cfg->listen,
                 saved ? strerror(saved) : "libmicrohttpd could not start (a bad certificate?)");
        freeaddrinfo(ai);
        free_self(self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char h[300];
    metrics_http_url_host(host, cfg->d.advertise_host, ai->ai_addr, h, sizeof h);
    snprintf(self->url, sizeof self->url, "%s://%s:%u", self->tls ? "https" : "http", h,
             info ? (unsigned)info->port : (unsigned)port);
    freeaddrinfo(ai);
    return self;
}

const char *web_server_url(const web_server_t *self)
{
    return self->url;
}

void web_server_stop(web_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    MHD_stop_daemon((*self_p)->daemon);
    free_self(*self_p);
    *self_p = NULL;
}
