/* sim_register.h - `ncap sim --submit --deaths FILE`: a register of deaths that follows the rounds,
 * as a register office's extracts follow the days. The simulated date advances step days a round:
 * after round R the register covers deaths to start + R x step days (never less than it covered
 * before), and holds every death of the patients submitted in rounds 1..R (and of the people not in
 * the audit drawn with them, sim_write_deaths) dated up to then; a death dated later waits for the
 * round whose date reaches it.
 *
 * Each round rewrites FILE whole (a temporary file renamed over it: a reader sees the register of
 * one round or the next, never half of one), then FILE.covers-to, one line YYYY-MM-DD: the day
 * FILE covers to. Read FILE.covers-to first and FILE after it, and the file read covers at least
 * that day (`ncap refdata load deaths FILE --covers-to "$(cat FILE.covers-to)"`, as deploy/local
 * does). A FILE left by an earlier run is kept and added to, and its coverage never goes back.
 *
 * Cost: the rows dated past the coverage are held in memory (about a year and a half of
 * simulated deaths at most); each round copies FILE, which grows by the round's deaths. */
#ifndef NCAP_SIM_REGISTER_H
#define NCAP_SIM_REGISTER_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

typedef struct sim_register_t sim_register_t;

/* The register in path, its simulated date starting at start_day (days since 1970-01-01) and
 * advancing step_days (1 or more) a round; path.covers-to of an earlier run, if any, is the least
 * it covers. NULL with err when out of memory or path.covers-to is not a date. */
sim_register_t *sim_register_open(const char *path, int64_t start_day, unsigned step_days,
                                  char *err, size_t errlen);
void sim_register_destroy(sim_register_t **self_p);

/* After round round of sim: adds sim's deaths, writes FILE and FILE.covers-to, and sets covers_to
 * (YYYY-MM-DD) and *added (rows new in FILE). Returns 0, or -1 with err (a file that cannot be
 * written, out of memory): the round's deaths are then kept for the next. */
int sim_register_round(sim_register_t *self, const sim_t *sim, unsigned round, char covers_to[11],
                       size_t *added, char *err, size_t errlen);

#endif
