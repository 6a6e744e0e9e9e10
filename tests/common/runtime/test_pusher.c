/* test_pusher.c - a nudge sent before any instance of the next stage is there is not lost: it is
 * held, in order, and delivered once an instance registers (on a real PostgreSQL registry and real
 * ZeroMQ sockets); the holding is bounded in count and in time, past which a nudge is dropped and
 * counted (the next stage's sweep finds its records). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "pg_fixture.h"
#include "pusher.h"
#include "registry.h"

static const daemon_config_t cfg = {
    .service = "ncap-test", .stage = "linkage", .insecure_plain = 1};

/* Flushes until nothing is held, up to about 10 s (a handshake on the loopback takes ms). */
static size_t flush_until_sent(pusher_t *p)
{
    for (int i = 0; i < 1000 && pusher_flush(p) > 0; i++)
        usleep(10000);
    return pusher_held(p);
}

static void test_nudges_wait_for_the_next_stage(void **state)
{
    (void)state;
    PGconn *db = pg_fixture_open("test_pusher");
    char err[1024];
    void *ctx = zmq_ctx_new();
    pusher_t *p = pusher_new(ctx, &cfg, "validation", err, sizeof err);
    assert_non_null(p);
    /* no validation instance yet: held, not dropped */
    assert_int_equal(pusher_refresh(p, db, err, sizeof err), 0);
    assert_int_equal(pusher_peers(p), 0);
    const char *msgs[] = {"first", "second", "third"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pusher_send(p, msgs[i], strlen(msgs[i])), 0);
    assert_int_equal(pusher_held(p), 3);
    assert_int_equal(pusher_dropped(p), 0);

    /* an instance starts and registers: the next refresh finds it and the nudges go, in order */
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(pull, "tcp://127.0.0.1:*"), 0);
    char ep[320];
    registry_advertised_endpoint(pull, NULL, ep, sizeof ep);
    assert_int_equal(registry_register(db, "test:1:pusher", "validation", ep, err, sizeof err), 0);
    assert_int_equal(pusher_refresh(p, db, err, sizeof err), 0);
    assert_int_equal(pusher_peers(p), 1);
    assert_int_equal(flush_until_sent(p), 0);
    assert_int_equal(pusher_send(p, "fourth", 6), 0);
    int timeout = 10000;
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    const char *want[] = {"first", "second", "third", "fourth"};
    for (int i = 0; i < 4; i++) {
        char buf[32];
        int n = zmq_recv(pull, buf, sizeof buf - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, want[i]);
    }
    assert_int_equal(pusher_dropped(p), 0);

    zmq_close(pull);
    pusher_destroy(&p);
    zmq_ctx_term(ctx);
    PQfinish(db);
}

static void test_holding_is_bounded(void **state)
{
    (void)state;
    char err[1024];
    void *ctx = zmq_ctx_new();
    pusher_t *p = pusher_new(ctx, &cfg, "validation", err, sizeof err);
    assert_non_null(p);
    /* in count: past PUSHER_HOLD_MESSAGES a nudge is dropped */
    for (int i = 0; i < PUSHER_HOLD_MESSAGES; i++)
        assert_int_equal(pusher_send(p, "k", 1), 0);
    assert_int_equal(pusher_send(p, "k", 1), -1);
    assert_int_equal(pusher_held(p), PUSHER_HOLD_MESSAGES);
    assert_int_equal(pusher_dropped(p), 1);
    /* in time: those held past PUSHER_HOLD_MS are dropped on the next flush */
    usleep((PUSHER_HOLD_MS + 100) * 1000);
    assert_int_equal(pusher_flush(p), 0);
    assert_int_equal(pusher_dropped(p), PUSHER_HOLD_MESSAGES + 1);
    pusher_destroy(&p); /* and nothing left to free (the sanitizer build checks for leaks) */
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nudges_wait_for_the_next_stage),
        cmocka_unit_test(test_holding_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
