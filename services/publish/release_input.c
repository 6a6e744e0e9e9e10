/* release_input.c - a release's settings from its audit's definition */
#include "release_input.h"

#include <jansson.h>
#include <stdlib.h>

#include "nhs_code_list.h"

_Static_assert((int)AUDIT_METRIC_PROPORTION == (int)BENCHMARK_PROPORTION &&
                   (int)AUDIT_METRIC_RATIO == (int)BENCHMARK_RATIO &&
                   (int)AUDIT_METRIC_MEDIAN == (int)BENCHMARK_MEDIAN &&
                   (int)AUDIT_METRIC_MEAN == (int)BENCHMARK_MEAN,
               "benchmark_kind_t follows audit_metric_kind_t");

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
                                    .denominator_expr = am->denominator_src,
                                    /* the orders of the two enums are the same */
                                    .kind = (benchmark_kind_t)am->kind,
                                    .observed_expr = am->observed_src,
                                    .expected_model = am->expected_model_id,
                                    .value_expr = am->value_src,
                                    .follow_up_days = am->follow_up_days,
                                    .has_target = am->has_target,
                                    .target = am->target};
    }
    return m;
}

long long release_input_min_count(const audit_def_t *def)
{
    return def->disclosure_min_count;
}

benchmark_input_t release_input_of(const audit_def_t *def, const char *period,
                                   const benchmark_metric_t *metrics, const benchmark_cell_t *cells,
                                   size_t n_cells, const benchmark_org_t *orgs, size_t n_orgs)
{
    return (benchmark_input_t){.audit = def->audit,
                               .period = period,
                               .metrics = metrics,
                               .n_metrics = def->n_metrics,
                               .min_count = release_input_min_count(def),
                               .cells = cells,
                               .n_cells = n_cells,
                               .orgs = orgs,
                               .n_orgs = n_orgs};
}

benchmark_org_t release_input_org(const char *code, const char *name, const char *region)
{
    return (benchmark_org_t){.code = code,
                             .name = name,
                             .region = region,
                             .region_name = nhs_national_grouping_name(region)};
}

json_t *release_input_provenance(const audit_def_t *def, int revision, const char *status,
                                 long long records, const char *created_at, const char *built_by)
{
    json_t *p = json_object();
    if (!p)
        return NULL;
    int rc = json_object_set_new(p, "audit_name", json_string(def->name));
    rc |= json_object_set_new(p, "dataset_version", json_string(def->dataset_version));
    rc |= json_object_set_new(p, "speciality", json_string(def->speciality));
    rc |= json_object_set_new(p, "revision", revision > 0 ? json_integer(revision) : json_null());
    rc |= json_object_set_new(p, "status", status ? json_string(status) : json_null());
    rc |= json_object_set_new(p, "records", json_integer(records));
    rc |= json_object_set_new(p, "created_at", json_string(created_at));
    rc |= json_object_set_new(p, "built_by", json_string(built_by));
    if (def->outliers.enabled) /* what the outlier column and the 99.8% limits mean here */
        rc |= json_object_set_new(
            p, "outlier_process",
            json_pack("{s:i, s:i, s:i, s:s}", "notify_within_days",
                      def->outliers.notify_within_days, "respond_within_days",
                      def->outliers.respond_within_days, "publish_within_days",
                      def->outliers.publish_within_days, "public",
                      "an alarm is shown once its outlier case is published, the alert of its "
                      "direction until then; a trust's or site's 99.8% limits only with a "
                      "published alarm"));
    if (rc != 0)
        json_decref(p);
    return rc == 0 ? p : NULL;
}
