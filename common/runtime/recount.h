/* recount.h - a count too costly to make at every read (a stage's backlog of millions of rows,
 * the record versions a key rotation has left to re-pseudonymise), made whole now and then and,
 * between two whole counts, estimated as the last one less the progress made since (a counter
 * that only grows: the records the stage has processed, the versions the rotation has taken).
 * What is added meanwhile shows at the next whole count. The backlog gauge (stage_gauges.c) and
 * the re-keying's log (linkage_stage.c) both count this way. Pure: the caller counts and says
 * when (daemon_now_ms). */
#ifndef NCAP_RECOUNT_H
#define NCAP_RECOUNT_H

#include <stdbool.h>

typedef struct {
    bool made;          /* a whole count has been made */
    long long count;    /* the last whole count */
    long long progress; /* the progress when it was made */
    long long at_ms;    /* when it was begun */
    long long cost_ms;  /* how long it took */
} recount_t;

/* Whether a whole count is due at now_ms: none made yet, or every_ms since the last began and,
 * when share_pct is above 0, at least 100 / share_pct times as long as it took (so that whole
 * counts take at most share_pct percent of the time). */
bool recount_due(const recount_t *c, long long now_ms, long long every_ms, int share_pct);

/* The last whole count less the progress made since it (progress_now), never below floor; floor
 * when none was made. */
long long recount_estimate(const recount_t *c, long long progress_now, long long floor);

/* Records a whole count of count, made at progress, begun at started_ms and ended at ended_ms. */
void recount_made(recount_t *c, long long count, long long progress, long long started_ms,
                  long long ended_ms);

#endif
