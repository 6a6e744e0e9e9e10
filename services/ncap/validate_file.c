/* validate_file.c - a whole file through the pipeline's checks, problems in row order */
#include "validate_file.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetime.h"
#include "history_rule.h"
#include "link_record.h"
#include "nhs_number.h"
#include "submission.h"
#include "validate_record.h"

typedef struct {
    file_problem_fn emit;
    void *ctx;
    file_summary_t *sum;
} out_t;

static void report(out_t *o, int row, const char *field, const char *rule, const char *severity,
                   const char *value, const char *message)
{
    file_problem_t p = {row, field, rule, severity, value, message};
    o->emit(o->ctx, &p);
    if (strcmp(severity, "error") == 0)
        o->sum->errors++;
    else
        o->sum->warnings++;
}

void validate_file_trust(const audit_def_t *def, const char *data, size_t len, char *trust,
                         size_t trustlen)
{
    trust[0] = '\0';
    csv_reader_t *csv = csv_reader_new(data, len, true);
    if (!csv)
        return;
    long col = -1;
    if (csv_reader_next(csv) > 0)
        for (size_t i = 0; i < csv_reader_nfields(csv); i++)
            if (strcmp(csv_reader_field(csv, i), def->trust_field) == 0)
                col = (long)i;
    if (col >= 0 && csv_reader_next(csv) > 0 && (size_t)col < csv_reader_nfields(csv))
        snprintf(trust, trustlen, "%s", csv_reader_field(csv, (size_t)col));
    csv_reader_destroy(&csv);
}

/* Identifier fields linkage does not check itself (it checks the NHS number and date of birth):
 * their type, e.g. the postcode. Never fatal to the record, as in the pipeline. */
static void check_other_identifiers(const audit_def_t *def, const ncap_record_t *rec, int row,
                                    out_t *o)
{
    for (size_t i = 0; i < def->n_fields; i++) {
        const audit_field_t *f = &def->fields[i];
        if (!f->identifier || ncap_record_missing(rec, f->name) ||
            (f->link_as &&
             (strcmp(f->link_as, "nhs_number") == 0 || strcmp(f->link_as, "dob") == 0)))
            continue;
        char rule[32], msg[320];
        if (audit_field_check(f, ncap_record_get(rec, f->name), rule, sizeof rule, msg,
                              sizeof msg) != 0)
            report(o, row, f->name, rule, "warning", "", msg);
    }
}

/* ---------------------------------------------------------------- history */

static const char *linked_as(const audit_def_t *def, const char *role)
{
    for (size_t i = 0; i < def->n_fields; i++)
        if (def->fields[i].link_as && strcmp(def->fields[i].link_as, role) == 0)
            return def->fields[i].name;
    return NULL;
}

/* The patient of a row offline: its valid NHS number and date of birth ("" when either is
 * missing or invalid: such a row has no other records). */
static void patient_key(const audit_def_t *def, const ncap_record_t *rec, char key[24])
{
    key[0] = '\0';
    const char *nf = linked_as(def, "nhs_number"), *df = linked_as(def, "dob");
    const char *nhs = nf ? ncap_record_get(rec, nf) : NULL,
               *dob = df ? ncap_record_get(rec, df) : NULL;
    char digits[11];
    int y, m, d;
    if (nhs && dob && nhs_number_check(nhs, digits) == NHS_NUMBER_VALID &&
        ncap_date_parse(dob, &y, &m, &d) == 0)
        snprintf(key, 24, "%s%04d%02d%02d", digits, y % 10000, m, d);
}

typedef struct {
    char key[24];
    size_t index; /* in the submission's rows */
} keyed_t;

