/* nhfd_fields.c - the NHFD columns the simulator writes, and the coded value sets it draws from
 * with the weights it draws with. */
#include "sim_internal.h"

const char *const sim_columns[SIM_NCOLUMNS] = {
    "local_record_id",
    "trust_code",
    "site_code",
    "nhs_number",
    "forename",
    "surname",
    "date_of_birth",
    "sex",
    "postcode",
    "lsoa",
    "ethnic_category",
    "arrival_datetime",
    "ward_admission_datetime",
    "never_admitted_to_ward",
    "residence_at_fracture",
    "pre_fracture_mobility",
    "amts_pre_op",
    "fracture_type",
    "fracture_side",
    "pathological_fracture",
    "asa_grade",
    "orthogeriatric_assessment_datetime",
    "surgery_datetime",
    "operation",
    "amts_post_op",
    "discharge_destination",
    "discharge_date",
};

/* value sets, each with the weights the simulator draws with */
const char *const sim_sex_codes[] = {"1", "2", "9", "X"};
const unsigned sim_sex_w[] = {296, 700, 2, 2};
const char *const sim_ethnic_codes[] = {"A", "B", "C", "D", "E", "F", "G", "H", "J",
                                        "K", "L", "M", "N", "P", "R", "S", "Z", "99"};
const unsigned sim_ethnic_w[] = {780, 20, 40, 3, 2, 2, 3, 25, 15, 5, 8, 12, 8, 3, 4, 10, 45, 15};
const char *const sim_residence_codes[] = {"1", "2", "3", "4", "5", "9"};
const unsigned sim_residence_w[] = {700, 120, 100, 20, 40, 20};
const char *const sim_mobility_codes[] = {"1", "2", "3", "4", "5", "9"};
const unsigned sim_mobility_w[] = {350, 250, 200, 120, 50, 30};
const char *const sim_ftype_codes[] = {"ICD", "ICU", "IT", "ST"};
const unsigned sim_ftype_w[] = {480, 100, 350, 70};
const char *const sim_side_codes[] = {"L", "R"};
const char *const sim_patho_codes[] = {"N", "Y", "U"};
const unsigned sim_patho_w[] = {950, 20, 30};
const char *const sim_asa_codes[] = {"1", "2", "3", "4", "5"};
const unsigned sim_asa_w[] = {20, 250, 550, 170, 10};
const char *const sim_op_codes[] = {"CS", "HA", "THR", "SHS", "IMN", "OTH", "NOP"};
/* operation by fracture type (ICD, ICU, IT, ST), when operated */
const unsigned sim_op_w[4][6] = {
    {4, 80, 12, 0, 0, 4}, {60, 30, 0, 6, 0, 4}, {0, 0, 0, 75, 22, 3}, {0, 0, 0, 10, 85, 5}};
const char *const sim_discharge_codes[] = {"1", "2", "3", "4", "5", "6", "9"};
const unsigned sim_discharge_w[] = {450, 80, 120, 220, 50, 60, 20};
