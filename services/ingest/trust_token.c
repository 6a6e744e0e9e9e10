/* trust_token.c - trusts' bearer tokens: made, hashed, stored, and looked up by ingest */
#include "trust_token.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array_grow.h"
#include "curve_auth.h"
#include "ods_code.h"

/* base64url of TRUST_TOKEN_RANDOM_BYTES without padding */
#define RANDOM_CHARS 43

int trust_token_new(const char *trust, char *token, size_t toklen, char *err, size_t errlen)
{
    if (ods_code_kind(trust) != ODS_CODE_TRUST) {
        snprintf(err, errlen, "trust \"%.20s\" is not an ODS trust code, expected e.g. RH8", trust);
        return -1;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "could not initialise libsodium");
        return -1;
    }
    unsigned char raw[TRUST_TOKEN_RANDOM_BYTES];
    char b64[sodium_base64_ENCODED_LEN(TRUST_TOKEN_RANDOM_BYTES,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    int n = snprintf(token, toklen, TRUST_TOKEN_PREFIX "%s_%s", trust, b64);
    sodium_memzero(b64, sizeof b64);
    if (n < 0 || (size_t)n >= toklen) {
        snprintf(err, errlen, "no room for the token");
        return -1;
    }
    return 0;
}

int trust_token_trust(const char *token, char trust[8])
{
    size_t plen = strlen(TRUST_TOKEN_PREFIX);
    trust[0] = '\0';
    if (!token || strncmp(token, TRUST_TOKEN_PREFIX, plen) != 0)
        return -1;
    const char *code = token + plen, *rest = strchr(code, '_');
    if (!rest || rest - code >= 8)
        return -1;
    char c[8];
    snprintf(c, sizeof c, "%.*s", (int)(rest - code), code);
    rest++;
    if (ods_code_kind(c) != ODS_CODE_TRUST || strlen(rest) != RANDOM_CHARS ||
        strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            RANDOM_CHARS)
        return -1;
    memcpy(trust, c, sizeof c);
    return 0;
}

void trust_token_hash(const char *token, char hex[TRUST_TOKEN_HASH_HEX + 1])
{
    unsigned char h[TRUST_TOKEN_HASH_HEX / 2];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(hex, TRUST_TOKEN_HASH_HEX + 1, h, sizeof h);
}

int trust_token_store(const char *dir, const char *trust, const char *label, const char *token,
                      char *path, size_t pathlen, char *err, size_t errlen)
{
    char name[64], code[8];
    snprintf(name, sizeof name, "%.7s%s%.40s.token", trust, label ? "." : "", label ? label : "");
    if (curve_trust_file(name, ".token", code) != 1 || strcmp(code, trust) != 0 ||
        (label && strlen(label) > CURVE_TRUST_LABEL_MAX)) {
        snprintf(err, errlen,
                 "cannot name a token file \"%s\": expected <ODS>.token or <ODS>.<LABEL>.token, "
                 "an ODS trust code and a LABEL of 1-%d letters, digits, _ or -",
                 name, CURVE_TRUST_LABEL_MAX);
        return -1;
    }
    snprintf(path, pathlen, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        snprintf(err, errlen,
                 errno == EEXIST ? "\"%s\" exists: a trust's token is never overwritten; revoke it "
                                   "first (delete the file) or choose another --label"
                                 : "could not create \"%s\": %s",
                 path, strerror(errno));
        return -1;
    }
    char line[TRUST_TOKEN_HASH_HEX + 2];
    trust_token_hash(token, line);
    strcat(line, "\n");
    ssize_t w = write(fd, line, strlen(line));
    if (w != (ssize_t)strlen(line) || fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
        if (w >= 0)
            unlink(path);
        return -1;
    }
    return 0;
}

typedef struct {
    char trust[8];
    char hash[TRUST_TOKEN_HASH_HEX + 1];
} held_t;

struct trust_tokens_t {
    char *dir;
    held_t *held;
    size_t n, cap;
    struct timespec mtime; /* the folder's, when last read */
    long long read_ms;
    bool read;
    /* the folder changed within a second of being read: a change in the same tick of the
     * filesystem's clock (coarse: milliseconds) would leave its time as it was, so read it again
     * until its time is safely in the past (git's "racy" index entries, the same cure) */
    bool racy;
};

trust_tokens_t *trust_tokens_new(const char *dir)
{
    trust_tokens_t *self = calloc(1, sizeof *self);
    if (self && !(self->dir = strdup(dir))) {
        free(self);
        self = NULL;
    }
    return self;
}

void trust_tokens_destroy(trust_tokens_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->held);
    free((*self_p)->dir);
    free(*self_p);
    *self_p = NULL;
}

