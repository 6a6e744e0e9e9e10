/* curve_auth.h - CurveZMQ for every ncap socket: key files (Z85 text), the client side of a
 * connection, the one ZAP handler that admits only listed public keys, each under a name (a
 * trust's ODS code on ingest's endpoint, the upstream stage's name on a stage inbox), and a watch
 * on a socket's handshakes.
 *
 * Keys: `ncap keys new PREFIX` writes PREFIX.key (secret, mode 0600) and PREFIX.pub (public). A
 * secret key file that its group or others may read or write is refused (curve_key_read), so a
 * leaked permission is found at start, not after the key has been copied. Which file each daemon
 * and client reads is the key model of common/README.md. */
#ifndef NCAP_CURVE_AUTH_H
#define NCAP_CURVE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CURVE_KEY_Z85 40 /* characters of a Z85-encoded 32-byte key */

typedef enum { CURVE_KEY_PUBLIC, CURVE_KEY_SECRET } curve_key_kind_t;

/* Reads a Z85 key (the first 40 characters of the file, spaces and newlines around ignored). A
 * CURVE_KEY_SECRET file must be readable and writable by its owner only. Returns 0, or -1 with err
 * set (naming the file and what is wrong with it). */
int curve_key_read(const char *path, curve_key_kind_t kind, char out[CURVE_KEY_Z85 + 1], char *err,
                   size_t errlen);

/* Writes a new key pair to PREFIX.key (0600) and PREFIX.pub (0644); never overwrites a file.
 * Returns 0, or -1 with err set. */
int curve_key_pair_write(const char *prefix, char *err, size_t errlen);

/* Makes sock (before it connects) a CurveZMQ client: its key pair from the secret key file, the
 * server it accepts from server_pub (a public key file). A server that cannot prove that key gets
 * no message. Returns 0, or -1 with err set. */
int curve_client_setup(void *sock, const char *server_pub, const char *secret, char *err,
                       size_t errlen);

typedef struct curve_auth_t curve_auth_t;

/* The server side: the secret key from the file secret, and the ZAP handler bound in ctx (one
 * per context), which admits no key until curve_auth_allow says so. NULL with err set. */
curve_auth_t *curve_auth_new(void *ctx, const char *secret, char *err, size_t errlen);
void curve_auth_destroy(curve_auth_t **self_p);
/* Admits the public key in the file pub under name (a stage, a trust). Returns 0, or -1. */
int curve_auth_allow(curve_auth_t *self, const char *pub, const char *name, char *err,
                     size_t errlen);
#define CURVE_TRUST_LABEL_MAX 32 /* characters of LABEL in <ODS>.<LABEL>.pub */
/* Admits every DIR/<ODS>.pub under its trust code, and every DIR/<ODS>.<LABEL>.pub too (a
 * trust's second key, so that it can change keys without a gap: both are admitted under the one
 * code until the old file is removed and ingest restarted). Other files are left alone; a .pub not
 * named so is an error. Returns 0, or -1 with err set. */
int curve_auth_allow_trusts(curve_auth_t *self, const char *dir, char *err, size_t errlen);
/* Whether the file name (no folder) is a trust's file of the kind suffix (".pub", ".token"):
 * <ODS><suffix> or <ODS>.<LABEL><suffix>, LABEL of 1 to CURVE_TRUST_LABEL_MAX letters, digits, _
 * or -. 1 with the ODS code in trust; 0 when the name does not end in suffix (another kind of
 * file, left alone); -1 when it does but is not named so. */
int curve_trust_file(const char *name, const char *suffix, char trust[8]);
/* Makes sock (before bind) a CurveZMQ server with the secret key. Returns 0, or -1. */
int curve_auth_server_setup(curve_auth_t *self, void *sock, char *err, size_t errlen);
/* The ZAP socket, to poll for ZMQ_POLLIN: a handshake waits until it is answered. */
void *curve_auth_socket(curve_auth_t *self);
/* Answers one waiting ZAP request: 200 with the key's name as User-Id for an admitted key, 400
 * otherwise (logged, at most once every 10 s with the number refused since). Returns the number
 * answered (0 or 1). */
int curve_auth_handle(curve_auth_t *self);
/* Number of keys admitted. */
size_t curve_auth_nkeys(const curve_auth_t *self);

/* --- a socket's handshakes ------------------------------------------------------------------ */

typedef enum {
    CURVE_HANDSHAKE_OK,       /* the peer proved its key (or, plain, spoke ZMTP) */
    CURVE_HANDSHAKE_REFUSED,  /* the server's ZAP handler refused this client's key */
    CURVE_HANDSHAKE_MISMATCH, /* one side speaks CurveZMQ, the other not */
    CURVE_HANDSHAKE_FAILED    /* the peer could not prove the expected key, or broke off */
} curve_handshake_t;

typedef struct {
    curve_handshake_t result;
    unsigned value;     /* the ZAP status code (REFUSED), the protocol error, or the errno */
    char endpoint[256]; /* the peer's endpoint as connected to */
} curve_event_t;

/* A monitor of sock's handshakes (call before sock connects or binds): a socket in ctx to close
 * with curve_monitor_close before sock is closed. NULL with err set. */
void *curve_monitor_open(void *ctx, void *sock, char *err, size_t errlen);
void curve_monitor_close(void *sock, void **monitor_p);
/* The next handshake that ended, waiting up to timeout_ms (0: only one already there). Returns
 * 1 with *ev set, 0 when none came. */
int curve_monitor_next(void *monitor, int timeout_ms, curve_event_t *ev);
/* What an event means to the one who connected, in words, e.g. "the server refused this
 * client's key (ZAP status 400)". */
const char *curve_event_text(const curve_event_t *ev);

#endif
