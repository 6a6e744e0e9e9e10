/* test_pseudonym.c - the patient pseudonym: HMAC-SHA-256 under the deployment's secret key, read
 * from a file only its owner may read, never from the environment; a bad key is refused without
 * ever being printed */
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

#include "pseudonym.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY2_HEX "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* Computed independently, e.g.
 *   printf 'patient:42' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX> */
#define HMAC_KEY_42 "84528119142d12349481857524de0ef46f418ca2009192ef476bf462f9a998fa"
#define HMAC_KEY_MINUS_7 "1317677dce47dd0952776b87e680dd930371b4d65f3937e07d5c4724a80854bc"
#define HMAC_KEY_INT64_MAX "ebd1cd14561f332aa759cb93085d2a15a567e08bb64c7b3cc3d88586a53b40e4"
#define HMAC_KEY2_42 "c4acc5462b3d451403c31479a8a7d7e9e3672404cee0d895500c84fd0c132902"
/* The key ids: the first 16 hex characters of
 *   printf 'ncap pseudonym key id' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX> */
#define KEY_ID "cad4892c7d3cf600"
#define KEY2_ID "6b2e4527dc7127fc"

static char key_path[64];

static const char *write_key_file(const char *text)
{
    snprintf(key_path, sizeof key_path, "/tmp/ncap_test_key_XXXXXX");
    int fd = mkstemp(key_path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return key_path;
}

static void key_from_hex(const char *hex, unsigned char key[PSEUDONYM_KEY_BYTES])
{
    for (size_t i = 0; i < PSEUDONYM_KEY_BYTES; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        key[i] = (unsigned char)v;
    }
}

static void test_known_hmac_vectors(void **state)
{
    (void)state;
    unsigned char key[PSEUDONYM_KEY_BYTES], key2[PSEUDONYM_KEY_BYTES];
    key_from_hex(KEY_HEX, key);
    key_from_hex(KEY2_HEX, key2);
    char out[65];
    pseudonym_of(key, 42, out);
    assert_string_equal(out, HMAC_KEY_42);
    pseudonym_of(key, -7, out);
    assert_string_equal(out, HMAC_KEY_MINUS_7);
    pseudonym_of(key, INT64_MAX, out);
    assert_string_equal(out, HMAC_KEY_INT64_MAX);
    pseudonym_of(key2, 42, out);
    assert_string_equal(out, HMAC_KEY2_42);
}

/* A key's id names it without being it (a rotated key is told from the one before) */
static void test_key_id(void **state)
{
    (void)state;
    unsigned char key[PSEUDONYM_KEY_BYTES], key2[PSEUDONYM_KEY_BYTES];
    key_from_hex(KEY_HEX, key);
    key_from_hex(KEY2_HEX, key2);
    char id[PSEUDONYM_KEY_ID_LEN + 1];
    pseudonym_key_id(key, id);
    assert_string_equal(id, KEY_ID);
    pseudonym_key_id(key2, id);
    assert_string_equal(id, KEY2_ID);
}

static void test_deterministic_and_distinct(void **state)
{
    (void)state;
    unsigned char key[PSEUDONYM_KEY_BYTES], key2[PSEUDONYM_KEY_BYTES];
    key_from_hex(KEY_HEX, key);
    key_from_hex(KEY2_HEX, key2);
    char a[65], b[65], c[65], d[65];
    pseudonym_of(key, 1001, a);
    pseudonym_of(key, 1001, b);
    pseudonym_of(key, 1002, c);
    pseudonym_of(key2, 1001, d);
    assert_string_equal(a, b);     /* the same patient always has the same pseudonym */
    assert_string_not_equal(a, c); /* two patients never share one */
    assert_string_not_equal(a, d); /* another deployment's key gives another pseudonym */
    assert_int_equal(strlen(a), 64);
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
}

static void test_key_from_file(void **state)
{
    (void)state;
    unsetenv("NCAP_PSEUDONYM_KEY");
    /* surrounding whitespace and a final newline, as an editor or `openssl rand -hex 32` leaves */
    const char *path = write_key_file("  " KEY_HEX "\n\n");
    unsigned char key[PSEUDONYM_KEY_BYTES], want[PSEUDONYM_KEY_BYTES];
    char err[256] = "";
    assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), 0);
    key_from_hex(KEY_HEX, want);
    assert_memory_equal(key, want, PSEUDONYM_KEY_BYTES);
    char out[65];
    pseudonym_of(key, 42, out);
    assert_string_equal(out, HMAC_KEY_42);
    unlink(path);
}

