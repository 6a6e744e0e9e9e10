/* release_input.c - a release's settings from its audit's definition */
#include "release_input.h"

#include <stdlib.h>

benchmark_metric_t *release_input_metrics(const audit_def_t *def)
{
    benchmark_metric_t *m = calloc(def->n_metrics + 1, sizeof *m);
    if (!m)
        return NULL;
    for (size_t i = 0; i < def->n_metrics; i++) {
        const audit_metric_t *am = &def->metrics[i];
        benchmark_polarity_t pol = POLARITY_NONE;
        if (am->polarity == AUDIT_POLARITY_HIGHER_BETTER)
            pol = POLARITY_HIGHER_BETTER;
        else if (am->polarity == AUDIT_POLARITY_LOWER_BETTER)
            pol = POLARITY_LOWER_BETTER;
        funnel_od_t od = FUNNEL_OD_NONE;
        if (am->overdispersion == AUDIT_OVERDISPERSION_MULTIPLICATIVE)
            od = FUNNEL_OD_MULTIPLICATIVE;
        else if (am->overdispersion == AUDIT_OVERDISPERSION_ADDITIVE)
            od = FUNNEL_OD_ADDITIVE;
        m[i] = (benchmark_metric_t){.id = am->id,
                                    .label = am->label,
                                    .polarity = pol,
                                    .overdispersion = od,
                                    .numerator_expr = am->numerator_src,
                                    .denominator_expr = am->denominator_src};
    }
    return m;
}

long long release_input_min_count(const audit_def_t *def)
{
    return def->disclosure_min_count;
}
