/* completeness.h - how complete and how valid each field of an audit is, per trust and month
 * (pure: values in, counts out). For each record (its latest version) and each reported field the
 * caller says whether the value was missing, invalid or present; this module counts, orders and
 * rates them. What counts as missing or invalid:
 *   - a field the trust sends and validation sees: missing when empty or absent from the record;
 *     invalid when present and validation reported an error on it (type, code list, range,
 *     pattern or a rule naming the field);
 *   - an identifier (seen only by ingest and linkage): from linkage's problems on the field, a
 *     rule ending in "_missing" (or "required") is missing, any other (not a valid NHS number, a
 *     placeholder or test number, an impossible date of birth) is invalid. Only identifiers whose
 *     checks linkage reports are counted (NHS number and date of birth): of the others nothing is
 *     known after linkage. */
#ifndef NCAP_COMPLETENESS_H
#define NCAP_COMPLETENESS_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_def.h"

typedef enum {
    COMPLETENESS_PRESENT,
    COMPLETENESS_MISSING,
    COMPLETENESS_INVALID
} completeness_state_t;

/* True when field f of def is reported: any field the trust sends except the record key and the
 * trust, plus the identifiers linkage checks. */
bool completeness_reported(const audit_def_t *def, const audit_field_t *f);

/* The state of a field the trust sends, from its value (NULL: absent) and whether validation
 * reported an error on it. */
completeness_state_t completeness_state_of_value(const char *value, bool has_error);
/* The state of an identifier from one of linkage's problem rules on it. */
completeness_state_t completeness_state_of_linkage_rule(const char *rule);

/* The month "YYYY-MM" of a date or datetime in any form trusts may send; "" when value is not
 * one (out needs 8 bytes). Returns 0, or -1 when there is no month. */
int completeness_month(const char *value, char out[8]);
/* The months of a quarter "YYYYQn" (e.g. 2026Q3: 2026-07, 2026-08, 2026-09). Returns 0, or -1
 * when period is not such a quarter. */
int completeness_quarter_months(const char *period, char months[3][8]);

typedef struct {
    const char *field; /* owned by the table */
    const char *trust;
    const char *month; /* "YYYY-MM", or "unknown" when the record's period field has no date */
    unsigned long records, missing, invalid;
    double missing_rate, invalid_rate; /* of records, 0..1 */
} completeness_row_t;

typedef struct completeness_t completeness_t;

/* A table over the given fields, in that order (copied). NULL when out of memory. */
completeness_t *completeness_new(const char *const *fields, size_t n_fields);
void completeness_destroy(completeness_t **self_p);
/* Counts one record of trust in month ("" or NULL: unknown) with state[i] for fields[i].
 * Returns 0, or -1 when out of memory. */
int completeness_add(completeness_t *self, const char *trust, const char *month,
                     const completeness_state_t *state);
/* The rows, ordered by field (as given), trust, month; valid until the next add or destroy.
 * Returns how many; *rows set to NULL when out of memory. */
size_t completeness_rows(completeness_t *self, const completeness_row_t **rows);

#endif
