/* test_daemon_keys.c - a daemon's choice of security as an operator makes it: keys by flag or
 * environment, plain only when asked by flag or NCAP_INSECURE_PLAIN=1; neither, or both, refused
 * saying what to pass; a bad NCAP_INSECURE_PLAIN value a usage error. Publish's own settings
 * ($NCAP_PUBLISH_INTERVAL, $NCAP_PUBLISH_KEEP) are publish's alone: a bad one stops publish, never
 * another daemon sharing its environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a)[0]))

static int setup(void **state)
{
    (void)state;
    unsetenv("NCAP_KEYS_DIR");
    unsetenv("NCAP_TRUST_KEYS");
    unsetenv("NCAP_INSECURE_PLAIN");
    unsetenv("NCAP_PUBLISH_INTERVAL");
    unsetenv("NCAP_PUBLISH_KEEP");
    return 0;
}

static void test_neither_refused_saying_what_to_pass(void **state)
{
    (void)state;
    char *argv[] = {"ncap-linkd"};
    daemon_config_t cfg;
    char err[1024];
    assert_int_equal(daemon_config_parse(&cfg, "ncap-linkd", "linkage", "", ARGC(argv), argv), 0);
    assert_int_equal(daemon_check_keys(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "--keys DIR"));
    assert_non_null(strstr(err, "linkage.key"));
    assert_non_null(strstr(err, "--insecure-plain"));
}

static void test_keys_by_flag_or_environment(void **state)
{
    (void)state;
    char *a[] = {"ncap-ingestd", "--keys", "/k/stages", "--trust-keys", "/k/trusts"};
    daemon_config_t cfg;
    char err[1024], path[256];
    assert_int_equal(daemon_config_parse(&cfg, "ncap-ingestd", "ingest", "", ARGC(a), a), 0);
    assert_string_equal(cfg.keys_dir, "/k/stages");
    assert_string_equal(cfg.trust_keys_dir, "/k/trusts");
    assert_int_equal(daemon_check_keys(&cfg, err, sizeof err), 0);
    daemon_key_file(&cfg, "linkage", "pub", path, sizeof path);
    assert_string_equal(path, "/k/stages/linkage.pub");
    setenv("NCAP_KEYS_DIR", "/env/stages", 1);
    char *b[] = {"ncap-metricd"};
    assert_int_equal(daemon_config_parse(&cfg, "ncap-metricd", "metric", "", ARGC(b), b), 0);
    assert_string_equal(cfg.keys_dir, "/env/stages");
    assert_int_equal(daemon_check_keys(&cfg, err, sizeof err), 0);
}

static void test_plain_only_when_asked(void **state)
{
    (void)state;
    daemon_config_t cfg;
    char err[1024];
    char *a[] = {"ncap-metricd", "--insecure-plain"};
    assert_int_equal(daemon_config_parse(&cfg, "ncap-metricd", "metric", "", ARGC(a), a), 0);
    assert_true(cfg.insecure_plain);
    assert_int_equal(daemon_check_keys(&cfg, err, sizeof err), 0);
    char *b[] = {"ncap-metricd"};
    setenv("NCAP_INSECURE_PLAIN", "1", 1);
    assert_int_equal(daemon_config_parse(&cfg, "ncap-metricd", "metric", "", ARGC(b), b), 0);
    assert_true(cfg.insecure_plain);
    setenv("NCAP_INSECURE_PLAIN", "yes", 1); /* neither 1 nor 0 */
    assert_int_equal(daemon_config_parse(&cfg, "ncap-metricd", "metric", "", ARGC(b), b), 2);
    setenv("NCAP_INSECURE_PLAIN", "0", 1);
    assert_int_equal(daemon_config_parse(&cfg, "ncap-metricd", "metric", "", ARGC(b), b), 0);
    assert_false(cfg.insecure_plain);
}

static void test_both_refused(void **state)
{
    (void)state;
    daemon_config_t cfg;
    char err[1024];
    setenv("NCAP_INSECURE_PLAIN", "1", 1);
    char *a[] = {"ncap-validated", "--keys", "/k/stages"};
    assert_int_equal(daemon_config_parse(&cfg, "ncap-validated", "validation", "", ARGC(a), a), 0);
    assert_int_equal(daemon_check_keys(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "choose one"));
}

static void test_publish_settings_publish_alone(void **state)
{
    (void)state;
    daemon_config_t cfg;
    char *a[] = {"ncap-publishd", "--insecure-plain"};
    char *b[] = {"ncap-linkd", "--insecure-plain"};
    assert_int_equal(daemon_config_parse(&cfg, "ncap-publishd", "publish", "", ARGC(a), a), 0);
    assert_int_equal(cfg.interval_s, 60);
    assert_int_equal(cfg.keep, 20);
    setenv("NCAP_PUBLISH_INTERVAL", "5", 1);
    setenv("NCAP_PUBLISH_KEEP", "3", 1);
    assert_int_equal(daemon_config_parse(&cfg, "ncap-publishd", "publish", "", ARGC(a), a), 0);
    assert_int_equal(cfg.interval_s, 5);
    assert_int_equal(cfg.keep, 3);
    setenv("NCAP_PUBLISH_INTERVAL", "soon", 1);
    assert_int_equal(daemon_config_parse(&cfg, "ncap-publishd", "publish", "", ARGC(a), a), 2);
    assert_int_equal(daemon_config_parse(&cfg, "ncap-linkd", "linkage", "", ARGC(b), b), 0);
    setenv("NCAP_PUBLISH_INTERVAL", "5", 1);
    setenv("NCAP_PUBLISH_KEEP", "0", 1); /* below 1 */
    assert_int_equal(daemon_config_parse(&cfg, "ncap-publishd", "publish", "", ARGC(a), a), 2);
    assert_int_equal(daemon_config_parse(&cfg, "ncap-linkd", "linkage", "", ARGC(b), b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_neither_refused_saying_what_to_pass, setup),
        cmocka_unit_test_setup(test_keys_by_flag_or_environment, setup),
        cmocka_unit_test_setup(test_plain_only_when_asked, setup),
        cmocka_unit_test_setup(test_both_refused, setup),
        cmocka_unit_test_setup(test_publish_settings_publish_alone, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
