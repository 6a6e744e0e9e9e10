/* presence.c - reconnect, register, heartbeat, refresh downstream */
#include "presence.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "registry.h"

struct presence_t {
    const daemon_config_t *cfg;
    char *endpoint;
    pusher_t *pusher;
    PGconn *db;
    int registered;
    int left; /* presence_leave: no more registering */
    long long next_tick;
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
    free(self);
    *self_p = NULL;
}

PGconn *presence_tick(presence_t *self)
{
    assert(self);
    if (!db_alive(self->db)) {
        if (self->db) {
            ncap_log(LOG_WARN, "lost the PostgreSQL connection, reconnecting", NULL);
            PQfinish(self->db);
        }
        self->db = daemon_connect(self->cfg);
        self->registered = 0;
        self->next_tick = 0;
        if (!self->db)
            return NULL;
    }
    long long now = daemon_now_ms();
    if (now < self->next_tick || self->left)
        return self->db;
    char err[1024];
    int rc = self->registered ? registry_heartbeat(self->db, self->instance, err, sizeof err)
                              : registry_register(self->db, self->instance, self->cfg->stage,
                                                  self->endpoint, err, sizeof err);
    if (rc != 0)
        ncap_log(LOG_WARN, "could not update the instance registry", "error", err, NULL);
    else
        self->registered = 1;
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
