/* curve_auth.h - CurveZMQ for the trust-facing endpoint: keys in Z85 text files, the client side
 * of a connection, and the ZAP handler that maps an authenticated client key to its trust.
 *
 * Keys: `ncap keys new PREFIX` writes PREFIX.key (secret, mode 0600) and PREFIX.pub (public).
 * Ingest: NCAP_CURVE_SECRET_FILE (its own secret key) turns CurveZMQ on; NCAP_CURVE_TRUST_KEYS
 * is a folder of <ODS>.pub files, one per trust allowed to connect. Clients: NCAP_CURVE_SERVER_KEY
 * (ingest's .pub file) and NCAP_CURVE_CLIENT_SECRET_FILE (the trust's .key file). */
#ifndef NCAP_CURVE_AUTH_H
#define NCAP_CURVE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CURVE_KEY_Z85 40 /* characters of a Z85-encoded 32-byte key */

/* Reads a Z85 key (the first 40 characters of the file, spaces and newlines around ignored).
 * Returns 0, or -1 with err set. */
int curve_key_read(const char *path, char out[CURVE_KEY_Z85 + 1], char *err, size_t errlen);

/* Writes a new key pair to PREFIX.key (0600) and PREFIX.pub. Returns 0, or -1 with err set. */
int curve_key_pair_write(const char *prefix, char *err, size_t errlen);

/* Makes sock a CurveZMQ client when NCAP_CURVE_SERVER_KEY and NCAP_CURVE_CLIENT_SECRET_FILE are
 * set (call before connecting); does nothing when neither is. Returns 0, or -1 with err set (one
 * set without the other, an unreadable key). */
int curve_client_setup(void *sock, char *err, size_t errlen);

typedef struct curve_auth_t curve_auth_t;

/* The server side, when NCAP_CURVE_SECRET_FILE is set: *out is NULL when it is not (plain
 * connections). Binds the ZAP handler in ctx and loads the trusts' keys. Returns 0, or -1 with err
 * set. */
int curve_auth_new(void *ctx, curve_auth_t **out, char *err, size_t errlen);
void curve_auth_destroy(curve_auth_t **self_p);
/* Makes sock (before bind) a CurveZMQ server with the secret key. Returns 0, or -1. */
int curve_auth_server_setup(curve_auth_t *self, void *sock, char *err, size_t errlen);
/* The ZAP socket, to poll for ZMQ_POLLIN. */
void *curve_auth_socket(curve_auth_t *self);
/* Answers one waiting ZAP request: 200 with the trust as User-Id for a known key, 400 otherwise.
 * Returns the number answered (0 or 1). */
int curve_auth_handle(curve_auth_t *self);
/* Number of trusts whose keys were loaded. */
size_t curve_auth_ntrusts(const curve_auth_t *self);

#endif
