/* nela_write.c - the NELA records as each trust writes its file, the truth about every row (its
 * risk and outcome) and about every trust (its true odds ratio and case mix), and the summary. */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "nela_internal.h"

/* An invalid row's error (sim_add_invalid), by its variant: the column left empty when a
 * required field is missing, and the column given a bad code with the code written. */
static const int missing_cols[] = {NELA_C_ARRIVAL, NELA_C_ASA, NELA_C_URGENCY};
static const int bad_code_cols[] = {NELA_C_URGENCY, NELA_C_ASA, NELA_C_SOILING};
static const char *const bad_code_values[] = {"4", "7", "3"};

static const char *yes_no(bool b)
{
    return b ? "Y" : "N";
}

static void write_record(const sim_t *self, size_t i, FILE *out)
{
    const rec_t *rec = &self->recs[i];
    const nela_rec_t *n = &self->nela[i];
    const nela_risk_t *x = &n->x;
    const trust_t *t = &self->trusts[rec->trust];
    const patient_t *p = &self->patients[rec->patient];
    bool uk = t->uk_dates;
    char id[64], site[16], nhs[16], surname[32], dob[16], lsoa[16], arrival[24], decision[24],
        theatre[24], asa[4], risk[16], cardiac[4], respiratory[4], ecg[4], gcs[4], pulse[8],
        systolic[8], hb[8], wcc[16], sodium[8], potassium[16], urea[16], creatinine[8], severity[4],
        procedures[4], soiling[4], blood[4], malignancy[4], discharge[16];
    sim_local_record_id(self, rec, id, sizeof id);
    snprintf(site, sizeof site, "%s%02u", t->code, rec->site + 1u);
    sim_format_nhs(nhs, sizeof nhs, rec->nhs, t->nhs_style);
    snprintf(surname, sizeof surname, "%s", rec->surname);
    if (t->upper_surname)
        for (char *c = surname; *c; c++)
            *c = (char)toupper((unsigned char)*c);
    sim_format_date(dob, sizeof dob, rec->dob, uk);
    snprintf(lsoa, sizeof lsoa, "E01%06u", rec->lsoa);
    sim_format_datetime(arrival, sizeof arrival, rec->arrival, uk);
    sim_format_datetime(decision, sizeof decision, rec->arrival + n->decision, uk);
    sim_format_datetime(theatre, sizeof theatre, rec->arrival + n->theatre, uk);
    snprintf(asa, sizeof asa, "%u", x->asa);
    risk[0] = '\0';
    if (n->risk_documented)
        snprintf(risk, sizeof risk, "%u.%u", n->documented_risk / 10u, n->documented_risk % 10u);
    snprintf(cardiac, sizeof cardiac, "%u", x->cardiac);
    snprintf(respiratory, sizeof respiratory, "%u", x->respiratory);
    snprintf(ecg, sizeof ecg, "%u", x->ecg);
    snprintf(gcs, sizeof gcs, "%u", x->gcs);
    snprintf(pulse, sizeof pulse, "%d", x->pulse);
    snprintf(systolic, sizeof systolic, "%d", x->systolic);
    hb[0] = '\0';
    if (x->haemoglobin)
        snprintf(hb, sizeof hb, "%d", x->haemoglobin);
    snprintf(wcc, sizeof wcc, "%.1f", x->white_cells);
    snprintf(sodium, sizeof sodium, "%d", x->sodium);
    snprintf(potassium, sizeof potassium, "%.1f", x->potassium);
    snprintf(urea, sizeof urea, "%.1f", x->urea);
    snprintf(creatinine, sizeof creatinine, "%d", x->creatinine);
    snprintf(severity, sizeof severity, "%u", x->severity);
    snprintf(procedures, sizeof procedures, "%u", x->procedures);
    snprintf(soiling, sizeof soiling, "%u", x->soiling);
    snprintf(blood, sizeof blood, "%u", x->blood_loss);
    snprintf(malignancy, sizeof malignancy, "%u", x->malignancy);
    int64_t surgery_day = (rec->arrival + n->theatre) / 1440;
    sim_format_date(discharge, sizeof discharge, surgery_day + n->discharge, uk);
    bool died_in_hospital = n->death == n->discharge;

    const char *f[NELA_NCOLUMNS] = {
        id,
        t->code,
        site,
        nhs,
        rec->forename,
        surname,
        dob,
        (char[]){p->sex, '\0'},
        rec->postcode,
        lsoa,
        sim_ethnic_codes[p->ethnic],
        arrival,
        decision,
        nela_urgency_codes[x->urgency],
        theatre,
        asa,
        yes_no(n->risk_documented),
        risk,
        cardiac,
        respiratory,
        ecg,
        gcs,
        pulse,
        systolic,
        hb,
        wcc,
        sodium,
        potassium,
        urea,
        creatinine,
        severity,
        procedures,
        soiling,
        blood,
        malignancy,
        yes_no(n->surgeon),
        yes_no(n->anaesthetist),
        nela_destination_codes[n->destination],
        discharge,
        died_in_hospital ? "D" : "A",
    };
    switch ((sim_invalid_t)rec->invalid) {
    case SIM_VALID:
        break;
    case SIM_MISSING_REQUIRED:
        f[missing_cols[rec->invalid_variant % 3]] = "";
        break;
    case SIM_BAD_DATETIME:
        sim_format_bad_datetime(arrival, sizeof arrival, rec->arrival, rec->invalid_variant, uk);
        break;
    case SIM_BAD_CODE:
        f[bad_code_cols[rec->invalid_variant % 3]] = bad_code_values[rec->invalid_variant % 3];
        break;
    }
    csv_write_row(out, f, NELA_NCOLUMNS);
}

