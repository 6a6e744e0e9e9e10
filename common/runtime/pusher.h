/* pusher.h - the fast path to the next stage: a ZeroMQ PUSH socket connected to every live instance
 * of that stage found in the registry, load-balanced by ZeroMQ. A message that cannot be sent at
 * once (no instance connected yet: this daemon started before the next stage, or the next stage
 * restarted; its handshake not done) is held, in order, up to PUSHER_HOLD_MESSAGES messages for
 * PUSHER_HOLD_MS, and sent by pusher_flush as soon as an instance takes it; past either bound it is
 * dropped and counted: the next stage finds that record in PostgreSQL (its backlog) anyway, a
 * sweep later (the grace, --sweep-grace-ms, and up to 2 s of an idle stage's back-off).
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
#define PUSHER_HOLD_MESSAGES 1024
#define PUSHER_HOLD_MS 5000

/* Sends one message without blocking, after those held (pusher_flush first): queued to an
 * instance, or held (a copy) behind them. Returns 0 when queued or held, -1 when dropped (the
 * holding full, or out of memory). */
int pusher_send(pusher_t *self, const void *data, size_t len);
/* Sends the held messages, oldest first, while an instance takes them; drops (and counts) those
 * held longer than PUSHER_HOLD_MS. Call often (the daemon tick does: presence_tick). Returns the
 * messages still held. */
size_t pusher_flush(pusher_t *self);
size_t pusher_held(const pusher_t *self);
size_t pusher_peers(const pusher_t *self);
/* Messages dropped so far: not sent at once and not within the holding's bounds. */
uint64_t pusher_dropped(const pusher_t *self);

#endif
