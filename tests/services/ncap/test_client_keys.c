/* test_client_keys.c - which keys a client of ingest holds, as a trust's operator sets them in the
 * environment: none (plain), a folder of trusts' keys (the trust spoken for picks its own), one
 * trust's key; each half or doubled setup refused saying what is missing, and a trust without a
 * key in the folder named with the folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_keys.h"

static int setup(void **state)
{
    (void)state;
    unsetenv("NCAP_CURVE_SERVER_KEY");
    unsetenv("NCAP_CURVE_CLIENT_SECRET_FILE");
    unsetenv("NCAP_CLIENT_KEYS");
    return 0;
}

static void test_none_is_plain(void **state)
{
    (void)state;
    client_keys_t k;
    char err[512] = "";
    assert_int_equal(client_keys_for("RH8", &k, err, sizeof err), 0);
}

static void test_folder_gives_the_trusts_own_key(void **state)
{
    (void)state;
    char dir[] = "/tmp/ncap_client_keys_XXXXXX", path[128], err[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/RH8.key", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    setenv("NCAP_CURVE_SERVER_KEY", "/keys/ingest.pub", 1);
    setenv("NCAP_CLIENT_KEYS", dir, 1);
    client_keys_t k;
    assert_int_equal(client_keys_for("RH8", &k, err, sizeof err), 1);
    assert_string_equal(k.server, "/keys/ingest.pub");
    assert_string_equal(k.secret, path);
    /* a trust without a key there: named, with the folder */
    assert_int_equal(client_keys_for("RTH", &k, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "no key for trust \"RTH\" in NCAP_CLIENT_KEYS \"%s\"", dir);
    assert_non_null(strstr(err, want));
    /* not a name to look up */
    assert_int_equal(client_keys_for("../x", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an ODS code"));
    unlink(path);
    rmdir(dir);
}

static void test_one_trusts_key(void **state)
{
    (void)state;
    setenv("NCAP_CURVE_SERVER_KEY", "/keys/ingest.pub", 1);
    setenv("NCAP_CURVE_CLIENT_SECRET_FILE", "/keys/RH8.key", 1);
    client_keys_t k;
    char err[512];
    /* used whatever the trust: ingest refuses a request for another */
    assert_int_equal(client_keys_for("RTH", &k, err, sizeof err), 1);
    assert_string_equal(k.secret, "/keys/RH8.key");
}

static void test_half_or_double_setups_refused(void **state)
{
    (void)state;
    client_keys_t k;
    char err[512];
    setenv("NCAP_CURVE_SERVER_KEY", "/keys/ingest.pub", 1);
    assert_int_equal(client_keys_for("RH8", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "NCAP_CLIENT_KEYS"));
    unsetenv("NCAP_CURVE_SERVER_KEY");
    setenv("NCAP_CLIENT_KEYS", "/keys/trusts", 1);
    assert_int_equal(client_keys_for("RH8", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "not NCAP_CURVE_SERVER_KEY"));
    setenv("NCAP_CURVE_SERVER_KEY", "/keys/ingest.pub", 1);
    setenv("NCAP_CURVE_CLIENT_SECRET_FILE", "/keys/RH8.key", 1);
    assert_int_equal(client_keys_for("RH8", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "set one"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_none_is_plain, setup),
        cmocka_unit_test_setup(test_folder_gives_the_trusts_own_key, setup),
        cmocka_unit_test_setup(test_one_trusts_key, setup),
        cmocka_unit_test_setup(test_half_or_double_setups_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
