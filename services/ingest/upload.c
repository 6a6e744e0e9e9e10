/* upload.c - uploads in progress: a fixed table of UPLOAD_MAX_PENDING slots, searched linearly
 * (256 slots: a scan per chunk of up to a megabyte costs nothing next to copying the chunk), and
 * the bytes each trust has held, in a keyed map from trust to index (str_map.h) */
#include "upload.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str_map.h"
#include "utf8.h"

#define MB(n) ((unsigned)((n) >> 20))

struct uploads_t {
    upload_t slot[UPLOAD_MAX_PENDING];
    str_map_t *trusts; /* trust -> index into held */
    size_t *held;      /* bytes held per trust (uploads_hold) */
    size_t cap_held;
    size_t held_total;
};

uploads_t *uploads_new(void)
{
    uploads_t *self = calloc(1, sizeof *self);
    if (self && !(self->trusts = str_map_new(0))) {
        free(self);
        self = NULL;
    }
    return self;
}

static void drop(upload_t *u)
{
    free(u->data);
    memset(u, 0, sizeof *u);
}

void uploads_destroy(uploads_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    uploads_t *self = *self_p;
    uploads_clear(self);
    str_map_destroy(&self->trusts);
    free(self->held);
    free(self);
    *self_p = NULL;
}

/* The upload of token, or NULL. */
static upload_t *find(uploads_t *self, const char *token)
{
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++)
        if (self->slot[i].token[0] && strcmp(self->slot[i].token, token) == 0)
            return &self->slot[i];
    return NULL;
}

static upload_t *free_slot(uploads_t *self)
{
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++)
        if (!self->slot[i].token[0])
            return &self->slot[i];
    return NULL;
}

/* The trust's uploads in progress and their bytes. */
static size_t of_trust(const uploads_t *self, const char *trust, size_t *bytes)
{
    size_t n = 0;
    *bytes = 0;
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++)
        if (self->slot[i].token[0] && strcmp(self->slot[i].trust, trust) == 0) {
            n++;
            *bytes += self->slot[i].len;
        }
    return n;
}

static size_t held_of(const uploads_t *self, const char *trust)
{
    size_t at = str_map_get(self->trusts, trust);
    return at == STR_MAP_MISSING ? 0 : self->held[at];
}

/* A chunk of another connection's or trust's upload: refused, the upload untouched. */
static upload_status_t not_yours(const upload_t *u, const upload_chunk_t *chunk, char *err,
                                 size_t errlen)
{
    if (u->client_len != chunk->client_len || memcmp(u->client, chunk->client, u->client_len))
        snprintf(err, errlen,
                 "chunk refused: upload \"%.40s\" was begun by another connection, and only the "
                 "connection that began an upload may continue it: send the file again under a "
                 "new token",
                 chunk->token);
    else
        snprintf(err, errlen,
                 "chunk refused: upload \"%.40s\" is trust %s's, not trust %.20s's: send the file "
                 "again under a new token",
                 chunk->token, u->trust, chunk->trust);
    return UPLOAD_REFUSED;
}

/* A slot for a new upload of chunk's trust, or NULL with err. */
static upload_t *begin(uploads_t *self, const upload_chunk_t *chunk, char *err, size_t errlen)
{
    size_t bytes, n = of_trust(self, chunk->trust, &bytes);
    if (n >= UPLOAD_MAX_PER_TRUST) {
        snprintf(err, errlen,
                 "too many uploads in progress for trust %.20s: %zu, the most one trust may have "
                 "at once; send this file once one of them has finished (an upload that sends "
                 "nothing for %d minutes is dropped)",
                 chunk->trust, n, UPLOAD_EXPIRY_MS / 60000);
        return NULL;
    }
    upload_t *u = free_slot(self);
    if (!u) {
        snprintf(err, errlen,
                 "ingest has %d uploads in progress, the most it takes at once; send the file "
                 "again in a minute",
                 UPLOAD_MAX_PENDING);
        return NULL;
    }
    snprintf(u->token, sizeof u->token, "%s", chunk->token);
    snprintf(u->audit, sizeof u->audit, "%s", chunk->audit);
    snprintf(u->trust, sizeof u->trust, "%s", chunk->trust);
    snprintf(u->filename, sizeof u->filename, "%s", chunk->filename);
    /* the name as the trust's system gave it, perhaps in another encoding or cut through a
     * character: stored as text (ingest.submission), so each byte that begins no character a '?'
     */
    utf8_mend(u->filename);
    memcpy(u->client, chunk->client, chunk->client_len);
    u->client_len = chunk->client_len;
    return u;
}

