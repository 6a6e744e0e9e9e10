/* records.c - the simulated NHFD records: clinical values and times (slower at the poorer trusts),
 * repeat visits of a patient, NHS number issues and rows made invalid. */
#include "sim_internal.h"

#include <stdio.h>
#include <string.h>

#include "lsoa11.h"

/* Moves a time that falls at night to the next working hours (08:00-12:00). */
static int32_t in_daytime(rng_t *r, int64_t arrival, int32_t delay)
{
    int64_t t = arrival + delay;
    int64_t day = t / 1440, minute = t % 1440;
    if (minute < 8 * 60)
        t = day * 1440 + 8 * 60 + rng_below(r, 240);
    else if (minute >= 20 * 60)
        t = (day + 1) * 1440 + 8 * 60 + rng_below(r, 240);
    return (int32_t)(t - arrival);
}

/* Minutes in [lo_h, hi_h) hours, drawn from bands with weights. */
static int32_t hours_from_bands(rng_t *r, const unsigned *w, const int (*band)[2], size_t n)
{
    size_t b = rng_pick(r, w, n);
    return (int32_t)rng_range(r, band[b][0] * 60, band[b][1] * 60 - 1);
}

void sim_gen_times(rng_t *r, rec_t *rec, bool poor)
{
    static const int ward_b[][2] = {{1, 2}, {2, 5}, {5, 10}};
    static const unsigned ward_w[] = {10, 60, 30};
    if (rec->ward >= 0)
        rec->ward = hours_from_bands(r, ward_w, ward_b, 3);

    static const int ortho_b[][2] = {{2, 24}, {24, 72}, {72, 168}};
    static const unsigned ortho_good[] = {50, 38, 12}, ortho_poor[] = {25, 35, 40};
    rec->ortho = in_daytime(r, rec->arrival,
                            hours_from_bands(r, poor ? ortho_poor : ortho_good, ortho_b, 3));

    static const int surg_b[][2] = {{4, 12}, {12, 36}, {36, 48}, {48, 144}};
    static const unsigned surg_good[] = {5, 62, 18, 15}, surg_poor[] = {3, 30, 22, 45};
    if (rec->operation == OP_NOP)
        rec->surgery = NO_SURGERY;
    else
        rec->surgery = in_daytime(r, rec->arrival,
                                  hours_from_bands(r, poor ? surg_poor : surg_good, surg_b, 4));

    static const int los_b[][2] = {{2, 8}, {8, 22}, {22, 41}, {41, 81}};
    static const unsigned los_w[] = {20, 50, 25, 5};
    size_t b = PICK(r, los_w);
    rec->los = rng_range(r, los_b[b][0], los_b[b][1] - 1);
    int64_t arrival_day = rec->arrival / 1440;
    if (rec->surgery != NO_SURGERY) {
        int64_t surgery_day = (rec->arrival + rec->surgery) / 1440;
        if (arrival_day + rec->los <= surgery_day)
            rec->los = (int32_t)(surgery_day - arrival_day + 1);
    }
}

int64_t sim_random_arrival(rng_t *r, const sim_opts_t *o)
{
    static const unsigned hour_w[24] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3,
                                        3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 1};
    int64_t day = o->start_day + rng_below(r, o->days);
    return day * 1440 + (int64_t)PICK(r, hour_w) * 60 + rng_below(r, 60);
}

static uint8_t amts_before(rng_t *r, uint8_t residence)
{
    if (rng_per_mille(r, 80))
        return AMTS_ND;
    if (residence == 1 || residence == 2) /* residential or nursing care */
        return (uint8_t)(rng_per_mille(r, 750) ? rng_range(r, 0, 6) : rng_range(r, 7, 10));
    static const unsigned w[] = {100, 250, 650};
    static const int lo[] = {0, 4, 8}, hi[] = {3, 7, 10};
    size_t b = PICK(r, w);
    return (uint8_t)rng_range(r, lo[b], hi[b]);
}

