/* nela_model.c - the simulator's true model of death within 30 days of an emergency laparotomy:
 * the one place its form and coefficients live.
 *
 * The form follows the published NELA risk model (Eugene et al., BJA 2018;121:739-748): a logistic
 * model over age, ASA grade, NCEPOD urgency, the P-POSSUM physiology (cardiac and respiratory
 * signs, ECG, Glasgow coma score, pulse, systolic pressure, white cells, sodium, potassium, urea,
 * creatinine) and operative findings (severity, procedures, soiling, blood loss, malignancy), with
 * measurements transformed (logs, squares about a normal value, clamped to a plausible range)
 * and categories as dummies against the healthiest. The coefficients are the simulator's own,
 * chosen for a 30-day mortality near NELA's 9-10% and a c statistic near its 0.86; they are not
 * the published ones. Each term is written below as the expression an audit definition would give
 * it (common/audit/expr.h with ln, pow, clamp), so that a definition's `risk_models:` can state
 * exactly this model and the release's expected deaths are then the truth's. */
#include <math.h>

#include "nela_internal.h"

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static double sq(double x)
{
    return x * x;
}

double nela_logistic(double eta)
{
    return 1.0 / (1.0 + exp(-eta));
}

double nela_model_eta(const nela_risk_t *x)
{
    double a = (x->age - 65) / 10.0; /* (age_at_arrival - 65) / 10 */
    double eta = -4.55;              /* intercept */
    eta += 0.29 * a;                 /* (age_at_arrival - 65) / 10 */
    eta += 0.03 * sq(a);             /* pow((age_at_arrival - 65) / 10, 2) */
    /* asa_grade == 2 .. asa_grade == 5 (against 1) */
    static const double asa[6] = {0, 0, 0.32, 0.77, 1.26, 1.75};
    eta += asa[x->asa];
    /* ncepod_urgency == '1', == '2A' (against 2B and 3) */
    eta += x->urgency == URG_1 ? 0.42 : x->urgency == URG_2A ? 0.14 : 0.0;
    /* cardiac_signs == '2', '4', '8' (against 1); respiratory_signs likewise; ecg == '4', '8' */
    eta += x->cardiac == 2 ? 0.07 : x->cardiac == 4 ? 0.18 : x->cardiac == 8 ? 0.32 : 0.0;
    eta += x->respiratory == 2 ? 0.11 : x->respiratory == 4 ? 0.25 : x->respiratory == 8 ? 0.42
                                                                                         : 0.0;
    eta += x->ecg == 4 ? 0.11 : x->ecg == 8 ? 0.18 : 0.0;
    /* glasgow_coma_score <= 8; >= 9 and <= 12; >= 13 and <= 14 */
    eta += x->gcs <= 8 ? 0.84 : x->gcs <= 12 ? 0.56 : x->gcs <= 14 ? 0.28 : 0.0;
    eta += 0.70 * log(clampd(x->pulse, 40, 180) / 80.0); /* ln(clamp(pulse_rate, 40, 180) / 80) */
    /* systolic_bp < 90; systolic_bp >= 90 and systolic_bp < 100 */
    eta += x->systolic < 90 ? 0.35 : x->systolic < 100 ? 0.14 : 0.0;
    /* pow(ln(clamp(white_cell_count, 1, 40) / 8), 2) */
    eta += 0.25 * sq(log(clampd(x->white_cells, 1, 40) / 8.0));
    /* pow((clamp(sodium, 115, 160) - 138) / 5, 2) */
    eta += 0.08 * sq((clampd(x->sodium, 115, 160) - 138) / 5.0);
    /* pow((clamp(potassium, 2, 8) - 4.2) / 0.8, 2) */
    eta += 0.11 * sq((clampd(x->potassium, 2, 8) - 4.2) / 0.8);
    eta += 0.32 * log(clampd(x->urea, 1, 50) / 6.0);          /* ln(clamp(urea, 1, 50) / 6) */
    eta += 0.14 * log(clampd(x->creatinine, 30, 800) / 80.0); /* ln(clamp(creatinine, 30, 800)
                                                                 / 80) */
    eta += x->severity == 8 ? 0.14 : 0.0; /* operative_severity == '8' */
    /* number_of_procedures == '4', '8'; peritoneal_soiling, blood_loss, malignancy == '2', '4',
     * '8' (against 1) */
    eta += x->procedures == 4 ? 0.21 : x->procedures == 8 ? 0.42 : 0.0;
    eta += x->soiling == 2 ? 0.07 : x->soiling == 4 ? 0.21 : x->soiling == 8 ? 0.46 : 0.0;
    eta += x->blood_loss == 2 ? 0.04 : x->blood_loss == 4 ? 0.14 : x->blood_loss == 8 ? 0.32 : 0.0;
    eta += x->malignancy == 2 ? 0.07 : x->malignancy == 4 ? 0.25 : x->malignancy == 8 ? 0.63 : 0.0;
    return eta;
}
