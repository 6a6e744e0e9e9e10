/* presence.h - the daemon tick every ncap daemon runs: a PostgreSQL connection that survives
 * restarts, this instance's row in the registry (ops.instance) with a heartbeat, and the
 * connections to the next stage's live instances. */
#ifndef NCAP_PRESENCE_H
#define NCAP_PRESENCE_H

#include <libpq-fe.h>

#include "daemon.h"
#include "pusher.h"

typedef struct presence_t presence_t;

/* endpoint: where this instance takes work (registered for others to find); pusher: the fast path
 * to the next stage, refreshed on each tick, or NULL. Neither is owned. */
presence_t *presence_new(const daemon_config_t *cfg, const char *endpoint, pusher_t *pusher);
/* Where this instance serves its metrics and health (daemon_metrics_url), registered with it from
 * the next registration on; NULL: none. Copied. */
void presence_set_metrics(presence_t *self, const char *url);
/* Removes this instance from the registry (when connected) and frees. */
void presence_destroy(presence_t **self_p);
/* Call as often as convenient: reconnects when the connection was lost (retrying each second
 * until shutdown is asked), sends the pusher's held nudges (pusher_flush), and at most once a
 * second registers or heartbeats this instance and refreshes the pusher (every 200 ms while it
 * holds nudges and has no instance to send them to). Returns the connection, or NULL only on
 * shutdown. It keeps the process's metrics (metrics_installed) of the loop: its beat, connected,
 * registered, reconnections. */
PGconn *presence_tick(presence_t *self);
/* Removes this instance from the registry now (so that no upstream sends it more work) and keeps
 * the connection: later ticks reconnect but no longer register. */
void presence_leave(presence_t *self);
/* The connection as it stands (NULL before the first tick). */
PGconn *presence_db(presence_t *self);
/* host:pid:random, as registered. */
const char *presence_instance(const presence_t *self);

#endif
