/* store_pool.h - storer threads that parse and store finished uploads off the request loop, so
 * that one large file never stalls other trusts' submissions, feedback or the heartbeat.
 *
 * Each worker has its own PostgreSQL connection (made when it starts, remade when lost). Jobs
 * of one audit and trust are stored one at a time, in the order they were submitted (see
 * store_queue.h); others in parallel. A worker hands a finished job back through a list the loop
 * collects; the pool's file descriptor becomes readable when one is waiting, so the loop polls it
 * beside its sockets. Workers touch no ZeroMQ socket: only the loop answers clients.
 *
 * All functions are for the one thread that owns the pool (the loop); the workers are internal. */
#ifndef NCAP_STORE_POOL_H
#define NCAP_STORE_POOL_H

#include <stddef.h>

#include "daemon.h"
#include "store_job.h"

#define STORE_POOL_MAX_WORKERS 64

typedef struct store_pool_t store_pool_t;

/* Starts nworkers (1..STORE_POOL_MAX_WORKERS) threads connecting through cfg (which must outlive
 * the pool). SIGTERM and SIGINT are blocked in them: signals reach the loop's thread. NULL when
 * nworkers is out of range or a thread, pipe or allocation could not be made. */
store_pool_t *store_pool_new(const daemon_config_t *cfg, int nworkers);
/* Waits for the jobs being stored to finish (they are committed or rolled back, never cut
 * short) and those given to store_pool_dispose to be destroyed, joins the workers and destroys
 * every job still in the pool, answered or not: call store_pool_take_back and
 * store_pool_finished first to answer them. */
void store_pool_destroy(store_pool_t **self_p);

/* Queues job (the pool owns it from now on) behind the earlier jobs of its audit and trust.
 * Returns 0, or -1 when out of memory (the job stays the caller's). */
int store_pool_submit(store_pool_t *self, store_job_t *job);
/* A job not started yet, given back to the caller (who owns it): at shutdown, to refuse it.
 * NULL when none waits. */
store_job_t *store_pool_take_back(store_pool_t *self);
/* The next job the workers have finished (state STORED, REFUSED or FAILED), in the order they
 * finished; the caller owns it. NULL when none is waiting. Call it until NULL whenever the fd
 * is readable: it is cleared here. */
store_job_t *store_pool_finished(store_pool_t *self);
/* Destroys job in a worker (the pool owns it from now on), between the jobs they store: freeing
 * a million parsed rows takes seconds, never to be spent on the loop. The workers destroy every
 * such job before they stop. */
void store_pool_dispose(store_pool_t *self, store_job_t *job);
/* Readable (poll POLLIN) when a finished job may be waiting. */
int store_pool_fd(const store_pool_t *self);
/* Jobs in the pool: waiting, being stored, or finished and not collected. */
size_t store_pool_jobs(store_pool_t *self);

#endif