/* One file's hash into held; 0, or -1 with err. */
static int read_one(const char *path, held_t *h, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "could not read token file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    char line[TRUST_TOKEN_HASH_HEX + 8] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!got || strlen(line) != TRUST_TOKEN_HASH_HEX ||
        strspn(line, "0123456789abcdef") != TRUST_TOKEN_HASH_HEX) {
        snprintf(err, errlen,
                 "token file \"%s\" does not hold a token's hash (64 lowercase hex digits, as "
                 "ncap keys token writes): left out",
                 path);
        return -1;
    }
    memcpy(h->hash, line, sizeof h->hash);
    return 0;
}

int trust_tokens_refresh(trust_tokens_t *self, long long now_ms, char *err, size_t errlen)
{
    struct stat st;
    if (stat(self->dir, &st) != 0) {
        self->n = 0;
        self->read = false;
        snprintf(err, errlen, "could not read the token folder \"%s\": %s", self->dir,
                 strerror(errno));
        return -1;
    }
    if (self->read && !self->racy && st.st_mtim.tv_sec == self->mtime.tv_sec &&
        st.st_mtim.tv_nsec == self->mtime.tv_nsec &&
        now_ms - self->read_ms < TRUST_TOKENS_REREAD_MS)
        return 0;
    self->n = 0;
    self->read = false;
    DIR *d = opendir(self->dir);
    if (!d) {
        snprintf(err, errlen, "could not read the token folder \"%s\": %s", self->dir,
                 strerror(errno));
        return -1;
    }
    int rc = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char trust[8], path[4096], one[4400];
        int named = curve_trust_file(e->d_name, ".token", trust);
        if (named == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", self->dir, e->d_name);
        if (named < 0)
            snprintf(one, sizeof one,
                     "token file \"%s\" is not named for an ODS trust code (<ODS>.token or "
                     "<ODS>.<LABEL>.token): left out",
                     path);
        if (named < 0 ||
            array_grow((void **)&self->held, &self->cap, self->n + 1, sizeof *self->held) != 0) {
            if (named >= 0)
                snprintf(one, sizeof one, "out of memory reading the token folder");
        } else if (read_one(path, &self->held[self->n], one, sizeof one) == 0) {
            memcpy(self->held[self->n].trust, trust, sizeof trust);
            self->n++;
            continue;
        }
        if (rc == 1)
            snprintf(err, errlen, "%s", one);
        rc = -1;
    }
    closedir(d);
    self->mtime = st.st_mtim;
    self->racy = st.st_mtim.tv_sec + 1 >= time(NULL);
    self->read_ms = now_ms;
    self->read = true;
    return rc;
}

const char *trust_tokens_find(const trust_tokens_t *self, const char *token)
{
    char trust[8], hash[TRUST_TOKEN_HASH_HEX + 1];
    if (!token || trust_token_trust(token, trust) != 0)
        return NULL;
    trust_token_hash(token, hash);
    const char *found = NULL;
    for (size_t i = 0; i < self->n; i++)
        if (sodium_memcmp(hash, self->held[i].hash, TRUST_TOKEN_HASH_HEX) == 0 &&
            strcmp(trust, self->held[i].trust) == 0)
            found = self->held[i].trust;
    return found;
}

size_t trust_tokens_count(const trust_tokens_t *self)
{
    return self->n;
}
