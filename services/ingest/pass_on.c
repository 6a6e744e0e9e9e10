/* pass_on.c - nudges to linkage */
#include "pass_on.h"

#include "nudge.h"

size_t pass_on(pusher_t *pusher, const ingest_result_t *res, size_t from, size_t max)
{
    size_t end = res->n_stored - from < max ? res->n_stored : from + max;
    stage_key_t keys[NUDGE_MAX_KEYS];
    for (size_t at = from; at < end; at += NUDGE_MAX_KEYS) {
        size_t n = end - at < NUDGE_MAX_KEYS ? end - at : NUDGE_MAX_KEYS;
        for (size_t i = 0; i < n; i++)
            keys[i] = (stage_key_t){res->stored[at + i].record_id, res->stored[at + i].version, 0};
        nudge_send(pusher, keys, n);
    }
    return end;
}
