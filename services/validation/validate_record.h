/* validate_record.h - the audit's dataset rules applied to one pseudonymised record (pure) */
#ifndef NCAP_VALIDATE_RECORD_H
#define NCAP_VALIDATE_RECORD_H

#include <stddef.h>

#include "audit_def.h"
#include "record.h"

typedef struct {
    char field[64];
    char rule[32];
    char severity[8]; /* "error" rejects the record, "warning" annotates it */
    char value[128];
    char message[320];
} validation_problem_t;

typedef struct {
    validation_problem_t *problems;
    size_t n, cap;
    int valid; /* no errors */
} validation_result_t;

/* Adds a problem (texts truncated to their fields). Returns 0, or -1 when out of memory. */
int validation_result_add(validation_result_t *r, const char *field, const char *rule,
                          const char *severity, const char *value, const char *message);

/* Checks rec (identifier fields are absent by design: linkage checked them) against everything
 * but history rules (history_rule.h). Returns 0, or -1 when out of memory. */
int validate_record(const audit_def_t *def, const ncap_record_t *rec, validation_result_t *out);
void validation_result_free(validation_result_t *r);

#endif
