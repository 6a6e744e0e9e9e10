/* test_pg_password.c - a PostgreSQL password read from its file as Compose mounts a secret: the
 * first line without its line end; an empty, multi-line, over-long or NUL-holding file refused
 * with its name and never its content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_password.h"

static char dir[] = "/tmp/ncap_pg_password_XXXXXX";
static char path[64];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/ncap_metric", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

/* Writes len bytes of content to path. */
static void put(const char *content, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, len, f), len);
    fclose(f);
}

static void assert_reads(const char *content, const char *want)
{
    char pw[PG_PASSWORD_MAX], err[512];
    put(content, strlen(content));
    if (pg_password_read(path, pw, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(pw, want);
}

/* The file is refused with a message naming it, saying why, and never quoting it. */
static void assert_refused(const char *content, size_t len, const char *why)
{
    char pw[PG_PASSWORD_MAX] = "x", err[512] = "";
    put(content, len);
    assert_int_equal(pg_password_read(path, pw, err, sizeof err), -1);
    assert_string_equal(pw, "");
    assert_non_null(strstr(err, path));
    if (!strstr(err, why))
        fail_msg("\"%s\" does not say \"%s\"", err, why);
    assert_null(strstr(err, "s3cret"));
}

static void test_the_first_line_is_the_password(void **state)
{
    (void)state;
    assert_reads("s3cret\n", "s3cret");
    assert_reads("s3cret", "s3cret");
    assert_reads("s3cret\r\n", "s3cret");
    assert_reads("s3cret\n\n  \n", "s3cret");
    assert_reads(" spaces inside: kept \n", " spaces inside: kept ");
    char longest[PG_PASSWORD_MAX + 1];
    memset(longest, 'a', PG_PASSWORD_MAX - 1);
    longest[PG_PASSWORD_MAX - 1] = '\n';
    longest[PG_PASSWORD_MAX] = '\0';
    char pw[PG_PASSWORD_MAX], err[512];
    put(longest, PG_PASSWORD_MAX);
    assert_int_equal(pg_password_read(path, pw, err, sizeof err), 0);
    assert_int_equal(strlen(pw), PG_PASSWORD_MAX - 1);
}

static void test_a_wrong_file_is_refused(void **state)
{
    (void)state;
    assert_refused("", 0, "is empty");
    assert_refused("\n", 1, "is empty");
    assert_refused("s3cret\nmore\n", 12, "more than one line");
    assert_refused("*:*:*:ncap_metric:s3cret\n# a pgpass\n", 36, "more than one line");
    assert_refused("s3c\0ret\n", 8, "NUL byte");
    char *big = malloc(3 * PG_PASSWORD_MAX);
    assert_non_null(big);
    memset(big, 'a', 3 * PG_PASSWORD_MAX);
    assert_refused(big, PG_PASSWORD_MAX, "too long");
    assert_refused(big, PG_PASSWORD_MAX + 1, "too long");
    big[PG_PASSWORD_MAX] = '\n';
    assert_refused(big, PG_PASSWORD_MAX + 1, "too long");
    free(big);
    unlink(path);
    char pw[PG_PASSWORD_MAX], err[512];
    assert_int_equal(pg_password_read(path, pw, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not open"));
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_first_line_is_the_password),
        cmocka_unit_test(test_a_wrong_file_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
