/* upload.h - submissions whose chunks are still arriving, and the limits on them (pure: no sockets,
 * no clock; the caller passes the time). A file is sent as chunks numbered 0, 1, 2, ... under the
 * client's token; the last chunk completes it, and the finished file leaves this table.
 *
 * An upload belongs to the connection that began it (its ROUTER routing id) and to its trust: a
 * chunk under its token from another connection or for another trust is refused and the upload
 * goes on untouched. No upload ever makes room for another: when a trust has UPLOAD_MAX_PER_TRUST
 * uploads in progress, or ingest UPLOAD_MAX_PENDING, a new one is refused until one finishes or
 * expires. Bytes are counted per trust too: what a trust has in progress plus what it sent that is
 * not stored yet (uploads_hold) stays under UPLOAD_MAX_TRUST_BYTES, so one trust cannot take the
 * whole of UPLOAD_MAX_HELD_BYTES. */
#ifndef NCAP_UPLOAD_H
#define NCAP_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPLOAD_MAX_FILE_BYTES (512u << 20)  /* one submission */
#define UPLOAD_MAX_HELD_BYTES (1024u << 20) /* every file received and not yet stored, together */
#define UPLOAD_MAX_TRUST_BYTES (512u << 20) /* ... of one trust */
#define UPLOAD_MAX_PENDING 256              /* uploads in progress at once, every trust */
#define UPLOAD_MAX_PER_TRUST 4              /* uploads in progress at once, one trust */
#define UPLOAD_EXPIRY_MS (10 * 60 * 1000)   /* an upload without a chunk for this long is dropped */
#define UPLOAD_CLIENT_MAX 256               /* bytes of a connection's routing id */
/* A request on ingest's ROUTER socket (ZMQ_MAXMSGSIZE): a chunk (ncap submit sends 1 MB) and its
 * envelope. libzmq closes the connection of a peer that sends more, before reading it whole; the
 * sender sees no reply (ncap submit: "no reply from ingest within N s"). */
#define UPLOAD_MAX_MESSAGE_BYTES (2u << 20)

/* One upload. data holds len bytes plus room for a terminating NUL. */
typedef struct {
    char token[80]; /* the client's, unique per upload; "" for a free slot */
    char audit[40];
    char trust[16];
    char filename[256];
    unsigned char client[UPLOAD_CLIENT_MAX]; /* the connection that began it */
    size_t client_len;
    uint32_t next_seq;
    char *data;
    size_t len, cap;
    long long last_ms;
} upload_t;

/* A chunk as the request carries it, from the connection client (its routing id, at most
 * UPLOAD_CLIENT_MAX bytes); the strings must fit their upload_t fields (token and audit are
 * checked by the caller, trust and filename are cut to fit). */
typedef struct {
    const char *token, *audit, *trust, *filename;
    uint32_t seq;
    bool last;
    const void *data;
    size_t len;
    const void *client;
    size_t client_len;
} upload_chunk_t;

typedef enum {
    UPLOAD_MORE,     /* taken; more chunks to come */
    UPLOAD_COMPLETE, /* taken, and it was the last: the whole file is in *done */
    UPLOAD_REFUSED,  /* not taken: the reason in err (the upload is dropped unless it is another
                        connection's or trust's) */
} upload_status_t;

typedef struct uploads_t uploads_t;

uploads_t *uploads_new(void);
/* Frees every upload in progress. */
void uploads_destroy(uploads_t **self_p);

/* Adds chunk at now_ms. A chunk 0 begins an upload (again, when its connection's token is in
 * progress: a restarted upload); any other chunk must be the next of an upload in progress begun
 * by the same connection for the same trust.
 * Returns UPLOAD_MORE with *progress set to the bytes received so far; UPLOAD_COMPLETE with the
 * finished upload moved to *done (the caller owns done->data, NUL-terminated, and frees it); or
 * UPLOAD_REFUSED with a message for the client in err: out of order or unknown; another
 * connection's or trust's token; too many uploads of the trust or of ingest; the file, the trust's
 * bytes or ingest's too large; out of memory. */
upload_status_t uploads_add(uploads_t *self, const upload_chunk_t *chunk, long long now_ms,
                            size_t *progress, upload_t *done, char *err, size_t errlen);
/* Counts bytes of trust's received files as held until uploads_release (a finished upload being
 * stored), against UPLOAD_MAX_TRUST_BYTES and UPLOAD_MAX_HELD_BYTES. Returns 0, or -1 when out of
 * memory (nothing counted). */
int uploads_hold(uploads_t *self, const char *trust, size_t bytes);
void uploads_release(uploads_t *self, const char *trust, size_t bytes);
/* Drops the uploads without a chunk for UPLOAD_EXPIRY_MS before now_ms. Returns how many. */
size_t uploads_expire(uploads_t *self, long long now_ms);
/* Drops every upload in progress (at shutdown). Returns how many. */
size_t uploads_clear(uploads_t *self);
/* Bytes received of the uploads in progress. O(UPLOAD_MAX_PENDING). */
size_t uploads_bytes(const uploads_t *self);
/* Bytes held (uploads_hold) and not yet released, every trust. */
size_t uploads_held(const uploads_t *self);

#endif
