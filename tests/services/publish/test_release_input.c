/* test_release_input.c - what a release takes from its audit's definition and reference data, as
 * ncap-publishd and `ncap release build` both take it (release_input.h): each metric's kind,
 * polarity, overdispersion, expressions, follow-up and target, the disclosure rule, a trust's
 * region named, and the provenance latest.json carries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "nhfd_fixture.h"
#include "release_input.h"

static void test_metrics_and_disclosure(void **state)
{
    const audit_def_t *def = *state;
    benchmark_metric_t *m = release_input_metrics(def);
    assert_non_null(m);
    assert_true(def->n_metrics >= 3);
    bool kinds[4] = {false};
    for (size_t i = 0; i < def->n_metrics; i++) {
        const audit_metric_t *am = &def->metrics[i];
        assert_string_equal(m[i].id, am->id);
        assert_string_equal(m[i].label, am->label);
        /* the expressions borrowed as they are (NULL where the kind has none) */
        assert_ptr_equal(m[i].numerator_expr, am->numerator_src);
        assert_ptr_equal(m[i].denominator_expr, am->denominator_src);
        assert_ptr_equal(m[i].observed_expr, am->observed_src);
        assert_ptr_equal(m[i].expected_model, am->expected_model_id);
        assert_ptr_equal(m[i].value_expr, am->value_src);
        assert_int_equal((int)m[i].kind, (int)am->kind);
        assert_int_equal(m[i].follow_up_days, am->follow_up_days);
        assert_int_equal(m[i].has_target, am->has_target);
        kinds[m[i].kind] = true;
        /* NHFD: surgery and assessment in time are better higher; mortality and hours lower */
        if (strncmp(m[i].id, "mortality_30d", 13) == 0 ||
            strcmp(m[i].id, "arrival_to_surgery_hours") == 0) {
            assert_int_equal(m[i].polarity, POLARITY_LOWER_BETTER);
            assert_true(strcmp(m[i].id, "arrival_to_surgery_hours") == 0 ||
                        m[i].follow_up_days == 30);
        } else if (strstr(m[i].id, "before_arrival") == NULL) {
            assert_int_equal(m[i].polarity, POLARITY_HIGHER_BETTER);
        }
        assert_int_equal((int)m[i].overdispersion, (int)am->overdispersion);
    }
    /* NHFD has a risk-adjusted ratio and a median */
    assert_true(kinds[BENCHMARK_PROPORTION] && kinds[BENCHMARK_RATIO] && kinds[BENCHMARK_MEDIAN]);
    free(m);
    assert_int_equal(release_input_min_count(def), 8);
}

static void test_org(void **state)
{
    (void)state;
    benchmark_org_t o = release_input_org("RH8", "ROYAL DEVON", "Y57");
    assert_string_equal(o.code, "RH8");
    assert_string_equal(o.name, "ROYAL DEVON");
    assert_string_equal(o.region, "Y57");
    assert_string_equal(o.region_name, "South of England");
    o = release_input_org("RZZ", "SOMEWHERE", "unknown");
    assert_null(o.region_name);
}

static void test_provenance(void **state)
{
    const audit_def_t *def = *state;
    json_t *p = release_input_provenance(def, 3, "provisional", 477, "2026-01-02T03:04:05Z",
                                         "ncap-publishd 0.1.0");
    assert_non_null(p);
    char *text = json_dumps(p, JSON_PRESERVE_ORDER | JSON_COMPACT);
    assert_non_null(text);
    char want[512];
    snprintf(want, sizeof want,
             "{\"audit_name\":\"%s\",\"dataset_version\":\"%s\",\"speciality\":\"%s\","
             "\"revision\":3,\"status\":"
             "\"provisional\",\"records\":477,\"created_at\":\"2026-01-02T03:04:05Z\","
             "\"built_by\":\"ncap-publishd 0.1.0\"}",
             def->name, def->dataset_version, def->speciality);
    assert_string_equal(text, want);
    free(text);
    json_decref(p);
    /* an offline build: no revision; no status when none is given */
    p = release_input_provenance(def, 0, NULL, 0, "2026-01-02T03:04:05Z", "ncap release build");
    assert_non_null(p);
    assert_true(json_is_null(json_object_get(p, "revision")));
    assert_true(json_is_null(json_object_get(p, "status")));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_and_disclosure),
        cmocka_unit_test(test_org),
        cmocka_unit_test(test_provenance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
