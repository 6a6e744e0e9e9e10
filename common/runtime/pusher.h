/* pusher.h - the fast path to the next stage: a ZeroMQ PUSH socket connected to every live instance
 * of that stage found in the registry, load-balanced by ZeroMQ. A message that cannot be sent at
 * once is dropped and counted: the next stage finds that record in PostgreSQL (its backlog) anyway.
 *
 * With keys (daemon.h), the socket is a CurveZMQ client holding this stage's key pair and
 * accepting only a server that proves the next stage's public key, read from the keys folder and
 * never from the registry: a registry row pointing at any other listener completes no handshake
 * and gets no message (ZMQ_IMMEDIATE: nothing is queued for a connection not yet made), and the
 * failed handshake is logged once per endpoint. */
#ifndef NCAP_PUSHER_H
#define NCAP_PUSHER_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

typedef struct pusher_t pusher_t;

/* A pusher from cfg's stage to the instances of stage, with cfg's keys (cfg->keys_dir: its own
 * <cfg->stage>.key and <stage>.pub) or plain (cfg->insecure_plain). NULL with err set (a key file
 * missing or unreadable, out of memory). */
pusher_t *pusher_new(void *zmq_ctx, const daemon_config_t *cfg, const char *stage, char *err,
                     size_t errlen);
void pusher_destroy(pusher_t **self_p);
/* Connects to newly registered instances and disconnects from those gone; logs the registered
 * endpoints whose handshake failed since the last call. Returns 0 or -1. */
int pusher_refresh(pusher_t *self, PGconn *db, char *err, size_t errlen);
/* Sends one message without blocking. Returns 0 when queued, -1 when dropped. */
int pusher_send(pusher_t *self, const void *data, size_t len);
size_t pusher_peers(const pusher_t *self);
uint64_t pusher_dropped(const pusher_t *self);

#endif
