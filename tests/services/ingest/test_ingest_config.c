/* test_ingest_config.c - ncap-ingestd's --store-workers and --submission-rate beside every
 * daemon's options: where they are read from, which values are refused, and that the other
 * options still arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ingest_config.h"
#include "trust_rate.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a)[0]))

static int setup(void **state)
{
    (void)state;
    unsetenv("NCAP_STORE_WORKERS");
    unsetenv("NCAP_SUBMISSION_RATE");
    return 0;
}

static void test_default_and_the_other_options_pass_through(void **state)
{
    (void)state;
    char *argv[] = {"ncap-ingestd", "--pg", "dbname=x", "--listen", "tcp://*:5555"};
    daemon_config_t cfg;
    ingest_options_t o;
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(argv), argv), 0);
    assert_int_equal(o.store_workers, INGEST_STORE_WORKERS_DEFAULT);
    assert_string_equal(cfg.pg, "dbname=x");
    assert_string_equal(cfg.listen, "tcp://*:5555");
    assert_string_equal(cfg.service, "ncap-ingestd");
    assert_string_equal(cfg.stage, "ingest");
    assert_int_equal(o.rate_limit, TRUST_RATE_LIMIT_DEFAULT);
    assert_int_equal(o.rate_window_s, TRUST_RATE_WINDOW_DEFAULT);
}

static void test_submission_rate(void **state)
{
    (void)state;
    daemon_config_t cfg;
    ingest_options_t o;
    char *a[] = {"ncap-ingestd", "--submission-rate", "5/30"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(a), a), 0);
    assert_int_equal(o.rate_limit, 5);
    assert_int_equal(o.rate_window_s, 30);
    char *b[] = {"ncap-ingestd", "--submission-rate=0"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(b), b), 0);
    assert_int_equal(o.rate_limit, 0);
    setenv("NCAP_SUBMISSION_RATE", "100/1", 1);
    char *c[] = {"ncap-ingestd"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(c), c), 0);
    assert_int_equal(o.rate_limit, 100);
    assert_int_equal(o.rate_window_s, 1);
    const char *bad[] = {"5", "5/", "/5", "5/0", "0/5", "-1/5", "5/-1", "x/5", "5/5s", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *d[] = {"ncap-ingestd", "--submission-rate", (char *)bad[i]};
        assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(d), d), 2);
    }
    unsetenv("NCAP_SUBMISSION_RATE");
}

static void test_flag_in_either_form_and_anywhere(void **state)
{
    (void)state;
    char *a[] = {"ncap-ingestd", "--pg", "dbname=x", "--store-workers", "3", "--batch", "7"};
    daemon_config_t cfg;
    ingest_options_t o;
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(a), a), 0);
    assert_int_equal(o.store_workers, 3);
    assert_int_equal(cfg.batch_max, 7);
    char *b[] = {"ncap-ingestd", "--store-workers=2"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(b), b), 0);
    assert_int_equal(o.store_workers, 2);
}

static void test_environment_then_flag(void **state)
{
    (void)state;
    setenv("NCAP_STORE_WORKERS", "6", 1);
    char *a[] = {"ncap-ingestd"};
    daemon_config_t cfg;
    ingest_options_t o;
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(a), a), 0);
    assert_int_equal(o.store_workers, 6);
    char *b[] = {"ncap-ingestd", "--store-workers", "1"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(b), b), 0);
    assert_int_equal(o.store_workers, 1);
    setenv("NCAP_STORE_WORKERS", "many", 1);
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(a), a), 2);
    unsetenv("NCAP_STORE_WORKERS");
}

static void test_bad_values_are_usage_errors(void **state)
{
    (void)state;
    daemon_config_t cfg;
    ingest_options_t o;
    char *zero[] = {"ncap-ingestd", "--store-workers", "0"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(zero), zero), 2);
    char *many[] = {"ncap-ingestd", "--store-workers=65"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(many), many), 2);
    char *text[] = {"ncap-ingestd", "--store-workers", "4x"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(text), text), 2);
    char *missing[] = {"ncap-ingestd", "--store-workers"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(missing), missing), 2);
    char *unknown[] = {"ncap-ingestd", "--store-workerz", "4"};
    assert_int_equal(ingest_config_parse(&cfg, &o, ARGC(unknown), unknown), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_default_and_the_other_options_pass_through, setup),
        cmocka_unit_test_setup(test_flag_in_either_form_and_anywhere, setup),
        cmocka_unit_test_setup(test_environment_then_flag, setup),
        cmocka_unit_test_setup(test_bad_values_are_usage_errors, setup),
        cmocka_unit_test_setup(test_submission_rate, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
