/* death_coverage.h - how far the register of deaths loaded reaches (linkage.death_coverage,
 * written by `ncap refdata load deaths`, migration 0017). */
#ifndef NCAP_DEATH_COVERAGE_H
#define NCAP_DEATH_COVERAGE_H

#include <libpq-fe.h>
#include <stddef.h>

/* The last day the register covers into out (YYYY-MM-DD), or "" when no register with a coverage
 * has been loaded. Read it before the deaths it goes with: the load commits both at once, so the
 * deaths read after it are at least those it covers. Returns 0, or -1 with err. */
int death_coverage_read(PGconn *db, char out[11], char *err, size_t errlen);

#endif
