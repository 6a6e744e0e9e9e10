/* registry.c - ops.instance */
#include "registry.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "db.h"

int registry_register(PGconn *db, const char *instance_id, const char *stage, const char *endpoint,
                      char *err, size_t errlen)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    const char *p[] = {instance_id, stage, host, pid, endpoint};
    return db_execp(db,
                    "INSERT INTO ops.instance (instance_id, stage, host, pid, endpoint) "
                    "VALUES ($1, $2, $3, $4::int, $5) ON CONFLICT (instance_id) DO UPDATE "
                    "SET endpoint = EXCLUDED.endpoint, heartbeat_at = now()",
                    5, p, err, errlen);
}

int registry_set_metrics(PGconn *db, const char *instance_id, const char *url, char *err,
                         size_t errlen)
{
    const char *p[] = {instance_id, url};
    return db_execp(db, "UPDATE ops.instance SET metrics = $2 WHERE instance_id = $1", 2, p, err,
                    errlen);
}

int registry_heartbeat(PGconn *db, const char *instance_id, char *err, size_t errlen)
{
    const char *p[] = {instance_id};
    return db_execp(db, "UPDATE ops.instance SET heartbeat_at = now() WHERE instance_id = $1", 1, p,
                    err, errlen);
}

int registry_remove(PGconn *db, const char *instance_id, char *err, size_t errlen)
{
    const char *p[] = {instance_id};
    return db_execp(db, "DELETE FROM ops.instance WHERE instance_id = $1", 1, p, err, errlen);
}

char **registry_live_endpoints(PGconn *db, const char *stage, char *err, size_t errlen)
{
    const char *p[] = {stage};
    PGresult *r = db_query(db,
                           "SELECT endpoint FROM ops.instance WHERE stage = $1 AND endpoint IS NOT "
                           "NULL AND heartbeat_at > now() - interval '5 seconds' ORDER BY endpoint",
                           1, p, err, errlen);
    if (!r)
        return NULL;
    int n = PQntuples(r);
    char **list = calloc((size_t)n + 1, sizeof *list);
    for (int i = 0; list && i < n; i++)
        list[i] = strdup(PQgetvalue(r, i, 0));
    PQclear(r);
    if (!list)
        snprintf(err, errlen, "out of memory");
    return list;
}

void registry_free_list(char ***list_p)
{
    if (!list_p || !*list_p)
        return;
    for (char **p = *list_p; *p; p++)
        free(*p);
    free(*list_p);
    *list_p = NULL;
}

void registry_advertised_endpoint(void *sock, const char *advertise_host, char *out, size_t outlen)
{
    char last[300] = "";
    size_t sz = sizeof last;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, last, &sz);
    /* last is "tcp://HOST:PORT" */
    const char *host_start = strstr(last, "://");
    host_start = host_start ? host_start + 3 : last;
    char *port = strrchr(last, ':');
    if (!port || port < host_start)
        port = NULL;
    char host[256] = "";
    if (advertise_host && *advertise_host) {
        snprintf(host, sizeof host, "%s", advertise_host);
    } else {
        snprintf(host, sizeof host, "%.*s",
                 (int)(port ? (size_t)(port - host_start) : strlen(host_start)), host_start);
        if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
            gethostname(host, sizeof host - 1);
    }
    snprintf(out, outlen, "tcp://%s%s", host, port ? port : ":0");
}

void registry_make_instance_id(char *out, size_t outlen)
{
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    snprintf(out, outlen, "%s:%d:%08x", host, (int)getpid(), randombytes_random());
}
