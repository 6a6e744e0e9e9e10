/* upload.c - uploads in progress: a fixed table of UPLOAD_MAX_PENDING slots, searched linearly
 * (64 slots: cheaper than any index) */
#include "upload.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct uploads_t {
    upload_t slot[UPLOAD_MAX_PENDING];
};

uploads_t *uploads_new(void)
{
    return calloc(1, sizeof(uploads_t));
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
    uploads_clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

/* The upload of token; with create, else a free slot (the longest idle upload dropped when none
 * is free). NULL when there is no such upload and create is 0. */
static upload_t *find(uploads_t *self, const char *token, int create)
{
    upload_t *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++) {
        upload_t *u = &self->slot[i];
        if (u->token[0] && strcmp(u->token, token) == 0)
            return u;
        if (!u->token[0] && !free_slot)
            free_slot = u;
        if (u->token[0] && (!oldest || u->last_ms < oldest->last_ms))
            oldest = u;
    }
    if (!create)
        return NULL;
    if (!free_slot) {
        drop(oldest);
        free_slot = oldest;
    }
    return free_slot;
}

upload_status_t uploads_add(uploads_t *self, const upload_chunk_t *chunk, size_t held_elsewhere,
                            long long now_ms, size_t *progress, upload_t *done, char *err,
                            size_t errlen)
{
    assert(self);
    upload_t *u = find(self, chunk->token, chunk->seq == 0);
    if (u && u->token[0] && chunk->seq == 0) {
        drop(u); /* a restarted upload: begin again */
    } else if (!u || (chunk->seq != 0 && u->next_seq != chunk->seq)) {
        snprintf(err, errlen,
                 "chunk out of order or submission unknown (ingest may have restarted): send the "
                 "file again");
        if (u)
            drop(u);
        return UPLOAD_REFUSED;
    }
    if (!u->token[0]) {
        snprintf(u->token, sizeof u->token, "%s", chunk->token);
        snprintf(u->audit, sizeof u->audit, "%s", chunk->audit);
        snprintf(u->trust, sizeof u->trust, "%s", chunk->trust);
        snprintf(u->filename, sizeof u->filename, "%s", chunk->filename);
    }
    if (held_elsewhere + uploads_bytes(self) + chunk->len > UPLOAD_MAX_HELD_BYTES) {
        snprintf(err, errlen,
                 "ingest is receiving too much at once (1 GB in progress); send the file again in "
                 "a minute");
        drop(u);
        return UPLOAD_REFUSED;
    }
    if (u->len + chunk->len > UPLOAD_MAX_FILE_BYTES) {
        snprintf(err, errlen, "file refused: larger than 512 MB; split it");
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
