/* pusher.c - PUSH to the live instances of the next stage */
#include "pusher.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "registry.h"

struct pusher_t {
    void *sock;
    char *stage;
    char **connected; /* NULL-terminated */
    size_t n_connected;
    uint64_t dropped;
};

pusher_t *pusher_new(void *zmq_ctx, const char *stage)
{
    pusher_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->stage = strdup(stage);
    self->sock = zmq_socket(zmq_ctx, ZMQ_PUSH);
    self->connected = calloc(1, sizeof(char *));
    if (!self->stage || !self->sock || !self->connected) {
        pusher_destroy(&self);
        return NULL;
    }
    int one = 1, hwm = 200000, linger = 2000;
    zmq_setsockopt(self->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    return self;
}

void pusher_destroy(pusher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pusher_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    registry_free_list(&self->connected);
    free(self->stage);
    free(self);
    *self_p = NULL;
}

static int in_list(char **list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

int pusher_refresh(pusher_t *self, PGconn *db, char *err, size_t errlen)
{
    assert(self);
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
    return 0;
}

int pusher_send(pusher_t *self, const void *data, size_t len)
{
    assert(self);
    if (zmq_send(self->sock, data, len, ZMQ_DONTWAIT) < 0) {
        self->dropped++;
        return -1;
    }
    return 0;
}

size_t pusher_peers(const pusher_t *self)
{
    return self->n_connected;
}

uint64_t pusher_dropped(const pusher_t *self)
{
    return self->dropped;
}
