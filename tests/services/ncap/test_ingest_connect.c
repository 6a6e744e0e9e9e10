/* test_ingest_connect.c - how a client finds ingest through the registry (ops.instance, on a real
 * PostgreSQL): the live instances looked up once and reused by the process's next connects, and
 * looked up again once one of them fails; against a stand-in for ingest on a real ZeroMQ socket
 * (plain: the handshake is all it takes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "db.h"
#include "ingest_reply.h"
#include "pg_test_db.h"
#include "registry.h"
#include "test_skip.h"

static char conninfo[512];

static int setup(void **state)
{
    (void)state;
    if (pg_test_db_create_migrated("ncap_ingest_connect", conninfo, sizeof conninfo) != 0)
        return -1;
    if (conninfo[0])
        setenv("NCAP_PG", conninfo, 1);
    unsetenv("NCAP_INGEST");
    return 0;
}

/* Connects as a plain client to whichever ingest the registry names: true when the handshake
 * succeeded; err says why not. */
static bool connects(void *ctx, int timeout_s, char *err, size_t errlen)
{
    ingest_target_t plain = {.plain = true};
    void *sock = ingest_connect(ctx, &plain, "RXX", timeout_s, err, errlen);
    if (sock)
        zmq_close(sock);
    return sock != NULL;
}

static void test_registry_kept_until_an_instance_fails(void **state)
{
    (void)state;
    ncap_require_pg();
    char err[2048];
    PGconn *db = db_connect(conninfo, "test_ingest_connect", err, sizeof err);
    assert_non_null(db);
    /* the stand-in in a context of its own: terminating it closes its listener for sure */
    void *ctx = zmq_ctx_new(), *srv = zmq_ctx_new();
    void *ingest = zmq_socket(srv, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(ingest, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(ingest, "tcp://127.0.0.1:*"), 0);
    char endpoint[128];
    size_t len = sizeof endpoint;
    zmq_getsockopt(ingest, ZMQ_LAST_ENDPOINT, endpoint, &len);
    assert_int_equal(registry_register(db, "test:ingest:1", "ingest", endpoint, err, sizeof err),
                     0);

    assert_true(connects(ctx, 5, err, sizeof err));
    /* gone from the registry: the process still has the list it looked up */
    assert_int_equal(registry_remove(db, "test:ingest:1", err, sizeof err), 0);
    assert_true(connects(ctx, 5, err, sizeof err));

    /* the instance stops answering: the connect fails, saying so (no handshake within the
     * second, or the connection closed, as the timing falls), and the list is dropped */
    zmq_close(ingest);
    zmq_ctx_term(srv);
    assert_false(connects(ctx, 1, err, sizeof err));
    if (!strstr(err, "could not reach ingest") || !strstr(err, endpoint))
        fail_msg("not the failure expected: %s", err);
    /* so the next connect asks the registry again, which has none */
    assert_false(connects(ctx, 1, err, sizeof err));
    if (!strstr(err, "no live ingest instance is registered"))
        fail_msg("not the failure expected: %s", err);

    zmq_ctx_term(ctx);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_kept_until_an_instance_fails),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
