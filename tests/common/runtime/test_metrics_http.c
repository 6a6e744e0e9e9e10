/* test_metrics_http.c - the metrics listener on a real socket: what Prometheus and a probe get,
 * the port bound when 0 was asked, and hostile clients (a huge request, a slow one that never
 * finishes, more connections than allowed) refused or cut off while the listener goes on serving
 * and the counters go on counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "metrics_http.h"

typedef struct {
    metrics_t *m;
    metrics_http_t *http;
    int port;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->m = metrics_new("validation", "ncap-validated", "0.1.0");
    char err[512];
    f->http = metrics_http_start(f->m, "127.0.0.1:0", NULL, err, sizeof err);
    if (!f->http)
        fail_msg("could not start the listener: %s", err);
    const char *url = metrics_http_url(f->http);
    assert_true(strncmp(url, "http://127.0.0.1:", 17) == 0);
    f->port = atoi(url + 17);
    assert_true(f->port > 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    metrics_http_stop(&f->http);
    assert_null(f->http);
    metrics_destroy(&f->m);
    free(f);
    return 0;
}

/* A connected socket to the listener; reads give up after a minute rather than hang the test. */
static int connect_to(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct timeval tv = {60, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    return s;
}

static void send_all(int s, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(s, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close on us: what it answered is read next */
        data += n;
        len -= (size_t)n;
    }
}

/* Everything the server sends until it closes, as a string (the caller frees). */
static char *read_all(int s)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1024 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t n = recv(s, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* One request on its own connection (Connection: close); the whole response. */
static char *request(int port, const char *req)
{
    int s = connect_to(port);
    send_all(s, req, strlen(req));
    char *rep = read_all(s);
    close(s);
    return rep;
}

static int status_of(const char *rep)
{
    return strncmp(rep, "HTTP/1.", 7) == 0 ? atoi(rep + 9) : -1;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

/* The response to req, which must have status; the caller frees it. */
static char *expect(int port, const char *req, int status)
{
    char *rep = request(port, req);
    if (status_of(rep) != status)
        fail_msg("expected status %d, got: %.200s", status, rep);
    return rep;
}

static void test_scrape_and_probes(void **state)
{
    fixture_t *f = *state;
    metrics_add(f->m, METRICS_RECORDS_PROCESSED, 77);
    char *rep = expect(f->port, GET("/metrics"), 200);
    assert_non_null(strstr(rep, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_non_null(strstr(rep, "\r\n\r\n# HELP ncap_build_info "));
    assert_non_null(strstr(rep, "\nncap_records_processed_total{stage=\"validation\"} 77\n"));
    free(rep);
    /* HEAD: the same head, no body */
    rep = expect(f->port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200);
    assert_null(strstr(rep, "# HELP"));
    free(rep);
    rep = expect(f->port, GET("/healthz"), 200);
    free(rep);
    rep = expect(f->port, GET("/readyz"), 503);
    assert_non_null(strstr(rep, "not ready: not connected to PostgreSQL"));
    free(rep);
    metrics_set(f->m, METRICS_DB_CONNECTED, 1);
    metrics_set(f->m, METRICS_REGISTERED, 1);
    rep = expect(f->port, "GET /readyz?verbose=1 HTTP/1.0\r\n\r\n", 200);
    free(rep);
    rep = expect(f->port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405);
    assert_non_null(strstr(rep, "Allow: GET, HEAD\r\n"));
    free(rep);
    rep = expect(f->port,
                 "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 "Connection: close\r\n\r\nhello",
                 405);
    free(rep);
    rep = expect(f->port, GET("/admin"), 404);
    free(rep);
}

static void test_garbage_and_huge_requests_are_refused(void **state)
{
    fixture_t *f = *state;
    char *rep = request(f->port, "\x01\x02 not http at all\r\n\r\n");
    assert_int_equal(status_of(rep) / 100, 4);
    free(rep);
    /* a megabyte of headers: refused once past the connection's memory, never read whole */
    size_t big = 1024 * 1024;
    char *req = malloc(big + 64);
    int n = snprintf(req, 64, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\n\r\n", 5);
    rep = request(f->port, req);
    int status = status_of(rep);
    assert_true(status == 431 || status == 413 || status == 400 || status == -1);
    free(rep);
    /* a URL of 100 KB */
    memcpy(req, "GET /", 5);
    memset(req + 5, 'm', 100000);
    memcpy(req + 100005, " HTTP/1.1\r\n\r\n", 14);
    rep = request(f->port, req);
    status = status_of(rep);
    assert_true(status == 414 || status == 431 || status == 400 || status == -1);
    free(rep);
    free(req);
    /* and it goes on serving */
    rep = expect(f->port, GET("/healthz"), 200);
    free(rep);
}

/* A client that opens connections and never finishes a request: past the per-address limit its
 * connections are refused, each is cut off after the timeout, and then it is served again. */
static void test_slow_clients_are_cut_off(void **state)
{
    fixture_t *f = *state;
    int slow[METRICS_HTTP_PER_IP + 4];
    size_t n = sizeof slow / sizeof *slow;
    for (size_t i = 0; i < n; i++) {
        slow[i] = connect_to(f->port); /* the kernel accepts; the listener may drop at once */
        send_all(slow[i], "GET /metrics HTTP/1.1\r\nHo", 25);
    }
    /* while they hang, the counters count (nothing waits for the listener) */
    for (int i = 0; i < 1000; i++)
        metrics_add(f->m, METRICS_MESSAGES_RECEIVED, 1);
    assert_int_equal(metrics_count(f->m, METRICS_MESSAGES_RECEIVED), 1000);
    /* every one of them is closed by the server: dropped over the limit, or timed out */
    for (size_t i = 0; i < n; i++) {
        char *rest = read_all(slow[i]);
        assert_int_equal(status_of(rest) == 200, 0);
        free(rest);
        close(slow[i]);
    }
    /* and it is served again, once the listener has counted them gone (libmicrohttpd frees a
     * closed connection's place of its address after closing the socket: on a busy machine a
     * request at once may still find the address at its limit, and be dropped) */
    char *rep = request(f->port, GET("/metrics"));
    for (int tries = 0; status_of(rep) != 200 && tries < 200; tries++) {
        free(rep);
        usleep(50 * 1000);
        rep = request(f->port, GET("/metrics"));
    }
    assert_int_equal(status_of(rep), 200);
    assert_non_null(strstr(rep, "\nncap_messages_received_total{stage=\"validation\"} 1000\n"));
    free(rep);
}

static void test_address_in_use_is_refused_with_its_reason(void **state)
{
    fixture_t *f = *state;
    char listen[64], err[512];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", f->port);
    metrics_t *m = metrics_new("x", "y", "z");
    assert_null(metrics_http_start(m, listen, NULL, err, sizeof err));
    assert_non_null(strstr(err, "could not serve metrics on 127.0.0.1:"));
    assert_null(metrics_http_start(m, "no-such-host.invalid:0", NULL, err, sizeof err));
    assert_non_null(strstr(err, "could not resolve metrics listen host \"no-such-host.invalid\""));
    /* an interface's name, as --bind-host takes it: its address */
    metrics_http_t *lo = metrics_http_start(m, "lo:0", NULL, err, sizeof err);
    assert_non_null(lo);
    assert_true(strncmp(metrics_http_url(lo), "http://127.0.0.1:", 17) == 0);
    metrics_http_stop(&lo);
    /* every interface: the URL names this machine, or what the operator advertises */
    metrics_http_t *h = metrics_http_start(m, "0.0.0.0:0", "metrics.example", err, sizeof err);
    assert_non_null(h);
    assert_true(strncmp(metrics_http_url(h), "http://metrics.example:", 23) == 0);
    metrics_http_stop(&h);
    metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scrape_and_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_and_huge_requests_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slow_clients_are_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_in_use_is_refused_with_its_reason, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
