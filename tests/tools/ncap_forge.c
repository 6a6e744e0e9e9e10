/* ncap_forge - an attacker on the network, for the end-to-end tests
 * (tests/e2e/test_attack_network.sh): sends a forged nudge to a stage inbox, or listens where a
 * fake registry row points, and says what it got. Never part of a deployment.
 *
 *   ncap_forge send ENDPOINT [--server-key PUB --secret KEY] [--garbage | --bytes N]
 *       [--key ID:VERSION:REV]... [--wait-ms MS]
 *     A PUSH socket (a CurveZMQ client with KEY, expecting the server to prove PUB, when both are
 *     given; plain otherwise) connects to ENDPOINT, waits up to MS (default 3000) for the
 *     handshake and, when it succeeded, sends one ncap.v1.Nudge with the keys given (default
 *     1:99:0), or with --garbage bytes that are not one, or with --bytes one frame of N bytes.
 * Prints "handshake: ok|refused|mismatch| failed|none" and "sent" or "not sent". Exit 0 when sent,
 * 3 when not, 2 on usage.
 *
 *   ncap_forge listen pull|router [--bind ENDPOINT] [--secret KEY] [--endpoint-file FILE]
 *       [--seconds S]
 *     Binds a PULL or ROUTER socket (default tcp://127.0.0.1:*; a CurveZMQ server with KEY,
 *     admitting any client, when given), writes the bound endpoint to FILE, counts the messages
 *     that arrive for S seconds (default 60) or until SIGTERM, and prints "received N messages".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "curve_auth.h"
#include "daemon.h"
#include "ncap/v1/records.pb-c.h"

#define MAX_KEYS 100

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(void)
{
    fputs("usage: ncap_forge send ENDPOINT [--server-key PUB --secret KEY]\n"
          "                  [--garbage | --bytes N] [--key ID:VERSION:REV]... [--wait-ms MS]\n"
          "       ncap_forge listen pull|router [--bind ENDPOINT] [--secret KEY]\n"
          "                  [--endpoint-file FILE] [--seconds S]\n",
          stderr);
    return 2;
}

static const char *result_name(curve_handshake_t r)
{
    switch (r) {
    case CURVE_HANDSHAKE_OK:
        return "ok";
    case CURVE_HANDSHAKE_REFUSED:
        return "refused";
    case CURVE_HANDSHAKE_MISMATCH:
        return "mismatch";
    case CURVE_HANDSHAKE_FAILED:
        break;
    }
    return "failed";
}

static int do_send(int argc, char **argv)
{
    const char *endpoint = argv[2], *server = NULL, *secret = NULL;
    int garbage = 0, wait_ms = 3000;
    size_t big = 0;
    Ncap__V1__RecordKey cells[MAX_KEYS], *ptrs[MAX_KEYS];
    size_t n = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--garbage") == 0)
            garbage = 1;
        else if (i + 1 >= argc)
            return usage();
        else if (strcmp(argv[i], "--server-key") == 0)
            server = argv[++i];
        else if (strcmp(argv[i], "--secret") == 0)
            secret = argv[++i];
        else if (strcmp(argv[i], "--bytes") == 0)
            big = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--wait-ms") == 0)
            wait_ms = atoi(argv[++i]);
        else if (strcmp(argv[i], "--key") == 0 && n < MAX_KEYS) {
            long long id;
            int version, rev;
            if (sscanf(argv[++i], "%lld:%d:%d", &id, &version, &rev) != 3)
                return usage();
            ncap__v1__record_key__init(&cells[n]);
            cells[n].record_id = id;
            cells[n].version = version;
            cells[n].link_revision = rev;
            ptrs[n] = &cells[n];
            n++;
        } else
            return usage();
    }
    if (!server != !secret)
        return usage();
    if (n == 0) {
        ncap__v1__record_key__init(&cells[0]);
        cells[0].record_id = 1;
        cells[0].version = 99;
        ptrs[0] = &cells[0];
        n = 1;
    }
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_PUSH);
    int one = 1, linger = 0;
    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof one); /* nothing queued without a handshake */
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char err[1024];
    if (server && curve_client_setup(sock, server, secret, err, sizeof err) != 0) {
        fprintf(stderr, "ncap_forge: %s\n", err);
        return 2;
    }
    void *mon = curve_monitor_open(ctx, sock, err, sizeof err);
    if (!mon || zmq_connect(sock, endpoint) != 0) {
        fprintf(stderr, "ncap_forge: could not connect to %s\n", endpoint);
        return 2;
    }
    curve_event_t ev;
    int seen = curve_monitor_next(mon, wait_ms, &ev);
    printf("handshake: %s\n", seen ? result_name(ev.result) : "none");
    int sent = 0;
    if (seen && ev.result == CURVE_HANDSHAKE_OK) {
        uint8_t buf[MAX_KEYS * 40 + 16];
        size_t len;
        if (big) {
            uint8_t *huge = malloc(big);
            if (huge) {
                memset(huge, 0xff, big);
                sent = zmq_send(sock, huge, big, ZMQ_DONTWAIT) == (int)big;
                zmq_pollitem_t none = {NULL, -1, 0, 0};
                zmq_poll(&none, 0, 2000);
                free(huge);
            }
            len = 0;
        } else if (garbage) {
            memset(buf, 0xff, 64); /* not a protobuf message */
            len = 64;
        } else {
            Ncap__V1__Nudge msg = NCAP__V1__NUDGE__INIT;
            msg.keys = ptrs;
            msg.n_keys = n;
            len = ncap__v1__nudge__pack(&msg, buf);
        }
        if (!big)
            sent = zmq_send(sock, buf, len, ZMQ_DONTWAIT) == (int)len;
        /* give ZeroMQ's I/O thread the time to write it before the socket goes */
        zmq_pollitem_t none = {NULL, -1, 0, 0};
        zmq_poll(&none, 0, 300);
    }
    printf("%s\n", sent ? "sent" : "not sent");
    fflush(stdout);
    curve_monitor_close(sock, &mon);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return sent ? 0 : 3;
}

