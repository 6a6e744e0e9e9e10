/* write.c - the records as each trust writes its file (its date layout, NHS number spacing, surname
 * case), and the truth about every row: whose it is and what `ncap validate` reports on it. */
#include "sim_internal.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetime.h"
#include "nela_internal.h"

/* An invalid row's error (sim_add_invalid), by its variant: the column left empty when a
 * required field is missing, and the column given a bad code with the code written. */
static const sim_invalid_cols_t nhfd_invalid = {
    {SIM_C_ARRIVAL, SIM_C_FTYPE, SIM_C_RESIDENCE},
    {SIM_C_FTYPE, SIM_C_ASA, SIM_C_MOBILITY},
    {"XX", "7", "8"},
};

void sim_date_text(char *out, size_t size, int y, int m, int d, bool uk)
{
    if (uk)
        snprintf(out, size, "%02d/%02d/%04d", d, m, y);
    else
        snprintf(out, size, "%04d-%02d-%02d", y, m, d);
}

void sim_datetime_text(char *out, size_t size, int y, int m, int d, int hh, int mm, bool uk)
{
    if (uk)
        snprintf(out, size, "%02d/%02d/%04d %02d:%02d", d, m, y, hh, mm);
    else
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d", y, m, d, hh, mm);
}

void sim_format_date(char *out, size_t size, int64_t day, bool uk)
{
    int y, m, d;
    ncap_civil_from_days(day, &y, &m, &d);
    sim_date_text(out, size, y, m, d, uk);
}

void sim_format_datetime(char *out, size_t size, int64_t minutes, bool uk)
{
    int y, m, d;
    int64_t day = minutes / 1440, minute = minutes % 1440;
    ncap_civil_from_days(day, &y, &m, &d);
    sim_datetime_text(out, size, y, m, d, (int)(minute / 60), (int)(minute % 60), uk);
}

/* An arrival time on a day that does not exist: 30 February or the 31st of a 30-day month. */
void sim_format_bad_datetime(char *out, size_t size, int64_t minutes, int variant, bool uk)
{
    static const int month[] = {2, 4, 6, 9, 11};
    int y, m, d;
    int64_t minute = minutes % 1440;
    ncap_civil_from_days(minutes / 1440, &y, &m, &d);
    m = month[variant % 5];
    d = m == 2 ? 30 : 31;
    sim_datetime_text(out, size, y, m, d, (int)(minute / 60), (int)(minute % 60), uk);
}

void sim_format_nhs(char *out, size_t size, const char *nhs, int style)
{
    if (!nhs[0] || style == 0)
        snprintf(out, size, "%s", nhs);
    else
        snprintf(out, size, "%.3s%c%.3s%c%.4s", nhs, style == 1 ? ' ' : '-', nhs + 3,
                 style == 1 ? ' ' : '-', nhs + 6);
}

void sim_local_record_id(const sim_t *self, const rec_t *rec, char *out, size_t size)
{
    const char *code = self->trusts[rec->trust].code;
    unsigned long long seed = (unsigned long long)self->opts.seed;
    if (self->opts.round)
        snprintf(out, size, "%s-%llu-r%u-%u", code, seed, self->opts.round, rec->seq);
    else
        snprintf(out, size, "%s-%llu-%u", code, seed, rec->seq);
    if (rec->problem == SIM_P_REQUIRED && sim_problem_column(rec) == SIM_C_ID) {
        out[0] = '\0';
    } else if (rec->problem == SIM_P_PATTERN) {
        static const char sep[] = "/.+";
        if (rec->problem_variant < 3) { /* RH8/1/12: another separator */
            for (char *c = out; *c; c++)
                if (*c == '-')
                    *c = sep[rec->problem_variant];
        } else { /* longer than 40 characters */
            size_t n = strlen(out);
            snprintf(out + n, size - n, "_%.*s", n < 40 ? (int)(40 - n) : 0,
                     "0000000000000000000000000000000000000000");
        }
    }
}

static const char *amts_text(uint8_t a, char buf[4])
{
    if (a == AMTS_ND)
        return "ND";
    snprintf(buf, 4, "%u", a);
    return buf;
}

