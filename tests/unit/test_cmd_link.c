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

typedef struct {
    int rc;
    char *out; /* what the command printed on stdout */
    char *err; /* ... and on stderr */
} result_t;

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    return s;
}

/* Runs cmd_link with the given arguments (NULL-terminated), stdout and stderr captured. */
static result_t run(const char *arg, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "link";
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;

    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    result_t r;
    r.rc = cmd_link(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    fseek(out, 0, SEEK_END);
    fseek(err, 0, SEEK_END);
    r.out = slurp(out);
    r.err = slurp(err);
    fclose(out);
    fclose(err);
    return r;
}

static void result_free(result_t *r)
{
    free(r->out);
    free(r->err);
}

/* A temporary file holding text; returns its path in path[64]. */
static void temp_file(char *path, const char *text)
{
    snprintf(path, 64, "/tmp/test_cmd_link_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
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
