/* registry.h - live daemon instances in ops.instance: where each takes work, with a heartbeat.
 * Upstream stages find downstream instances here, so no endpoint is ever edited by hand. */
#ifndef NCAP_REGISTRY_H
#define NCAP_REGISTRY_H

#include <libpq-fe.h>
#include <stddef.h>

/* An instance older than this without a heartbeat is taken as dead. */
#define REGISTRY_LIVE_SECONDS 5

/* Records (or refreshes) this instance. Returns 0 or -1 with err. */
int registry_register(PGconn *db, const char *instance_id, const char *stage, const char *endpoint,
                      char *err, size_t errlen);
/* Records where this instance serves its metrics and health ("http://HOST:PORT", migration
 * 0023), for operators and tests to find. Returns 0 or -1 with err. */
int registry_set_metrics(PGconn *db, const char *instance_id, const char *url, char *err,
                         size_t errlen);
int registry_heartbeat(PGconn *db, const char *instance_id, char *err, size_t errlen);
int registry_remove(PGconn *db, const char *instance_id, char *err, size_t errlen);
/* Endpoints of live instances of a stage, as a NULL-terminated array the caller frees with
 * registry_free_list. Returns NULL with err on a database error. */
char **registry_live_endpoints(PGconn *db, const char *stage, char *err, size_t errlen);
void registry_free_list(char ***list_p);
/* The endpoint other processes should use to reach sock (bound by this process), written to out:
 * advertise_host if given; the hostname when sock is bound to all interfaces; else the address
 * sock is bound to. The port is the one actually bound (also for an ephemeral "*" port). */
void registry_advertised_endpoint(void *sock, const char *advertise_host, char *out, size_t outlen);
/* A unique id for this process: host:pid:random. */
void registry_make_instance_id(char *out, size_t outlen);

#endif
