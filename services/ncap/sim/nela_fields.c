/* nela_fields.c - the NELA columns the simulator writes (deploy/audits/nela.yaml's fields, in its
 * order) and the coded values it writes. */
#include "nela_internal.h"

const char *const nela_columns[NELA_NCOLUMNS] = {
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
    "decision_to_operate_datetime",
    "ncepod_urgency",
    "theatre_arrival_datetime",
    "asa_grade",
    "preop_risk_documented",
    "preop_mortality_risk",
    "cardiac_signs",
    "respiratory_signs",
    "ecg",
    "glasgow_coma_score",
    "pulse_rate",
    "systolic_bp",
    "haemoglobin",
    "white_cell_count",
    "sodium",
    "potassium",
    "urea",
    "creatinine",
    "albumin",
    "indication",
    "operative_severity",
    "number_of_procedures",
    "peritoneal_soiling",
    "blood_loss",
    "malignancy",
    "consultant_surgeon_present",
    "consultant_anaesthetist_present",
    "postop_destination",
    "discharge_date",
    "status_at_discharge",
};

const char *const nela_urgency_codes[4] = {"1", "2A", "2B", "3"};
const char *const nela_destination_codes[5] = {"W", "XR", "L2", "L3", "D"};
const char *const nela_indication_codes[IND_N] = {"",         "sepsis",      "ischaemia",
                                                  "bleeding", "obstruction", "other"};
