/* nela_write.c - the NELA records as each trust writes its file, the truth about every row (its
 * risk and outcome) and about every trust (its true odds ratio and case mix), and the summary. */
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "nela_internal.h"

/* An invalid row's error (sim_add_invalid), by its variant: the column left empty when a
 * required field is missing, and the column given a bad code with the code written. */
static const sim_invalid_cols_t nela_invalid = {
    {NELA_C_ARRIVAL, NELA_C_ASA, NELA_C_URGENCY},
    {NELA_C_URGENCY, NELA_C_ASA, NELA_C_SOILING},
    {"4", "7", "3"},
};

static const char *yes_no(bool b)
{
    return b ? "Y" : "N";
}

/* Room for a row's numbers as text. */
typedef struct {
    char buf[512];
    size_t used;
} texts_t;

static const char *text(texts_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The formatted text, kept in t (a row's numbers fit with room to spare). */
static const char *text(texts_t *t, const char *fmt, ...)
{
    char *out = t->buf + t->used;
    size_t room = sizeof t->buf - t->used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, room, fmt, ap);
    va_end(ap);
    assert(n >= 0 && (size_t)n < room);
    t->used += (size_t)n + 1;
    return out;
}

static void write_record(const sim_t *self, size_t i, FILE *out)
{
    const rec_t *rec = &self->recs[i];
    const nela_rec_t *n = &self->nela[i];
    const nela_risk_t *x = &n->x;
    const trust_t *t = &self->trusts[rec->trust];
    const patient_t *p = &self->patients[rec->patient];
    bool uk = t->uk_dates;
    char id[64], nhs[16], surname[32], dob[16], arrival[24], decision[24], theatre[24],
        discharge[16];
    texts_t tx = {.used = 0};
    sim_local_record_id(self, rec, id, sizeof id);
    sim_format_nhs(nhs, sizeof nhs, rec->nhs, t->nhs_style);
    snprintf(surname, sizeof surname, "%s", rec->surname);
    if (t->upper_surname)
        for (char *c = surname; *c; c++)
            *c = (char)toupper((unsigned char)*c);
    sim_format_date(dob, sizeof dob, rec->dob, uk);
    sim_format_datetime(arrival, sizeof arrival, rec->arrival, uk);
    sim_format_datetime(decision, sizeof decision, rec->arrival + n->decision, uk);
    sim_format_datetime(theatre, sizeof theatre, rec->arrival + n->theatre, uk);
    int64_t surgery_day = (rec->arrival + n->theatre) / 1440;
    sim_format_date(discharge, sizeof discharge, surgery_day + n->discharge, uk);
    bool died_in_hospital = n->death == n->discharge;

    const char *f[NELA_NCOLUMNS] = {
        id,
        t->code,
        text(&tx, "%s%02u", t->code, rec->site + 1u),
        nhs,
        rec->forename,
        surname,
        dob,
        text(&tx, "%c", p->sex),
        rec->postcode,
        text(&tx, "E01%06u", rec->lsoa),
        sim_ethnic_codes[p->ethnic],
        arrival,
        decision,
        nela_urgency_codes[x->urgency],
        theatre,
        text(&tx, "%u", x->asa),
        yes_no(n->risk_documented),
        n->risk_documented ? text(&tx, "%u.%u", n->documented_risk / 10u, n->documented_risk % 10u)
                           : "",
        text(&tx, "%u", x->cardiac),
        text(&tx, "%u", x->respiratory),
        text(&tx, "%u", x->ecg),
        text(&tx, "%u", x->gcs),
        text(&tx, "%d", x->pulse),
        text(&tx, "%d", x->systolic),
        x->haemoglobin ? text(&tx, "%d", x->haemoglobin) : "",
        text(&tx, "%.1f", x->white_cells),
        text(&tx, "%d", x->sodium),
        text(&tx, "%.1f", x->potassium),
        text(&tx, "%.1f", x->urea),
        text(&tx, "%d", x->creatinine),
        x->albumin ? text(&tx, "%d", x->albumin) : "",
        nela_indication_codes[x->indication],
        text(&tx, "%u", x->severity),
        text(&tx, "%u", x->procedures),
        text(&tx, "%u", x->soiling),
        text(&tx, "%u", x->blood_loss),
        text(&tx, "%u", x->malignancy),
        yes_no(n->surgeon),
        yes_no(n->anaesthetist),
        nela_destination_codes[n->destination],
        discharge,
        died_in_hospital ? "D" : "A",
    };
    sim_write_invalid(rec, &nela_invalid, f, arrival, sizeof arrival, uk);
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
