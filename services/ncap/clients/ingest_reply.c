/* ingest_reply.c - one reply from ingest, polled with a timeout and decoded */
#include "ingest_reply.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "client_keys.h"
#include "curve_auth.h"
#include "daemon.h"
#include "db.h"
#include "registry.h"
#include "strbuf.h"

ingest_reply_status_t ingest_reply_await(void *sock, int timeout_s,
                                         const ProtobufCMessageDescriptor *desc,
                                         ProtobufCMessage **out, char *err, size_t errlen)
{
    *out = NULL;
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, (long)timeout_s * 1000);
    if (rc < 0 && zmq_errno() == EINTR)
        return INGEST_REPLY_INTERRUPTED;
    if (rc <= 0)
        return INGEST_REPLY_TIMEOUT;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock, 0) < 0) {
        snprintf(err, errlen, "could not receive from ingest: %s", zmq_strerror(zmq_errno()));
        zmq_msg_close(&msg);
        return INGEST_REPLY_BROKEN;
    }
    *out = protobuf_c_message_unpack(desc, NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    if (!*out) {
        snprintf(err, errlen, "ingest sent a reply that is not an %s", desc->name);
        return INGEST_REPLY_BROKEN;
    }
    return INGEST_REPLY_OK;
}

/* How long a process reuses the live ingest instances it looked up in the registry. A client
 * that submits many files (`ncap sim --submit`: one a trust each round) asks PostgreSQL once, not
 * once a file: each lookup is a new connection, so a new server backend (~40 ms of its CPU; in
 * tests/bench/latency.sh, 20 a second were 40% of the machine's CPU). An instance that has died
 * since fails its handshake and the next is tried; the list is then looked up again at the next
 * connect. */
#define REGISTRY_MEMO_S 30

static struct {
    pthread_mutex_t lock;
    char **live;  /* NULL-terminated, or NULL: none kept */
    long long at; /* when looked up (daemon_now_ms) */
} memo = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A copy of a NULL-terminated list (registry_free_list), or NULL when out of memory. */
static char **list_copy(char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    char **copy = calloc(n + 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++)
        if (!(copy[i] = strdup(list[i])))
            registry_free_list(&copy);
    return copy;
}

/* The live ingest instances, from the memo while it is fresh, else from the registry (kept in
 * the memo). A NULL-terminated list the caller frees, or NULL with err set. */
static char **registry_ingest(char *err, size_t errlen)
{
    pthread_mutex_lock(&memo.lock);
    char **live = memo.live && daemon_now_ms() - memo.at < REGISTRY_MEMO_S * 1000LL
                      ? list_copy(memo.live)
                      : NULL;
    pthread_mutex_unlock(&memo.lock);
    if (live)
        return live;
    char cerr[1024];
    PGconn *db = db_connect(NULL, "ncap client", cerr, sizeof cerr);
    if (!db) {
        snprintf(err, errlen,
                 "no ingest endpoint: set NCAP_INGEST, or NCAP_PG so that a live ingest instance "
                 "can be found (%s)",
                 cerr);
        return NULL;
    }
    live = registry_live_endpoints(db, "ingest", cerr, sizeof cerr);
    PQfinish(db);
    if (!live) {
        snprintf(err, errlen, "could not look up ingest instances: %s", cerr);
        return NULL;
    }
    if (!live[0]) {
        registry_free_list(&live);
        snprintf(err, errlen, "no live ingest instance is registered: is ncap-ingestd running?");
        return NULL;
    }
    char **keep = list_copy(live);
    pthread_mutex_lock(&memo.lock);
    registry_free_list(&memo.live);
    if ((memo.live = keep))
        memo.at = daemon_now_ms();
    pthread_mutex_unlock(&memo.lock);
    return live;
}

/* Forgets the registry's instances kept: one of them did not answer. */
static void registry_ingest_forget(void)
{
    pthread_mutex_lock(&memo.lock);
    registry_free_list(&memo.live);
    pthread_mutex_unlock(&memo.lock);
}

/* Where to look for ingest: endpoint, $NCAP_INGEST, or the live registered instances in random
 * order (*registry set). A NULL-terminated list (registry_free_list), or NULL with err set. */
static char **ingest_endpoints(const char *endpoint, bool *registry, char *err, size_t errlen)
{
    const char *env = getenv("NCAP_INGEST");
    const char *one = endpoint ? endpoint : env && *env ? env : NULL;
    *registry = !one;
    if (one) {
        char **list = calloc(2, sizeof *list);
        if (!list || !(list[0] = strdup(one))) {
            free(list);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        return list;
    }
    char **live = registry_ingest(err, errlen);
    if (!live)
        return NULL;
    size_t n = 0;
    while (live[n])
        n++;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates: spread clients over the instances */
        size_t j = randombytes_uniform((uint32_t)(i + 1));
        char *t = live[i];
        live[i] = live[j];
        live[j] = t;
    }
    return live;
}

/* Connects sock to endpoint and waits up to timeout_s for the handshake. Returns 0 when it
 * succeeded; 1 when ingest refused the key (no other instance will take it either); -1
 * otherwise; err says why. */
