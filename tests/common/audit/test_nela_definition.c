/* test_nela_definition.c - the emergency laparotomy definition (deploy/audits/nela.yaml): it loads,
 * `ncap validate` (the pipeline's engine) passes a good record and reports each kind of problem
 * with the right row, field, rule and severity, and its key metrics count the right patients. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_def.h"
#include "commands.h"
#include "contribution.h"
#include "record.h"

#include "validate_text.h"

#define HEADER                                                                                     \
    "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,arrival_datetime,"          \
    "decision_to_operate_datetime,ncepod_urgency,theatre_arrival_datetime,asa_grade,"              \
    "preop_risk_documented,preop_mortality_risk,cardiac_signs,respiratory_signs,ecg,"              \
    "glasgow_coma_score,pulse_rate,systolic_bp,white_cell_count,sodium,potassium,urea,"            \
    "creatinine,operative_severity,number_of_procedures,peritoneal_soiling,blood_loss,"            \
    "malignancy,consultant_surgeon_present,consultant_anaesthetist_present,postop_destination,"    \
    "discharge_date,status_at_discharge\n"

/* line 2: a good record; then each a good record with one thing wrong */
#define GOOD                                                                                       \
    "EL-0001,RR8,RR801,4857773457,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"      \
    "10T16:"                                                                                       \
    "30,3,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n"
#define BAD                                                                                             \
    /* 3: ASA 6 */                                                                                      \
    "EL-0002,RR8,RR801,6400123458,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,6,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 4: an         \
                                                                                          urgency       \
                                                                                          NCEPOD        \
                                                                                          does not      \
                                                                                          have */       \
    "EL-0003,RR8,RR801,7000000015,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2C,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 5: in         \
                                                                                          theatre       \
                                                                                          before        \
                                                                                          the           \
                                                                                          decision      \
                                                                                          to            \
                                                                                          operate       \
                                                                                        */              \
    "EL-0004,RR8,RR801,4010232137,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T11:"                                                                                            \
    "00,3,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 6: risk       \
                                                                                          documented,   \
                                                                                          no value      \
                                                                                        */              \
    "EL-0005,RR8,RR801,4857773457,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,Y,,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 7: a value,      \
                                                                                       not              \
                                                                                       documented       \
                                                                                     */                 \
    "EL-0006,RR8,RR801,6400123458,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,N,12,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 8:             \
                                                                                         potassium      \
                                                                                         possible       \
                                                                                         but rare       \
                                                                                       */               \
    "EL-0007,RR8,RR801,7000000015,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,Y,8.5,2,1,1,15,104,118,14.2,134,7.9,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 9: no         \
                                                                                          decision      \
                                                                                          time */       \
    "EL-0008,RR8,RR801,4010232137,1950-05-12,2,2026-01-10T08:00,,2A,2026-01-10T16:30,3,Y,8.5,2,1,"      \
    "1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 10: a child */               \
    "EL-0009,RR8,RR801,4857773457,2010-01-01,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 11: died      \
                                                                                          in            \
                                                                                          theatre,      \
                                                                                          discharged    \
                                                                                          alive */      \
    "EL-0010,RR8,RR801,6400123458,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,D,2026-01-20,A\n" /* 12: a          \
                                                                                         pulse          \
                                                                                         that is        \
                                                                                         not a          \
                                                                                         number */      \
    "EL-0011,RR8,RR801,7000000015,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,2A,2026-01-"           \
    "10T16:"                                                                                            \
    "30,3,Y,8.5,2,1,1,15,fast,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n" /* 13:          \
                                                                                           "immediate", \
                                                                                           in           \
                                                                                           theatre      \
                                                                                           30           \
                                                                                           hours        \
                                                                                           later        \
                                                                                         */             \
    "EL-0012,RR8,RR801,4010232137,1950-05-12,2,2026-01-10T08:00,2026-01-10T12:00,1,2026-01-11T18:"      \
    "00,3,Y,8.5,2,1,1,15,104,118,14.2,134,4.1,9.8,110,4,1,8,2,1,Y,Y,L2,2026-01-20,A\n"

