/* contribution.c - numerator and denominator of each metric for one record */
#include "contribution.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "datetime.h"

int contribution_compute(const audit_def_t *def, const ncap_record_t *rec, char period[8],
                         char month[8], contribution_t *out, char *err, size_t errlen)
{
    period[0] = '\0';
    month[0] = '\0';
    const char *pv = ncap_record_get(rec, def->period_field);
    int64_t t;
    bool has_time;
    if (!pv || ncap_datetime_parse(pv, &t, &has_time) != 0)
        return 0;
    ncap_quarter_label(t, period);
    ncap_month_label(t, month);
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
        if (expr_eval(m->numerator, audit_eval_lookup, &ctx, &v, e, sizeof e) != 0) {
            snprintf(err, errlen, "metric \"%s\": numerator: %s", m->id, e);
            return -1;
        }
        out[n] = (contribution_t){
            .metric_id = m->id, .denominator = 1, .numerator = expr_truthy(&v) ? 1 : 0};
        n++;
    }
    return n;
}
