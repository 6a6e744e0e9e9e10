/* nudge.c - ncap.v1.Nudge packed and read */
#include "nudge.h"

#include <stdlib.h>

#include "ncap/v1/records.pb-c.h"

size_t nudge_send(pusher_t *pusher, const stage_key_t *keys, size_t n)
{
    size_t dropped = 0;
    Ncap__V1__RecordKey cells[NUDGE_MAX_KEYS];
    Ncap__V1__RecordKey *ptrs[NUDGE_MAX_KEYS];
    uint8_t buf[NUDGE_MAX_KEYS * 32 + 16];
    for (size_t at = 0; pusher && at < n; at += NUDGE_MAX_KEYS) {
        size_t m = n - at < NUDGE_MAX_KEYS ? n - at : NUDGE_MAX_KEYS;
        for (size_t i = 0; i < m; i++) {
            ncap__v1__record_key__init(&cells[i]);
            cells[i].record_id = keys[at + i].record_id;
            cells[i].version = keys[at + i].version;
            cells[i].link_revision = keys[at + i].link_revision;
            ptrs[i] = &cells[i];
        }
        Ncap__V1__Nudge msg = NCAP__V1__NUDGE__INIT;
        msg.keys = ptrs;
        msg.n_keys = m;
        size_t len = ncap__v1__nudge__get_packed_size(&msg);
        uint8_t *out = len <= sizeof buf ? buf : malloc(len); /* negative numbers take 10 bytes */
        if (!out || pusher_send(pusher, out, ncap__v1__nudge__pack(&msg, out)) != 0)
            dropped++;
        if (out != buf)
            free(out);
    }
    return dropped;
}

int nudge_read(const void *data, size_t len, size_t max_keys, stage_keys_t *out)
{
    Ncap__V1__Nudge *m = ncap__v1__nudge__unpack(NULL, len, data);
    if (!m)
        return -1;
    int taken = 0;
    for (size_t i = 0; i < m->n_keys && (size_t)taken < max_keys; i++) {
        const Ncap__V1__RecordKey *k = m->keys[i];
        if (k->record_id <= 0 || k->version <= 0 || k->link_revision < 0)
            continue; /* not a key any stage holds */
        if (stage_keys_push(out, (stage_key_t){k->record_id, k->version, k->link_revision}) != 0)
            break;
        taken++;
    }
    ncap__v1__nudge__free_unpacked(m, NULL);
    return taken;
}
