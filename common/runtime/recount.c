/* recount.c - a count made whole now and then, estimated between */
#include "recount.h"

bool recount_due(const recount_t *c, long long now_ms, long long every_ms, int share_pct)
{
    if (!c->made)
        return true;
    long long every = share_pct > 0 ? c->cost_ms * (100 / share_pct) : 0;
    if (every < every_ms)
        every = every_ms;
    return now_ms - c->at_ms >= every;
}

long long recount_estimate(const recount_t *c, long long progress_now, long long floor)
{
    if (!c->made)
        return floor;
    long long left = c->count - (progress_now - c->progress);
    return left > floor ? left : floor;
}

void recount_made(recount_t *c, long long count, long long progress, long long started_ms,
                  long long ended_ms)
{
    *c = (recount_t){.made = true,
                     .count = count,
                     .progress = progress,
                     .at_ms = started_ms,
                     .cost_ms = ended_ms - started_ms};
}
