/* test_curve_auth.c - CurveZMQ key files and the client's settings as a trust's operator meets
 * them: a key pair written once and read back, bad key files named, half a client setup refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curve_auth.h"

static void test_key_pair_written_once_and_read_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/ncap_curve_XXXXXX", prefix[64], path[80], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/RH8", dir);
    assert_int_equal(curve_key_pair_write(prefix, err, sizeof err), 0);
    char pub[CURVE_KEY_Z85 + 1], sec[CURVE_KEY_Z85 + 1], derived[CURVE_KEY_Z85 + 1];
    snprintf(path, sizeof path, "%s.pub", prefix);
    assert_int_equal(curve_key_read(path, pub, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s.key", prefix);
    assert_int_equal(curve_key_read(path, sec, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* the secret is its owner's only */
    assert_int_equal(zmq_curve_public(derived, sec), 0);
    assert_string_equal(derived, pub); /* the pair belongs together */
    /* never overwritten */
    assert_int_equal(curve_key_pair_write(prefix, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not create"));
    unlink(path);
    snprintf(path, sizeof path, "%s.pub", prefix);
    unlink(path);
    rmdir(dir);
}

static void test_bad_key_files_named(void **state)
{
    (void)state;
    char path[] = "/tmp/ncap_curve_bad_XXXXXX", key[CURVE_KEY_Z85 + 1], err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a key\n", 10), 10);
    close(fd);
    assert_int_equal(curve_key_read(path, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not hold a 40-character Z85 key"));
    assert_non_null(strstr(err, path));
    unlink(path);
    assert_int_equal(curve_key_read("/nonexistent/ingest.pub", key, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not read key file \"/nonexistent/ingest.pub\""));
}

static void test_client_setup(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    char err[512] = "";
    unsetenv("NCAP_CURVE_SERVER_KEY");
    unsetenv("NCAP_CURVE_CLIENT_SECRET_FILE");
    assert_int_equal(curve_client_setup(sock, err, sizeof err), 0); /* plain */
    setenv("NCAP_CURVE_SERVER_KEY", "/tmp/ingest.pub", 1);
    assert_int_equal(curve_client_setup(sock, err, sizeof err), -1); /* half a setup */
    assert_non_null(strstr(err, "NCAP_CURVE_CLIENT_SECRET_FILE"));
    unsetenv("NCAP_CURVE_SERVER_KEY");
    zmq_close(sock);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_pair_written_once_and_read_back),
        cmocka_unit_test(test_bad_key_files_named),
        cmocka_unit_test(test_client_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