static void write_record(const sim_t *self, const rec_t *rec, FILE *out)
{
    const trust_t *t = &self->trusts[rec->trust];
    const patient_t *p = &self->patients[rec->patient];
    bool uk = t->uk_dates;
    char id[64], site[16], nhs[16], surname[32], dob[16], lsoa[16], arrival[24], ward[24],
        ortho[24], surgery[24], discharge[16], amts_pre[4], amts_post[4];
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
    ward[0] = '\0';
    if (rec->ward >= 0)
        sim_format_datetime(ward, sizeof ward, rec->arrival + rec->ward, uk);
    sim_format_datetime(ortho, sizeof ortho, rec->arrival + rec->ortho, uk);
    surgery[0] = '\0';
    if (rec->surgery != NO_SURGERY)
        sim_format_datetime(surgery, sizeof surgery, rec->arrival + rec->surgery, uk);
    sim_format_date(discharge, sizeof discharge, rec->arrival / 1440 + rec->los, uk);

    const char *f[SIM_NCOLUMNS] = {
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
        ward,
        rec->ward >= 0 && rec->problem != SIM_P_WARD_NEVER_ADMITTED ? "N" : "Y",
        sim_residence_codes[rec->residence],
        sim_mobility_codes[rec->mobility],
        amts_text(rec->amts_pre, amts_pre),
        sim_ftype_codes[rec->ftype],
        sim_side_codes[rec->side],
        sim_patho_codes[rec->patho],
        sim_asa_codes[rec->asa],
        ortho,
        surgery,
        sim_op_codes[rec->operation],
        amts_text(rec->amts_post, amts_post),
        sim_discharge_codes[rec->discharge],
        discharge,
    };
    char bad[48];
    sim_write_problem(self, rec, f, bad, sizeof bad);
    sim_write_invalid(rec, &nhfd_invalid, f, arrival, sizeof arrival, uk);
    csv_write_row(out, f, SIM_NCOLUMNS);
}

void sim_write_invalid(const rec_t *rec, const sim_invalid_cols_t *cols, const char **f,
                       char *arrival, size_t size, bool uk)
{
    switch ((sim_invalid_t)rec->invalid) {
    case SIM_VALID:
        break;
    case SIM_MISSING_REQUIRED:
        f[cols->missing[rec->invalid_variant % 3]] = "";
        break;
    case SIM_BAD_DATETIME:
        sim_format_bad_datetime(arrival, size, rec->arrival, rec->invalid_variant, uk);
        break;
    case SIM_BAD_CODE:
        f[cols->bad_code[rec->invalid_variant % 3]] = cols->bad_value[rec->invalid_variant % 3];
        break;
    }
}

int sim_write_header(FILE *out)
{
    csv_write_row(out, sim_columns, SIM_NCOLUMNS);
    return ferror(out) ? -1 : 0;
}

int sim_write_file_header(const sim_t *self, FILE *out)
{
    assert(self);
    return self->nela ? nela_write_header(out) : sim_write_header(out);
}

int sim_write_trust(const sim_t *self, size_t t, FILE *out)
{
    assert(self);
    if (t >= self->ntrusts)
        return -1;
    if (self->nela)
        return nela_write_trust(self, t, out);
    const trust_t *tr = &self->trusts[t];
    for (size_t i = 0; i < tr->n; i++)
        write_record(self, &self->recs[self->order[tr->first + i]], out);
    return ferror(out) ? -1 : 0;
}

int sim_trust_buffer(const sim_t *self, size_t t, char **buf, size_t *len)
{
    assert(self);
    *buf = NULL;
    *len = 0;
    FILE *f = open_memstream(buf, len);
    if (!f)
        return -1;
    int rc = sim_write_file_header(self, f);
    if (rc == 0)
        rc = sim_write_trust(self, t, f);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return rc;
}

typedef struct {
    const char *field, *rule, *severity;
} truth_problem_t;

#define ROW_MAX_PROBLEMS 3

