/* nela_records.c - the simulated NELA records: which trusts really do worse and which see sicker
 * patients, each patient's risk factors drawn jointly through latent traits, the pathway's times,
 * and the outcome drawn from the true model (nela_model.c) with the trust's odds ratio.
 *
 * The risk factors are not drawn one by one: each is a cut or a transform of a normal score that
 * mixes three independent latent traits of the patient, chronic frailty (f), acute severity of the
 * illness (a, correlated 0.35 with f) and age (g, correlated 0.55 with f), so that older patients
 * have a higher ASA grade and worse cardiac and respiratory signs, and the acutely ill a faster
 * pulse, lower pressure, more soiling and a more urgent operation, as in the audit's data. A trust
 * with sicker patients shifts f (and through it a and g) for all of its patients; the marginal
 * shares below are those of the population (shift 0). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "distributions.h"
#include "nela_internal.h"

/* the weights of sim_sex_codes among NELA's patients: men and women alike */
static const unsigned nela_sex_w[4] = {490, 505, 3, 2};

typedef struct {
    double z1, z2, z3; /* independent standard normals behind f, a and g */
    double shift;      /* the trust's frailty shift */
} traits_t;

/* A normal score with variance 1 in the population (mean shifted with the trust's frailty): wf f +
 * wa a + wg g, where f = z1, a = 0.35 z1 + 0.937 z2, g = 0.55 z1 + 0.835 z3, plus independent noise
 * making up the variance (weights keep the traits' share under 0.95). */
static double score(rng_t *r, const traits_t *t, double wf, double wa, double wg)
{
    double c1 = wf + 0.35 * wa + 0.55 * wg, c2 = 0.937 * wa, c3 = 0.835 * wg;
    double var = c1 * c1 + c2 * c2 + c3 * c3;
    double noise = sqrt(var < 0.95 ? 1.0 - var : 0.05);
    return c1 * (t->z1 + t->shift) + c2 * t->z2 + c3 * t->z3 + noise * rng_normal(r);
}

/* The category of a score: category i has share w[i] / sum of w in the population, higher
 * categories for higher scores. */
static size_t category(double s, const unsigned *w, size_t n)
{
    unsigned total = 0, cum = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    for (size_t i = 0; i + 1 < n; i++) {
        cum += w[i];
        if (s < dist_normal_quantile((double)cum / total))
            return i;
    }
    return n - 1;
}

#define CATEGORY(s, w) category((s), (w), sizeof(w) / sizeof((w)[0]))

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* x rounded to one decimal */
static double tenth(double x)
{
    return round(x * 10.0) / 10.0;
}

static const uint8_t points4[] = {1, 2, 4, 8};

