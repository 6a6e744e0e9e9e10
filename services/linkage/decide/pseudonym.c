/* pseudonym.c - keyed HMAC pseudonyms */
#include "pseudonym.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_hex_key(const char *text, unsigned char key[PSEUDONYM_KEY_BYTES])
{
    char hex[129];
    size_t n = 0;
    for (const char *p = text; *p && n < sizeof hex - 1; p++)
        if (!isspace((unsigned char)*p))
            hex[n++] = *p;
    hex[n] = '\0';
    size_t bin_len = 0;
    if (n != 2 * PSEUDONYM_KEY_BYTES ||
        sodium_hex2bin(key, PSEUDONYM_KEY_BYTES, hex, n, NULL, &bin_len, NULL) != 0 ||
        bin_len != PSEUDONYM_KEY_BYTES)
        return -1;
    sodium_memzero(hex, sizeof hex);
    return 0;
}

int pseudonym_load_key(const char *key_file, unsigned char key[PSEUDONYM_KEY_BYTES], char *err,
                       size_t errlen)
{
    char text[256] = "";
    if (key_file && *key_file) {
        FILE *f = fopen(key_file, "r");
        if (!f) {
            snprintf(err, errlen, "could not open the pseudonymisation key file \"%s\"", key_file);
            return -1;
        }
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        if (parse_hex_key(text, key) != 0) {
            sodium_memzero(text, sizeof text);
            snprintf(err, errlen,
                     "the pseudonymisation key file \"%s\" must hold 64 hexadecimal characters",
                     key_file);
            return -1;
        }
        sodium_memzero(text, sizeof text);
        return 0;
    }
    const char *env = getenv("NCAP_PSEUDONYM_KEY");
    if (!env || !*env) {
        snprintf(err, errlen,
                 "no pseudonymisation key: give --key-file, $NCAP_PSEUDONYM_KEY_FILE "
                 "or $NCAP_PSEUDONYM_KEY");
        return -1;
    }
    if (parse_hex_key(env, key) != 0) {
        snprintf(err, errlen, "$NCAP_PSEUDONYM_KEY must hold 64 hexadecimal characters");
        return -1;
    }
    return 0;
}

void pseudonym_of(const unsigned char key[PSEUDONYM_KEY_BYTES], int64_t patient_id, char out[65])
{
    char msg[32];
    int n = snprintf(msg, sizeof msg, "patient:%lld", (long long)patient_id);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, PSEUDONYM_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}
