/* expr.h - the small expression language of audit definitions (rules, derived fields, metrics).
 *
 *   literals   12  3.5  'text'  true  false  null
 *   fields     arrival_datetime  (a name the definition declares)
 *   operators  or  and  not  ==  !=  <  <=  >  >=  +  -  *  /  ( )
 *   functions  present(f) empty(f) hours_between(a, b) days_between(a, b)
 *              in(x, 'a', 'b', ...) age_years(dob, at) band(x, 60, 70, 80, 90)
 *              coalesce(a, b, ...) year(t) month(t)
 *              ln(x) exp(x) sqrt(x) pow(x, k) clamp(x, lo, hi) min(a, b, ...) max(a, b, ...)
 *              if(c, a, b)
 *
 * Null propagates through arithmetic and comparison (SQL-like); in a boolean context null is false.
 * Arithmetic whose result is not a finite number (division by zero, overflow) gives null.
 * band(x, 60, 70, 80, 90) gives "<60", "60-69", "70-79", "80-89", "90+" (null for null x).
 * The mathematical functions give null for a null argument (min and max too: a missing value is
 * not skipped) and where the result has no finite value: ln of 0 or less, sqrt of a negative
 * number, pow(-8, 0.5), exp(1000), clamp(x, lo, hi) with lo > hi. A domain fault is a data fault
 * (null, as division by zero is), not an error. clamp(x, lo, hi) is x limited to [lo, hi]
 * (winsorising: clamp(pulse_rate, 55, 145)).
 *
 * Types (expr_check, once at load; expr_eval checks the values again on every record):
 *   + - * / and unary -   numbers                    -> a number
 *   and or not            booleans                   -> a boolean
 *   == !=                 two of one type, or a number and a string (codes: sex == 1)
 *   < <= > >=             two numbers, two strings or two dates/times -> a boolean
 *   hours_between days_between age_years (a, b), year month (t): dates/times -> a number
 *   in(x, v, ...)         each v as x == v allows     -> a boolean
 *   band(x, cuts...)      a number                   -> a string
 *   ln exp sqrt pow clamp min max: numbers (never booleans or text) -> a number
 *   if(c, a, b)           c a boolean, a and b of one type -> that type: a when c is true, b
 *                         when false, null when c is null (an interaction: if(asa_grade >= 3,
 *                         age_at_arrival - 64, 0))
 *   present empty (any)   -> a boolean;  coalesce(a, b, ...): all of one type -> that type
 * Wherever a date/time goes, text must be a literal that reads as one ('2026-03-01'). null fits
 * everywhere (a nullable field too): it propagates. */
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

/* Limits, so that a definition cannot make parsing or evaluation (both recursive) run away. */
#define EXPR_MAX_LENGTH 4000 /* bytes of source */
#define EXPR_MAX_DEPTH 64    /* operators, calls and brackets one inside another */
/* The largest number written in an expression (and band()'s cut points): whole numbers up to it
 * are exact in a double. Values computed from records are numbers while finite, null beyond
 * (an overflow is a data fault, as division by zero is). */
#define EXPR_MAX_NUMBER 1e15

/* A problem in an expression: the 1-based byte column in its source of the token at fault (0
 * when none, e.g. out of memory), and what was found and what was expected, e.g.
 * "found ')', expected the end of the expression". */
typedef struct {
    int column;
    char message[320];
} expr_problem_t;

/* Parses src. On error returns NULL and fills problem (which may be NULL). */
expr_t *expr_parse_problem(const char *src, expr_problem_t *problem);
/* The same, the problem written to err as "column 14: found ')', expected ...". */
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

/* What expr_check needs to know about the names an expression uses, and what it must give. */
typedef struct {
    /* The kind of name's values (fields may always be null as well). Returns 0 with *kind set;
     * 1 when the name is known but its type is not (its declaration was refused already:
     * nothing is reported); -1 when the name may not be used there, with why written, e.g.
     * "found the unknown field \"x\", expected a field declared before this expression". */
    int (*field)(void *ctx, const char *name, expr_kind_t *kind, char *why, size_t whylen);
    /* Called with each problem found. */
    void (*problem)(void *ctx, const expr_problem_t *problem);
    void *ctx;
    expr_kind_t want; /* the kind the whole expression must give (null always fits), or
                         EXPR_NULL for any */
    const char *what; /* the expression's name in that message, e.g. "numerator" */
} expr_check_t;

/* Checks the types of the expression (the rules at the top of this file) and its names: each
 * operator and function must get operands it accepts for every record. A part found wrong is
 * reported once and the parts around it are not blamed for it. Returns the number of problems
 * reported through env->problem (0: well typed) and, when type is not NULL, the kind the
 * expression gives (EXPR_NULL when it is always null or could not be told). Pure: O(size). */
int expr_check(const expr_t *self, const expr_check_t *env, expr_kind_t *type);

#endif
