/* follow_up.h - how far the register of deaths reaches, as a record sees it (pure). An outcome
 * within N days of a record's period date (a metric's follow_up_days, e.g. NHFD's mortality_30d)
 * is known once the register covers day period date + N: a window is complete when
 *
 *     day(period field) + follow_up_days <= deaths_covered_to
 *
 * and open (the metric holds the record back) while it is not, or while no register has been
 * loaded. The metric stage decides with the linked value deaths_covered_to that linkage stamps on
 * every record whose definition lists it (`linked:`); linkage uses the same rule to know when a
 * record must be derived again: the first coverage that completes a window the record's stamp
 * left open is its follow-up due date (linkage.pseudo_record.follow_up_due), and once the
 * register covers it the death sweep stamps the new coverage on the record as a link revision.
 * ncap-linkd and `ncap release build` (link_memory.c) both stamp with these functions. */
#ifndef NCAP_FOLLOW_UP_H
#define NCAP_FOLLOW_UP_H

#include <stdbool.h>

#include "audit_def.h"
#include "record.h"

/* The linked field that carries the register's coverage (a date, YYYY-MM-DD): the one the
 * definition's follow_up_days needs. */
#define FOLLOW_UP_COVERAGE_FIELD AUDIT_FOLLOW_UP_FIELD

/* Sets the coverage of a pseudonymised record to covers_to (YYYY-MM-DD, or "" when no register is
 * loaded: the field removed), when def lists the linked field. Returns 1 when the record changed,
 * 0 when it had that already (or def does not list it), -1 when out of memory. */
int follow_up_stamp(const audit_def_t *def, ncap_record_t *pseudo, const char *covers_to);

/* The earliest coverage after covers_to ("" for none) that completes a follow-up window of one of
 * def's metrics for rec, into due (YYYY-MM-DD). False when none waits: def does not list the
 * linked field or has no metric with follow_up_days, rec's period field is empty or not a date,
 * or every window is complete under covers_to. O(metrics). */
bool follow_up_due(const audit_def_t *def, const ncap_record_t *rec, const char *covers_to,
                   char due[11]);

#endif
