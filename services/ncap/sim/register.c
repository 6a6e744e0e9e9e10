/* register.c - what linkage joins the records to: the national data opt-out list and a register of
 * deaths, each with audit patients and as many people not in the audit. */
#include "sim_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

size_t sim_patients_by_id(const sim_t *self, uint32_t *list)
{
    size_t n = 0;
    for (size_t i = 0; i < self->npatients; i++)
        if (self->patients[i].id)
            list[self->patients[i].id - 1] = (uint32_t)i, n++;
    return n;
}

/* About 5% of patients opted out (the national rate is near 5.5%), and as many people not in the
 * audit appear in the list. */
int sim_add_optouts(sim_t *self)
{
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 5);
    size_t n = 0;
    for (size_t i = 0; i < self->npatients; i++)
        if (self->patients[i].id && rng_per_mille(&r, 50)) {
            self->patients[i].opted_out = true;
            n++;
        }
    self->stats.opted_out = n;
    self->others = calloc(n ? n : 1, sizeof *self->others);
    if (!self->others)
        return -1;
    for (size_t i = 0; i < n; i++)
        sim_new_other(self, &r, &self->others[i], NULL, self->opts.start_day);
    self->nothers = self->noptout_others = n;
    return 0;
}

static int cmp_death(const void *a, const void *b)
{
    const death_t *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->other != y->other)
        return x->other ? 1 : -1;
    return x->person < y->person ? -1 : x->person > y->person;
}

/* Patients who die: those who died in hospital (on the day of discharge), and about a quarter of
 * the others within a year of their last discharge, never before any of their arrivals. As many
 * people not in the audit die too, one in five with the name of an audit patient. */
int sim_add_deaths(sim_t *self)
{
    size_t np = self->npatients;
    int32_t *last = malloc((np ? np : 1) * sizeof *last);
    bool *in_hospital = calloc(np ? np : 1, sizeof *in_hospital);
    uint32_t *ids = malloc((np ? np : 1) * sizeof *ids);
    if (!last || !in_hospital || !ids) {
        free(last);
        free(in_hospital);
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < np; i++)
        last[i] = INT32_MIN;
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[i];
        int64_t arrival_day = rec->arrival / 1440, discharge_day = arrival_day + rec->los;
        int64_t day = discharge_day > arrival_day ? discharge_day : arrival_day + 1;
        if (day > last[rec->patient])
            last[rec->patient] = (int32_t)day;
        if (rec->discharge == 5) /* "6": died in hospital */
            in_hospital[rec->patient] = true;
    }
    size_t nids = sim_patients_by_id(self, ids);
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 6);
    size_t cap = 2 * nids + 1, n = 0;
    self->deaths = calloc(cap, sizeof *self->deaths);
    int rc = self->deaths ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < nids; k++) {
        uint32_t i = ids[k];
        int32_t day;
        if (in_hospital[i])
            day = last[i];
        else if (rng_per_mille(&r, 250))
            day =
                last[i] + (rng_per_mille(&r, 400) ? rng_range(&r, 1, 30) : rng_range(&r, 31, 365));
        else
            continue;
        self->deaths[n++] = (death_t){i, false, day};
    }
    if (rc == 0)
        rc = sim_add_other_deaths(self, &r, ids, nids, n);
    free(last);
    free(in_hospital);
    free(ids);
    return rc;
}

int sim_add_other_deaths(sim_t *self, rng_t *r, const uint32_t *ids, size_t nids, size_t naudit)
{
    size_t n = naudit;
    patient_t *more = realloc(self->others, (self->nothers + naudit + 1) * sizeof *more);
    if (!more)
        return -1;
    self->others = more;
    for (size_t k = 0; k < naudit; k++) {
        const patient_t *twin = NULL;
        if (nids && rng_per_mille(r, 200))
            twin = &self->patients[ids[rng_below(r, (uint32_t)nids)]];
        int32_t day = (int32_t)(self->opts.start_day + rng_below(r, self->opts.days + 365));
        sim_new_other(self, r, &self->others[self->nothers], twin, day);
        self->deaths[n++] = (death_t){(uint32_t)self->nothers++, true, day};
    }
    qsort(self->deaths, n, sizeof *self->deaths, cmp_death);
    self->ndeaths = n;
    return 0;
}

