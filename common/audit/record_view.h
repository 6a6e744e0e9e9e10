/* record_view.h - one record seen through its audit definition: a text per slot (fields, linked
 * fields, derived fields; audit_def.h), each typed at most once, however many rules use it. It
 * borrows the texts and is reused from record to record: nothing is allocated per record. */
#ifndef NCAP_RECORD_VIEW_H
#define NCAP_RECORD_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "audit_def.h"
#include "expr.h"
#include "record.h"

typedef struct record_view_t record_view_t;

record_view_t *record_view_new(const audit_def_t *def);
void record_view_destroy(record_view_t **self_p);
const audit_def_t *record_view_def(const record_view_t *self);
/* Forgets every value: all slots absent. */
void record_view_reset(record_view_t *self);
/* Gives slot the text (borrowed: it must outlive the use of the view; NULL: absent). */
void record_view_set(record_view_t *self, int slot, const char *text);
/* Resets, then takes the value of each of rec's names that is a slot (borrowed from rec). */
void record_view_set_record(record_view_t *self, const ncap_record_t *rec);
/* The text of slot as given, or NULL when absent. */
const char *record_view_text(const record_view_t *self, int slot);
/* True when slot is absent or empty after trimming spaces. */
bool record_view_missing(const record_view_t *self, int slot);
/* The typed value of slot (EXPR_NULL when missing or unparseable), computed once per record. */
void record_view_value(record_view_t *self, int slot, expr_value_t *out);
/* Computes every derived field from the others, as linkage does before removing identifiers: the
 * text of each (empty when it cannot be computed) is kept in the view. */
void record_view_derive(record_view_t *self);
/* The text of name (a slot's name), NULL when absent or missing: for message templates. */
const char *record_view_text_of(void *self, const char *name);

/* A mark per slot, cleared by reset: validation marks the values that failed their type check. */
void record_view_mark(record_view_t *self, int slot);
bool record_view_marked(const record_view_t *self, int slot);

/* For expr_eval_bound: ctx is the view. */
void record_view_slot_value(void *ctx, int slot, expr_value_t *out);

#endif
