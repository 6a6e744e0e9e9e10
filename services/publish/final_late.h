/* final_late.h - a final release's late.csv (README.md, "The annual final release"): per trust and
 * quarter of the year, the records with a version received after the final's cutoff, counted as
 * added (no version by the cutoff) or corrected, from publish.final_late (migration 0028), which
 * `ncap release finalise` fills as it makes the final and a trigger on publish.seen keeps up as
 * later versions are published. No identifier in the file. */
#ifndef NCAP_FINAL_LATE_H
#define NCAP_FINAL_LATE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_cache.h"

#define FINAL_LATE_HEADER "trust,period,records_added,records_corrected"

/* The text of late.csv of audit's final release of financial year year (malloc'd, into *out):
 * a row per trust and quarter with late records, by trust and quarter. Returns the number of
 * records counted, or -1 with err. */
long long final_late_csv(PGconn *db, const char *audit, int year, char **out, char *err,
                         size_t errlen);
/* Writes late.csv into out_dir/<audit>/final/<year>/ for every final whose late.csv changed since
 * it was last written (publish.final_late_export keeps each file's hash). A folder that cannot be
 * written is logged and tried again next time. Returns the number of files written, or -1 with
 * err. */
int final_late_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                      size_t errlen);

#endif
