/* test_secret_file.c - key files are read only when they are regular files and, for a secret,
 * only when nobody but the owner may touch them; each refusal says what and how to fix it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret_file.h"

/* A temporary file holding text, mode 0600; its path in path. */
static void temp_file(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/ncap-secret-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_a_private_file_is_read_whole(void **state)
{
    (void)state;
    char path[64], buf[64], err[256] = "";
    temp_file(path, "key text\n");
    assert_int_equal(secret_file_read(path, "key file", true, buf, sizeof buf, err, sizeof err), 9);
    assert_string_equal(buf, "key text\n");
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(secret_file_read(path, "key file", true, buf, sizeof buf, err, sizeof err), 9);
    unlink(path);
}

/* Only buflen - 1 bytes are read, and the buffer is always NUL-terminated. */
static void test_a_long_file_is_cut_at_the_buffer(void **state)
{
    (void)state;
    char path[64], buf[5], err[256] = "";
    temp_file(path, "0123456789");
    assert_int_equal(secret_file_read(path, "key file", true, buf, sizeof buf, err, sizeof err), 4);
    assert_string_equal(buf, "0123");
    unlink(path);
}

static void test_a_file_open_to_others_is_refused_with_the_fix(void **state)
{
    (void)state;
    char path[64], buf[64], err[256], want[256];
    temp_file(path, "secret");
    static const mode_t refused[] = {0640, 0604, 0620, 0602, 0610, 0601, 0660, 0644, 0666};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(chmod(path, refused[i]), 0);
        assert_int_equal(
            secret_file_read(path, "secret key file", true, buf, sizeof buf, err, sizeof err), -1);
        snprintf(want, sizeof want,
                 "the secret key file \"%s\" has mode %04o, expected no access for group or "
                 "others (chmod 600 \"%s\")",
                 path, (unsigned)refused[i], path);
        assert_string_equal(err, want);
        assert_null(strstr(err, "secret\"")); /* never the content */
    }
    /* a public key may be read by anyone */
    assert_int_equal(
        secret_file_read(path, "public key file", false, buf, sizeof buf, err, sizeof err), 6);
    unlink(path);
}

static void test_no_file_or_not_a_regular_file(void **state)
{
    (void)state;
    char buf[64], err[256];
    assert_int_equal(
        secret_file_read("/nonexistent/k.key", "key file", true, buf, sizeof buf, err, sizeof err),
        -1);
    assert_string_equal(err, "could not open the key file \"/nonexistent/k.key\": No such file or "
                             "directory");
    assert_int_equal(secret_file_read("/tmp", "key file", false, buf, sizeof buf, err, sizeof err),
                     -1);
    assert_string_equal(err, "the key file \"/tmp\" is not a regular file");
    assert_int_equal(
        secret_file_read("/dev/null", "key file", false, buf, sizeof buf, err, sizeof err), -1);
    assert_string_equal(err, "the key file \"/dev/null\" is not a regular file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_private_file_is_read_whole),
        cmocka_unit_test(test_a_long_file_is_cut_at_the_buffer),
        cmocka_unit_test(test_a_file_open_to_others_is_refused_with_the_fix),
        cmocka_unit_test(test_no_file_or_not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
