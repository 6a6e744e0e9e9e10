/* outlier_process.h - the staged process an outlier case follows (pure: no SQL, no clock; the
 * caller passes the time). National clinical audits handle a unit flagged by the funnel plot in
 * stages, each with a deadline:
 *
 *   detected --deadline--> trust_notified --response--> trust_responded --deadline--> published
 *                                        \--deadline (no response)-----------------/
 *   any state but closed --the unit's row is in control again (corrected data)--> closed
 *   closed --flagged again--> detected
 *
 * A case is one unit (a trust or a site) of one metric of one audit period. Its deadlines come
 * from the definition (`outliers:`, audit_def.h) in working days, Monday to Friday (bank holidays
 * are not known: a deadline over one falls a day early), counted from the time the case entered
 * its state. For tests and demonstrations a "day" can be made day_seconds seconds long, weekends
 * then not skipped (NCAP_OUTLIER_DAY_SECONDS, README.md). */
#ifndef NCAP_OUTLIER_PROCESS_H
#define NCAP_OUTLIER_PROCESS_H

#include <stdbool.h>

#include "audit_def.h"

typedef enum {
    OUTLIER_DETECTED,
    OUTLIER_TRUST_NOTIFIED,
    OUTLIER_TRUST_RESPONDED,
    OUTLIER_PUBLISHED,
    OUTLIER_CLOSED,
    OUTLIER_N_STATES
} outlier_state_t;

typedef enum {
    OUTLIER_FLAGGED,   /* a release flags the unit (alert or alarm) */
    OUTLIER_CLEARED,   /* a release shows the unit in control */
    OUTLIER_RESPONDED, /* the trust's clinical lead answered */
    OUTLIER_DEADLINE   /* the state's deadline has passed */
} outlier_event_t;

/* "detected", "trust_notified", "trust_responded", "published", "closed"; NULL out of range. */
const char *outlier_state_name(outlier_state_t s);
/* The state named s, or -1. */
int outlier_state_parse(const char *s);
/* The state event e moves a case in state s to, or -1 when e does not apply to s (e.g. a
 * response to a case not awaiting one; a flag on an open case only updates its figures). */
int outlier_next(outlier_state_t s, outlier_event_t e);
/* Whether a case in state s is still moving (has a deadline). */
bool outlier_open(outlier_state_t s);
/* Whether the trust sees a case that has reached state s (from trust_notified on). */
bool outlier_trust_sees(outlier_state_t s);
/* The working days state s may last (cfg's), or -1 when it has no deadline. */
int outlier_stage_days(const audit_outliers_t *cfg, outlier_state_t s);
/* The moment, in seconds since 1970 UTC, that is `days` working days after `from`: with
 * day_seconds 0, the same time of day `days` weekdays later (a start at a weekend counts from the
 * Monday after, 00:00 UTC); with day_seconds > 0, from + days * day_seconds. */
long long outlier_due(long long from, int days, long long day_seconds);
/* The flag the public sees for a row whose funnel flag is `flag` (funnel_flag_name's) and whose
 * case is `published` or not: an alarm (beyond 99.8%) only once its case is published; before,
 * the alert of the same direction (the row is beyond 95% as well, which the public may see).
 * Every other flag as it is. */
const char *outlier_public_flag(const char *flag, bool published);
/* Whether flag (funnel_flag_name's) opens or keeps a case: an alert or an alarm. */
bool outlier_flag_opens(const char *flag);

#endif
