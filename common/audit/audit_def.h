/* audit_def.h - an audit's declarative definition (deploy/audits/<audit>.yaml): fields, derived
 * fields, key metrics. Nothing about any one audit is written in C; all of it comes from here. */
#ifndef NCAP_AUDIT_DEF_H
#define NCAP_AUDIT_DEF_H

#include <stdbool.h>
#include <stddef.h>

#include "expr.h"
#include "nhs_code_list.h"
#include "record.h"
#include "str_map.h"

typedef enum {
    FT_STRING,
    FT_INTEGER,
    FT_DECIMAL,
    FT_DATE,
    FT_DATETIME,
    FT_CODE,
    FT_BOOLEAN,
    FT_NHS_NUMBER,
    FT_POSTCODE,
    FT_ODS_CODE,
    FT_LSOA
} audit_field_type_t;

typedef struct {
    char *code;
    char *label;
} audit_code_t;

typedef struct {
    char *name;
    char *label;
    audit_field_type_t type;
    bool required;
    bool identifier; /* personal: seen only by ingest and linkage, never passed on */
    char *link_as; /* linkage role: nhs_number, forename, surname, dob, sex, postcode, lsoa; or NULL
                    */
    audit_code_t *codes; /* for type code: its own list, or the standard's (copied) */
    size_t n_codes;
    nhs_code_list_t standard; /* `standard: ethnic_category`: the shared NHS check applies */
    bool has_min, has_max;
    double min, max;
    char *pattern;    /* POSIX extended regex the whole value must match, or NULL */
    void *pattern_re; /* the pattern compiled once at load (a regex_t), owned */
    /* A pattern that is one bracket expression repeated, e.g. [A-Za-z0-9_-]{1,40}, is also kept
     * as a set of bytes and a length range, matched without the regex engine. */
    bool pattern_simple;
    unsigned char pattern_set[32]; /* bit c: byte c is in the bracket */
    size_t pattern_min, pattern_max;
    int line; /* line in the definition file */
} audit_field_t;

typedef struct {
    char *name;
    audit_field_type_t type;
    char *expr_src;
    expr_t *expr;
    int line;
} audit_derived_t;

/* Which way a metric is better (`higher_is_better`), or neither when the key is absent (a measure
 * of activity, say, compared with England as higher, similar or lower). The order is that of
 * benchmark_polarity_t (services/publish/benchmark.h). */
typedef enum {
    AUDIT_POLARITY_NONE = 0,      /* no higher_is_better */
    AUDIT_POLARITY_HIGHER_BETTER, /* higher_is_better: true */
    AUDIT_POLARITY_LOWER_BETTER   /* higher_is_better: false */
} audit_polarity_t;

/* How a metric's funnel limits allow for overdispersion (`funnel: {overdispersion: ...}`), the
 * methods of `ncap funnel`, estimated over the trusts of a period. The order is that of
 * funnel_od_t (common/stats/funnel.h). */
typedef enum {
    AUDIT_OVERDISPERSION_NONE = 0,
    AUDIT_OVERDISPERSION_MULTIPLICATIVE,
    AUDIT_OVERDISPERSION_ADDITIVE
} audit_overdispersion_t;

/* What a metric measures (`kind:`, default proportion). */
typedef enum {
    AUDIT_METRIC_PROPORTION = 0, /* numerator / denominator, each a boolean per record */
    AUDIT_METRIC_RATIO,          /* observed / expected: sums of `observed:` and of
                                    `expected: risk(MODEL)` over the denominator's records */
    AUDIT_METRIC_MEDIAN,         /* the median of `value:` over the denominator's records */
    AUDIT_METRIC_MEAN            /* the mean of `value:` over the denominator's records */
} audit_metric_kind_t;

/* A risk model (`risk_models:`): a record's expected value from its linear predictor
 * eta = intercept + sum of coefficient x term: 1 / (1 + exp(-eta)) (logistic, a probability) or
 * exp(eta) (poisson, an expected count). A term is any numeric or boolean (1/0) expression. */
typedef enum { AUDIT_RISK_LOGISTIC = 0, AUDIT_RISK_POISSON } audit_risk_kind_t;

typedef struct {
    char *src; /* the term's expression */
    expr_t *expr;
    double coefficient;
    bool has_default; /* `default:` the term's value when its inputs are missing (imputed) */
    double default_value;
    int line;
} audit_risk_term_t;

typedef struct {
    char *id;
    char *label;
    char *source; /* where the coefficients come from (`source:`), or NULL */
    audit_risk_kind_t kind;
    double intercept;
    audit_risk_term_t *terms;
    size_t n_terms;
    int line;
} audit_risk_model_t;