static void test_key_from_file_in_capitals(void **state)
{
    (void)state;
    const char *path =
        write_key_file("FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100");
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char err[256] = "", out[65];
    assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), 0);
    pseudonym_of(key, 42, out);
    assert_string_equal(out, HMAC_KEY2_42);
    unlink(path);
}

/* Bad keys: refused, and the message names where the key came from but never shows it. */
static const char *bad_keys[] = {
    /* 62 characters: one byte short */
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
    /* 66 characters: one byte too many */
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
    /* 64 characters, one not hexadecimal */
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
    /* a passphrase instead of a key */
    "correct horse battery staple correct horse battery staple secret",
};

static void assert_secret_not_in(const char *err, const char *secret)
{
    /* neither the whole key nor any 8 consecutive characters of it */
    assert_null(strstr(err, secret));
    size_t n = strlen(secret);
    for (size_t i = 0; i + 8 <= n; i++) {
        char part[9];
        memcpy(part, secret + i, 8);
        part[8] = '\0';
        if (strchr(part, ' '))
            continue;
        assert_null(strstr(err, part));
    }
}

/* The key is never taken from the environment: $NCAP_PSEUDONYM_KEY set is refused, with a file
 * or without, and the message does not show it. */
static void test_key_in_environment_is_refused(void **state)
{
    (void)state;
    const char *want = "$NCAP_PSEUDONYM_KEY is set, expected the key in a file only (--key-file "
                       "or $NCAP_PSEUDONYM_KEY_FILE, mode 0600): other processes can read the "
                       "environment; unset it";
    setenv("NCAP_PSEUDONYM_KEY", KEY2_HEX, 1);
    const char *path = write_key_file(KEY_HEX "\n");
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char err[256] = "";
    assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_secret_not_in(err, KEY2_HEX);
    assert_int_equal(pseudonym_load_key(NULL, key, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_int_equal(pseudonym_load_key("", key, err, sizeof err), -1);
    assert_string_equal(err, want);
    /* a bad key there is refused the same way, never shown */
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        setenv("NCAP_PSEUDONYM_KEY", bad_keys[i], 1);
        assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), -1);
        assert_string_equal(err, want);
        assert_secret_not_in(err, bad_keys[i]);
    }
    /* unset: the file's key */
    unsetenv("NCAP_PSEUDONYM_KEY");
    char out[65];
    assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), 0);
    pseudonym_of(key, 42, out);
    assert_string_equal(out, HMAC_KEY_42);
    unlink(path);
}

/* What tests use instead of the environment: the key from its text. */
static void test_key_from_text(void **state)
{
    (void)state;
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char out[65];
    assert_int_equal(pseudonym_parse_key(" " KEY2_HEX "\n", key), 0);
    pseudonym_of(key, 42, out);
    assert_string_equal(out, HMAC_KEY2_42);
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        assert_int_equal(pseudonym_parse_key(bad_keys[i], key), -1);
    assert_int_equal(pseudonym_parse_key("", key), -1);
}

static void test_no_key_at_all(void **state)
{
    (void)state;
    unsetenv("NCAP_PSEUDONYM_KEY");
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char err[256] = "";
    const char *want = "no pseudonymisation key: give --key-file or $NCAP_PSEUDONYM_KEY_FILE (a "
                       "file of 64 hexadecimal characters, mode 0600)";
    assert_int_equal(pseudonym_load_key(NULL, key, err, sizeof err), -1);
    assert_string_equal(err, want);
    /* an empty file name means: no file given; an empty variable, none set */
    setenv("NCAP_PSEUDONYM_KEY", "", 1);
    err[0] = '\0';
    assert_int_equal(pseudonym_load_key("", key, err, sizeof err), -1);
    assert_string_equal(err, want);
    unsetenv("NCAP_PSEUDONYM_KEY");
}