static void test_definition_loads(void **state)
{
    (void)state;
    char err[512] = "";
    audit_def_t *def = audit_def_load(AUDIT_DIR "/nela.yaml", err, sizeof err);
    if (!def)
        fail_msg("%s", err);
    assert_string_equal(def->audit, "nela");
    assert_int_equal(def->n_metrics, 7);
    /* the identifiers are NHFD's, linked the same way */
    const char *identifiers[] = {"nhs_number",    "forename", "surname",
                                 "date_of_birth", "postcode", "lsoa"};
    for (size_t i = 0; i < sizeof identifiers / sizeof identifiers[0]; i++) {
        const audit_field_t *f = audit_def_field(def, identifiers[i]);
        assert_non_null(f);
        assert_true(f->identifier);
        assert_non_null(f->link_as);
    }
    /* P-POSSUM categories are coded by their points */
    const audit_field_t *soiling = audit_def_field(def, "peritoneal_soiling");
    assert_int_equal(soiling->n_codes, 4);
    assert_string_equal(soiling->codes[3].code, "8");
    assert_string_equal(soiling->codes[3].label, "Free bowel content, pus or blood");
    audit_def_destroy(&def);
}

static void test_good_record_passes(void **state)
{
    (void)state;
    result_t r = validate_text("nela", HEADER GOOD);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "row,field,rule,severity,value,message\n");
    assert_non_null(strstr(r.err, "1 data rows, 0 errors, 0 warnings"));
    result_free(&r);
}

static void test_each_kind_of_problem(void **state)
{
    (void)state;
    result_t r = validate_text("nela", HEADER GOOD BAD);
    assert_int_equal(r.rc, 1);
    assert_string_equal(
        r.out,
        "row,field,rule,severity,value,message\n"
        "3,asa_grade,range,error,6,\"\"\"asa_grade\"\" is \"\"6\"\", expected a whole number from "
        "1 to 5\"\n"
        "4,ncepod_urgency,code,error,2C,\"\"\"ncepod_urgency\"\" is \"\"2C\"\", expected one of 1 "
        "(Immediate (within 2 hours)), 2A (Urgent (2 to 6 hours)), 2B (Urgent (6 to 18 hours)), 3 "
        "(Expedited (more than 18 hours))\"\n"
        "5,theatre_arrival_datetime,theatre_before_decision,error,2026-01-10T11:00,arrival in "
        "theatre (2026-01-10T11:00) is before the decision to operate (2026-01-10T12:00)\n"
        "6,preop_mortality_risk,risk_documented_no_value,error,,the risk of death is documented "
        "(preop_risk_documented is Y) but no value is given: send the documented risk as a "
        "percentage\n"
        "7,preop_mortality_risk,risk_value_not_documented,error,12,a risk of death is given (12) "
        "but preop_risk_documented is N: leave the risk empty when none was documented before "
        "surgery\n"
        "8,potassium,potassium_implausible,warning,7.9,\"potassium is 7.9 mmol/L, rarely seen "
        "below 2.0 or above 7.5: please check it\"\n"
        "9,decision_to_operate_datetime,required,error,,\"\"\"decision_to_operate_datetime\"\" "
        "(Date and time of the decision to operate) is required but empty\"\n"
        "10,age_at_arrival,age_under_18,error,16,age at arrival is 16: the audit is of adults (18 "
        "and over); please check the date of birth\n"
        "11,status_at_discharge,died_in_theatre_alive,error,A,the patient died in theatre "
        "(postop_destination is D) but status at discharge is A\n"
        "12,pulse_rate,type,error,fast,\"\"\"pulse_rate\"\" is \"\"fast\"\", expected a whole "
        "number from 20 to 250\"\n"
        "13,ncepod_urgency,immediate_urgency_slow,warning,1,urgency is immediate (1) but the "
        "patient reached theatre more than 24 hours after the decision (2026-01-10T12:00 to "
        "2026-01-11T18:00): please check the urgency and both times\n");
    assert_non_null(strstr(r.err, "12 data rows, 9 errors, 2 warnings"));
    result_free(&r);
}

/* ---------------------------------------------------------------- key metrics */

