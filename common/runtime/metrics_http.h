/* metrics_http.h - a daemon's small HTTP listener for operators (libmicrohttpd, its own thread):
 *   GET /metrics   the Prometheus text exposition of the daemon's metrics (metrics.h)
 *   GET /healthz   200 while the daemon's loop turns (alive), else 503 and why
 *   GET /readyz    200 while it is also connected to PostgreSQL and registered in ops.instance,
 *                  else 503 and why
 * HEAD as GET without the body; any other method 405; any other path 404.
 *
 * The listener only reads the atomic counters, so nothing a client does reaches the daemon's
 * loop: a hostile client costs the listener's thread at most METRICS_HTTP_CONNECTIONS
 * connections (METRICS_HTTP_PER_IP from one address), each closed after METRICS_HTTP_TIMEOUT_S
 * seconds without a byte and refused (431 or 414) past METRICS_HTTP_MEMORY bytes of request. */
#ifndef NCAP_METRICS_HTTP_H
#define NCAP_METRICS_HTTP_H

#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include "metrics.h"
#include "strbuf.h"

#define METRICS_HTTP_CONNECTIONS 64
#define METRICS_HTTP_PER_IP 8
#define METRICS_HTTP_TIMEOUT_S 5
#define METRICS_HTTP_MEMORY (16 * 1024)

typedef struct metrics_http_t metrics_http_t;

/* Splits "HOST:PORT" (an IPv6 address in brackets: "[::1]:9464"; PORT 0: any free port) into host
 * and port. Returns 0, or -1 with err saying what was found and what was expected; `what` names
 * the address in it ("metrics listen", "web listen"). */
int metrics_http_parse_listen(const char *what, const char *listen, char *host, size_t hostlen,
                              int *port, char *err, size_t errlen);

/* For every libmicrohttpd server of a daemon (this listener, ncap-webd):
 * metrics_http_resolve: "HOST:PORT" as above, HOST an address, a name or a network interface's
 * name (its IPv4 address: eth0 in compose, as --bind-host), resolved for listening into *ai (the
 * caller frees it), host set to what was resolved; returns the port, or -1 with err.
 * metrics_http_url_host: the host to put in a URL (advertise_host; this machine's name when
 * listening on every interface; else host), bracketed when IPv6.
 * metrics_http_mhd_log: MHD_OPTION_EXTERNAL_LOGGER's function, cls the server's name: its
 * messages (a client's malformed request) as debug lines, so that a hostile client cannot fill
 * the log.
 * metrics_http_block_signals: blocks SIGTERM, SIGINT and SIGPIPE (the old mask into *old) while
 * the server's threads are made, so that SIGTERM stays the main loop's to see. */
int metrics_http_resolve(const char *what, const char *listen, char *host, size_t hostlen,
                         struct addrinfo **ai, char *err, size_t errlen);
const char *metrics_http_url_host(const char *host, const char *advertise_host,
                                  const struct sockaddr *sa, char *out, size_t outlen);
void metrics_http_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void metrics_http_block_signals(sigset_t *old);

/* Pure: the answer to one request at now_ms (monotonic). Returns the HTTP status, with the body
 * appended to body and its content type in *content_type. */
int metrics_http_answer(metrics_t *m, const char *method, const char *path, long long now_ms,
                        strbuf_t *body, const char **content_type);

/* Starts serving m on listen ("HOST:PORT", HOST an address, a name or, as --bind-host, a network
 * interface's name: its IPv4 address). advertise_host: the host put in the URL (as for the
 * ZeroMQ endpoints: when NULL, the host listened on, or this machine's name when that is every
 * interface). Returns the listener, or NULL with err. */
metrics_http_t *metrics_http_start(metrics_t *m, const char *listen, const char *advertise_host,
                                   char *err, size_t errlen);
/* "http://HOST:PORT", the port the one bound (also when 0 was asked). */
const char *metrics_http_url(const metrics_http_t *self);
/* Stops the thread and closes every connection. */
void metrics_http_stop(metrics_http_t **self_p);

#endif
