/* curve_auth.c - CurveZMQ keys, client setup, the ZAP handler and handshake monitors */
#include "curve_auth.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "ods_code.h"
#include "secret_file.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* A ZAP request is a few short frames (RFC 27), a monitor event two: anything larger is not one. */
#define ZAP_MAX_BYTES 1024
/* Refused keys are logged at most this often (an attacker retrying would fill the log). */
#define REFUSAL_LOG_SECONDS 10

int curve_key_read(const char *path, curve_key_kind_t kind, char out[CURVE_KEY_Z85 + 1], char *err,
                   size_t errlen)
{
    char buf[128];
    bool secret = kind == CURVE_KEY_SECRET;
    if (secret_file_read(path, secret ? "secret key file" : "public key file", secret, buf,
                         sizeof buf, err, errlen) < 0)
        return -1;
    char *s = buf;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    size_t len = strcspn(s, " \r\n\t");
    uint8_t bin[32];
    int ok = len == CURVE_KEY_Z85 && zmq_z85_decode(bin, (s[len] = '\0', s));
    if (ok)
        memcpy(out, s, CURVE_KEY_Z85 + 1);
    else
        snprintf(err, errlen, "key file \"%s\" does not hold a 40-character Z85 key", path);
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(bin, sizeof bin);
    return ok ? 0 : -1;
}

static int write_text(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create \"%s\": %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    /* the mode asked for, whatever the umask */
    int rc = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc != 0)
        snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
    return rc;
}

