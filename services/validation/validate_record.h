/* validate_record.h - the audit's dataset rules applied to one pseudonymised record (pure) */
#ifndef NCAP_VALIDATE_RECORD_H
#define NCAP_VALIDATE_RECORD_H

#include <stddef.h>

#include "audit_def.h"
#include "record.h"
#include "record_view.h"

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
/* The same over a view of the record (its marks are set to the slots that failed their type);
 * problems are added to out, which is not cleared first. Returns 0, or -1 when out of memory. */
int validate_view(record_view_t *view, validation_result_t *out);
/* Empties out for the next record, keeping its memory. */
void validation_result_reset(validation_result_t *r);
void validation_result_free(validation_result_t *r);

#endif
