/* client_keys.h - the CurveZMQ keys a client of ingest holds when it speaks for a trust, from the
 * environment (the client's side of the key model, common/README.md):
 *   NCAP_CURVE_SERVER_KEY          ingest's public key file (ingest.pub): only a server proving it
 *                                  is sent anything
 *   NCAP_CLIENT_KEYS               a folder of <ODS>.key: the client takes the key of the trust it
 *                                  speaks for, so one client (ncap sim --submit) speaks for many
 *   NCAP_CURVE_CLIENT_SECRET_FILE  one trust's secret key file instead (ingest then refuses a
 *                                  request for any other trust)
 * None of them: a plain client, which only an ingest started with --insecure-plain answers. */
#ifndef NCAP_CLIENT_KEYS_H
#define NCAP_CLIENT_KEYS_H

#include <stddef.h>

typedef struct {
    char server[4096]; /* ingest's public key file */
    char secret[4096]; /* the trust's secret key file */
} client_keys_t;

/* The key files for speaking for trust (not read yet: curve_client_setup reads and checks them).
 * Returns 1 with *out set, 0 for a plain client, or -1 with err set: half a setup, both ways of
 * naming the secret key, or no key for trust in NCAP_CLIENT_KEYS (naming the trust and the
 * folder). */
int client_keys_for(const char *trust, client_keys_t *out, char *err, size_t errlen);

#endif
