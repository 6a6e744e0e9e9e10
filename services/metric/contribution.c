/* contribution.c - what one record adds to each metric, by the metric's kind */
#include "contribution.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "breakdown.h"
#include "datetime.h"
#include "risk_model.h"

/* The largest expected value one record may have (a poisson model's count): x 1e9 it stays far
 * inside a bigint however many records are summed. Beyond it the record's expected is missing. */
#define EXPECTED_MAX 1e6
/* The largest observed count one record may have. */
#define OBSERVED_MAX 1e6

/* Whether the follow-up of a record placed at t is incomplete: its last day (t's day + days) is
 * after the last day the register of deaths covers, or no register covers anything. */
static bool follow_up_held(audit_eval_ctx_t *ctx, int64_t t, int days)
{
    expr_value_t v;
    if (audit_eval_lookup(ctx, AUDIT_FOLLOW_UP_FIELD, &v) != 0 || v.kind != EXPR_TIME)
        return true;
    return ncap_day_of(t) + days > ncap_day_of(v.time);
}

/* The observed count of a ratio: a boolean 1/0, a whole number >= 0, null 0. */
static int observed_count(const audit_metric_t *m, const expr_value_t *v, long long *out, char *err,
                          size_t errlen)
{
    *out = 0;
    if (v->kind == EXPR_BOOL)
        *out = v->b ? 1 : 0;
    else if (v->kind == EXPR_NUMBER && v->num >= 0 && v->num <= OBSERVED_MAX &&
             v->num == floor(v->num))
        *out = (long long)v->num;
    else if (v->kind != EXPR_NULL) {
        char text[64];
        expr_value_format(v, text, sizeof text);
        snprintf(err, errlen,
                 "metric \"%s\": observed is %s, expected true, false or a whole "
                 "number from 0 to %.0f",
                 m->id, text, OBSERVED_MAX);
        return -1;
    }
    return 0;
}

/* Fills c (its metric and denominator set) for a ratio, median or mean. */
static int contribute_kind(const audit_metric_t *m, audit_eval_ctx_t *ctx, contribution_t *c,
                           char *err, size_t errlen)
{
    expr_value_t v;
    char e[256];
    if (m->kind == AUDIT_METRIC_RATIO) {
        double expected = 0;
        risk_result_t r =
            risk_model_expected(m->expected_model, audit_eval_lookup, ctx, &expected, e, sizeof e);
        if (r == RISK_ERROR) {
            snprintf(err, errlen, "metric \"%s\": expected: %s", m->id, e);
            return -1;
        }
        if (expr_eval(m->observed, audit_eval_lookup, ctx, &v, e, sizeof e) != 0) {
            snprintf(err, errlen, "metric \"%s\": observed: %s", m->id, e);
            return -1;
        }
        long long observed;
        if (observed_count(m, &v, &observed, err, errlen))
            return -1;
        if (r == RISK_MISSING || expected > EXPECTED_MAX) {
            c->missing = true;
            return 0;
        }
        c->numerator = observed;
        c->expected_e9 = llround(expected * CONTRIBUTION_EXPECTED_SCALE);
        c->denominator = 1;
        return 0;
    }
    /* median, mean */
    if (expr_eval(m->value, audit_eval_lookup, ctx, &v, e, sizeof e) != 0) {
        snprintf(err, errlen, "metric \"%s\": value: %s", m->id, e);
        return -1;
    }
    if (v.kind != EXPR_NUMBER) {
        c->missing = true;
        return 0;
    }
    c->has_value = true;
    c->value = v.num;
    c->denominator = 1;
    return 0;
}

int contribution_compute(const audit_def_t *def, const ncap_record_t *rec, char period[8],
                         char month[8], contribution_t *out, char *err, size_t errlen)
{
    int64_t t;
    if (!breakdown_period(def, rec, period, month, &t))
        return 0;
    audit_eval_ctx_t ctx = {def, rec};
    int n = 0;
    for (size_t i = 0; i < def->n_metrics; i++) {
        const audit_metric_t *m = &def->metrics[i];
        expr_value_t v;
        char e[256];
        if (expr_eval(m->denominator, audit_eval_lookup, &ctx, &v, e, sizeof e) != 0) {
            snprintf(err, errlen, "metric \"%s\": denominator: %s", m->id, e);
            return -1;
        }
        if (!expr_truthy(&v))
            continue;
        contribution_t *c = &out[n];
        *c = (contribution_t){.metric_id = m->id};
        if (m->follow_up_days > 0 && follow_up_held(&ctx, t, m->follow_up_days)) {
            c->held = true; /* counted once the register covers its follow-up */
        } else if (m->kind == AUDIT_METRIC_PROPORTION) {
            if (expr_eval(m->numerator, audit_eval_lookup, &ctx, &v, e, sizeof e) != 0) {
                snprintf(err, errlen, "metric \"%s\": numerator: %s", m->id, e);
                return -1;
            }
            c->numerator = expr_truthy(&v) ? 1 : 0;
            c->denominator = 1;
        } else if (contribute_kind(m, &ctx, c, err, errlen) != 0)
            return -1;
        n++;
    }
    return n;
}
