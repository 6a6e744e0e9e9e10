/* risk_model.c - a record's expected value under a risk model (see risk_model.h) */
#include "risk_model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>

risk_result_t risk_model_expected(const audit_risk_model_t *model, expr_lookup_fn lookup, void *ctx,
                                  double *expected, char *err, size_t errlen)
{
    assert(model);
    assert(expected);
    *expected = 0;
    if (err && errlen)
        err[0] = '\0';
    double eta = model->intercept;
    for (size_t i = 0; i < model->n_terms; i++) {
        const audit_risk_term_t *t = &model->terms[i];
        expr_value_t v;
        char e[256];
        if (expr_eval(t->expr, lookup, ctx, &v, e, sizeof e) != 0) {
            if (err && errlen)
                snprintf(err, errlen, "risk model \"%s\": term %zu (%s): %s", model->id, i + 1,
                         t->src, e);
            return RISK_ERROR;
        }
        double x;
        if (v.kind == EXPR_NUMBER)
            x = v.num;
        else if (v.kind == EXPR_BOOL)
            x = v.b ? 1 : 0;
        else if (v.kind == EXPR_NULL && t->has_default)
            x = t->default_value;
        else if (v.kind == EXPR_NULL) {
            if (err && errlen)
                snprintf(err, errlen, "risk model \"%s\": term %zu (%s) has no value", model->id,
                         i + 1, t->src);
            return RISK_MISSING;
        } else {
            if (err && errlen)
                snprintf(err, errlen,
                         "risk model \"%s\": term %zu (%s) gives %s, expected a number", model->id,
                         i + 1, t->src, v.kind == EXPR_STRING ? "text" : "a date/time");
            return RISK_ERROR;
        }
        eta += t->coefficient * x;
    }
    double e = model->kind == AUDIT_RISK_LOGISTIC ? 1.0 / (1.0 + exp(-eta)) : exp(eta);
    if (!isfinite(eta) || !isfinite(e)) {
        if (err && errlen)
            snprintf(err, errlen, "risk model \"%s\": the linear predictor has no finite value",
                     model->id);
        return RISK_MISSING;
    }
    *expected = e;
    return RISK_VALUE;
}