/* Draws the risk factors but age (known already) from the traits. */
static void draw_risk(rng_t *r, const traits_t *t, nela_risk_t *x)
{
    static const unsigned asa_w[] = {100, 370, 330, 170, 30};
    x->asa = (uint8_t)(1 + CATEGORY(score(r, t, 0.6, 0.3, 0.2), asa_w));
    /* from least to most urgent: 3, 2B, 2A, 1 */
    static const unsigned urgency_w[] = {220, 380, 320, 80};
    x->urgency = (uint8_t)(URG_3 - CATEGORY(score(r, t, 0, 0.7, 0), urgency_w));
    static const unsigned cardiac_w[] = {550, 250, 120, 80}, respiratory_w[] = {550, 250, 120, 80};
    x->cardiac = points4[CATEGORY(score(r, t, 0.55, 0, 0.35), cardiac_w)];
    x->respiratory = points4[CATEGORY(score(r, t, 0.5, 0.25, 0), respiratory_w)];
    static const unsigned ecg_w[] = {750, 120, 130};
    static const uint8_t ecg_points[] = {1, 4, 8};
    x->ecg = ecg_points[CATEGORY(score(r, t, 0.45, 0.15, 0.35), ecg_w)];
    /* 15, 13-14, 9-12, 3-8 */
    static const unsigned gcs_w[] = {880, 60, 40, 20};
    static const int gcs_lo[] = {15, 13, 9, 3}, gcs_hi[] = {15, 14, 12, 8};
    size_t g = CATEGORY(score(r, t, 0, 0.6, 0), gcs_w);
    x->gcs = (uint8_t)rng_range(r, gcs_lo[g], gcs_hi[g]);
    x->pulse = (int)lround(clampd(88 + 18 * score(r, t, 0, 0.6, 0), 40, 180));
    x->systolic = (int)lround(clampd(130 - 22 * score(r, t, 0, 0.55, 0), 60, 220));
    x->haemoglobin = rng_per_mille(r, 50)
                         ? 0
                         : (int)lround(clampd(128 - 18 * score(r, t, 0.3, 0.2, 0), 60, 185));
    x->white_cells = tenth(clampd(exp(log(10.5) + 0.5 * score(r, t, 0, 0.55, 0)), 0.5, 80));
    x->sodium = (int)lround(clampd(137 - 3.5 * score(r, t, 0.1, 0.35, 0), 118, 158));
    x->potassium = tenth(clampd(4.2 + 0.55 * score(r, t, 0.25, 0.25, 0.2), 2.5, 7.0));
    double renal = score(r, t, 0.4, 0.4, 0.25); /* kidney function, behind urea and creatinine */
    x->urea = tenth(clampd(exp(log(6.5) + 0.6 * renal), 1.5, 60));
    x->creatinine = (int)lround(clampd(exp(log(85) + 0.45 * renal + 0.2 * rng_normal(r)), 35, 900));
    /* albumin falls with chronic and acute illness; not measured for 8% */
    x->albumin = rng_per_mille(r, 80)
                     ? 0
                     : (int)lround(clampd(35 - 6 * score(r, t, 0.35, 0.45, 0.1), 12, 52));
    static const unsigned severity_w[] = {650, 350};
    x->severity = CATEGORY(score(r, t, 0, 0.3, 0), severity_w) ? 8 : 4;
    static const unsigned procedures_w[] = {880, 90, 30};
    static const uint8_t procedures_points[] = {1, 4, 8};
    x->procedures = procedures_points[CATEGORY(score(r, t, 0, 0.3, 0), procedures_w)];
    static const unsigned soiling_w[] = {400, 250, 170, 180};
    x->soiling = points4[CATEGORY(score(r, t, 0, 0.65, 0), soiling_w)];
    static const unsigned blood_w[] = {550, 300, 90, 60};
    x->blood_loss = points4[CATEGORY(score(r, t, 0, 0.4, 0), blood_w)];
    static const unsigned malignancy_w[] = {750, 120, 60, 70};
    x->malignancy = points4[CATEGORY(score(r, t, 0.35, 0, 0.25), malignancy_w)];
    /* the indication: mostly sepsis where there is pus or bowel content, mostly obstruction
     * where there is not; not recorded for 5% */
    static const unsigned ind_soiled_w[] = {0, 700, 120, 20, 80, 80};
    static const unsigned ind_clean_w[] = {0, 120, 70, 80, 560, 170};
    x->indication = rng_per_mille(r, 50)
                        ? IND_NONE
                        : (uint8_t)rng_pick(r, x->soiling >= 4 ? ind_soiled_w : ind_clean_w, IND_N);
}

/* Minutes in [lo, hi] hours. */
static int32_t hours(rng_t *r, double lo, double hi)
{
    return (int32_t)rng_range(r, (int)(lo * 60), (int)(hi * 60));
}

/* The decision to operate after arrival, and arrival in theatre after the decision: within the
 * NCEPOD target time for the urgency (1: 2 hours, 2A: 6, 2B: 18) less often at a poorer trust. */
