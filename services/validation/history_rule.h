/* history_rule.h - history (longitudinal) rules of a definition: one record of a patient against
 * the patient's other records (pure). The pipeline finds the other records by pseudonym, `ncap
 * validate` by valid NHS number and date of birth within the file. */
#ifndef NCAP_HISTORY_RULE_H
#define NCAP_HISTORY_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_def.h"
#include "record.h"
#include "validate_record.h"

typedef struct {
    const ncap_record_t *rec; /* pseudonymised: fields, linked and derived values */
    int64_t order; /* row in the file, or record id: of two equal dates the lower is earlier */
} history_record_t;

/* True when other makes rec break the history rule: other is another record (order differs), its
 * `same` fields are all present and equal to rec's, and its date is earlier than rec's (equal
 * dates: lower order) by no more than within_days. */
bool history_rule_broken_by(const audit_def_t *def, const audit_rule_t *rule,
                            const history_record_t *rec, const history_record_t *other);

/* Adds to out one warning for each history rule of def that rec breaks against any of others
 * (rec itself among them is skipped). Returns 0, or -1 when out of memory. */
int validate_history(const audit_def_t *def, const history_record_t *rec,
                     const history_record_t *others, size_t n_others, validation_result_t *out);

/* True when def has history rules at all. */
bool audit_has_history_rules(const audit_def_t *def);

#endif
