/* store_queue.h - finished uploads waiting to be stored, in the order they finished, such that
 * items of one key (an audit and trust) are taken one at a time and in that order, while items of
 * different keys may be taken together. A trust's resubmitted record becomes version n+1 only
 * after version n is committed, so two submissions of one trust must never be stored at once nor
 * out of order; two trusts never touch the same records.
 *
 * Pure (no locking, no threads): the store pool holds its lock around every call. Items are the
 * caller's; the queue only orders them. */
#ifndef NCAP_STORE_QUEUE_H
#define NCAP_STORE_QUEUE_H

#include <stddef.h>

#define STORE_QUEUE_KEY_MAX 64 /* bytes of a key, with its NUL */

typedef struct store_queue_t store_queue_t;

store_queue_t *store_queue_new(void);
/* Frees the queue (not its items). */
void store_queue_destroy(store_queue_t **self_p);

/* Appends item under key. Returns 0, or -1 (nothing queued) when key is longer than
 * STORE_QUEUE_KEY_MAX - 1 bytes or memory runs out. */
int store_queue_push(store_queue_t *self, const char *key, void *item);
/* Takes the earliest waiting item whose key has no item taken and not yet done, and marks it
 * taken. Returns NULL when every waiting item's key is busy (or none waits).
 * O(waiting x taken): both are small (at most a few hundred finished uploads, one taken per
 * store worker). */
void *store_queue_take(store_queue_t *self);
/* Marks taken item done: the next item of its key may be taken. Returns 0, or -1 when item is
 * not taken. */
int store_queue_done(store_queue_t *self, const void *item);
/* Removes the earliest waiting item whatever its key (to refuse it at shutdown). NULL when none
 * waits. */
void *store_queue_take_back(store_queue_t *self);

size_t store_queue_waiting(const store_queue_t *self);
size_t store_queue_taken(const store_queue_t *self);

#endif