typedef struct {
    char *id;
    char *label;
    audit_metric_kind_t kind;
    char *numerator_src;
    char *denominator_src;
    expr_t *numerator;   /* evaluated only where the denominator holds */
    expr_t *denominator; /* which records count */
    char *unit;          /* "trust" */
    char *period;        /* "quarter" */
    audit_polarity_t polarity;
    audit_overdispersion_t overdispersion;
    /* ratio: `observed:` (a boolean, 1/0, or an integer count) and `expected: risk(ID)` */
    char *observed_src;
    expr_t *observed;
    char *expected_model_id;
    const audit_risk_model_t *expected_model; /* resolved at load; an element of risk_models */
    /* median and mean: `value:` a numeric expression (e.g. hours_between(a, b)); a record whose
     * value is null is counted as missing */
    char *value_src;
    expr_t *value;
    /* `follow_up_days: N`: the outcome is known only N days after the record's period date, and
     * only once the register of deaths covers that day (the linked deaths_covered_to); 0: none */
    int follow_up_days;
    /* `target: X`: the run chart's target (spc.csv), in the metric's unit */
    bool has_target;
    double target;
    int line;
} audit_metric_t;

/* The linked field a metric with follow_up_days needs: the last day the register of deaths covers
 * (a date; linkage stamps it on every record, null when no register is loaded). */
#define AUDIT_FOLLOW_UP_FIELD "deaths_covered_to"

/* `breakdowns:` the fields a record's inequality categories come from (services/metric/
 * breakdown.h), each NULL when the definition does not declare it. Each is a field, linked field
 * or derived field, never an identifier (identifiers are removed before validation). */
typedef struct {
    char *deprivation; /* an integer field from 1 to 10, 1 most deprived: the linked imd_decile */
    char *ethnicity;   /* a code field with standard ethnic_category */
    char *sex;         /* a code field with standard stated_gender */
    char *age;         /* an integer or decimal field, e.g. the derived age_at_arrival */
    int *age_bands;    /* with age: where each band after the first starts, ascending, e.g.
                          60 70 80 90 for 0-59, 60-69, 70-79, 80-89, 90+ */
    size_t n_age_bands;
    int line;
} audit_breakdowns_t;

/* The outlier process's settings (`outliers:`): the working days each open stage may last before
 * the case moves on by itself (common/audit/outlier_process.h), 0 meaning at the next check. */
typedef struct {
    bool enabled;
    int notify_within_days;  /* detected -> trust_notified */
    int respond_within_days; /* trust_notified -> published without a response */
    int publish_within_days; /* trust_responded -> published */
} audit_outliers_t;

typedef enum { RULE_ERROR, RULE_WARNING } audit_severity_t;

/* A history rule: broken when another record of the same patient, with equal `same` fields, has
 * `date` earlier than this record's (equal dates: the lower row or record id is the earlier) and
 * no more than within_days before it. Always a warning. */
typedef struct {
    char **same; /* field names */
    size_t n_same;
    char *date; /* a date or datetime field */
    double within_days;
} audit_history_t;

/* A rule over one record's fields: either check (the record is fine when it is true or null), or
 * when + require (when `when` is true, the record is fine when `require` is true or null). */
typedef struct {
    char *id;
    audit_severity_t severity; /* error rejects the record, warning accepts it with a note */
    char *message;             /* template: {field} is replaced by the field's value, e.g. "surgery
                                  ({surgery_datetime}) is before arrival ({arrival_datetime})" */
    char *field;               /* the field the problem is reported against */
    char *check_src;           /* or NULL */
    char *when_src;            /* with require_src, or NULL */
    char *require_src;
    expr_t *check;
    expr_t *when;
    expr_t *require;
    audit_history_t *history; /* a history rule (no check, when or require), or NULL */
    int *uses; /* slots of the field and of every name its expressions use (set at load) */
    size_t n_uses;
    int line;
} audit_rule_t;