static void draw_times(rng_t *r, nela_rec_t *n, bool poor)
{
    static const double decide_lo[] = {0.5, 1, 2, 6}, decide_hi[] = {6, 12, 24, 96};
    static const double target[] = {2, 6, 18, 0};
    static const unsigned in_time_good[] = {750, 800, 850}, in_time_poor[] = {500, 550, 650};
    uint8_t u = n->x.urgency;
    n->decision = hours(r, decide_lo[u], decide_hi[u]);
    int32_t wait;
    if (u == URG_3)
        wait = hours(r, 18.5, 72);
    else if (rng_per_mille(r, (poor ? in_time_poor : in_time_good)[u]))
        wait = hours(r, 0.3 * target[u], target[u] - 1.0 / 60);
    else
        wait = hours(r, target[u] + 1.0 / 60, 2.5 * target[u]);
    n->theatre = n->decision + wait;
}

/* The outcome: death within 30 days of the day of arrival, never before surgery (gap days after
 * arrival), drawn with the trust's risk (early deaths likelier; 1 in 25 in theatre), else a death
 * within the year for 7%; where the patient went after theatre, and discharge (on the day of death
 * when they died in hospital). */
static void draw_outcome(rng_t *r, nela_rec_t *n, const nela_trust_t *trust, int32_t gap)
{
    double eta = nela_model_eta(&n->x);
    n->risk = nela_logistic(eta);
    n->true_risk = nela_logistic(eta + log(trust->odds_ratio));
    n->died_30d = rng_uniform(r) < n->true_risk;
    bool in_theatre = n->died_30d && rng_per_mille(r, 40);
    if (in_theatre) {
        n->death = 0;
    } else if (n->died_30d) {
        double u = rng_uniform(r);
        n->death = (int32_t)((31 - gap) * u * u); /* 0..30 days after arrival, early likelier */
    } else {
        n->death = rng_per_mille(r, 70) ? rng_range(r, 31 - gap, 365) : NELA_ALIVE;
    }
    static const unsigned dest_high[] = {150, 100, 400, 350}, dest_low[] = {500, 200, 220, 80};
    n->destination =
        in_theatre ? DEST_DIED : (uint8_t)rng_pick(r, n->risk >= 0.05 ? dest_high : dest_low, 4);
    static const int los_lo[] = {3, 9, 21}, los_hi[] = {8, 20, 60};
    static const unsigned los_w[] = {400, 420, 180};
    size_t b = PICK(r, los_w);
    int32_t los = rng_range(r, los_lo[b], los_hi[b]);
    if (n->death != NELA_ALIVE && (n->death <= los || (n->death < 31 && rng_per_mille(r, 800))))
        n->discharge = n->death; /* died in hospital */
    else
        n->discharge = los;
}

/* What the team wrote before and did in theatre: the documented risk (the model's, as a
 * clinician's estimate would scatter about it), and the consultants present. */
static void draw_care(rng_t *r, nela_rec_t *n, bool poor)
{
    n->risk_documented = rng_per_mille(r, poor ? 700 : 870);
    double documented = clampd(100 * n->risk * exp(0.35 * rng_normal(r)), 0.1, 95);
    if (n->x.asa == 1 && documented >= 20) /* the definition warns about that */
        documented = 19.9;
    n->documented_risk = (uint16_t)lround(documented * 10);
    bool high = n->documented_risk >= 50;
    unsigned both = high ? (poor ? 700 : 880) : (poor ? 450 : 600);
    if (rng_per_mille(r, both)) {
        n->surgeon = n->anaesthetist = true;
    } else {
        n->surgeon = rng_per_mille(r, 500);
        n->anaesthetist = !n->surgeon && rng_per_mille(r, 700);
    }
}

/* Which trusts really do worse (about 3 in 20, at least 1) and which one sees sicker patients
 * with ordinary care, among 3 or more trusts: from the seed alone, the same in every round. */