static int by_key(const void *a, const void *b)
{
    const keyed_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* History problems of every row that has other records in the file: results[i] for row i (most
 * rows have none and are never looked at twice). Returns 0, or -1 when out of memory. */
static int check_history(const audit_def_t *def, const submission_t *s,
                         validation_result_t *results)
{
    keyed_t *k = calloc(s->n_rows ? s->n_rows : 1, sizeof *k);
    if (!k)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < s->n_rows; i++) {
        patient_key(def, s->rows[i].rec, k[n].key);
        k[n].index = i;
        n += k[n].key[0] != '\0';
    }
    qsort(k, n, sizeof *k, by_key);
    int rc = 0;
    for (size_t g = 0, end; g < n && rc == 0; g = end) {
        for (end = g + 1; end < n && strcmp(k[end].key, k[g].key) == 0; end++)
            ;
        size_t size = end - g;
        if (size < 2)
            continue;
        /* the group's records as validation sees them: pseudonymised, derived fields added */
        link_outcome_t *lo = calloc(size, sizeof *lo);
        history_record_t *h = calloc(size, sizeof *h);
        for (size_t j = 0; lo && h && j < size && rc == 0; j++) {
            const submission_row_t *sr = &s->rows[k[g + j].index];
            rc = link_record_prepare(def, sr->row, sr->rec, &lo[j]);
            h[j] = (history_record_t){lo[j].pseudo, sr->row};
        }
        if (!lo || !h)
            rc = -1;
        for (size_t j = 0; rc == 0 && j < size; j++)
            rc = validate_history(def, &h[j], h, size, &results[k[g + j].index]);
        for (size_t j = 0; lo && j < size; j++)
            link_outcome_clear(&lo[j]);
        free(lo);
        free(h);
    }
    free(k);
    return rc;
}

/* ---------------------------------------------------------------- the file */

/* Linkage's and validation's checks of one row. Returns 0, or -1 when out of memory. */
static int check_row(const audit_def_t *def, const submission_row_t *sr,
                     const validation_result_t *history, out_t *o)
{
    link_outcome_t lo;
    if (link_record_prepare(def, sr->row, sr->rec, &lo) != 0) {
        link_outcome_clear(&lo);
        return -1;
    }
    for (int i = 0; i < lo.n_problems; i++)
        report(o, sr->row, lo.problems[i].field, lo.problems[i].rule, lo.problems[i].severity, "",
               lo.problems[i].message);
    check_other_identifiers(def, sr->rec, sr->row, o);
    validation_result_t res;
    int rc = validate_record(def, lo.pseudo, &res);
    for (size_t i = 0; rc == 0 && i < res.n; i++) {
        const validation_problem_t *p = &res.problems[i];
        report(o, sr->row, p->field, p->rule, p->severity, p->value, p->message);
    }
    for (size_t i = 0; rc == 0 && history && i < history->n; i++) {
        const validation_problem_t *p = &history->problems[i];
        report(o, sr->row, p->field, p->rule, p->severity, p->value, p->message);
    }
    validation_result_free(&res);
    link_outcome_clear(&lo);
    return rc;
}

int validate_file(const audit_def_t *def, const char *trust, const char *data, size_t len,
                  file_problem_fn emit, void *ctx, file_summary_t *summary)
{
    memset(summary, 0, sizeof *summary);
    out_t o = {emit, ctx, summary};
    submission_t *s = submission_parse_csv(def, trust, data, len);
    if (!s)
        return -1;
    summary->data_rows = s->data_rows;
    if (s->file_error[0])
        report(&o, 1, "", "file", "error", "", s->file_error);
    validation_result_t *history = NULL;
    int rc = 0;
    if (audit_has_history_rules(def) && s->n_rows > 1) {
        history = calloc(s->n_rows, sizeof *history);
        rc = history ? check_history(def, s, history) : -1;
    }
    /* shape problems and row problems, in row order */
    size_t next_problem = 0;
    for (size_t i = 0; i < s->n_rows && rc == 0; i++) {
        for (; next_problem < s->n_problems && s->problems[next_problem].row <= s->rows[i].row;
             next_problem++) {
            const submission_problem_t *p = &s->problems[next_problem];
            report(&o, p->row, p->field, p->rule, p->severity, "", p->message);
        }
        rc = check_row(def, &s->rows[i], history ? &history[i] : NULL, &o);
    }
    for (; rc == 0 && next_problem < s->n_problems; next_problem++) {
        const submission_problem_t *p = &s->problems[next_problem];
        report(&o, p->row, p->field, p->rule, p->severity, "", p->message);
    }
    for (size_t i = 0; history && i < s->n_rows; i++)
        validation_result_free(&history[i]);
    free(history);
    submission_destroy(&s);
    return rc;
}