void sim_copy_identity(const sim_t *self, rec_t *rec)
{
    const patient_t *p = &self->patients[rec->patient];
    snprintf(rec->forename, sizeof rec->forename, "%s", sim_patient_forename(p));
    snprintf(rec->surname, sizeof rec->surname, "%s", sim_patient_surname(p));
    memcpy(rec->postcode, p->postcode, sizeof rec->postcode);
    memcpy(rec->nhs, p->nhs, sizeof rec->nhs);
    rec->lsoa = p->lsoa;
    rec->dob = p->dob;
}

void sim_new_record(sim_t *self, uint32_t trust, rec_t *rec)
{
    rng_t *r = &self->rng;
    const trust_t *t = &self->trusts[trust];
    memset(rec, 0, sizeof *rec);
    rec->trust = trust;
    rec->site = (uint8_t)rng_pick(r, t->site_w, t->nsites);
    rec->arrival = sim_random_arrival(r, &self->opts);
    rec->patient = sim_new_patient(self, t, rec->arrival / 1440);
    sim_copy_identity(self, rec);

    rec->ward = rng_per_mille(r, 15) ? -1 : 0;
    rec->residence = (uint8_t)PICK(r, sim_residence_w);
    rec->mobility = (uint8_t)PICK(r, sim_mobility_w);
    rec->amts_pre = amts_before(r, rec->residence);
    rec->ftype = (uint8_t)PICK(r, sim_ftype_w);
    rec->side = (uint8_t)rng_below(r, 2);
    rec->patho = (uint8_t)PICK(r, sim_patho_w);
    rec->asa = (uint8_t)PICK(r, sim_asa_w);
    rec->operation = rng_per_mille(r, 30)
                         ? OP_NOP
                         : (uint8_t)rng_pick(r, sim_op_w[rec->ftype], NELEMS(sim_op_w[0]));
    if (rec->amts_pre == AMTS_ND)
        rec->amts_post = rng_per_mille(r, 500) ? AMTS_ND : (uint8_t)rng_range(r, 0, 10);
    else if (rng_per_mille(r, 120))
        rec->amts_post = AMTS_ND;
    else {
        int a = rec->amts_pre - rng_range(r, -1, 2);
        rec->amts_post = (uint8_t)(a < 0 ? 0 : a > 10 ? 10 : a);
    }
    rec->discharge = (uint8_t)PICK(r, sim_discharge_w);
    sim_gen_times(r, rec, t->poor);
}

/* Makes record rec another visit of source's patient: a transfer a few hours later, with the
 * same fracture, or the other hip months apart. */
static void make_repeat(sim_t *self, rec_t *rec, const rec_t *src)
{
    rng_t *r = &self->rng;
    const sim_opts_t *o = &self->opts;
    int64_t lo = o->start_day * 1440, hi = (o->start_day + o->days) * 1440;
    rec->patient = src->patient;
    rec->repeat = true;
    int64_t a;
    if (rec->trust != src->trust && rng_per_mille(r, 550)) {
        int64_t d = rng_range(r, 3 * 60, 72 * 60);
        a = src->arrival + d;
        if (a >= hi)
            a = src->arrival - d;
        rec->ftype = src->ftype;
        rec->side = src->side;
        if (rec->operation != OP_NOP)
            rec->operation = (uint8_t)rng_pick(r, sim_op_w[rec->ftype], NELEMS(sim_op_w[0]));
    } else {
        int64_t d = (int64_t)rng_range(r, 30, 300) * 1440;
        a = src->arrival + (rng_per_mille(r, 500) ? d : -d);
        if (a >= hi || a < lo)
            a = src->arrival + (a >= hi ? -d : d);
        rec->side = (uint8_t)(1 - src->side);
    }
    if (a < lo || a >= hi)
        a = sim_random_arrival(r, o);
    rec->arrival = a;
    sim_gen_times(r, rec, self->trusts[rec->trust].poor);

    /* identifier noise at a repeat visit (rates in the usage of `ncap sim`) */
    const patient_t *p = &self->patients[rec->patient];
    sim_names_at_repeat(self, rec);
    rec->dob = rng_per_mille(r, 50) ? sim_typo_dob(r, p->dob) : p->dob;
    memcpy(rec->nhs, p->nhs, sizeof rec->nhs);
    rec->lsoa = p->lsoa;
    if (rng_per_mille(r, 850)) {
        memcpy(rec->postcode, p->postcode, sizeof rec->postcode);
    } else { /* moved, e.g. into a care home */
        sim_new_postcode(r, self->trusts[rec->trust].area, rec->postcode);
        rec->lsoa = lsoa11_number(rng_below(r, LSOA11_COUNT));
    }
    unsigned x = rng_below(r, 1000);
    if (x < 40) {
        rec->nhs_issue = SIM_NHS_MISSING;
        rec->nhs[0] = '\0';
    } else if (x < 60) {
        rec->nhs_issue = SIM_NHS_MISTYPED;
        sim_mistype(r, rec->nhs);
    }
}

