/* web_server.h - ncap-webd's HTTP(S) server on libmicrohttpd: the shell around web_handler.h.
 *
 * A pool of cfg->threads threads, each polling its share of the connections (epoll or poll,
 * libmicrohttpd's choice); at most cfg->connections connections, cfg->per_ip from one address,
 * each closed after cfg->timeout_s seconds without progress (a slow client, slowloris, costs a
 * connection slot for that long, never a thread). A request's header lines are limited to
 * WEB_HEADERS_MAX bytes (431 problem+json), its path to WEB_PATH_MAX (414); beyond
 * WEB_CONNECTION_MEMORY libmicrohttpd itself answers 431 or 414. A body is refused (413) before
 * it is read when its Content-Length is over cfg->max_body, and as soon as a chunked body passes
 * it; a route that takes no body is answered from its headers without reading one. */
#ifndef NCAP_WEB_SERVER_H
#define NCAP_WEB_SERVER_H

#include <stddef.h>

#include "web_config.h"
#include "web_handler.h"

typedef struct web_server_t web_server_t;

/* Starts serving ctx on cfg->listen (TLS when cfg->tls_cert). Returns the server, or NULL with
 * err (the address, a certificate that cannot be read, ...). */
web_server_t *web_server_start(const web_config_t *cfg, const web_context_t *ctx, char *err,
                               size_t errlen);
/* "http(s)://HOST:PORT", the port bound (also when 0 was asked). */
const char *web_server_url(const web_server_t *self);
/* Stops accepting, closes every connection, frees. */
void web_server_stop(web_server_t **self_p);

#endif