int nela_write_header(FILE *out)
{
    csv_write_row(out, nela_columns, NELA_NCOLUMNS);
    return ferror(out) ? -1 : 0;
}

int nela_write_trust(const sim_t *self, size_t t, FILE *out)
{
    const trust_t *tr = &self->trusts[t];
    for (size_t i = 0; i < tr->n; i++)
        write_record(self, self->order[tr->first + i], out);
    return ferror(out) ? -1 : 0;
}

int nela_write_truth(const sim_t *self, FILE *out, bool one_file)
{
    static const char *const head[] = {
        "local_record_id",  "trust_code", "row",  "patient_id", "invalid",  "reason",
        "nhs_number_issue", "opted_out",  "risk", "true_risk",  "died_30d", "date_of_death"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[self->order[i]];
        const nela_rec_t *n = &self->nela[self->order[i]];
        const trust_t *t = &self->trusts[rec->trust];
        const patient_t *p = &self->patients[rec->patient];
        char id[64], row[24], patient[16], risk[32], true_risk[32], died[16] = "";
        sim_local_record_id(self, rec, id, sizeof id);
        snprintf(row, sizeof row, "%zu", 2 + (one_file ? i : i - t->first));
        snprintf(patient, sizeof patient, "%u", p->id);
        snprintf(risk, sizeof risk, "%.17g", n->risk);
        snprintf(true_risk, sizeof true_risk, "%.17g", n->true_risk);
        if (n->death != NELA_ALIVE)
            sim_format_date(died, sizeof died, (rec->arrival + n->theatre) / 1440 + n->death,
                            false);
        const char *f[] = {id,
                           t->code,
                           row,
                           patient,
                           rec->invalid ? "1" : "0",
                           sim_invalid_text((sim_invalid_t)rec->invalid),
                           sim_nhs_issue_text((sim_nhs_issue_t)rec->nhs_issue),
                           p->opted_out ? "1" : "0",
                           risk,
                           true_risk,
                           n->died_30d ? "1" : "0",
                           died};
        csv_write_row(out, f, NELEMS(f));
    }
    return ferror(out) ? -1 : 0;
}

static const char *role_text(nela_role_t role)
{
    switch (role) {
    case NELA_ORDINARY:
        break;
    case NELA_EXCESS:
        return "excess_risk";
    case NELA_CASEMIX:
        return "sicker_patients";
    }
    return "ordinary";
}

int nela_write_trusts_truth(const sim_t *self, FILE *out)
{
    static const char *const head[] = {"trust_code",    "role",         "odds_ratio",
                                       "frailty_shift", "poor_times",   "records",
                                       "valid_records", "expected_30d", "deaths_30d"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t t = 0; t < self->ntrusts; t++) {
        const trust_t *tr = &self->trusts[t];
        const nela_trust_t *nt = &self->nela_trusts[t];
        size_t valid = 0, deaths = 0;
        double expected = 0;
        for (size_t i = 0; i < tr->n; i++) {
            size_t k = self->order[tr->first + i];
            if (self->recs[k].invalid)
                continue;
            valid++;
            expected += self->nela[k].risk;
            deaths += self->nela[k].died_30d;
        }
        char odds[16], shift[16], records[16], nvalid[16], e[32], o[16];
        snprintf(odds, sizeof odds, "%g", nt->odds_ratio);
        snprintf(shift, sizeof shift, "%g", nt->frailty_shift);
        snprintf(records, sizeof records, "%zu", tr->n);
        snprintf(nvalid, sizeof nvalid, "%zu", valid);
        snprintf(e, sizeof e, "%.6f", expected);
        snprintf(o, sizeof o, "%zu", deaths);
        const char *f[] = {
            tr->code, role_text(nt->role), odds, shift, tr->poor ? "1" : "0", records, nvalid, e,
            o};
        csv_write_row(out, f, NELEMS(f));
    }
    return ferror(out) ? -1 : 0;
}

static void write_role_list(const sim_t *self, FILE *out, nela_role_t role)
{
    size_t n = 0;
    for (size_t t = 0; t < self->ntrusts; t++)
        if (self->nela_trusts[t].role == role) {
            fprintf(out, " %s", self->trusts[t].code);
            n++;
        }
    if (n == 0)
        fputs(" none", out);
    fputc('\n', out);
}

void nela_write_summary(const sim_t *self, FILE *out)
{
    size_t deaths = 0;
    double expected = 0;
    for (size_t i = 0; i < self->nrecs; i++) {
        deaths += self->nela[i].died_30d;
        expected += self->nela[i].risk;
    }
    fprintf(out, "sim: deaths within 30 days of arrival: %zu (%.1f%%), the model expects %.1f\n",
            deaths, self->nrecs ? 100.0 * (double)deaths / (double)self->nrecs : 0.0, expected);
    fprintf(out, "sim: trusts with excess risk (odds ratio %g):", NELA_EXCESS_OR);
    write_role_list(self, out, NELA_EXCESS);
    fprintf(out,
            "sim: trust with sicker patients, ordinary care (frailty +%g SD):", NELA_CASEMIX_SHIFT);
    write_role_list(self, out, NELA_CASEMIX);
}