/* role: n bytes of scratch */
void sim_add_repeats(sim_t *self, uint32_t *perm, uint8_t *role)
{
    size_t n = self->nrecs;
    size_t want = (size_t)((double)n * 0.09 + 0.5);
    if (want > n / 2)
        want = n / 2;
    memset(role, ROLE_FREE, n);
    rng_choose(&self->rng, perm, n, n);
    size_t done = 0;
    for (size_t i = 0; i < n && done < want; i++) {
        uint32_t ri = perm[i];
        if (role[ri] != ROLE_FREE)
            continue;
        rec_t *rec = &self->recs[ri];
        /* a patient has at most two visits: one source, one repeat, so no two visits at one trust
         * on one side fall within the 30 days of a probable duplicate episode by chance */
        bool other_trust = self->ntrusts > 1 && rng_per_mille(&self->rng, 800);
        for (int tries = 0; tries < 30; tries++) {
            uint32_t si = rng_below(&self->rng, (uint32_t)n);
            const rec_t *src = &self->recs[si];
            if (si == ri || role[si] != ROLE_FREE || (other_trust && src->trust == rec->trust))
                continue;
            make_repeat(self, rec, src);
            role[ri] = ROLE_REPEAT;
            role[si] = ROLE_SOURCE;
            done++;
            break;
        }
    }
    self->stats.repeats = done;
}

void sim_add_nhs_issues(sim_t *self, uint32_t *perm)
{
    size_t n = self->nrecs;
    size_t k = (size_t)((double)n * 0.02 + 0.5);
    rng_choose(&self->rng, perm, n, k);
    for (size_t i = 0; i < k; i++) {
        rec_t *rec = &self->recs[perm[i]];
        if (rec->nhs_issue != SIM_NHS_OK) /* a repeat visit's already */
            continue;
        if (i % 2 == 0) {
            rec->nhs_issue = SIM_NHS_MISTYPED;
            sim_mistype(&self->rng, rec->nhs);
        } else {
            rec->nhs_issue = SIM_NHS_MISSING;
            rec->nhs[0] = '\0';
        }
    }
}

void sim_add_invalid(sim_t *self, uint32_t *perm)
{
    size_t n = self->nrecs;
    size_t k = (size_t)(self->opts.invalid_rate * (double)n + 0.5);
    if (k > n)
        k = n;
    rng_choose(&self->rng, perm, n, k);
    for (size_t i = 0; i < k; i++) {
        rec_t *rec = &self->recs[perm[i]];
        rec->invalid = (uint8_t)(SIM_MISSING_REQUIRED + i % 3);
        rec->invalid_variant =
            (uint8_t)rng_below(&self->rng, rec->invalid == SIM_BAD_DATETIME ? 5 : 3);
    }
    self->stats.invalid = k;
}

/* The record is operated on: an operation for its fracture and a surgery time the next day. */
void sim_ensure_operated(rng_t *r, rec_t *rec)
{
    if (rec->operation == OP_NOP)
        rec->operation = (uint8_t)rng_pick(r, sim_op_w[rec->ftype], NELEMS(sim_op_w[0]));
    if (rec->surgery == NO_SURGERY)
        rec->surgery = in_daytime(r, rec->arrival, rng_range(r, 18 * 60, 30 * 60));
    int64_t arrival_day = rec->arrival / 1440, surgery_day = (rec->arrival + rec->surgery) / 1440;
    if (arrival_day + rec->los <= surgery_day)
        rec->los = (int32_t)(surgery_day - arrival_day + 1);
}
