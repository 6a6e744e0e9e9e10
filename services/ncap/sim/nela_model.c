/* nela_model.c - the simulator's true model of death within 30 days of arrival for an emergency
 * laparotomy: the one place in the simulator its form and coefficients live.
 *
 * It is the model deploy/audits/nela.yaml declares (risk_models: nela_mortality_30d), term for
 * term: the published NELA risk model (Eugene et al., BJA 2018;121:739-748) as that file gives
 * it, each term's expression from the definition in the comment beside it, its imputed defaults
 * (albumin 35 g/L, no indication the baseline) included. So the expected deaths a release computes
 * from the definition are the truth's, and a trust's observed over expected is 1 but for chance
 * unless its care differs. When the definition's model changes, change this to match:
 * tests/tools/nela_sim_check.py evaluates the definition's model on the simulator's files and fails
 * when it differs from the truth written. */
#include <math.h>

#include "nela_internal.h"

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

double nela_logistic(double eta)
{
    return 1.0 / (1.0 + exp(-eta));
}

double nela_model_eta(const nela_risk_t *x)
{
    double eta = -3.04678; /* intercept */
    double age = x->age - 64;
    int asa = x->asa;
    eta += 0.0666 * age; /* age_at_arrival - 64 */
    /* asa_grade == 3, 4, 5 (1 and 2 the baseline), and each times age_at_arrival - 64 */
    static const double asa_main[6] = {0, 0, 0, 1.13007, 1.76293, 2.55345};
    static const double asa_age[6] = {0, 0, 0, -0.03021, -0.03356, -0.04676};
    eta += asa_main[asa] + asa_age[asa] * age;
    /* clamp(albumin, 10, 55), default 35 when not measured */
    eta += -0.04323 * (x->albumin > 0 ? clampd(x->albumin, 10, 55) : 35.0);
    double p = clampd(x->pulse, 55, 145) - 91; /* clamp(pulse_rate, 55, 145) - 91, its square */
    eta += 0.01265 * p - 0.00012 * pow(p, 2);
    double s = clampd(x->systolic, 70, 190) - 127; /* clamp(systolic_bp, 70, 190) - 127, ... */
    eta += -0.00683 * s + 0.00011 * pow(s, 2);
    eta += 0.38002 * (clampd(log(x->urea), 0.5, 3.7) - 1.9); /* clamp(ln(urea), 0.5, 3.7) - 1.9 */
    double w = clampd(log(x->white_cells), 0.8, 3.6) - 2.4;  /* clamp(ln(white_cell_count), ...) */
    eta += 0.02041 * w + 0.24153 * pow(w, 2);
    /* glasgow_coma_score < 14; glasgow_coma_score == 14 */
    eta += x->gcs < 14 ? 0.6448 : x->gcs == 14 ? 0.41557 : 0.0;
    /* malignancy == '2', '4', '8' */
    eta += x->malignancy == 2   ? 0.19201
           : x->malignancy == 4 ? 0.5061
           : x->malignancy == 8 ? 0.94309
                                : 0.0;
    /* respiratory_signs == '2'; in(respiratory_signs, '4', '8') */
    eta += x->respiratory == 2 ? 0.35378 : x->respiratory >= 4 ? 0.607 : 0.0;
    /* ncepod_urgency == '1', '2A', '2B' (3 the baseline) */
    static const double urgency[4] = {[URG_1] = 0.5731, [URG_2A] = 0.14779, [URG_2B] = 0.03782};
    eta += urgency[x->urgency];
    /* indication == 'sepsis', 'ischaemia', 'bleeding', default 0 when not recorded */
    static const double indication[IND_N] = {
        [IND_SEPSIS] = 0.02812, [IND_ISCHAEMIA] = 0.56948, [IND_BLEEDING] = -0.40615};
    eta += indication[x->indication];
    eta += x->soiling >= 4 ? 0.29453 : 0.0; /* in(peritoneal_soiling, '4', '8') */
    return eta;
}