int curve_key_pair_write(const char *prefix, char *err, size_t errlen)
{
    char pub[CURVE_KEY_Z85 + 1], sec[CURVE_KEY_Z85 + 1], path[4096], text[64];
    if (zmq_curve_keypair(pub, sec) != 0) {
        snprintf(err, errlen, "could not make a key pair: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    snprintf(path, sizeof path, "%s.key", prefix);
    snprintf(text, sizeof text, "%s\n", sec);
    if (write_text(path, text, 0600, err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s.pub", prefix);
    snprintf(text, sizeof text, "%s\n", pub);
    return write_text(path, text, 0644, err, errlen);
}

int curve_client_setup(void *sock, const char *server_pub, const char *secret, char *err,
                       size_t errlen)
{
    char skey[CURVE_KEY_Z85 + 1], ckey[CURVE_KEY_Z85 + 1], cpub[CURVE_KEY_Z85 + 1];
    if (curve_key_read(server_pub, CURVE_KEY_PUBLIC, skey, err, errlen) != 0 ||
        curve_key_read(secret, CURVE_KEY_SECRET, ckey, err, errlen) != 0)
        return -1;
    if (zmq_curve_public(cpub, ckey) != 0) {
        snprintf(err, errlen, "key file \"%s\" does not hold a secret key", secret);
        return -1;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, skey, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cpub, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, ckey, CURVE_KEY_Z85) != 0) {
        snprintf(err, errlen, "could not set the CurveZMQ keys: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* --- the ZAP handler ------------------------------------------------------------------------- */

typedef struct {
    uint8_t key[32];
    char name[32];
} allowed_key_t;

struct curve_auth_t {
    void *zap;
    char secret[CURVE_KEY_Z85 + 1];
    allowed_key_t *keys;
    size_t n;
    time_t refusal_logged; /* when the last refusal was logged */
    unsigned long refused; /* refusals not logged since */
};

curve_auth_t *curve_auth_new(void *ctx, const char *secret, char *err, size_t errlen)
{
    curve_auth_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (curve_key_read(secret, CURVE_KEY_SECRET, self->secret, err, errlen) != 0) {
        curve_auth_destroy(&self);
        return NULL;
    }
    int64_t max = ZAP_MAX_BYTES;
    int linger = 0;
    self->zap = zmq_socket(ctx, ZMQ_REP);
    if (!self->zap || zmq_setsockopt(self->zap, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
        zmq_setsockopt(self->zap, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(self->zap, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "could not bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        curve_auth_destroy(&self);
        return NULL;
    }
    return self;
}

void curve_auth_destroy(curve_auth_t **self_p)
{
    assert(self_p);
    curve_auth_t *self = *self_p;
    if (!self)
        return;
    if (self->zap)
        zmq_close(self->zap);
    free(self->keys);
    free(self);
    *self_p = NULL;
}

int curve_auth_allow(curve_auth_t *self, const char *pub, const char *name, char *err,
                     size_t errlen)
{
    assert(self);
    char z85[CURVE_KEY_Z85 + 1];
    if (curve_key_read(pub, CURVE_KEY_PUBLIC, z85, err, errlen) != 0)
        return -1;
    if (strlen(name) >= sizeof self->keys[0].name) {
        snprintf(err, errlen, "name \"%.40s...\" of key \"%s\" is too long", name, pub);
        return -1;
    }
    allowed_key_t *k = realloc(self->keys, (self->n + 1) * sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    self->keys = k;
    zmq_z85_decode(k[self->n].key, z85);
    snprintf(k[self->n].name, sizeof k[self->n].name, "%s", name);
    self->n++;
    return 0;
}

int curve_trust_file(const char *name, const char *suffix, char trust[8])
{
    size_t len = strlen(name), slen = strlen(suffix);
    if (len <= slen || strcmp(name + len - slen, suffix) != 0)
        return 0;
    /* <ODS><suffix>, or <ODS>.<LABEL><suffix>: a trust's second key while it changes keys */
    size_t stem = len - slen, code = strcspn(name, ".");
    trust[0] = '\0';
    if (code < 8)
        snprintf(trust, 8, "%.*s", (int)code, name);
    size_t label = code < stem ? stem - code - 1 : 0;
    bool label_ok = code == stem ||
                    (label >= 1 && label <= CURVE_TRUST_LABEL_MAX &&
                     strspn(name + code + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789_-") == label);
    return ods_code_kind(trust) == ODS_CODE_TRUST && label_ok ? 1 : -1;
}

int curve_auth_allow_trusts(curve_auth_t *self, const char *dir, char *err, size_t errlen)
{
    assert(self);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "could not open the trusts' key folder \"%s\": %s", dir,
                 strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char trust[8];
        int named = curve_trust_file(e->d_name, ".pub", trust);
        if (named == 0)
            continue;
        if (named < 0) {
            snprintf(err, errlen,
                     "key file \"%s/%s\" is not named for an ODS trust code (<ODS>.pub, or "
                     "<ODS>.<LABEL>.pub for a second key, LABEL of at most %d letters, digits, _ "
                     "or -)",
                     dir, e->d_name, CURVE_TRUST_LABEL_MAX);
            rc = -1;
            break;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = curve_auth_allow(self, path, trust, err, errlen);
    }
    closedir(d);
    return rc;
}

int curve_auth_server_setup(curve_auth_t *self, void *sock, char *err, size_t errlen)
{
    assert(self);
    int on = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, self->secret, CURVE_KEY_Z85) != 0) {
        snprintf(err, errlen, "could not make the endpoint a CurveZMQ server: %s",
                 zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

void *curve_auth_socket(curve_auth_t *self)
{
    assert(self);
    return self->zap;
}

size_t curve_auth_nkeys(const curve_auth_t *self)
{
    assert(self);
    return self->n;
}

static void send_frame(void *sock, const void *data, size_t len, int more)
{
    zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0);
}

/* Logs a refused client: the first at once, then at most once every REFUSAL_LOG_SECONDS with the
 * number refused in between. */
static void log_refusal(curve_auth_t *self, zmq_msg_t *address, zmq_msg_t *key)
{
    self->refused++;
    time_t now = time(NULL);
    if (self->refusal_logged != 0 && now - self->refusal_logged < REFUSAL_LOG_SECONDS)
        return;
    char addr[64] = "", z85[CURVE_KEY_Z85 + 1] = "", count[24];
    if (address)
        snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(address),
                 (const char *)zmq_msg_data(address));
    if (key && zmq_msg_size(key) == 32)
        zmq_z85_encode(z85, zmq_msg_data(key), 32);
    snprintf(count, sizeof count, "%lu", self->refused);
    ncap_log(LOG_WARN, "refused a CurveZMQ client whose key is not admitted here", "address", addr,
             "key", z85[0] ? z85 : "(none)", "refused", count, NULL);
    self->refusal_logged = now;
    self->refused = 0;
}

int curve_auth_handle(curve_auth_t *self)
{
    assert(self);
    /* ZAP request (RFC 27): version, request id, domain, address, identity, mechanism, then the
     * mechanism's credentials (CURVE: the client's 32-byte public key). */
    zmq_msg_t part[8];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->zap, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            if (n == 0)
                return 0;
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 8)
            part[n++] = m;
        else
            zmq_msg_close(&m);
    }
    const char *status = "400", *text = "unknown client key", *user = "";
    bool curve = n >= 7 && zmq_msg_size(&part[5]) == 5 &&
                 memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 && zmq_msg_size(&part[6]) == 32;
    for (size_t i = 0; curve && i < self->n; i++)
        if (memcmp(self->keys[i].key, zmq_msg_data(&part[6]), 32) == 0) {
            status = "200";
            text = "OK";
            user = self->keys[i].name;
            break;
        }
    if (status[0] != '2')
        log_refusal(self, n >= 4 ? &part[3] : NULL, curve ? &part[6] : NULL);
    send_frame(self->zap, "1.0", 3, 1);
    if (n >= 2)
        send_frame(self->zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), 1);
    else
        send_frame(self->zap, "", 0, 1);
    send_frame(self->zap, status, 3, 1);
    send_frame(self->zap, text, strlen(text), 1);
    send_frame(self->zap, user, strlen(user), 1);
    send_frame(self->zap, "", 0, 0);
    for (int i = 0; i < n; i++)
        zmq_msg_close(&part[i]);
    return 1;
}

/* --- handshake monitors ---------------------------------------------------------------------- */

void *curve_monitor_open(void *ctx, void *sock, char *err, size_t errlen)
{
    static unsigned next; /* inproc names are never reused, even after a close */
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://ncap.monitor.%u",
             __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED));
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(sock, endpoint, events) != 0) {
        snprintf(err, errlen, "could not watch a socket's handshakes: %s",
                 zmq_strerror(zmq_errno()));
        return NULL;
    }
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    int linger = 0;
    int64_t max = ZAP_MAX_BYTES; /* an event: 6 bytes, then an endpoint */
    if (!mon || zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(mon, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
        zmq_connect(mon, endpoint) != 0) {
        snprintf(err, errlen, "could not watch a socket's handshakes: %s",
                 zmq_strerror(zmq_errno()));
        if (mon)
            zmq_close(mon);
        zmq_socket_monitor(sock, NULL, 0);
        return NULL;
    }
    return mon;
}

void curve_monitor_close(void *sock, void **monitor_p)
{
    if (!monitor_p || !*monitor_p)
        return;
    zmq_socket_monitor(sock, NULL, 0);
    zmq_close(*monitor_p);
    *monitor_p = NULL;
}

int curve_monitor_next(void *monitor, int timeout_ms, curve_event_t *ev)
{
    zmq_pollitem_t item = {monitor, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return 0;
    /* two frames: 16-bit event and 32-bit value, then the endpoint */
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&m) >= 6) {
        memcpy(&event, zmq_msg_data(&m), 2);
        memcpy(&value, (const char *)zmq_msg_data(&m) + 2, 4);
    }
    int more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    memset(ev, 0, sizeof *ev);
    if (more) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, monitor, 0) >= 0)
            snprintf(ev->endpoint, sizeof ev->endpoint, "%.*s", (int)zmq_msg_size(&m),
                     (const char *)zmq_msg_data(&m));
        zmq_msg_close(&m);
    }
    ev->value = value;
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        ev->result = CURVE_HANDSHAKE_OK;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        ev->result = CURVE_HANDSHAKE_REFUSED;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        ev->result = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? CURVE_HANDSHAKE_MISMATCH
                                                                         : CURVE_HANDSHAKE_FAILED;
        break;
    default:
        ev->result = CURVE_HANDSHAKE_FAILED;
    }
    return 1;
}

const char *curve_event_text(const curve_event_t *ev)
{
    switch (ev->result) {
    case CURVE_HANDSHAKE_OK:
        return "handshake succeeded";
    case CURVE_HANDSHAKE_REFUSED:
        return "the server refused this client's key";
    case CURVE_HANDSHAKE_MISMATCH:
        return "one side speaks CurveZMQ and the other does not (a plain client and a CurveZMQ "
               "server, or the reverse)";
    case CURVE_HANDSHAKE_FAILED:
        break;
    }
    return "the peer could not prove the key expected of it, or broke off the handshake";
}