/* One death row: an audit patient as the register holds them, with the noise of a different
 * source (rates in the usage of `ncap sim`), or someone else. */
int sim_write_death(const sim_t *self, size_t k, FILE *out)
{
    assert(self && k < self->ndeaths);
    const death_t *d = &self->deaths[k];
    const patient_t *p = d->other ? &self->others[d->person] : &self->patients[d->person];
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 7 + (uint64_t)k);
    char nhs[11], forename[32], surname[40], dob[16], postcode[9], died[16];
    memcpy(nhs, p->nhs, sizeof nhs);
    snprintf(forename, sizeof forename, "%s", sim_patient_forename(p));
    snprintf(surname, sizeof surname, "%s", sim_patient_surname(p));
    memcpy(postcode, p->postcode, sizeof postcode);
    int32_t born = p->dob;
    if (!d->other) {
        unsigned x = rng_below(&r, 1000);
        if (x < 50)
            nhs[0] = '\0';
        else if (x < 60)
            sim_mistype(&r, nhs);
        if (rng_per_mille(&r, 20))
            sim_typo_any(&r, forename, sizeof forename);
        x = rng_below(&r, 1000);
        if (x < 20)
            sim_typo_any(&r, surname, sizeof surname);
        else if (x < 30)
            sim_change_surname(&r, p, surname, sizeof surname);
        if (rng_per_mille(&r, 10))
            born = sim_typo_dob(&r, born);
        if (rng_per_mille(&r, 200)) { /* died at another address, e.g. a care home */
            sim_new_postcode(&r, sim_postcode_area(postcode, 0), postcode);
        }
    }
    sim_format_date(dob, sizeof dob, born, false);
    sim_format_date(died, sizeof died, d->day, false);
    /* the register records sex as 1 or 2, else leaves it empty */
    const char sex[2] = {p->sex == '1' || p->sex == '2' ? p->sex : '\0', '\0'};
    const char *f[] = {nhs, forename, surname, dob, sex, postcode, died};
    csv_write_row(out, f, NELEMS(f));
    return ferror(out) ? -1 : 0;
}

int sim_write_deaths_header(FILE *out)
{
    static const char *const head[] = {"nhs_number", "forename", "surname",      "date_of_birth",
                                       "sex",        "postcode", "date_of_death"};
    csv_write_row(out, head, NELEMS(head));
    return ferror(out) ? -1 : 0;
}

int sim_write_deaths(const sim_t *self, FILE *deaths, FILE *truth)
{
    assert(self);
    static const char *const truth_head[] = {"row", "patient_id"};
    if (deaths)
        sim_write_deaths_header(deaths);
    if (truth)
        csv_write_row(truth, truth_head, NELEMS(truth_head));
    for (size_t k = 0; k < self->ndeaths; k++) {
        if (deaths)
            sim_write_death(self, k, deaths);
        if (truth) {
            const death_t *d = &self->deaths[k];
            char row[24], patient[16] = "";
            snprintf(row, sizeof row, "%zu", k + 2);
            if (!d->other)
                snprintf(patient, sizeof patient, "%u", self->patients[d->person].id);
            const char *f[] = {row, patient};
            csv_write_row(truth, f, NELEMS(f));
        }
    }
    return (deaths && ferror(deaths)) || (truth && ferror(truth)) ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sim_write_optouts(const sim_t *self, FILE *out)
{
    assert(self);
    size_t n = self->stats.opted_out + self->noptout_others;
    uint64_t *list = malloc((n ? n : 1) * sizeof *list);
    if (!list)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < self->npatients; i++)
        if (self->patients[i].opted_out)
            list[k++] = strtoull(self->patients[i].nhs, NULL, 10);
    for (size_t i = 0; i < self->noptout_others; i++)
        list[k++] = strtoull(self->others[i].nhs, NULL, 10);
    qsort(list, k, sizeof *list, cmp_u64); /* in number order, as an extract comes */
    fputs("nhs_number\n", out);
    for (size_t i = 0; i < k; i++)
        fprintf(out, "%010llu\n", (unsigned long long)list[i]);
    free(list);
    return ferror(out) ? -1 : 0;
}

size_t sim_ndeaths(const sim_t *self)
{
    return self->ndeaths;
}

int64_t sim_death_day(const sim_t *self, size_t k)
{
    assert(k < self->ndeaths);
    return self->deaths[k].day;
}
