/* nudge.h - the only message between stages: keys of record versions ready upstream
 * (ncap.v1.Nudge). A nudge never carries data: the receiving stage reads the records from its
 * upstream's table, so a forged or replayed nudge can at most make a stage look again. */
#ifndef NCAP_NUDGE_H
#define NCAP_NUDGE_H

#include <stddef.h>

#include "pusher.h"
#include "stage.h"

/* Keys per message: about 2.5 KB, small enough to spread a batch over several instances. */
#define NUDGE_MAX_KEYS 100
/* The largest message a stage inbox accepts (ZMQ_MAXMSGSIZE): one nudge of NUDGE_MAX_KEYS keys
 * with room to spare. ZeroMQ drops the connection of a peer that sends more. */
#define NUDGE_MAX_BYTES (64 * 1024)

/* Sends the keys to the next stage's live instances, NUDGE_MAX_KEYS per message, without
 * blocking. Returns the number of messages dropped (their records are found by the backlog). */
size_t nudge_send(pusher_t *pusher, const stage_key_t *keys, size_t n);
/* Appends the keys of one received message to out (at most max_keys of them; the rest are left
 * to the backlog). Returns the number of keys taken, or -1 when data is not an ncap.v1.Nudge. */
int nudge_read(const void *data, size_t len, size_t max_keys, stage_keys_t *out);

#endif
