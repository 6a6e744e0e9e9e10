/* risk_model.h - a record's expected value under a risk model of its definition (pure)
 *
 * eta = intercept + sum over the terms, in the order the definition lists them, of coefficient x
 * the term's value (a boolean counts 1 or 0); the expected value is 1 / (1 + exp(-eta)) for a
 * logistic model (a probability) and exp(eta) for a poisson one (an expected count). A term whose
 * value is null (a missing input, ln of 0, ...) takes its `default:` when the model names one;
 * otherwise the record has no expected value (missing). O(size of the terms' expressions). */
#ifndef NCAP_RISK_MODEL_H
#define NCAP_RISK_MODEL_H

#include <stddef.h>

#include "audit_def.h"
#include "expr.h"

typedef enum {
    RISK_ERROR = -1,  /* an expression failed (err says which term and why) */
    RISK_VALUE = 0,   /* *expected holds the record's expected value */
    RISK_MISSING = 1, /* an input is missing (err names the first term), or eta has no finite
                         value: the record has no expected value */
} risk_result_t;

/* Evaluates model on the values lookup gives (as expr_eval: audit_eval_lookup with an
 * audit_eval_ctx_t for a record of the definition). *expected is 0 unless RISK_VALUE. */
risk_result_t risk_model_expected(const audit_risk_model_t *model, expr_lookup_fn lookup, void *ctx,
                                  double *expected, char *err, size_t errlen);

#endif
