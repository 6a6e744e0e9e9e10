/* trust_token.h - trusts' bearer tokens for the HTTP API: made by `ncap keys token`, checked by
 * ingest when the web daemon's gateway presents one (ingest_server.c).
 *
 * A token is "ncap_<ODS>_" and 43 characters of base64url: 256 random bits (libsodium), with the
 * trust's code in front so that a leaked token is recognised for what it is and whose. It is
 * printed once and never stored: only its BLAKE2b-256 hash is, as 64 hex digits in a file
 * DIR/<ODS>.token or DIR/<ODS>.<LABEL>.token beside the trusts' public keys in ingest's
 * --trust-keys DIR, so that tokens are given, deployed (one Kubernetes Secret) and revoked like
 * keys. A hash of 256 random bits needs no salt or slow hash: nothing short of the token finds
 * it. Revoking is deleting the file: ingest rereads the folder when it changes.
 *
 * The token is the trust's only when both agree: its hash is in a file of that trust's, and its
 * prefix names that trust (a hash file copied under another trust's name does not move it). */
#ifndef NCAP_TRUST_TOKEN_H
#define NCAP_TRUST_TOKEN_H

#include <stddef.h>

#define TRUST_TOKEN_PREFIX "ncap_"
#define TRUST_TOKEN_RANDOM_BYTES 32 /* 256 bits */
#define TRUST_TOKEN_MAX 80          /* characters of a token, with room to spare */
#define TRUST_TOKEN_HASH_HEX 64     /* BLAKE2b-256, hex */
/* How often ingest rereads the folder even when its modification time says nothing changed. */
#define TRUST_TOKENS_REREAD_MS 10000

/* A new token for trust (an ODS trust code) in token (at least TRUST_TOKEN_MAX + 1 bytes).
 * Returns 0, or -1 with err set (trust not an ODS trust code). */
int trust_token_new(const char *trust, char *token, size_t toklen, char *err, size_t errlen);

/* The trust a token's prefix names, in trust (8 bytes). Returns 0, or -1 when token is not of a
 * token's shape (prefix, code, '_', 43 base64url characters). */
int trust_token_trust(const char *token, char trust[8]);

/* The token's hash, as stored: 64 lowercase hex digits and a NUL. */
void trust_token_hash(const char *token, char hex[TRUST_TOKEN_HASH_HEX + 1]);

/* Stores token's hash for trust as DIR/<ODS>.token, or DIR/<ODS>.<LABEL>.token with label (NULL
 * for none), mode 0644 (the hash is no secret); never overwrites a file. The path written in
 * path. Returns 0, or -1 with err set (a label not of 1-32 letters, digits, _ or -; the file
 * exists; could not write). */
int trust_token_store(const char *dir, const char *trust, const char *label, const char *token,
                      char *path, size_t pathlen, char *err, size_t errlen);

/* The hashes in a folder, as ingest holds them. */
typedef struct trust_tokens_t trust_tokens_t;

trust_tokens_t *trust_tokens_new(const char *dir);
void trust_tokens_destroy(trust_tokens_t **self_p);

/* Rereads the folder when its modification time changed (a file added or deleted), when it had
 * changed within a second of the last reading (a change in the same tick of the filesystem's
 * clock leaves the time as it was), or TRUST_TOKENS_REREAD_MS have passed since it was last read.
 * O(files) when it rereads, one stat() otherwise. Returns 1 when it reread, 0 when it did not need to, -1 with err set when the
 * folder could not be read (the table is then empty: no token is taken) or a file in it is not a
 * token's hash (that file is left out, the others are taken). */
int trust_tokens_refresh(trust_tokens_t *self, long long now_ms, char *err, size_t errlen);

/* The trust token belongs to, or NULL when none of the hashes held is its (never made, revoked,
 * not a token). Compares in constant time with each. */
const char *trust_tokens_find(const trust_tokens_t *self, const char *token);

/* Hashes held. */
size_t trust_tokens_count(const trust_tokens_t *self);

#endif
