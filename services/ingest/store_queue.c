/* store_queue.c - two singly linked lists: waiting (in arrival order) and taken */
#include "store_queue.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    void *item;
    char key[STORE_QUEUE_KEY_MAX];
} entry_t;

struct store_queue_t {
    entry_t *waiting, *waiting_tail;
    entry_t *taken;
    size_t n_waiting, n_taken;
};

store_queue_t *store_queue_new(void)
{
    return calloc(1, sizeof(store_queue_t));
}

static void free_list(entry_t *e)
{
    while (e) {
        entry_t *next = e->next;
        free(e);
        e = next;
    }
}

void store_queue_destroy(store_queue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free_list((*self_p)->waiting);
    free_list((*self_p)->taken);
    free(*self_p);
    *self_p = NULL;
}

int store_queue_push(store_queue_t *self, const char *key, void *item)
{
    assert(self);
    size_t len = strlen(key);
    if (len >= STORE_QUEUE_KEY_MAX)
        return -1;
    entry_t *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    memcpy(e->key, key, len + 1);
    e->item = item;
    if (self->waiting_tail)
        self->waiting_tail->next = e;
    else
        self->waiting = e;
    self->waiting_tail = e;
    self->n_waiting++;
    return 0;
}

static int key_taken(const store_queue_t *self, const char *key)
{
    for (const entry_t *t = self->taken; t; t = t->next)
        if (strcmp(t->key, key) == 0)
            return 1;
    return 0;
}

/* Unlinks e, which follows prev (NULL: e is the head), from the waiting list. */
static void unlink_waiting(store_queue_t *self, entry_t *prev, entry_t *e)
{
    if (prev)
        prev->next = e->next;
    else
        self->waiting = e->next;
    if (self->waiting_tail == e)
        self->waiting_tail = prev;
    e->next = NULL;
    self->n_waiting--;
}

void *store_queue_take(store_queue_t *self)
{
    assert(self);
    entry_t *prev = NULL;
    for (entry_t *e = self->waiting; e; prev = e, e = e->next) {
        if (key_taken(self, e->key))
            continue;
        unlink_waiting(self, prev, e);
        e->next = self->taken;
        self->taken = e;
        self->n_taken++;
        return e->item;
    }
    return NULL;
}

int store_queue_done(store_queue_t *self, const void *item)
{
    assert(self);
    for (entry_t **p = &self->taken; *p; p = &(*p)->next)
        if ((*p)->item == item) {
            entry_t *e = *p;
            *p = e->next;
            free(e);
            self->n_taken--;
            return 0;
        }
    return -1;
}

void *store_queue_take_back(store_queue_t *self)
{
    assert(self);
    entry_t *e = self->waiting;
    if (!e)
        return NULL;
    unlink_waiting(self, NULL, e);
    void *item = e->item;
    free(e);
    return item;
}

size_t store_queue_waiting(const store_queue_t *self)
{
    return self->n_waiting;
}

size_t store_queue_taken(const store_queue_t *self)
{
    return self->n_taken;
}
