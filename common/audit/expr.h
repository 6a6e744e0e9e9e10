/* expr.h - the small expression language of audit definitions (rules, derived fields, metrics).
 *
 *   literals   12  3.5  'text'  true  false  null
 *   fields     arrival_datetime  (a name the definition declares)
 *   operators  or  and  not  ==  !=  <  <=  >  >=  +  -  *  /  ( )
 *   functions  present(f) empty(f) hours_between(a, b) days_between(a, b)
 *              in(x, 'a', 'b', ...) age_years(dob, at) band(x, 60, 70, 80, 90)
 *              coalesce(a, b, ...) year(t) month(t)
 *
 * Null propagates through arithmetic and comparison (SQL-like); in a boolean context null is false.
 * band(x, 60, 70, 80, 90) gives "<60", "60-69", "70-79", "80-89", "90+" (null for null x). */
#ifndef NCAP_EXPR_H
#define NCAP_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { EXPR_NULL, EXPR_BOOL, EXPR_NUMBER, EXPR_STRING, EXPR_TIME } expr_kind_t;

typedef struct {
    expr_kind_t kind;
    bool b;
    double num;
    int64_t time;    /* seconds since the epoch, for EXPR_TIME */
    const char *str; /* borrowed: from the record or from the parsed expression */
} expr_value_t;

/* Gives the value of a field. Returns 0, or -1 when the name is not a field. */
typedef int (*expr_lookup_fn)(void *ctx, const char *name, expr_value_t *out);

typedef struct expr_t expr_t;

/* Parses src. On error returns NULL and writes e.g. "unexpected ')' at column 14" to err. */
expr_t *expr_parse(const char *src, char *err, size_t errlen);
void expr_destroy(expr_t **self_p);
/* Evaluates. Returns 0, or -1 with a message in err (unknown field, wrong argument type). */
int expr_eval(const expr_t *self, expr_lookup_fn lookup, void *ctx, expr_value_t *out, char *err,
              size_t errlen);
/* Binding, done once at load: resolve gives each field name its slot (>= 0; -1 when the name is
 * unknown, which makes expr_bind return -1). A bound expression is then evaluated with fn, which
 * gives the value of a slot without looking any name up. */
int expr_bind(expr_t *self, int (*resolve)(void *ctx, const char *name), void *ctx);
typedef void (*expr_slot_fn)(void *ctx, int slot, expr_value_t *out);
int expr_eval_bound(const expr_t *self, expr_slot_fn fn, void *ctx, expr_value_t *out, char *err,
                    size_t errlen);
/* Calls fn for each bound field's slot (-1 when unbound); stops and returns fn's value if not 0. */
int expr_each_slot(const expr_t *self, int (*fn)(void *ctx, int slot), void *ctx);
bool expr_truthy(const expr_value_t *v);
/* Calls fn for each field name the expression refers to; stops and returns fn's value if not 0. */
int expr_each_field(const expr_t *self, int (*fn)(void *ctx, const char *name), void *ctx);
/* Text form of a value, for messages and storage (out of outlen bytes). */
void expr_value_format(const expr_value_t *v, char *out, size_t outlen);

#endif
