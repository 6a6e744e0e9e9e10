/* test_cmd_link.c - `ncap link` on a tiny file: the clusters it prints, that it prints them the
 * same way every time, and its usage and input errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#include "cmd_run.h"

/* Runs cmd_link with the given arguments (NULL-terminated), stdout and stderr captured. */
static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_link, "link", arg, ap);
    va_end(ap);
    return r;
}

/* Two people; a3 is a1 again with the surname mistyped (two letters swapped). */
static const char *two_people = "rec_id,given,family,dob,postcode\n"
                                "a1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                                "a2,John,Smith,1951-11-03,M14 5TQ\n"
                                "a3,Margaret,Thomspon,1940-05-12,LS1 4AP\n";

#define MAPS                                                                                       \
    "--map", "rec_id=id", "--map", "given=forename", "--map", "family=surname", "--map",           \
        "dob=dob", "--map", "postcode=postcode"

static void test_typo_duplicate_shares_a_cluster(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, two_people);
    result_t r = run(MAPS, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    /* clusters are numbered from 1 in order of first appearance */
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,1\n");

    /* the same input and seed: the same bytes */
    result_t again = run(MAPS, path, NULL);
    assert_int_equal(again.rc, 0);
    assert_string_equal(again.out, r.out);
    assert_string_equal(again.err, r.err);
    result_free(&again);
    result_free(&r);
    unlink(path);
}

static void test_unparseable_value_is_not_fatal(void **state)
{
    (void)state;
    char path[64];
    /* a2's date of birth is no date: compared as null, counted on stderr */
    temp_file(path, "rec_id,given,family,dob,postcode\n"
                    "a1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                    "a2,John,Smith,1951-13-45,M14 5TQ\n"
                    "a3,Margaret,Thomspon,1940-05-12,LS1 4AP\n");
    result_t r = run(MAPS, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,1\n");
    char want[256];
    snprintf(want, sizeof want,
             "ncap link: 1 value could not be parsed and was compared as null\n"
             "  \"%s\" column \"dob\" (dob): 1\n",
             path);
    assert_string_equal(r.err, want);
    result_free(&r);
    unlink(path);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, two_people);

    result_t r = run("--map", "rec_id=id", "--map", "given=flavour", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "unknown kind \"flavour\""));
    result_free(&r);

    /* no id mapping */
    r = run("--map", "given=forename", "--map", "family=surname", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "exactly one column must be mapped to id, got 0"));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "given=forename", "--map", "given=surname", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "column \"given\" is mapped twice"));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "middle=forename", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "has no column \"middle\""));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "given=forename", "--threshold", "1.5", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--threshold takes a probability from 0 to 1, not \"1.5\""));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "given=forename", "/nonexistent/a.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read \"/nonexistent/a.csv\""));
    result_free(&r);

    r = run("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap link"));
    result_free(&r);

    /* after all those errors, a good run in the same process still works */
    r = run(MAPS, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n1,a1,1\n1,a2,2\n1,a3,1\n");
    result_free(&r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typo_duplicate_shares_a_cluster),
        cmocka_unit_test(test_unparseable_value_is_not_fatal),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
