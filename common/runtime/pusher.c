/* pusher.c - PUSH to the live instances of the next stage */
#include "pusher.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "curve_auth.h"
#include "log.h"
#include "metrics.h"
#include "nudge.h"
#include "registry.h"

/* A message waiting for an instance of the next stage (pusher.h). */
typedef struct {
    void *data;
    size_t len;
    long long since_ms;
} held_t;

struct pusher_t {
    void *sock;
    void *monitor; /* its handshakes */
    char *stage;
    char **connected; /* NULL-terminated */
    size_t n_connected;
    char **refused; /* connected endpoints whose handshake failed (logged), NULL-terminated */
    uint64_t dropped;
    held_t held[PUSHER_HOLD_MESSAGES]; /* a ring: n_held from first */
    size_t first, n_held;
};

static int in_list(char **list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

pusher_t *pusher_new(void *zmq_ctx, const daemon_config_t *cfg, const char *stage, char *err,
                     size_t errlen)
{
    pusher_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->stage = strdup(stage);
    self->sock = zmq_socket(zmq_ctx, ZMQ_PUSH);
    self->connected = calloc(1, sizeof(char *));
    self->refused = calloc(1, sizeof(char *));
    if (!self->stage || !self->sock || !self->connected || !self->refused) {
        snprintf(err, errlen, "out of memory");
        pusher_destroy(&self);
        return NULL;
    }
    /* A failed handshake (a listener without the next stage's key) is retried with backoff, up
     * to every 10 s, not every 100 ms. */
    int one = 1, hwm = 200000, linger = 2000, backoff = 10000;
    int64_t max = NUDGE_MAX_BYTES;
    zmq_setsockopt(self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(self->sock, ZMQ_RECONNECT_IVL_MAX, &backoff, sizeof backoff);
    if (cfg->keys_dir) {
        char secret[4096], server[4096];
        daemon_key_file(cfg, cfg->stage, "key", secret, sizeof secret);
        daemon_key_file(cfg, stage, "pub", server, sizeof server);
        if (curve_client_setup(self->sock, server, secret, err, errlen) != 0) {
            pusher_destroy(&self);
            return NULL;
        }
    }
    if (!(self->monitor = curve_monitor_open(zmq_ctx, self->sock, err, errlen))) {
        pusher_destroy(&self);
        return NULL;
    }
    return self;
}

void pusher_destroy(pusher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pusher_t *self = *self_p;
    curve_monitor_close(self->sock, &self->monitor);
    for (size_t i = 0; i < self->n_held; i++)
        free(self->held[(self->first + i) % PUSHER_HOLD_MESSAGES].data);
    if (self->sock)
        zmq_close(self->sock);
    registry_free_list(&self->connected);
    registry_free_list(&self->refused);
    free(self->stage);
    free(self);
    *self_p = NULL;
}

/* Logs each connected endpoint whose handshake failed, once until it succeeds or goes. */
static void watch_handshakes(pusher_t *self)
{
    curve_event_t ev;
    while (curve_monitor_next(self->monitor, 0, &ev) == 1) {
        size_t n = 0;
        while (self->refused[n] && strcmp(self->refused[n], ev.endpoint) != 0)
            n++;
        if (ev.result == CURVE_HANDSHAKE_OK) {
            if (self->refused[n]) { /* it proved its key after all */
                free(self->refused[n]);
                for (; self->refused[n]; n++)
                    self->refused[n] = self->refused[n + 1];
            }
            continue;
        }
        if (self->refused[n] || !in_list(self->connected, ev.endpoint))
            continue;
        char **grown = realloc(self->refused, (n + 2) * sizeof *grown);
        char *copy = strdup(ev.endpoint);
        if (grown)
            self->refused = grown;
        if (!grown || !copy) {
            free(copy);
            continue;
        }
        self->refused[n] = copy;
        self->refused[n + 1] = NULL;
        ncap_log(LOG_WARN,
                 "a registered instance failed the handshake: it is sent nothing (is it an "
                 "impostor, or does it hold another stage's key?)",
                 "stage", self->stage, "endpoint", ev.endpoint, "error", curve_event_text(&ev),
                 NULL);
    }
}

int pusher_refresh(pusher_t *self, PGconn *db, char *err, size_t errlen)
{
    assert(self);
    watch_handshakes(self);
    char **live = registry_live_endpoints(db, self->stage, err, errlen);
    if (!live)
        return -1;
    for (char **p = self->connected; *p; p++)
        if (!in_list(live, *p)) {
            zmq_disconnect(self->sock, *p);
            ncap_log(LOG_INFO, "disconnected from a stopped instance", "stage", self->stage,
                     "endpoint", *p, NULL);
        }
    /* Keep in the connected list only what is connected now: a failed connect is retried at
     * the next refresh. */
    size_t n = 0;
    for (char **p = live; *p; p++) {
        if (!in_list(self->connected, *p) && zmq_connect(self->sock, *p) != 0) {
            ncap_log(LOG_WARN, "could not connect to instance", "stage", self->stage, "endpoint",
                     *p, "error", zmq_strerror(zmq_errno()), NULL);
            free(*p);
            continue;
        }
        if (!in_list(self->connected, *p))
            ncap_log(LOG_INFO, "connected to instance", "stage", self->stage, "endpoint", *p, NULL);
        live[n++] = *p;
    }
    live[n] = NULL;
    registry_free_list(&self->connected);
    self->connected = live;
    self->n_connected = n;
    /* forget the refusals of endpoints gone */
    size_t kept = 0;
    for (size_t i = 0; self->refused[i]; i++) {
        if (in_list(self->connected, self->refused[i]))
            self->refused[kept++] = self->refused[i];
        else
            free(self->refused[i]);
    }
    self->refused[kept] = NULL;
    return 0;
}

static void count_dropped(pusher_t *self)
{
    self->dropped++;
    metrics_add(metrics_installed(), METRICS_MESSAGES_DROPPED, 1);
}

/* One message to an instance now (ZMQ_IMMEDIATE: only to a connection made). Returns 0 or -1. */
static int send_now(pusher_t *self, const void *data, size_t len)
{
    if (zmq_send(self->sock, data, len, ZMQ_DONTWAIT) < 0)
        return -1;
    metrics_add(metrics_installed(), METRICS_MESSAGES_SENT, 1);
    return 0;
}

size_t pusher_flush(pusher_t *self)
{
    assert(self);
    long long now = self->n_held ? daemon_now_ms() : 0;
    while (self->n_held > 0) {
        held_t *h = &self->held[self->first];
        if (now - h->since_ms > PUSHER_HOLD_MS)
            count_dropped(self);
        else if (send_now(self, h->data, h->len) != 0)
            break;
        free(h->data);
        *h = (held_t){0};
        self->first = (self->first + 1) % PUSHER_HOLD_MESSAGES;
        self->n_held--;
    }
    return self->n_held;
}

int pusher_send(pusher_t *self, const void *data, size_t len)
{
    assert(self);
    if (pusher_flush(self) == 0 && send_now(self, data, len) == 0)
        return 0;
    void *copy = self->n_held < PUSHER_HOLD_MESSAGES ? malloc(len ? len : 1) : NULL;
    if (!copy) {
        count_dropped(self);
        return -1;
    }
    if (len)
        memcpy(copy, data, len);
    self->held[(self->first + self->n_held) % PUSHER_HOLD_MESSAGES] =
        (held_t){copy, len, daemon_now_ms()};
    self->n_held++;
    return 0;
}

size_t pusher_held(const pusher_t *self)
{
    return self->n_held;
}

size_t pusher_peers(const pusher_t *self)
{
    return self->n_connected;
}

uint64_t pusher_dropped(const pusher_t *self)
{
    return self->dropped;
}
