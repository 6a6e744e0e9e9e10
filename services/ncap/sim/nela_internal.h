/* nela_internal.h - the simulated NELA-like audit (emergency laparotomy): what the nela_*.c files
 * share with sim.c, write.c and register.c. The world (trusts, patients, the register of deaths)
 * is the one sim_internal.h describes; NELA adds each record's clinical values and outcome, and
 * each trust's true quality of care and case mix.
 *
 * The truth: every record's risk of death within 30 days of arrival comes from one logistic model
 * (nela_model.c, nela.yaml's) over the risk factors the record carries; a trust with excess risk
 * multiplies the odds by its odds ratio, and a trust with sicker patients draws them from a
 * population shifted towards frailty but cares for them as everyone else does. */
#ifndef NCAP_SIM_NELA_INTERNAL_H
#define NCAP_SIM_NELA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_internal.h"

/* the columns by index, in the order written */
typedef enum {
    NELA_C_ID,
    NELA_C_TRUST,
    NELA_C_SITE,
    NELA_C_NHS,
    NELA_C_FORENAME,
    NELA_C_SURNAME,
    NELA_C_DOB,
    NELA_C_SEX,
    NELA_C_POSTCODE,
    NELA_C_LSOA,
    NELA_C_ETHNIC,
    NELA_C_ARRIVAL,
    NELA_C_DECISION,
    NELA_C_URGENCY,
    NELA_C_THEATRE,
    NELA_C_ASA,
    NELA_C_RISK_DOCUMENTED,
    NELA_C_RISK,
    NELA_C_CARDIAC,
    NELA_C_RESPIRATORY,
    NELA_C_ECG,
    NELA_C_GCS,
    NELA_C_PULSE,
    NELA_C_SYSTOLIC,
    NELA_C_HAEMOGLOBIN,
    NELA_C_WHITE_CELLS,
    NELA_C_SODIUM,
    NELA_C_POTASSIUM,
    NELA_C_UREA,
    NELA_C_CREATININE,
    NELA_C_ALBUMIN,
    NELA_C_INDICATION,
    NELA_C_SEVERITY,
    NELA_C_PROCEDURES,
    NELA_C_SOILING,
    NELA_C_BLOOD_LOSS,
    NELA_C_MALIGNANCY,
    NELA_C_SURGEON,
    NELA_C_ANAESTHETIST,
    NELA_C_DESTINATION,
    NELA_C_DISCHARGE_DATE,
    NELA_C_STATUS,
    NELA_NCOLUMNS
} nela_col_t;

/* NCEPOD urgency, by index of nela_urgency_codes: 1, 2A, 2B, 3 */
enum { URG_1, URG_2A, URG_2B, URG_3 };
/* indication for surgery, by index of nela_indication_codes ("" when not recorded) */
enum { IND_NONE, IND_SEPSIS, IND_ISCHAEMIA, IND_BLEEDING, IND_OBSTRUCTION, IND_OTHER, IND_N };
/* destination after surgery, by index of nela_destination_codes: W, XR, L2, L3, D */
enum { DEST_WARD, DEST_XR, DEST_L2, DEST_L3, DEST_DIED };

/* A record's risk factors, as written (the model reads these, not the latent traits behind
 * them). The P-POSSUM categories hold their points: 1, 2, 4 or 8. */
typedef struct {
    int age;  /* whole years at arrival */
    char sex; /* as sim_sex_codes */
    uint8_t asa, urgency, cardiac, respiratory, ecg, gcs, severity, procedures, soiling, blood_loss,
        malignancy;
    int pulse, systolic, sodium, creatinine, haemoglobin; /* haemoglobin 0: not measured */
    double white_cells, potassium, urea;                  /* one decimal */
    int albumin;                                          /* g/L; 0: not measured */
    uint8_t indication;                                   /* IND_... */
} nela_risk_t;

typedef struct nela_rec {
    nela_risk_t x;
    double risk;      /* the model's probability of death within 30 days, before the trust */
    double true_risk; /* ... with the trust's odds ratio: what the death was drawn from */
    int32_t decision, theatre; /* minutes after arrival */
    int32_t discharge;         /* days from the day of surgery to discharge */
    int32_t death;             /* days from the day of surgery to death, or NELA_ALIVE */
    bool died_30d; /* death within 30 days of the day of arrival (0..30), never before surgery */
    bool risk_documented, surgeon, anaesthetist;
    uint16_t documented_risk; /* tenths of a percent */
    uint8_t destination;
} nela_rec_t;

#define NELA_ALIVE INT32_MAX /* nela_rec_t.death of a patient alive a year after surgery */

/* what kind of trust a trust is, in truth */
typedef enum { NELA_ORDINARY, NELA_EXCESS, NELA_CASEMIX } nela_role_t;

typedef struct nela_trust {
    nela_role_t role;
    double odds_ratio;    /* of death, on top of the model: > 1 at a trust with excess risk */
    double frailty_shift; /* mean of its patients' frailty (0 for the population) */
} nela_trust_t;

/* the true odds ratio of a trust with excess risk (3: O/E near 1.8, beyond the 99.8% limit even
 * at the smallest of 20 trusts in a quarter of 20,000 records, where 2.5 misses about 1 in 50),
 * and the frailty of the sicker trust's patients (in standard deviations of the population's) */
#define NELA_EXCESS_OR 3.0
#define NELA_CASEMIX_SHIFT 0.8

/* ---------- nela_fields.c: the columns and coded values ---------- */

extern const char *const nela_columns[NELA_NCOLUMNS];
extern const char *const nela_urgency_codes[4];
extern const char *const nela_destination_codes[5];
extern const char *const nela_indication_codes[IND_N];

/* ---------- nela_model.c: the true risk model ---------- */

/* The linear predictor of death within 30 days of arrival (log odds) for risk factors x. */
double nela_model_eta(const nela_risk_t *x);
/* 1 / (1 + exp(-eta)) */
double nela_logistic(double eta);

/* ---------- nela_records.c: the trusts' roles, the records, their deaths ---------- */

/* Builds the NELA records of a sim_new'd world whose trusts exist and whose record counts are
 * split (count, ntrusts slots): self->recs and self->nela. Returns 0, or -1 when out of memory. */
int nela_new_records(sim_t *self, const size_t *count);
/* The register of deaths from the records' outcomes, then as many people not in the audit. Returns
 * 0, or -1 when out of memory. Once the records are in order. */
int nela_add_deaths(sim_t *self);

/* ---------- nela_write.c: the files and the truth ---------- */

int nela_write_header(FILE *out);
int nela_write_trust(const sim_t *self, size_t t, FILE *out);
int nela_write_truth(const sim_t *self, FILE *out, bool one_file);
int nela_write_trusts_truth(const sim_t *self, FILE *out);
void nela_write_summary(const sim_t *self, FILE *out);

#endif