/* Every problem `ncap validate` reports on rec's row, into out; returns how many. */
static size_t row_problems(const rec_t *rec, truth_problem_t *out)
{
    const problem_kind_t *k = sim_problem_info((sim_problem_kind_t)rec->problem);
    /* refused by ingest: nothing else is checked */
    if (rec->problem == SIM_P_TYPE_ODS ||
        (rec->problem == SIM_P_REQUIRED && sim_problem_column(rec) == SIM_C_ID)) {
        out[0] =
            (truth_problem_t){k->field ? k->field : sim_columns[SIM_C_ID], k->rule, k->severity};
        return 1;
    }
    size_t n = 0;
    static const char *const nhs_rules[] = {NULL, "nhs_number_invalid", "nhs_number_missing",
                                            "nhs_number_placeholder", "nhs_number_test"};
    if (rec->nhs_issue != SIM_NHS_OK)
        out[n++] = (truth_problem_t){"nhs_number", nhs_rules[rec->nhs_issue], "warning"};
    switch ((sim_invalid_t)rec->invalid) {
    case SIM_VALID:
        break;
    case SIM_MISSING_REQUIRED:
        out[n++] = (truth_problem_t){sim_columns[nhfd_invalid.missing[rec->invalid_variant % 3]],
                                     "required", "error"};
        break;
    case SIM_BAD_DATETIME:
        out[n++] = (truth_problem_t){"arrival_datetime", "type", "error"};
        break;
    case SIM_BAD_CODE: {
        int col = nhfd_invalid.bad_code[rec->invalid_variant % 3];
        out[n++] =
            (truth_problem_t){sim_columns[col], col == SIM_C_ASA ? "range" : "code", "error"};
        break;
    }
    }
    switch ((sim_problem_kind_t)rec->problem) {
    case SIM_P_NONE:
    case SIM_P_NHS_CHECKSUM: /* the NHS number issue above */
    case SIM_P_NHS_PLACEHOLDER:
    case SIM_P_NHS_TEST:
    case SIM_P_NHS_MISSING:
        break;
    case SIM_P_REQUIRED: /* the field is the variant's */
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK:
    case SIM_P_CODE:
        out[n++] = (truth_problem_t){sim_columns[sim_problem_column(rec)], k->rule, k->severity};
        break;
    default:
        out[n++] = (truth_problem_t){k->field, k->rule, k->severity};
        break;
    }
    return n;
}

static bool row_has_error(const rec_t *rec)
{
    truth_problem_t p[ROW_MAX_PROBLEMS];
    size_t n = row_problems(rec, p);
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].severity, "error") == 0)
            return true;
    return false;
}

int sim_write_truth(const sim_t *self, FILE *out, bool one_file)
{
    assert(self);
    if (self->nela)
        return nela_write_truth(self, out, one_file);
    static const char *const head[] = {"local_record_id",  "trust_code", "row",
                                       "patient_id",       "invalid",    "reason",
                                       "nhs_number_issue", "opted_out"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[self->order[i]];
        const trust_t *t = &self->trusts[rec->trust];
        const patient_t *p = &self->patients[rec->patient];
        char id[64], row[24], patient[16];
        sim_local_record_id(self, rec, id, sizeof id);
        snprintf(row, sizeof row, "%zu", 2 + (one_file ? i : i - t->first));
        snprintf(patient, sizeof patient, "%u", p->id);
        const char *f[] = {id,
                           t->code,
                           row,
                           patient,
                           row_has_error(rec) ? "1" : "0",
                           rec->problem ? sim_problem_kind_name((sim_problem_kind_t)rec->problem)
                                        : sim_invalid_text((sim_invalid_t)rec->invalid),
                           sim_nhs_issue_text((sim_nhs_issue_t)rec->nhs_issue),
                           p->opted_out ? "1" : "0"};
        csv_write_row(out, f, NELEMS(f));
    }
    return ferror(out) ? -1 : 0;
}

int sim_write_trusts_truth(const sim_t *self, FILE *out)
{
    assert(self);
    return self->nela ? nela_write_trusts_truth(self, out) : -1;
}

int sim_write_problems_truth(const sim_t *self, FILE *out, bool one_file)
{
    assert(self);
    if (self->nela)
        return -1;
    static const char *const head[] = {"row", "field", "rule", "severity", "trust_code"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[self->order[i]];
        const trust_t *t = &self->trusts[rec->trust];
        truth_problem_t p[ROW_MAX_PROBLEMS];
        size_t n = row_problems(rec, p);
        char row[24];
        snprintf(row, sizeof row, "%zu", 2 + (one_file ? i : i - t->first));
        for (size_t j = 0; j < n; j++) {
            const char *f[] = {row, p[j].field, p[j].rule, p[j].severity, t->code};
            csv_write_row(out, f, NELEMS(f));
        }
    }
    return ferror(out) ? -1 : 0;
}