static void test_missing_key_file(void **state)
{
    (void)state;
    unsetenv("NCAP_PSEUDONYM_KEY");
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char err[256] = "";
    assert_int_equal(pseudonym_load_key("/nonexistent/ncap.key", key, err, sizeof err), -1);
    assert_string_equal(err, "could not open the pseudonymisation key file "
                             "\"/nonexistent/ncap.key\": No such file or directory");
}

/* A key file group or others may read or write is refused, saying its mode and the fix; 0600
 * and 0400 are taken. So is anything but a regular file. */
static void test_key_file_open_to_others_is_refused(void **state)
{
    (void)state;
    unsetenv("NCAP_PSEUDONYM_KEY");
    const char *path = write_key_file(KEY_HEX "\n");
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char err[512], want[512];
    static const mode_t ok[] = {0600, 0400, 0700};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(chmod(path, ok[i]), 0);
        if (pseudonym_load_key(path, key, err, sizeof err) != 0)
            fail_msg("mode %04o refused: %s", (unsigned)ok[i], err);
    }
    static const mode_t open_to_others[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601, 0660, 0666};
    for (size_t i = 0; i < sizeof open_to_others / sizeof open_to_others[0]; i++) {
        assert_int_equal(chmod(path, open_to_others[i]), 0);
        assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), -1);
        snprintf(want, sizeof want,
                 "the pseudonymisation key file \"%s\" has mode %04o, expected no access for "
                 "group or others (chmod 600 \"%s\")",
                 path, (unsigned)open_to_others[i], path);
        assert_string_equal(err, want);
        assert_secret_not_in(err, KEY_HEX);
    }
    unlink(path);
    assert_int_equal(pseudonym_load_key("/tmp", key, err, sizeof err), -1);
    assert_string_equal(err, "the pseudonymisation key file \"/tmp\" is not a regular file");
    assert_int_equal(pseudonym_load_key("/dev/null", key, err, sizeof err), -1);
    assert_string_equal(err, "the pseudonymisation key file \"/dev/null\" is not a regular file");
}

static void test_bad_key_in_file_refused_without_printing_it(void **state)
{
    (void)state;
    unsetenv("NCAP_PSEUDONYM_KEY");
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        const char *path = write_key_file(bad_keys[i]);
        unsigned char key[PSEUDONYM_KEY_BYTES];
        char err[256] = "";
        assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), -1);
        char want[256];
        snprintf(want, sizeof want,
                 "the pseudonymisation key file \"%s\" must hold 64 hexadecimal characters", path);
        assert_string_equal(err, want);
        assert_secret_not_in(err, bad_keys[i]);
        unlink(path);
    }
}

static void test_empty_key_file_refused(void **state)
{
    (void)state;
    const char *path = write_key_file("");
    unsigned char key[PSEUDONYM_KEY_BYTES];
    char err[256] = "";
    assert_int_equal(pseudonym_load_key(path, key, err, sizeof err), -1);
    assert_non_null(strstr(err, "must hold 64 hexadecimal characters"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_hmac_vectors),
        cmocka_unit_test(test_key_id),
        cmocka_unit_test(test_deterministic_and_distinct),
        cmocka_unit_test(test_key_from_file),
        cmocka_unit_test(test_key_from_file_in_capitals),
        cmocka_unit_test(test_key_in_environment_is_refused),
        cmocka_unit_test(test_key_from_text),
        cmocka_unit_test(test_no_key_at_all),
        cmocka_unit_test(test_missing_key_file),
        cmocka_unit_test(test_key_file_open_to_others_is_refused),
        cmocka_unit_test(test_bad_key_in_file_refused_without_printing_it),
        cmocka_unit_test(test_empty_key_file_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
