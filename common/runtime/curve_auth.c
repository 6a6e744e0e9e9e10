/* curve_auth.c - CurveZMQ keys, client setup and the ZAP handler of the trust-facing endpoint */
#include "curve_auth.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ods_code.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

int curve_key_read(const char *path, char out[CURVE_KEY_Z85 + 1], char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "could not read key file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    char buf[128];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    size_t len = strcspn(s, " \r\n\t");
    uint8_t bin[32];
    if (len != CURVE_KEY_Z85 || !zmq_z85_decode(bin, (s[len] = '\0', s))) {
        snprintf(err, errlen, "key file \"%s\" does not hold a 40-character Z85 key", path);
        return -1;
    }
    memcpy(out, s, CURVE_KEY_Z85 + 1);
    return 0;
}

static int write_text(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create \"%s\": %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
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

int curve_client_setup(void *sock, char *err, size_t errlen)
{
    const char *server = getenv("NCAP_CURVE_SERVER_KEY");
    const char *secret = getenv("NCAP_CURVE_CLIENT_SECRET_FILE");
    bool has_server = server && *server, has_secret = secret && *secret;
    if (!has_server && !has_secret)
        return 0;
    if (!has_server || !has_secret) {
        snprintf(err, errlen,
                 "CurveZMQ needs both NCAP_CURVE_SERVER_KEY (ingest's .pub file) and "
                 "NCAP_CURVE_CLIENT_SECRET_FILE (the trust's .key file)");
        return -1;
    }
    char skey[CURVE_KEY_Z85 + 1], ckey[CURVE_KEY_Z85 + 1], cpub[CURVE_KEY_Z85 + 1];
    if (curve_key_read(server, skey, err, errlen) != 0 ||
        curve_key_read(secret, ckey, err, errlen) != 0)
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

typedef struct {
    uint8_t key[32];
    char trust[8];
} trust_key_t;

struct curve_auth_t {
    void *zap;
    char secret[CURVE_KEY_Z85 + 1];
    trust_key_t *keys;
    size_t n;
};

static int load_trust_keys(curve_auth_t *self, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "could not open the trusts' key folder \"%s\": %s", dir,
                 strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        char trust[8] = "";
        if (len - 4 < sizeof trust)
            snprintf(trust, sizeof trust, "%.*s", (int)(len - 4), e->d_name);
        if (ods_code_kind(trust) != ODS_CODE_TRUST) {
            snprintf(err, errlen, "key file \"%s/%s\" is not named for an ODS trust code", dir,
                     e->d_name);
            rc = -1;
            break;
        }
        char path[4096], z85[CURVE_KEY_Z85 + 1];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (curve_key_read(path, z85, err, errlen) != 0) {
            rc = -1;
            break;
        }
        trust_key_t *k = realloc(self->keys, (self->n + 1) * sizeof *k);
        if (!k) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        self->keys = k;
        zmq_z85_decode(k[self->n].key, z85);
        snprintf(k[self->n].trust, sizeof k[self->n].trust, "%s", trust);
        self->n++;
    }
    closedir(d);
    return rc;
}

int curve_auth_new(void *ctx, curve_auth_t **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *secret = getenv("NCAP_CURVE_SECRET_FILE");
    if (!secret || !*secret)
        return 0;
    const char *dir = getenv("NCAP_CURVE_TRUST_KEYS");
    if (!dir || !*dir) {
        snprintf(err, errlen,
                 "NCAP_CURVE_SECRET_FILE is set but NCAP_CURVE_TRUST_KEYS (a folder "
                 "of <ODS>.pub files) is not");
        return -1;
    }
    curve_auth_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (curve_key_read(secret, self->secret, err, errlen) != 0 ||
        load_trust_keys(self, dir, err, errlen) != 0) {
        curve_auth_destroy(&self);
        return -1;
    }
    self->zap = zmq_socket(ctx, ZMQ_REP);
    if (!self->zap || zmq_bind(self->zap, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "could not bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        curve_auth_destroy(&self);
        return -1;
    }
    *out = self;
    return 0;
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

size_t curve_auth_ntrusts(const curve_auth_t *self)
{
    assert(self);
    return self->n;
}

static void send_frame(void *sock, const void *data, size_t len, int more)
{
    zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0);
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
    if (n >= 7 && zmq_msg_size(&part[5]) == 5 && memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 &&
        zmq_msg_size(&part[6]) == 32) {
        for (size_t i = 0; i < self->n; i++)
            if (memcmp(self->keys[i].key, zmq_msg_data(&part[6]), 32) == 0) {
                status = "200";
                text = "OK";
                user = self->keys[i].trust;
                break;
            }
    }
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