typedef struct {
    char *path;
    char *audit; /* short name, e.g. "nhfd" */
    char *name;
    char *dataset_version;
    char *speciality; /* `speciality:`, what the portal groups audits by; "Other" when absent */
    char *record_key_field; /* the trust's own record id */
    char *trust_field;
    char *site_field;
    char *period_field; /* a date/datetime field that places a record in a period */
    bool opt_out_applies;
    audit_field_t *fields;
    size_t n_fields;
    audit_field_t *linked; /* values linkage supplies from reference data (date_of_death,
                              imd_decile, ...), never sent by trusts: name, label, type, range */
    size_t n_linked;
    audit_derived_t *derived;
    size_t n_derived;
    audit_metric_t *metrics;
    size_t n_metrics;
    audit_risk_model_t *risk_models;
    size_t n_risk_models;
    audit_rule_t *rules;
    size_t n_rules;
    audit_breakdowns_t breakdowns;
    /* `disclosure: {min_count: N}`: a published count from 1 to N - 1 is suppressed; 0 when the
     * definition has no disclosure (nothing suppressed) */
    int disclosure_min_count;
    /* `ascertainment_threshold: 0.8`: the share of a trust's expected cases (`ncap refdata load
     * expected`) its records must reach; has_ false when the definition sets none */
    bool has_ascertainment_threshold;
    double ascertainment_threshold;
    /* `outliers: {notify_within_days: N, respond_within_days: N, publish_within_days: N}`: the
     * outlier process (common/audit/outlier_process.h), each stage's deadline in working days;
     * enabled false when the definition has none (no cases: the release shows its funnel flags
     * as they are) */
    audit_outliers_t outliers;
    /* The slots by name (index i is slot i), built once a definition has loaded: a name is
     * looked up in O(1) whatever the number of fields. NULL in a definition put together by hand,
     * whose names are then looked up one by one. */
    str_map_t *slot_index;
} audit_def_t;

/* Limits of a definition, checked at load, each refused with where it is passed: every daemon
 * reads the definition, so nothing in it may make loading it, or a record, cost without bound.
 * Loading is O(size of the file) but for checks that compare each field, rule or code with those
 * before it: O(n^2) within these limits. */
#define AUDIT_MAX_FILE_BYTES (4 * 1024 * 1024) /* the shipped ones are ~20 KB */
#define AUDIT_MAX_NODES 200000 /* keys, values, lists and mappings: what the YAML tree costs */
#define AUDIT_MAX_NESTING 16   /* mappings and lists one inside another; a definition needs 5 */
#define AUDIT_MAX_VALUE 8192   /* bytes of one key or value (an expression: EXPR_MAX_LENGTH) */
#define AUDIT_MAX_FIELDS 1000  /* fields trusts send */
#define AUDIT_MAX_LINKED 64    /* linked fields */
#define AUDIT_MAX_DERIVED 256  /* derived fields */
#define AUDIT_MAX_METRICS 64   /* the metric stage keeps a contribution per metric per record */
#define AUDIT_MAX_RULES 1000   /* rules */
#define AUDIT_MAX_CODES 10000  /* codes of one code field */
#define AUDIT_MAX_PROBLEMS 100 /* problems listed for one file; more are only counted */
/* risk models: each term is evaluated once a record for each ratio using its model */
#define AUDIT_MAX_RISK_MODELS 16
#define AUDIT_MAX_RISK_TERMS 200      /* of one model (NELA's has 53) */
#define AUDIT_MAX_FOLLOW_UP_DAYS 3650 /* a metric's follow_up_days: ten years */
/* publication settings */
#define AUDIT_MAX_AGE_BANDS 20     /* breakdowns' age_bands: 21 bands, each a category published */
#define AUDIT_MAX_AGE 999          /* the greatest age a band starts at, in the age field's unit */
#define AUDIT_MAX_MIN_COUNT 1000   /* disclosure's min_count */
#define AUDIT_MAX_OUTLIER_DAYS 250 /* an outlier stage's deadline: a working year */

/* Every problem of a definition file, one line each, in the order of the file:
 * "FILE:LINE:COLUMN: message" where the problem is at a token (a YAML syntax error, a metric past
 * AUDIT_MAX_METRICS, anything in an expression), "FILE:LINE: message" where it is a whole value,
 * key or item. Columns count characters from 1, a tab as one, as libyaml does. In an expression
 * the position is that of the token at fault in the file, over several lines too (> and |
 * scalars); where a double-quoted scalar's escapes lose the trail, that of its opening quote. */
typedef struct {
    char **lines;
    size_t n;
    size_t n_more;   /* problems past AUDIT_MAX_PROBLEMS, not listed */
    bool unreadable; /* the file could not be read: lines[0] says why, with no FILE:LINE */
} audit_problems_t;

/* Loads and checks a definition: its structure, the names, types and limits of every expression
 * (see expr.h; metrics' numerator and denominator and rules' check, when and require must give
 * booleans, a ratio's observed and a risk model's terms a number or a boolean, a median's or
 * mean's value a number, a derived field's expression its declared type), and the limits above.
 * A metric's keys by kind: proportion (the default) needs numerator; ratio needs observed and
 * expected: risk(ID), ID a model of risk_models; median and mean need value; each needs
 * denominator, and has no key of another kind. follow_up_days needs the linked date field
 * AUDIT_FOLLOW_UP_FIELD. Numbers (intercepts, coefficients, defaults, targets) must be finite. On
 * error returns NULL and writes the first problem to err, e.g. "nhfd.yaml:42: field \"asa_grade\":
 * unknown type \"int\"", followed by " (and 3 more problems: ...)" when there are more. */
