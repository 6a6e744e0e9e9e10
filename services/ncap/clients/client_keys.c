/* client_keys.c - which key files a client of ingest uses, from the environment */
#include "client_keys.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ods_code.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int client_keys_for(const char *trust, client_keys_t *out, char *err, size_t errlen)
{
    const char *server = env("NCAP_CURVE_SERVER_KEY"), *file = env("NCAP_CURVE_CLIENT_SECRET_FILE"),
               *dir = env("NCAP_CLIENT_KEYS");
    if (!server && !file && !dir)
        return 0;
    if (file && dir) {
        snprintf(err, errlen,
                 "both NCAP_CURVE_CLIENT_SECRET_FILE (one trust's key) and NCAP_CLIENT_KEYS (a "
                 "folder of <ODS>.key) are set: set one");
        return -1;
    }
    if (!server) {
        snprintf(err, errlen,
                 "%s is set but not NCAP_CURVE_SERVER_KEY (ingest's public key file, ingest.pub)",
                 file ? "NCAP_CURVE_CLIENT_SECRET_FILE" : "NCAP_CLIENT_KEYS");
        return -1;
    }
    if (!file && !dir) {
        snprintf(err, errlen,
                 "NCAP_CURVE_SERVER_KEY is set but no secret key: set NCAP_CLIENT_KEYS (a folder "
                 "of <ODS>.key) or NCAP_CURVE_CLIENT_SECRET_FILE (one trust's .key file)");
        return -1;
    }
    snprintf(out->server, sizeof out->server, "%s", server);
    if (file) {
        snprintf(out->secret, sizeof out->secret, "%s", file);
        return 1;
    }
    if (ods_code_kind(trust) == ODS_CODE_INVALID) {
        snprintf(err, errlen, "trust \"%.20s\" is not an ODS code: no key to look for in \"%s\"",
                 trust, dir);
        return -1;
    }
    snprintf(out->secret, sizeof out->secret, "%s/%s.key", dir, trust);
    struct stat st;
    if (stat(out->secret, &st) != 0) {
        snprintf(err, errlen,
                 "no key for trust \"%s\" in NCAP_CLIENT_KEYS \"%s\" (expected \"%s\"): this "
                 "client cannot speak for that trust",
                 trust, dir, out->secret);
        return -1;
    }
    return 1;
}
