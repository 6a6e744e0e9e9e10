/* store_pool.c - a mutex and condition variable around a store_queue_t; finished jobs on a list,
 * announced by a byte on a pipe (the self-pipe trick: zmq_poll watches plain descriptors too) */
#include "store_pool.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "store_queue.h"

/* A job with its cell on the finished list, made when the job is submitted, so that handing it
 * back never needs memory. The queue orders slots. */
typedef struct slot {
    struct slot *next;
    store_job_t *job;
} slot_t;

struct store_pool_t {
    const daemon_config_t *cfg;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job may be takeable, one to destroy, or stopping */
    store_queue_t *queue;
    slot_t *done, *done_tail;
    size_t n_done;
    slot_t *trash; /* answered jobs for the workers to destroy */
    int stopping;
    int wake[2]; /* pipe: read end polled by the loop, write end by the workers */
    pthread_t *threads;
    int nthreads;
};

/* Announces a finished job; a full pipe already announces one. */
static void wake(store_pool_t *self)
{
    ssize_t n;
    do
        n = write(self->wake[1], "", 1);
    while (n < 0 && errno == EINTR);
}

static void *worker(void *arg)
{
    store_pool_t *self = arg;
    /* Connected now, so that the first file does not wait for it; if PostgreSQL is away, the
     * first job connects (store_job_run), retrying as every daemon does. */
    char err[1024];
    PGconn *db = db_connect(self->cfg->pg, self->cfg->service, err, sizeof err);
    pthread_mutex_lock(&self->lock);
    for (;;) {
        slot_t *slot = NULL, *trash;
        while (!(trash = self->trash) && !self->stopping && !(slot = store_queue_take(self->queue)))
            pthread_cond_wait(&self->work, &self->lock);
        if (trash) { /* first, also when stopping: nothing is left to destroy on exit */
            self->trash = trash->next;
            pthread_mutex_unlock(&self->lock);
            store_job_destroy(&trash->job);
            free(trash);
            pthread_mutex_lock(&self->lock);
            continue;
        }
        if (!slot)
            break;
        pthread_mutex_unlock(&self->lock);
        store_job_run(slot->job, &db, self->cfg);
        pthread_mutex_lock(&self->lock);
        store_queue_done(self->queue, slot);
        slot->next = NULL;
        if (self->done_tail)
            self->done_tail->next = slot;
        else
            self->done = slot;
        self->done_tail = slot;
        self->n_done++;
        /* The next job of this key, if any, is takeable now: by any idle worker. */
        pthread_cond_broadcast(&self->work);
        pthread_mutex_unlock(&self->lock);
        wake(self);
        pthread_mutex_lock(&self->lock);
    }
    pthread_mutex_unlock(&self->lock);
    PQfinish(db);
    return NULL;
}

store_pool_t *store_pool_new(const daemon_config_t *cfg, int nworkers)
{
    if (nworkers < 1 || nworkers > STORE_POOL_MAX_WORKERS)
        return NULL;
    store_pool_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->wake[0] = self->wake[1] = -1;
    self->queue = store_queue_new();
    self->threads = calloc((size_t)nworkers, sizeof *self->threads);
    if (!self->queue || !self->threads || pipe(self->wake) != 0) {
        store_queue_destroy(&self->queue);
        free(self->threads);
        if (self->wake[0] >= 0) {
            close(self->wake[0]);
            close(self->wake[1]);
        }
        free(self);
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(self->wake[i], F_SETFL, fcntl(self->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(self->wake[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->work, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; self->nthreads < nworkers; self->nthreads++)
        if (pthread_create(&self->threads[self->nthreads], NULL, worker, self) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (self->nthreads < nworkers) {
        store_pool_destroy(&self);
        return NULL;
    }
    return self;
}

void store_pool_destroy(store_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_pool_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stopping = 1;
    pthread_cond_broadcast(&self->work);
    pthread_mutex_unlock(&self->lock);
    for (int i = 0; i < self->nthreads; i++)
        pthread_join(self->threads[i], NULL);
    while (self->trash) { /* only when no worker ever started */
        slot_t *t = self->trash;
        self->trash = t->next;
        store_job_destroy(&t->job);
        free(t);
    }
    store_job_t *job;
    while ((job = store_pool_take_back(self)) || (job = store_pool_finished(self)))
        store_job_destroy(&job);
    store_queue_destroy(&self->queue);
    pthread_cond_destroy(&self->work);
    pthread_mutex_destroy(&self->lock);
    close(self->wake[0]);
    close(self->wake[1]);
    free(self->threads);
    free(self);
    *self_p = NULL;
}

/* The job of slot, freeing the slot; NULL for none. */
static store_job_t *unwrap(slot_t *slot)
{
    if (!slot)
        return NULL;
    store_job_t *job = slot->job;
    free(slot);
    return job;
}

void store_pool_dispose(store_pool_t *self, store_job_t *job)
{
    assert(self);
    slot_t *slot = calloc(1, sizeof *slot);
    if (!slot) {
        store_job_destroy(&job); /* here, then */
        return;
    }
    slot->job = job;
    pthread_mutex_lock(&self->lock);
    slot->next = self->trash;
    self->trash = slot;
    pthread_cond_signal(&self->work);
    pthread_mutex_unlock(&self->lock);
}

int store_pool_submit(store_pool_t *self, store_job_t *job)
{
    assert(self);
    char key[STORE_QUEUE_KEY_MAX];
    store_job_key(job, key, sizeof key);
    slot_t *slot = calloc(1, sizeof *slot);
    if (!slot)
        return -1;
    slot->job = job;
    pthread_mutex_lock(&self->lock);
    int rc = store_queue_push(self->queue, key, slot);
    if (rc == 0)
        pthread_cond_signal(&self->work);
    pthread_mutex_unlock(&self->lock);
    if (rc != 0)
        free(slot);
    return rc;
}

store_job_t *store_pool_take_back(store_pool_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    slot_t *slot = store_queue_take_back(self->queue);
    pthread_mutex_unlock(&self->lock);
    return unwrap(slot);
}

store_job_t *store_pool_finished(store_pool_t *self)
{
    assert(self);
    /* Empty the pipe before looking at the list: a job handed back after this read announces
     * itself with a new byte, so none is ever left waiting unannounced. */
    char buf[64];
    while (read(self->wake[0], buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&self->lock);
    slot_t *slot = self->done;
    if (slot) {
        self->done = slot->next;
        if (!self->done)
            self->done_tail = NULL;
        self->n_done--;
    }
    pthread_mutex_unlock(&self->lock);
    return unwrap(slot);
}

int store_pool_fd(const store_pool_t *self)
{
    return self->wake[0];
}

size_t store_pool_jobs(store_pool_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    size_t n = store_queue_waiting(self->queue) + store_queue_taken(self->queue) + self->n_done;
    pthread_mutex_unlock(&self->lock);
    return n;
}