/* A pseudonymised record as validation passes it to the metric stage. */
static ncap_record_t *episode(const char *urgency, const char *theatre, const char *risk,
                              const char *anaesthetist, const char *destination)
{
    ncap_record_t *r = ncap_record_new();
    ncap_record_set(r, "local_record_id", "EL-1");
    ncap_record_set(r, "trust_code", "RR8");
    ncap_record_set(r, "site_code", "RR801");
    ncap_record_set(r, "arrival_datetime", "2026-01-10T08:00");
    ncap_record_set(r, "decision_to_operate_datetime", "2026-01-10T12:00");
    ncap_record_set(r, "ncepod_urgency", urgency);
    ncap_record_set(r, "theatre_arrival_datetime", theatre);
    ncap_record_set(r, "preop_risk_documented", risk[0] ? "Y" : "N");
    ncap_record_set(r, "preop_mortality_risk", risk);
    ncap_record_set(r, "consultant_surgeon_present", "Y");
    ncap_record_set(r, "consultant_anaesthetist_present", anaesthetist);
    ncap_record_set(r, "postop_destination", destination);
    return r;
}

/* "numerator/denominator" of each metric, in the definition's order, space-separated */
static void metrics_of(const audit_def_t *def, ncap_record_t *rec, char *out, size_t outlen)
{
    contribution_t c[8];
    char period[8], month[8], err[256];
    int n = contribution_compute(def, rec, period, month, c, err, sizeof err);
    if (n < 0)
        fail_msg("%s", err);
    assert_string_equal(period, "2026Q1");
    out[0] = '\0';
    for (size_t m = 0; m < def->n_metrics; m++) {
        int num = 0, den = 0;
        for (int i = 0; i < n; i++)
            if (strcmp(c[i].metric_id, def->metrics[m].id) == 0)
                num = c[i].numerator, den = c[i].denominator;
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "%s%s %d/%d", used ? ", " : "", def->metrics[m].id, num,
                 den);
    }
    ncap_record_destroy(&rec);
}

static void test_key_metrics(void **state)
{
    (void)state;
    char err[512] = "", got[512];
    audit_def_t *def = audit_def_load(AUDIT_DIR "/nela.yaml", err, sizeof err);
    assert_non_null(def);
    /* high risk, both consultants, critical care, urgent 2A in theatre after 4.5 hours */
    metrics_of(def, episode("2A", "2026-01-10T16:30", "8.5", "Y", "L2"), got, sizeof got);
    assert_string_equal(got, "risk_documented 1/1, consultants_high_risk 1/1, theatre_in_time "
                             "1/1, critical_care_high_risk 1/1, "
                             "mortality_30d_adjusted 0/0, mortality_30d 0/0, "
                             "decision_to_theatre_hours 0/1");
    /* high risk without a consultant anaesthetist, to the ward; 2A after 7 hours is late */
    metrics_of(def, episode("2A", "2026-01-10T19:00", "12", "N", "W"), got, sizeof got);
    assert_string_equal(got, "risk_documented 1/1, consultants_high_risk 0/1, theatre_in_time "
                             "0/1, critical_care_high_risk 0/1, "
                             "mortality_30d_adjusted 0/0, mortality_30d 0/0, "
                             "decision_to_theatre_hours 0/1");
    /* low risk: not in the high-risk metrics; 2B within 18 hours */
    metrics_of(def, episode("2B", "2026-01-11T05:00", "3", "N", "W"), got, sizeof got);
    assert_string_equal(got, "risk_documented 1/1, consultants_high_risk 0/0, theatre_in_time "
                             "1/1, critical_care_high_risk 0/0, "
                             "mortality_30d_adjusted 0/0, mortality_30d 0/0, "
                             "decision_to_theatre_hours 0/1");
    /* risk not documented; expedited surgery has no target; died in theatre */
    metrics_of(def, episode("3", "2026-01-12T09:00", "", "Y", "D"), got, sizeof got);
    assert_string_equal(got, "risk_documented 0/1, consultants_high_risk 0/0, theatre_in_time "
                             "0/0, critical_care_high_risk 0/0, "
                             "mortality_30d_adjusted 0/0, mortality_30d 0/0, "
                             "decision_to_theatre_hours 0/1");
    /* immediate: 2 hours is in time, 2 hours 1 minute is not */
    metrics_of(def, episode("1", "2026-01-10T14:00", "30", "Y", "L3"), got, sizeof got);
    assert_non_null(strstr(got, "theatre_in_time 1/1"));
    metrics_of(def, episode("1", "2026-01-10T14:01", "30", "Y", "L3"), got, sizeof got);
    assert_non_null(strstr(got, "theatre_in_time 0/1"));
    audit_def_destroy(&def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definition_loads),
        cmocka_unit_test(test_good_record_passes),
        cmocka_unit_test(test_each_kind_of_problem),
        cmocka_unit_test(test_key_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
