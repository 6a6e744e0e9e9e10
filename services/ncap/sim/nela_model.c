/* nela_model.c - the simulator's true model of death within 30 days of arrival for an emergency
 * laparotomy: the one place in the simulator its form and coefficients live.
 *
 * It is the model deploy/audits/nela.yaml declares (risk_models: nela_mortality_30d), term for
 * term: the form of the published NELA risk model (Eugene et al., BJA 2018;121:739-748) with that
 * file's illustrative coefficients, each term's expression from the definition in the comment
 * beside it. So the expected deaths a release computes from the definition are the truth's, and a
 * trust's observed over expected is 1 but for chance unless its care differs. When the
 * definition's model changes, change this to match: tests/tools/nela_sim_check.py evaluates the
 * definition's model on the simulator's files and fails when it differs from the truth written. */
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

/* if(c, v, 0) */
static double when(bool c, double v)
{
    return c ? v : 0.0;
}

double nela_model_eta(const nela_risk_t *x)
{
    double eta = -3.9; /* intercept */
    /* age by ASA group: if(asa_grade <= 2, age_at_arrival - 64, 0), its square, and so on */
    double a = x->age - 64;
    int asa = x->asa;
    eta += when(asa <= 2, 0.03 * a + 0.0002 * a * a);
    eta += when(asa == 3, 0.04 * a + 0.0002 * a * a);
    eta += when(asa == 4, 0.05 * a + 0.0002 * a * a);
    eta += when(asa == 5, 0.05 * a + 0.0002 * a * a);
    /* respiratory_signs == '2' and asa_grade <= 2; in(respiratory_signs, '4', '8') and ... */
    bool resp2 = x->respiratory == 2, resp48 = x->respiratory == 4 || x->respiratory == 8;
    static const double resp2_by_asa[6] = {0, 0.2, 0.2, 0.2, 0.1, 0.1};
    static const double resp48_by_asa[6] = {0, 0.4, 0.4, 0.4, 0.3, 0.2};
    eta += when(resp2, resp2_by_asa[asa]) + when(resp48, resp48_by_asa[asa]);
    /* glasgow_coma_score <= 8; glasgow_coma_score >= 9 and glasgow_coma_score <= 12 */
    eta += when(x->gcs <= 8, 0.9) + when(x->gcs >= 9 && x->gcs <= 12, 0.5);
    /* ncepod_urgency == '2B', '2A', '1' (3 the baseline) */
    static const double urgency[4] = {[URG_1] = 0.6, [URG_2A] = 0.15, [URG_2B] = 0.05};
    eta += urgency[x->urgency];
    /* the categories coded by their points, 1 the baseline: ecg == '4', ... */
    eta += when(x->ecg == 4, 0.2) + when(x->ecg == 8, 0.3);
    eta += when(x->cardiac == 2, 0.1) + when(x->cardiac == 4, 0.3) + when(x->cardiac == 8, 0.4);
    eta += when(x->procedures == 4, 0.2) + when(x->procedures == 8, 0.3);
    eta += when(x->soiling == 2, 0.1) + when(x->soiling == 4, 0.2) + when(x->soiling == 8, 0.3);
    eta += when(x->blood_loss == 2, 0.1) + when(x->blood_loss == 4, 0.3) +
           when(x->blood_loss == 8, 0.5);
    eta += when(x->malignancy == 2, 0.2) + when(x->malignancy == 4, 0.5) +
           when(x->malignancy == 8, 0.9);
    eta += when(x->severity == 8, 0.2); /* operative_severity == '8' */
    eta += when(x->sex == '1', 0.1);    /* sex == '1' */
    /* physiology winsorised, centred, with the square: clamp(pulse_rate, 55, 145) - 91, ... */
    double p = clampd(x->pulse, 55, 145) - 91;
    eta += 0.01 * p - 0.0001 * p * p;
    double s = clampd(x->systolic, 70, 190) - 127;
    eta += -0.007 * s + 0.0001 * s * s;
    double w = clampd(x->white_cells, 1, 42.7) - 13;
    eta += 0.01 * w + 0.001 * w * w;
    double k = clampd(x->potassium, 2.8, 5.9) - 4;
    eta += 0.1 * k + 0.1 * k * k;
    double u = clampd(log(x->urea), 0, 3.7) - 1.9; /* clamp(ln(urea), 0, 3.7) - 1.9 */
    eta += 0.4 * u + 0.05 * u * u;
    double c = clampd(log(x->creatinine), 3.3, 6.0) - 4;
    eta += 0.2 * c + 0.05 * c * c;
    /* pow(clamp(sodium, 124, 148) - 123, 3), and times ln(clamp(sodium, 124, 148) - 123) */
    double na = clampd(x->sodium, 124, 148) - 123;
    eta += 0.0001 * pow(na, 3) - 0.00003 * pow(na, 3) * log(na);
    return eta;
}
