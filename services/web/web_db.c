/* web_db.c - a pool of read-only connections */
#include "web_db.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"

struct web_db_t {
    char *conninfo;
    size_t size, out; /* out: connections taken */
    PGconn **idle;
    size_t n_idle;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    atomic_bool connected;
};

web_db_t *web_db_new(const char *conninfo, size_t size)
{
    web_db_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->conninfo = strdup(conninfo ? conninfo : "");
    self->size = size ? size : 1;
    self->idle = calloc(self->size, sizeof *self->idle);
    if (!self->conninfo || !self->idle) {
        free(self->conninfo);
        free(self->idle);
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->freed, NULL);
    return self;
}

void web_db_destroy(web_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    web_db_t *self = *self_p;
    for (size_t i = 0; i < self->n_idle; i++)
        PQfinish(self->idle[i]);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->freed);
    free(self->idle);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

bool web_db_connected(web_db_t *self)
{
    return atomic_load(&self->connected);
}

static void set_connected(web_db_t *self, bool up)
{
    atomic_store(&self->connected, up);
    metrics_set(metrics_installed(), METRICS_DB_CONNECTED, up ? 1 : 0);
}

/* An idle connection, or NULL when a new one is to be made (a slot is reserved either way). */
static PGconn *take(web_db_t *self)
{
    pthread_mutex_lock(&self->lock);
    while (self->n_idle == 0 && self->out >= self->size)
        pthread_cond_wait(&self->freed, &self->lock);
    PGconn *c = self->n_idle ? self->idle[--self->n_idle] : NULL;
    self->out++;
    pthread_mutex_unlock(&self->lock);
    return c;
}

/* Gives the slot back, with c idle when it is still good (else closed). */
static void give(web_db_t *self, PGconn *c)
{
    if (c && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    pthread_mutex_lock(&self->lock);
    if (c)
        self->idle[self->n_idle++] = c;
    self->out--;
    pthread_cond_signal(&self->freed);
    pthread_mutex_unlock(&self->lock);
}

static PGconn *connect_new(web_db_t *self, char *err, size_t errlen)
{
    PGconn *c = db_connect(self->conninfo, "ncap-webd", err, errlen);
    if (c && db_exec(c,
                     "SET default_transaction_read_only = on;"
                     " SET statement_timeout = '" WEB_DB_STATEMENT_TIMEOUT "'",
                     err, errlen) != 0) {
        PQfinish(c);
        c = NULL;
    }
    set_connected(self, c != NULL);
    return c;
}

PGresult *web_db_query(web_db_t *self, const char *sql, int nparams, const char *const *params,
                       int *status, char *err, size_t errlen)
{
    assert(self);
    PGconn *c = take(self);
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = c == NULL;
        if (!c && !(c = connect_new(self, err, errlen))) {
            *status = 503;
            give(self, NULL);
            return NULL;
        }
        PGresult *r = db_query(c, sql, nparams, params, err, errlen);
        if (r) {
            give(self, c);
            return r;
        }
        if (PQstatus(c) == CONNECTION_OK) { /* the statement failed, not the connection */
            *status = strcmp(db_last_sqlstate(), "57014") == 0 ? 503 : 500;
            give(self, c);
            return NULL;
        }
        PQfinish(c);
        c = NULL;
        if (fresh) /* lost even a new connection: PostgreSQL is going down */
            break;
    }
    set_connected(self, false);
    *status = 503;
    give(self, NULL);
    return NULL;
}
