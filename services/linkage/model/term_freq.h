/* term_freq.h - how common each value of a comparison field is among the people held: the
 * term-frequency adjustment of ncap-linkd's scores (link_score), learned by `ncap link-train`
 * (link_train_term_freqs) and stored in linkage.match_term_freq.
 *
 * An in-memory table from (field, value) to a frequency in (0, 1]: the share of patients holding
 * the value among those with one. It is filled once per parameter load and only read while
 * scoring: a lookup is one string map lookup (str_map.h) among the field's values. */
#ifndef NCAP_TERM_FREQ_H
#define NCAP_TERM_FREQ_H

#include <stddef.h>

typedef struct term_freq_t term_freq_t;

/* An empty table; NULL when out of memory. */
term_freq_t *term_freq_new(void);
void term_freq_destroy(term_freq_t **self_p);

/* Adds amount to the frequency of value in field (a new value starts at 0). Returns 0, or -1
 * when out of memory. */
int term_freq_add(term_freq_t *self, size_t field, const char *value, double amount);
/* The frequency of value in field; 0 when the table does not hold it. */
double term_freq_get(const term_freq_t *self, size_t field, const char *value);
/* How many values the table holds, and the i-th of them (0 <= i < size, in the order added). */
size_t term_freq_size(const term_freq_t *self);
void term_freq_entry(const term_freq_t *self, size_t i, size_t *field, const char **value,
                     double *frequency);

#endif
