/* pseudonym.c - keyed HMAC pseudonyms, and their key read from its file (pseudonym.h) */
#include "pseudonym.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret_file.h"

int pseudonym_parse_key(const char *text, unsigned char key[PSEUDONYM_KEY_BYTES])
{
    char hex[129];
    size_t n = 0;
    for (const char *p = text; *p && n < sizeof hex - 1; p++)
        if (!isspace((unsigned char)*p))
            hex[n++] = *p;
    hex[n] = '\0';
    size_t bin_len = 0;
    int rc = n != 2 * PSEUDONYM_KEY_BYTES ||
                     sodium_hex2bin(key, PSEUDONYM_KEY_BYTES, hex, n, NULL, &bin_len, NULL) != 0 ||
                     bin_len != PSEUDONYM_KEY_BYTES
                 ? -1
                 : 0;
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int pseudonym_load_key(const char *key_file, unsigned char key[PSEUDONYM_KEY_BYTES], char *err,
                       size_t errlen)
{
    const char *env = getenv("NCAP_PSEUDONYM_KEY");
    if (env && *env) {
        snprintf(err, errlen,
                 "$NCAP_PSEUDONYM_KEY is set, expected the key in a file only (--key-file or "
                 "$NCAP_PSEUDONYM_KEY_FILE, mode 0600): other processes can read the "
                 "environment; unset it");
        return -1;
    }
    if (!key_file || !*key_file) {
        snprintf(err, errlen,
                 "no pseudonymisation key: give --key-file or $NCAP_PSEUDONYM_KEY_FILE (a file "
                 "of 64 hexadecimal characters, mode 0600)");
        return -1;
    }
    char text[256];
    long n = secret_file_read(key_file, "pseudonymisation key file", true, text, sizeof text, err,
                              errlen);
    if (n < 0)
        return -1;
    int rc = pseudonym_parse_key(text, key);
    sodium_memzero(text, sizeof text);
    if (rc != 0)
        snprintf(err, errlen,
                 "the pseudonymisation key file \"%s\" must hold 64 hexadecimal characters",
                 key_file);
    return rc;
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

void pseudonym_key_id(const unsigned char key[PSEUDONYM_KEY_BYTES],
                      char out[PSEUDONYM_KEY_ID_LEN + 1])
{
    static const char label[] = "ncap pseudonym key id";
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, PSEUDONYM_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof label - 1);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, PSEUDONYM_KEY_ID_LEN + 1, mac, PSEUDONYM_KEY_ID_LEN / 2);
}
