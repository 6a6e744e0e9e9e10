/* release_actions.h - the changes trusts registered (`ncap action add`, publish.action) as
 * publish reads them: per audit, where each trust's run chart of a metric starts a new period
 * (benchmark_input_t's actions), and the audits whose releases must be rebuilt because an action
 * was registered since the last rebuild. */
#ifndef NCAP_RELEASE_ACTIONS_H
#define NCAP_RELEASE_ACTIONS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "benchmark.h"

typedef struct {
    PGresult *res; /* owns the strings */
    benchmark_action_t *actions;
    size_t n;
} release_actions_t;

/* audit's actions, in the order they were registered. Returns 0, or -1 with err. */
int release_actions_load(PGconn *db, const char *audit, release_actions_t *out, char *err,
                         size_t errlen);
void release_actions_clear(release_actions_t *a);

/* Marks the actions not yet published as published and returns (audit, period) of every release
 * of their audits, to be rebuilt in the same transaction (their run charts break at the action).
 * NULL with err on failure. O(the audits' periods). */
PGresult *release_actions_pending(PGconn *db, char *err, size_t errlen);

#endif
