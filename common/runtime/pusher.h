/* pusher.h - the fast path to the next stage: a ZeroMQ PUSH socket connected to every live instance
 * of that stage found in the registry, load-balanced by ZeroMQ. A message that cannot be sent at
 * once is dropped and counted: the next stage finds that record in PostgreSQL (its backlog) anyway.
 */
#ifndef NCAP_PUSHER_H
#define NCAP_PUSHER_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pusher_t pusher_t;

pusher_t *pusher_new(void *zmq_ctx, const char *stage);
void pusher_destroy(pusher_t **self_p);
/* Connects to newly registered instances and disconnects from those gone. Returns 0 or -1. */
int pusher_refresh(pusher_t *self, PGconn *db, char *err, size_t errlen);
/* Sends one message without blocking. Returns 0 when queued, -1 when dropped. */
int pusher_send(pusher_t *self, const void *data, size_t len);
size_t pusher_peers(const pusher_t *self);
uint64_t pusher_dropped(const pusher_t *self);

#endif