/* Whether chunk fits the limits on bytes; err when not. */
static bool fits(const uploads_t *self, const upload_t *u, const upload_chunk_t *chunk, char *err,
                 size_t errlen)
{
    size_t trust_bytes;
    of_trust(self, u->trust, &trust_bytes);
    trust_bytes += held_of(self, u->trust);
    if (u->len + chunk->len > UPLOAD_MAX_FILE_BYTES) {
        snprintf(err, errlen, "file refused: larger than %u MB; split it",
                 MB(UPLOAD_MAX_FILE_BYTES));
        return false;
    }
    if (trust_bytes + chunk->len > UPLOAD_MAX_TRUST_BYTES) {
        snprintf(err, errlen,
                 "trust %s has %u MB received and not yet stored, and this chunk would take it "
                 "past %u MB, the most one trust may have at once; send the file again once the "
                 "receipts of its earlier files have come back",
                 u->trust, MB(trust_bytes), MB(UPLOAD_MAX_TRUST_BYTES));
        return false;
    }
    if (self->held_total + uploads_bytes(self) + chunk->len > UPLOAD_MAX_HELD_BYTES) {
        snprintf(err, errlen,
                 "ingest is receiving too much at once (%u MB in progress); send the file again "
                 "in a minute",
                 MB(UPLOAD_MAX_HELD_BYTES));
        return false;
    }
    return true;
}

upload_status_t uploads_add(uploads_t *self, const upload_chunk_t *chunk, long long now_ms,
                            size_t *progress, upload_t *done, char *err, size_t errlen)
{
    assert(self);
    assert(chunk->client_len <= UPLOAD_CLIENT_MAX);
    upload_t *u = find(self, chunk->token);
    if (u && (u->client_len != chunk->client_len ||
              memcmp(u->client, chunk->client, u->client_len) != 0 ||
              strcmp(u->trust, chunk->trust) != 0))
        return not_yours(u, chunk, err, errlen);
    if (u && chunk->seq == 0) {
        drop(u); /* a restarted upload: begin again */
        u = NULL;
    }
    if (!u && chunk->seq != 0) {
        snprintf(err, errlen,
                 "chunk out of order or submission unknown (ingest may have restarted): send the "
                 "file again");
        return UPLOAD_REFUSED;
    }
    if (u && u->next_seq != chunk->seq) {
        snprintf(err, errlen,
                 "chunk out of order or submission unknown (ingest may have restarted): send the "
                 "file again");
        drop(u);
        return UPLOAD_REFUSED;
    }
    if (!u && !(u = begin(self, chunk, err, errlen)))
        return UPLOAD_REFUSED;
    if (!fits(self, u, chunk, err, errlen)) {
        drop(u);
        return UPLOAD_REFUSED;
    }
    if (u->len + chunk->len + 1 > u->cap) {
        size_t cap = u->cap ? u->cap : 1 << 16;
        while (cap < u->len + chunk->len + 1)
            cap *= 2;
        char *d = realloc(u->data, cap);
        if (!d) {
            snprintf(err, errlen, "out of memory receiving the file");
            drop(u);
            return UPLOAD_REFUSED;
        }
        u->data = d;
        u->cap = cap;
    }
    if (chunk->len)
        memcpy(u->data + u->len, chunk->data, chunk->len);
    u->len += chunk->len;
    u->data[u->len] = '\0';
    u->next_seq = chunk->seq + 1;
    u->last_ms = now_ms;
    *progress = u->len;
    if (!chunk->last)
        return UPLOAD_MORE;
    *done = *u;
    memset(u, 0, sizeof *u); /* the data is done's now */
    return UPLOAD_COMPLETE;
}

int uploads_hold(uploads_t *self, const char *trust, size_t bytes)
{
    assert(self);
    size_t at;
    int added = str_map_put(self->trusts, trust, &at);
    if (added < 0)
        return -1;
    if (at >= self->cap_held) {
        size_t cap = self->cap_held ? self->cap_held * 2 : 64;
        size_t *held = realloc(self->held, cap * sizeof *held);
        if (!held)
            return -1; /* the key stays, with nothing held: harmless */
        memset(held + self->cap_held, 0, (cap - self->cap_held) * sizeof *held);
        self->held = held;
        self->cap_held = cap;
    }
    self->held[at] += bytes;
    self->held_total += bytes;
    return 0;
}

void uploads_release(uploads_t *self, const char *trust, size_t bytes)
{
    assert(self);
    size_t at = str_map_get(self->trusts, trust);
    if (at == STR_MAP_MISSING || at >= self->cap_held)
        return;
    size_t n = bytes < self->held[at] ? bytes : self->held[at];
    self->held[at] -= n;
    self->held_total -= n;
}

size_t uploads_expire(uploads_t *self, long long now_ms)
{
    assert(self);
    size_t n = 0;
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++)
        if (self->slot[i].token[0] && now_ms - self->slot[i].last_ms > UPLOAD_EXPIRY_MS) {
            drop(&self->slot[i]);
            n++;
        }
    return n;
}

size_t uploads_clear(uploads_t *self)
{
    assert(self);
    size_t n = 0;
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++) {
        n += self->slot[i].token[0] != 0;
        drop(&self->slot[i]);
    }
    return n;
}

size_t uploads_bytes(const uploads_t *self)
{
    assert(self);
    size_t n = 0;
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++)
        n += self->slot[i].len;
    return n;
}

size_t uploads_held(const uploads_t *self)
{
    assert(self);
    return self->held_total;
}
