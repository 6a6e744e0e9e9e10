/* presence.c - reconnect, register, heartbeat, refresh downstream */
#include "presence.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "registry.h"

struct presence_t {
    const daemon_config_t *cfg;
    char *endpoint;
    char *metrics_url; /* or NULL */
    pusher_t *pusher;
    PGconn *db;
    int registered;
    int left; /* presence_leave: no more registering */
    long long next_tick;
    long long next_lookup; /* of the next stage, while nudges wait for one (pusher_held) */
    char instance[300];
};

presence_t *presence_new(const daemon_config_t *cfg, const char *endpoint, pusher_t *pusher)
{
    presence_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->pusher = pusher;
    if (!(self->endpoint = strdup(endpoint ? endpoint : ""))) {
        free(self);
        return NULL;
    }
    registry_make_instance_id(self->instance, sizeof self->instance);
    return self;
}

void presence_destroy(presence_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    presence_t *self = *self_p;
    if (!self->left && db_alive(self->db))
        registry_remove(self->db, self->instance, NULL, 0);
    PQfinish(self->db);
    free(self->endpoint);
    free(self->metrics_url);
    free(self);
    *self_p = NULL;
}

void presence_set_metrics(presence_t *self, const char *url)
{
    assert(self);
    free(self->metrics_url);
    self->metrics_url = url ? strdup(url) : NULL;
    self->registered = 0; /* registered again, with it */
    self->next_tick = 0;
}

/* Registers this instance (with its metrics URL) or refreshes its heartbeat. Returns 0 or -1. */
static int keep_registered(presence_t *self, char *err, size_t errlen)
{
    if (self->registered)
        return registry_heartbeat(self->db, self->instance, err, errlen);
    if (registry_register(self->db, self->instance, self->cfg->stage, self->endpoint, err,
                          errlen) != 0)
        return -1;
    return self->metrics_url
               ? registry_set_metrics(self->db, self->instance, self->metrics_url, err, errlen)
               : 0;
}

PGconn *presence_tick(presence_t *self)
{
    assert(self);
    metrics_t *m = metrics_installed();
    metrics_beat(m, daemon_now_ms());
    if (!db_alive(self->db)) {
        metrics_set(m, METRICS_DB_CONNECTED, 0);
        metrics_set(m, METRICS_REGISTERED, 0);
        bool lost = self->db != NULL;
        if (lost) {
            ncap_log(LOG_WARN, "lost the PostgreSQL connection, reconnecting", NULL);
            PQfinish(self->db);
        }
        self->db = daemon_connect(self->cfg);
        self->registered = 0;
        self->next_tick = 0;
        if (!self->db)
            return NULL;
        metrics_set(m, METRICS_DB_CONNECTED, 1);
        if (lost)
            metrics_add(m, METRICS_DB_RECONNECTS, 1);
    }
    long long now = daemon_now_ms();
    char err[1024];
    /* Nudges held for want of an instance of the next stage (pusher.h): sent as soon as one is
     * connected, and until then the registry looked at every 200 ms, not every second, so that
     * a stage started before the next one loses no time (its records would wait for a sweep). */
    if (self->pusher && pusher_flush(self->pusher) > 0 && pusher_peers(self->pusher) == 0 &&
        now >= self->next_lookup && now < self->next_tick) {
        if (pusher_refresh(self->pusher, self->db, err, sizeof err) != 0)
            ncap_log(LOG_WARN, "could not look up the next stage", "error", err, NULL);
        self->next_lookup = now + 200;
    }
    if (now < self->next_tick || self->left)
        return self->db;
    int rc = keep_registered(self, err, sizeof err);
    if (rc != 0)
        ncap_log(LOG_WARN, "could not update the instance registry", "error", err, NULL);
    else
        self->registered = 1;
    metrics_set(m, METRICS_REGISTERED, rc == 0);
    if (self->pusher && pusher_refresh(self->pusher, self->db, err, sizeof err) != 0)
        ncap_log(LOG_WARN, "could not look up the next stage", "error", err, NULL);
    self->next_tick = now + 1000;
    return self->db;
}

void presence_leave(presence_t *self)
{
    assert(self);
    if (!self->left && db_alive(self->db))
        registry_remove(self->db, self->instance, NULL, 0);
    self->left = 1;
    metrics_set(metrics_installed(), METRICS_REGISTERED, 0);
}

PGconn *presence_db(presence_t *self)
{
    assert(self);
    return self->db;
}

const char *presence_instance(const presence_t *self)
{
    assert(self);
    return self->instance;
}
