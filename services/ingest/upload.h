/* upload.h - submissions whose chunks are still arriving, and the limits on them (pure: no sockets,
 * no clock; the caller passes the time). A file is sent as chunks numbered 0, 1, 2, ... under the
 * client's token; the last chunk completes it, and the finished file leaves this table. */
#ifndef NCAP_UPLOAD_H
#define NCAP_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPLOAD_MAX_FILE_BYTES (512u << 20)  /* one submission */
#define UPLOAD_MAX_HELD_BYTES (1024u << 20) /* every file received and not yet stored, together */
#define UPLOAD_MAX_PENDING 64               /* uploads in progress at once */
#define UPLOAD_EXPIRY_MS (10 * 60 * 1000)   /* an upload without a chunk for this long is dropped */

/* One upload. data holds len bytes plus room for a terminating NUL. */
typedef struct {
    char token[80]; /* the client's, unique per upload; "" for a free slot */
    char audit[40];
    char trust[16];
    char filename[256];
    uint32_t next_seq;
    char *data;
    size_t len, cap;
    long long last_ms;
} upload_t;

/* A chunk as the request carries it; the strings must fit their upload_t fields (token and
 * audit are checked by the caller, trust and filename are cut to fit). */
typedef struct {
    const char *token, *audit, *trust, *filename;
    uint32_t seq;
    bool last;
    const void *data;
    size_t len;
} upload_chunk_t;

typedef enum {
    UPLOAD_MORE,     /* taken; more chunks to come */
    UPLOAD_COMPLETE, /* taken, and it was the last: the whole file is in *done */
    UPLOAD_REFUSED,  /* not taken: the reason in err, and the upload is dropped */
} upload_status_t;

typedef struct uploads_t uploads_t;

uploads_t *uploads_new(void);
/* Frees every upload in progress. */
void uploads_destroy(uploads_t **self_p);

/* Adds chunk at now_ms. A chunk 0 begins an upload (again, when the token is in progress: a
 * restarted upload); any other chunk must be the next of an upload in progress. held_elsewhere is
 * what the caller still holds of files already received, counted with the uploads in progress
 * against UPLOAD_MAX_HELD_BYTES. When all UPLOAD_MAX_PENDING slots are taken, a new upload
 * replaces the one that has waited longest for its next chunk.
 * Returns UPLOAD_MORE with *progress set to the bytes received so far; UPLOAD_COMPLETE with the
 * finished upload moved to *done (the caller owns done->data, NUL-terminated, and frees it); or
 * UPLOAD_REFUSED with a message for the client in err (out of order or unknown, too large, too
 * much held at once, out of memory). */
upload_status_t uploads_add(uploads_t *self, const upload_chunk_t *chunk, size_t held_elsewhere,
                            long long now_ms, size_t *progress, upload_t *done, char *err,
                            size_t errlen);
/* Drops the uploads without a chunk for UPLOAD_EXPIRY_MS before now_ms. Returns how many. */
size_t uploads_expire(uploads_t *self, long long now_ms);
/* Drops every upload in progress (at shutdown). Returns how many. */
size_t uploads_clear(uploads_t *self);
/* Bytes received of the uploads in progress. O(UPLOAD_MAX_PENDING). */
size_t uploads_bytes(const uploads_t *self);

#endif