static void assign_roles(sim_t *self, uint32_t *perm)
{
    size_t k = self->ntrusts;
    for (size_t i = 0; i < k; i++)
        self->nela_trusts[i] = (nela_trust_t){NELA_ORDINARY, 1.0, 0.0};
    if (k < 3)
        return;
    rng_t r;
    rng_seed(&r, self->opts.seed, 11);
    size_t nexcess = (3 * k + 10) / 20;
    rng_choose(&r, perm, k, nexcess + 1);
    for (size_t i = 0; i < nexcess; i++)
        self->nela_trusts[perm[i]] = (nela_trust_t){NELA_EXCESS, NELA_EXCESS_OR, 0.0};
    self->nela_trusts[perm[nexcess]] = (nela_trust_t){NELA_CASEMIX, 1.0, NELA_CASEMIX_SHIFT};
}

static void new_record(sim_t *self, uint32_t trust, rec_t *rec, nela_rec_t *n)
{
    rng_t *r = &self->rng;
    const trust_t *t = &self->trusts[trust];
    const nela_trust_t *nt = &self->nela_trusts[trust];
    memset(rec, 0, sizeof *rec);
    memset(n, 0, sizeof *n);
    rec->trust = trust;
    rec->site = (uint8_t)rng_pick(r, t->site_w, t->nsites);
    rec->arrival = sim_random_arrival(r, &self->opts);
    traits_t tr = {rng_normal(r), rng_normal(r), rng_normal(r), nt->frailty_shift};
    /* 19 and over: a date of birth 18 years and some days back may fall short of 18 years */
    int age = (int)lround(clampd(64 + 16 * (0.55 * (tr.z1 + tr.shift) + 0.835 * tr.z3), 19, 98));
    rec->patient = sim_new_patient_aged(self, t, rec->arrival / 1440, age, nela_sex_w);
    sim_copy_identity(self, rec);
    /* the age the definition computes (age_years of date of birth and arrival) */
    n->x.age = ncap_age_years((int64_t)rec->dob * 86400, rec->arrival * 60);
    n->x.sex = self->patients[rec->patient].sex;
    draw_risk(r, &tr, &n->x);
    draw_times(r, n, t->poor);
    int32_t gap = (int32_t)((rec->arrival + n->theatre) / 1440 - rec->arrival / 1440);
    draw_outcome(r, n, nt, gap);
    draw_care(r, n, t->poor);
}

int nela_new_records(sim_t *self, const size_t *count)
{
    uint32_t *perm = calloc(self->ntrusts, sizeof *perm);
    if (!perm)
        return -1;
    assign_roles(self, perm);
    free(perm);
    size_t i = 0;
    for (uint32_t t = 0; t < self->ntrusts; t++)
        for (size_t j = 0; j < count[t]; j++, i++)
            new_record(self, t, &self->recs[i], &self->nela[i]);
    return 0;
}

int nela_add_deaths(sim_t *self)
{
    size_t np = self->npatients;
    uint32_t *ids = malloc((np ? np : 1) * sizeof *ids);
    uint32_t *rec_of = malloc((np ? np : 1) * sizeof *rec_of);
    size_t nids = ids && rec_of ? sim_patients_by_id(self, ids) : 0;
    self->deaths = ids && rec_of ? calloc(2 * nids + 1, sizeof *self->deaths) : NULL;
    if (!self->deaths) {
        free(ids);
        free(rec_of);
        return -1;
    }
    for (size_t i = 0; i < self->nrecs; i++) /* one record a patient */
        rec_of[self->recs[i].patient] = (uint32_t)i;
    size_t n = 0;
    for (size_t k = 0; k < nids; k++) {
        uint32_t i = rec_of[ids[k]];
        const nela_rec_t *nr = &self->nela[i];
        if (nr->death == NELA_ALIVE)
            continue;
        const rec_t *rec = &self->recs[i];
        int64_t surgery_day = (rec->arrival + nr->theatre) / 1440;
        self->deaths[n++] = (death_t){ids[k], false, (int32_t)(surgery_day + nr->death)};
    }
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 6);
    int rc = sim_add_other_deaths(self, &r, ids, nids, n);
    free(ids);
    free(rec_of);
    return rc;
}
