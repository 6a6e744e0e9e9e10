/* test_ingest_config.c - ncap-ingestd's --store-workers beside every daemon's options: where it is
 * read from, which values are refused, and that the other options still arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ingest_config.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof(a)[0]))

static int setup(void **state)
{
    (void)state;
    unsetenv("NCAP_STORE_WORKERS");
    return 0;
}

static void test_default_and_the_other_options_pass_through(void **state)
{
    (void)state;
    char *argv[] = {"ncap-ingestd", "--pg", "dbname=x", "--listen", "tcp://*:5555"};
    daemon_config_t cfg;
    int workers = 0;
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(argv), argv), 0);
    assert_int_equal(workers, INGEST_STORE_WORKERS_DEFAULT);
    assert_string_equal(cfg.pg, "dbname=x");
    assert_string_equal(cfg.listen, "tcp://*:5555");
    assert_string_equal(cfg.service, "ncap-ingestd");
    assert_string_equal(cfg.stage, "ingest");
}

static void test_flag_in_either_form_and_anywhere(void **state)
{
    (void)state;
    char *a[] = {"ncap-ingestd", "--pg", "dbname=x", "--store-workers", "3", "--batch", "7"};
    daemon_config_t cfg;
    int workers = 0;
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(a), a), 0);
    assert_int_equal(workers, 3);
    assert_int_equal(cfg.batch_max, 7);
    char *b[] = {"ncap-ingestd", "--store-workers=2"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(b), b), 0);
    assert_int_equal(workers, 2);
}

static void test_environment_then_flag(void **state)
{
    (void)state;
    setenv("NCAP_STORE_WORKERS", "6", 1);
    char *a[] = {"ncap-ingestd"};
    daemon_config_t cfg;
    int workers = 0;
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(a), a), 0);
    assert_int_equal(workers, 6);
    char *b[] = {"ncap-ingestd", "--store-workers", "1"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(b), b), 0);
    assert_int_equal(workers, 1);
    setenv("NCAP_STORE_WORKERS", "many", 1);
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(a), a), 2);
    unsetenv("NCAP_STORE_WORKERS");
}

static void test_bad_values_are_usage_errors(void **state)
{
    (void)state;
    daemon_config_t cfg;
    int workers;
    char *zero[] = {"ncap-ingestd", "--store-workers", "0"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(zero), zero), 2);
    char *many[] = {"ncap-ingestd", "--store-workers=65"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(many), many), 2);
    char *text[] = {"ncap-ingestd", "--store-workers", "4x"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(text), text), 2);
    char *missing[] = {"ncap-ingestd", "--store-workers"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(missing), missing), 2);
    char *unknown[] = {"ncap-ingestd", "--store-workerz", "4"};
    assert_int_equal(ingest_config_parse(&cfg, &workers, ARGC(unknown), unknown), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_default_and_the_other_options_pass_through, setup),
        cmocka_unit_test_setup(test_flag_in_either_form_and_anywhere, setup),
        cmocka_unit_test_setup(test_environment_then_flag, setup),
        cmocka_unit_test_setup(test_bad_values_are_usage_errors, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