audit_def_t *audit_def_load(const char *path, char *err, size_t errlen);
/* The same check, listing every problem (as audit_def_load, it does not stop at the first) in
 * problems, which the caller empties with audit_problems_free whatever the result. Returns the
 * definition, or NULL when there is any problem. */
audit_def_t *audit_def_load_problems(const char *path, audit_problems_t *problems);
void audit_problems_free(audit_problems_t *problems);
/* Loads <dir>/<audit>.yaml, whose "audit" must be audit. */
audit_def_t *audit_def_load_named(const char *dir, const char *audit, char *err, size_t errlen);
void audit_def_destroy(audit_def_t **self_p);
/* A field trusts send, by name (never a linked one), or NULL. */
const audit_field_t *audit_def_field(const audit_def_t *self, const char *name);
/* A linked field (`linked:`), by name, or NULL. */
const audit_field_t *audit_def_linked(const audit_def_t *self, const char *name);
/* A risk model (`risk_models:`), by id, or NULL. O(models). */
const audit_risk_model_t *audit_def_risk_model(const audit_def_t *self, const char *id);
/* The metric whose id is id, or NULL. */
const audit_metric_t *audit_def_metric(const audit_def_t *self, const char *id);
const char *audit_field_type_name(audit_field_type_t t);

/* Slots: each name a record of the audit can hold, numbered once at load: the fields (slot i is
 * fields[i]), then the linked fields, then the derived fields. Every expression of the definition
 * is bound to them at load, so that evaluating one looks no name up. */
size_t audit_def_n_slots(const audit_def_t *self);
int audit_def_slot(const audit_def_t *self, const char *name); /* or -1 */
const char *audit_def_slot_name(const audit_def_t *self, int slot);
audit_field_type_t audit_def_slot_type(const audit_def_t *self, int slot);
/* The field or linked field of a slot, or NULL for a derived one. */
const audit_field_t *audit_def_slot_field(const audit_def_t *self, int slot);

/* Checks that rec is a record of the audit: at most audit_def_n_slots fields, each a field, linked
 * field or derived field of def. A stage checks every payload it reads with it, so that a record
 * with fields the definition does not have (100,000 of them, say) is refused before any work is
 * done on it. Returns 0, or -1 with err, e.g. "the record has 100000 fields, expected at most 32
 * (the fields, linked fields and derived fields of audit nhfd)". O(fields of rec). */
int audit_def_check_record(const audit_def_t *def, const ncap_record_t *rec, char *err,
                           size_t errlen);

/* A value as expressions see it: text of a field of type typed (date/datetime -> EXPR_TIME,
 * integer/decimal -> EXPR_NUMBER, boolean -> EXPR_BOOL, others EXPR_STRING; unparseable ->
 * EXPR_NULL). The text must not be empty (empty is null, the caller's business). */
void audit_typed_value(audit_field_type_t type, const char *text, expr_value_t *out);

/* Checks one non-empty value against its field's type, code list, range and pattern.
 * Returns 0 when it conforms; 2 when it conforms but deserves a warning (an NHS number that is a
 * placeholder, rule "nhs_number_placeholder", or in the test range, "nhs_number_test"); otherwise
 * 1, with rule set to a stable id such as "type",
 * "code", "range", "pattern" and msg to a sentence a data clerk understands, e.g.
 * "\"asa_grade\" is \"7\", expected a whole number from 1 to 5". Never writes identifier values
 * into msg when the field is an identifier. */
int audit_field_check(const audit_field_t *f, const char *value, char *rule, size_t rulelen,
                      char *msg, size_t msglen);

/* Evaluation context: values of rec typed by def (date/datetime -> EXPR_TIME, integer/decimal ->
 * EXPR_NUMBER, boolean -> EXPR_BOOL, others EXPR_STRING; empty or unparseable -> EXPR_NULL).
 * Names not in def but present in rec (e.g. derived fields already computed) are strings, or
 * numbers when they parse as numbers. */
typedef struct {
    const audit_def_t *def;
    const ncap_record_t *rec;
} audit_eval_ctx_t;
int audit_eval_lookup(void *ctx, const char *name, expr_value_t *out);

/* Writes rule's message for rec to out: each {field} replaced by the field's value as sent, or by
 * "empty" when it has none. */
void audit_rule_message(const audit_rule_t *rule, const ncap_record_t *rec, char *out,
                        size_t outlen);
/* The same with the values given by text_of (NULL or "" when a name has no value). */
void audit_rule_message_with(const audit_rule_t *rule,
                             const char *(*text_of)(void *ctx, const char *name), void *ctx,
                             char *out, size_t outlen);

#endif