static int do_listen(int argc, char **argv)
{
    int type;
    if (strcmp(argv[2], "pull") == 0)
        type = ZMQ_PULL;
    else if (strcmp(argv[2], "router") == 0)
        type = ZMQ_ROUTER;
    else
        return usage();
    const char *bind = "tcp://127.0.0.1:*", *secret = NULL, *file = NULL;
    int seconds = 60;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bind") == 0)
            bind = argv[i + 1];
        else if (strcmp(argv[i], "--secret") == 0)
            secret = argv[i + 1];
        else if (strcmp(argv[i], "--endpoint-file") == 0)
            file = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atoi(argv[i + 1]);
        else
            return usage();
    }
    if (argc % 2 == 0)
        return usage();
    /* before the endpoint file is written: a test may stop the listener as soon as it sees it */
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, type);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char err[1024];
    if (secret) {
        /* a server of its own key, with no ZAP handler: it admits any client */
        char key[CURVE_KEY_Z85 + 1];
        int on = 1;
        if (curve_key_read(secret, CURVE_KEY_SECRET, key, err, sizeof err) != 0) {
            fprintf(stderr, "ncap_forge: %s\n", err);
            return 2;
        }
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on);
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, key, CURVE_KEY_Z85);
    }
    if (zmq_bind(sock, bind) != 0) {
        fprintf(stderr, "ncap_forge: could not bind %s: %s\n", bind, zmq_strerror(zmq_errno()));
        return 2;
    }
    char endpoint[256];
    size_t sz = sizeof endpoint;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, endpoint, &sz);
    if (file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", endpoint) < 0 || fclose(f) != 0 || rename(tmp, file) != 0) {
            fprintf(stderr, "ncap_forge: could not write %s\n", file);
            return 2;
        }
    }
    unsigned long messages = 0;
    long long until = daemon_now_ms() + (long long)seconds * 1000;
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    while (!stop && daemon_now_ms() < until) {
        if (zmq_poll(&item, 1, 100) != 1)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0)
            if (!zmq_msg_more(&m))
                messages++; /* a whole message, whatever its frames */
        zmq_msg_close(&m);
    }
    printf("received %lu messages\n", messages);
    fflush(stdout);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "send") == 0)
        return do_send(argc, argv);
    if (argc >= 3 && strcmp(argv[1], "listen") == 0)
        return do_listen(argc, argv);
    return usage();
}
