/* test_trust_token.c - trusts' bearer tokens: a new token is of its shape, names its trust and is
 * never the same twice; only its hash is stored, and a file is never overwritten; the folder's
 * hashes find the token's trust, and nothing for a token never made, revoked (its file deleted,
 * seen at once), another trust's hash file or a malformed one; misnamed and malformed files are
 * left out and said so, the others kept. */
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

#include "trust_token.h"

static char dir[] = "/tmp/ncap-test-trust-token-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static void test_a_new_token_names_its_trust_and_is_random(void **state)
{
    (void)state;
    char a[TRUST_TOKEN_MAX + 1], b[TRUST_TOKEN_MAX + 1], err[256], trust[8];
    assert_int_equal(trust_token_new("RH8", a, sizeof a, err, sizeof err), 0);
    assert_int_equal(trust_token_new("RH8", b, sizeof b, err, sizeof err), 0);
    assert_int_equal(strncmp(a, "ncap_RH8_", 9), 0);
    assert_int_equal(strlen(a), 9 + 43); /* 256 bits in base64url */
    assert_string_not_equal(a, b);
    assert_int_equal(trust_token_trust(a, trust), 0);
    assert_string_equal(trust, "RH8");
    /* not a trust code: no token */
    assert_int_equal(trust_token_new("RH8AB", a, sizeof a, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an ODS trust code"));
    /* shapes that are not a token's */
    assert_int_equal(trust_token_trust("ncap_RH8_short", trust), -1);
    assert_int_equal(trust_token_trust("Bearer ncap_RH8_", trust), -1);
    assert_int_equal(
        trust_token_trust("ncap_rh8_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", trust), -1);
    assert_int_equal(
        trust_token_trust("ncap_RH8_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/", trust), -1);
    assert_int_equal(trust_token_trust("", trust), -1);
}

static void test_the_hash_is_blake2b_of_the_token(void **state)
{
    (void)state;
    char h[TRUST_TOKEN_HASH_HEX + 1];
    /* BLAKE2b-256 of "abc" (RFC 7693's test vector is for BLAKE2b-512; this is the 256-bit one) */
    trust_token_hash("abc", h);
    assert_string_equal(h, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    char g[TRUST_TOKEN_HASH_HEX + 1];
    trust_token_hash("abd", g);
    assert_string_not_equal(h, g);
}

static void test_only_the_hash_is_stored_and_never_overwritten(void **state)
{
    (void)state;
    char tok[TRUST_TOKEN_MAX + 1], path[512], err[512], h[TRUST_TOKEN_HASH_HEX + 1], line[128];
    assert_int_equal(trust_token_new("RA1", tok, sizeof tok, err, sizeof err), 0);
    assert_int_equal(trust_token_store(dir, "RA1", NULL, tok, path, sizeof path, err, sizeof err),
                     0);
    assert_non_null(strstr(path, "/RA1.token"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    trust_token_hash(tok, h);
    assert_int_equal(strncmp(line, h, TRUST_TOKEN_HASH_HEX), 0);
    assert_null(strstr(line, tok + 9));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* again: refused, the file kept */
    char tok2[TRUST_TOKEN_MAX + 1];
    assert_int_equal(trust_token_new("RA1", tok2, sizeof tok2, err, sizeof err), 0);
    assert_int_equal(trust_token_store(dir, "RA1", NULL, tok2, path, sizeof path, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "exists"));
    /* a label: a second file; a bad label refused */
    assert_int_equal(trust_token_store(dir, "RA1", "b-2", tok2, path, sizeof path, err, sizeof err),
                     0);
    assert_non_null(strstr(path, "/RA1.b-2.token"));
    assert_int_equal(trust_token_store(dir, "RA1", "a.b", tok2, path, sizeof path, err, sizeof err),
                     -1);
    assert_int_equal(trust_token_store(dir, "RA1", "", tok2, path, sizeof path, err, sizeof err),
                     -1);
    remove_file("RA1.token");
    remove_file("RA1.b-2.token");
}

static void test_the_folder_finds_the_trust_until_revoked(void **state)
{
    (void)state;
    char a[TRUST_TOKEN_MAX + 1], a2[TRUST_TOKEN_MAX + 1], b[TRUST_TOKEN_MAX + 1],
        never[TRUST_TOKEN_MAX + 1];
    char path[512], err[512];
    assert_int_equal(trust_token_new("RA1", a, sizeof a, err, sizeof err), 0);
    assert_int_equal(trust_token_new("RA1", a2, sizeof a2, err, sizeof err), 0);
    assert_int_equal(trust_token_new("RB2", b, sizeof b, err, sizeof err), 0);
    assert_int_equal(trust_token_new("RA1", never, sizeof never, err, sizeof err), 0);
    assert_int_equal(trust_token_store(dir, "RA1", NULL, a, path, sizeof path, err, sizeof err), 0);
    assert_int_equal(trust_token_store(dir, "RA1", "new", a2, path, sizeof path, err, sizeof err),
                     0);
    assert_int_equal(trust_token_store(dir, "RB2", NULL, b, path, sizeof path, err, sizeof err), 0);
    write_file("RA1.pub", "not a token file: left alone\n");

    trust_tokens_t *t = trust_tokens_new(dir);
    assert_non_null(t);
    assert_int_equal(trust_tokens_refresh(t, 0, err, sizeof err), 1);
    assert_int_equal(trust_tokens_count(t), 3);
    assert_string_equal(trust_tokens_find(t, a), "RA1");
    assert_string_equal(trust_tokens_find(t, a2), "RA1");
    assert_string_equal(trust_tokens_find(t, b), "RB2");
    assert_null(trust_tokens_find(t, never));
    assert_null(trust_tokens_find(t, ""));
    assert_null(trust_tokens_find(t, NULL));

    /* revoked: the file deleted, the folder reread at the next refresh */
    remove_file("RA1.token");
    assert_int_equal(trust_tokens_refresh(t, 1001, err, sizeof err), 1);
    assert_null(trust_tokens_find(t, a));
    assert_string_equal(trust_tokens_find(t, a2), "RA1");

    /* B's hash copied under A's name does not make B's token A's, nor A's file B's */
    char h[TRUST_TOKEN_HASH_HEX + 2];
    trust_token_hash(b, h);
    strcat(h, "\n");
    write_file("RA1.copy.token", h);
    /* a malformed and a misnamed file: left out and said so; the rest still taken */
    write_file("RB2.bad.token", "xyz\n");
    write_file("nottrust.token", h);
    assert_int_equal(trust_tokens_refresh(t, 1000 + TRUST_TOKENS_REREAD_MS + 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "token file"));
    assert_string_equal(trust_tokens_find(t, b), "RB2");
    assert_string_equal(trust_tokens_find(t, a2), "RA1");
    assert_int_equal(trust_tokens_count(t), 3); /* RA1.new, RB2, RA1.copy */
    remove_file("RB2.token");
    assert_int_equal(
        trust_tokens_refresh(t, 1000 + 2 * TRUST_TOKENS_REREAD_MS + 2, err, sizeof err), -1);
    assert_null(trust_tokens_find(t, b)); /* only its copy under RA1 is left: not B's, not A's */
    trust_tokens_destroy(&t);
    assert_null(t);
    trust_tokens_destroy(&t);

    /* a folder that is not there: no token taken */
    t = trust_tokens_new("/nonexistent/ncap-tokens");
    assert_int_equal(trust_tokens_refresh(t, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not read the token folder"));
    assert_null(trust_tokens_find(t, a2));
    trust_tokens_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_new_token_names_its_trust_and_is_random),
        cmocka_unit_test(test_the_hash_is_blake2b_of_the_token),
        cmocka_unit_test(test_only_the_hash_is_stored_and_never_overwritten),
        cmocka_unit_test(test_the_folder_finds_the_trust_until_revoked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
