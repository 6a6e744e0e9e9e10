/* test_registry_endpoint.c - the endpoint a daemon registers for others to reach it, as an
 * operator configures --bind-host: an address, or an interface name (eth0 in compose; lo here),
 * which ZeroMQ binds to that interface's address, the one registered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <zmq.h>

#include "registry.h"

static void advertised(const char *bind, const char *advertise_host, char *out, size_t outlen)
{
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(sock, bind), 0);
    registry_advertised_endpoint(sock, advertise_host, out, outlen);
    zmq_close(sock);
    zmq_ctx_term(ctx);
}

static void test_interface_name_registers_its_address(void **state)
{
    (void)state;
    char ep[320];
    advertised("tcp://lo:*", NULL, ep, sizeof ep);
    assert_true(strncmp(ep, "tcp://127.0.0.1:", 16) == 0);
    assert_true(strlen(ep) > 16); /* the port actually bound */
}

static void test_address_and_advertise_host(void **state)
{
    (void)state;
    char ep[320];
    advertised("tcp://127.0.0.1:*", NULL, ep, sizeof ep);
    assert_true(strncmp(ep, "tcp://127.0.0.1:", 16) == 0);
    advertised("tcp://127.0.0.1:*", "ingest.example", ep, sizeof ep);
    assert_true(strncmp(ep, "tcp://ingest.example:", 21) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interface_name_registers_its_address),
        cmocka_unit_test(test_address_and_advertise_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