static int handshake(void *ctx, void *sock, const char *endpoint, bool keys, const char *trust,
                     int timeout_s, char *err, size_t errlen)
{
    void *mon = curve_monitor_open(ctx, sock, err, errlen);
    if (!mon)
        return -1;
    if (zmq_connect(sock, endpoint) != 0) {
        snprintf(err, errlen, "could not connect to \"%s\": %s", endpoint,
                 zmq_strerror(zmq_errno()));
        curve_monitor_close(sock, &mon);
        return -1;
    }
    curve_event_t ev;
    int rc = -1;
    if (curve_monitor_next(mon, timeout_s * 1000, &ev) != 1)
        snprintf(err, errlen, "%s: no handshake within %d s: is ncap-ingestd running there?",
                 endpoint, timeout_s);
    else if (ev.result == CURVE_HANDSHAKE_OK)
        rc = 0;
    else if (ev.result == CURVE_HANDSHAKE_REFUSED) {
        snprintf(err, errlen,
                 "ingest at %s refused this client's key, speaking for trust \"%s\" (ZAP status "
                 "%u): ingest does not hold its public key",
                 endpoint, trust, ev.value);
        rc = 1;
    } else if (!keys)
        /* a CurveZMQ server breaks off a plain handshake (seen as a mismatch, or as a
         * connection closed before the mismatch is read) */
        snprintf(err, errlen,
                 "%s refused a plain connection: it requires CurveZMQ; set NCAP_CURVE_SERVER_KEY "
                 "(ingest.pub) and NCAP_CLIENT_KEYS (a folder of <ODS>.key) or "
                 "NCAP_CURVE_CLIENT_SECRET_FILE",
                 endpoint);
    else
        snprintf(err, errlen,
                 "%s did not prove ingest's key (NCAP_CURVE_SERVER_KEY): it is not ingest, or not "
                 "the ingest that key is for (%s); nothing was sent",
                 endpoint, curve_event_text(&ev));
    curve_monitor_close(sock, &mon);
    return rc;
}

/* A DEALER socket set up to speak for trust (keys or plain), not connected. */
static void *dealer(void *ctx, const client_keys_t *keys, int timeout_s, char *err, size_t errlen)
{
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!sock) {
        snprintf(err, errlen, "could not open a socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = 0, sndtimeo = timeout_s > 0 ? timeout_s * 1000 : -1;
    int64_t max = INGEST_REPLY_MAX_BYTES;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (keys && curve_client_setup(sock, keys->server, keys->secret, err, errlen) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

/* Per endpoint tried, when there are others to try after it: what is wasted on one that does not
 * answer. */
#define HANDSHAKE_EACH_S 10

char *ingest_target_bearer(const ingest_target_t *to)
{
    return to && to->bearer ? (char *)to->bearer : "";
}

void ingest_target_refused(const ingest_target_t *to, unsigned status)
{
    if (to && to->refusal)
        *to->refusal = status;
}

void *ingest_connect(void *ctx, const ingest_target_t *to, const char *trust, int timeout_s,
                     char *err, size_t errlen)
{
    client_keys_t keys;
    int has_keys = 0;
    if (to && to->keys) {
        keys = *to->keys;
        has_keys = 1;
    } else if (!(to && to->plain) && (has_keys = client_keys_for(trust, &keys, err, errlen)) < 0)
        return NULL;
    bool registry;
    char **list = ingest_endpoints(to ? to->endpoint : NULL, &registry, err, errlen);
    if (!list)
        return NULL;
    strbuf_t why;
    strbuf_init(&why);
    void *sock = NULL;
    for (char **p = list; *p; p++) {
        char one[1024];
        int wait = p[1] && timeout_s > HANDSHAKE_EACH_S ? HANDSHAKE_EACH_S : timeout_s;
        if (!(sock = dealer(ctx, has_keys ? &keys : NULL, timeout_s, one, sizeof one))) {
            strbuf_appendf(&why, "%s%s", why.len ? "; " : "", one);
            break;
        }
        int rc = handshake(ctx, sock, *p, has_keys, trust, wait, one, sizeof one);
        if (rc == 0)
            break;
        zmq_close(sock);
        sock = NULL;
        strbuf_appendf(&why, "%s%s", why.len ? "; " : "", one);
        if (registry)
            registry_ingest_forget();
        if (rc == 1)
            break;
    }
    if (!sock)
        snprintf(err, errlen, "could not reach ingest: %s", why.oom ? "out of memory" : why.s);
    strbuf_free(&why);
    registry_free_list(&list);
    return sock;
}

ProtobufCMessage *ingest_reply_expect(void *sock, int timeout_s,
                                      const ProtobufCMessageDescriptor *desc, char *err,
                                      size_t errlen)
{
    ProtobufCMessage *m = NULL;
    switch (ingest_reply_await(sock, timeout_s, desc, &m, err, errlen)) {
    case INGEST_REPLY_OK:
        return m;
    case INGEST_REPLY_INTERRUPTED:
        snprintf(err, errlen, "interrupted while waiting for ingest");
        break;
    case INGEST_REPLY_TIMEOUT:
        snprintf(err, errlen, "no reply from ingest within %d s: is ncap-ingestd running?",
                 timeout_s);
        break;
    case INGEST_REPLY_BROKEN:
        break;
    }
    return NULL;
}

int ingest_request_send(void *sock, const ProtobufCMessage *req, int timeout_s, char *err,
                        size_t errlen)
{
    const char *type = req->descriptor->name;
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    protobuf_c_message_pack(req, buf);
    int rc = zmq_send(sock, type, strlen(type), ZMQ_SNDMORE) < 0 || zmq_send(sock, buf, len, 0) < 0
                 ? -1
                 : 0;
    free(buf);
    if (rc != 0)
        ingest_send_error(zmq_errno(), timeout_s, err, errlen);
    return rc;
}

void ingest_send_error(int errnum, int timeout_s, char *err, size_t errlen)
{
    if (errnum == EAGAIN)
        snprintf(err, errlen,
                 "could not send to ingest within %d s: is ncap-ingestd running, and does it"
                 " accept this client's key?",
                 timeout_s);
    else
        snprintf(err, errlen, "could not send to ingest: %s", zmq_strerror(errnum));
}
