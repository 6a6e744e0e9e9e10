/* validate_file.c - a whole file through the pipeline's checks, problems in row order.
 *
 * Fast by construction: ingest's shape checks stream the rows (submission_scan_csv: no record,
 * JSON or hash is made), the CSV column -> field slot map is computed once per file, each row is a
 * record view over the CSV reader's own text, and rules run on expressions bound to slots at load.
 * History rules take one extra scan first: it keys each row by patient (valid NHS number + date of
 * birth) and keeps the few values history rules read; the warnings of patients with more than one
 * row are then ready when the main scan reaches their rows. */
#include "validate_file.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetime.h"
#include "history_rule.h"
#include "link_record.h"
#include "nhs_number.h"
#include "record_view.h"
#include "str_map.h"
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

static int slot_linked_as(const audit_def_t *def, const char *role)
{
    for (size_t i = 0; i < def->n_fields; i++)
        if (def->fields[i].link_as && strcmp(def->fields[i].link_as, role) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- the engine's state */

typedef struct {
    char key[24]; /* NHS number digits + YYYYMMDD */
    int row;
    size_t texts; /* offset in the engine's kept texts of this row's history slots */
} keyed_t;

typedef struct {
    int row;
    size_t group; /* rows of one patient share it */
    size_t texts; /* its history slots' texts in the engine's kept texts */
    ncap_record_t *rec;
    validation_result_t history;
} linked_row_t;

typedef enum { PASS_KEYS, PASS_CHECK } pass_t;

typedef struct {
    const audit_def_t *def;
    out_t *o;
    pass_t pass;
    record_view_t *view;
    int *slot_of_col; /* by CSV column, computed at the first row */
    size_t ncols;
    int nhs_slot, dob_slot;
    ncap_record_t *raw; /* the identifiers linkage checks */
    validation_result_t res;
    keyed_t *keys; /* PASS_KEYS */
    size_t n_keys, cap_keys;
    int *history_slots; /* what history rules read: their fields and message names */
    size_t n_history_slots;
    bool history_derived; /* some of them are derived */
    char *texts;          /* those slots' texts of each keyed row, NUL-separated */
    size_t n_texts, cap_texts;
    audit_def_t ids_only;    /* def without derived fields: linkage's identifier checks */
    link_outcome_t link_out; /* scratch for those checks: only its problems are used */
    linked_row_t *linked;    /* rows of patients with more than one row, by row */
    size_t n_linked;
} engine_t;

/* The view of the current row, from the CSV reader's text. */
static int load_row(engine_t *e, const csv_reader_t *csv, const audit_field_t *const *col)
{
    size_t ncols = csv_reader_nfields(csv);
    if (!e->slot_of_col) {
        e->slot_of_col = calloc(ncols ? ncols : 1, sizeof *e->slot_of_col);
        if (!e->slot_of_col)
            return -1;
        e->ncols = ncols;
        for (size_t i = 0; i < ncols; i++)
            e->slot_of_col[i] = col[i] ? (int)(col[i] - e->def->fields) : -1;
    }
    record_view_reset(e->view);
    for (size_t i = 0; i < e->ncols && i < ncols; i++)
        if (e->slot_of_col[i] >= 0)
            record_view_set(e->view, e->slot_of_col[i], csv_reader_field(csv, i));
    return 0;
}

/* The patient of the row offline: "" when the NHS number or date of birth is missing or invalid
 * (such a row has no other records). */
static void patient_key(const engine_t *e, char key[24])
{
    key[0] = '\0';
    const char *nhs = record_view_text(e->view, e->nhs_slot);
    const char *dob = record_view_text(e->view, e->dob_slot);
    char digits[11];
    int y, m, d;
    if (nhs && dob && nhs_number_check(nhs, digits) == NHS_NUMBER_VALID &&
        ncap_date_parse(dob, &y, &m, &d) == 0 && y < 10000) {
        memcpy(key, digits, 10);
        int parts[3] = {y, m * 100 + d, 0}; /* YYYY then MMDD */
        for (int i = 0; i < 2; i++)
            for (int j = 3; j >= 0; j--, parts[i] /= 10)
                key[10 + 4 * i + j] = (char)('0' + parts[i] % 10);
        key[18] = '\0';
    }
}

static linked_row_t *find_linked(const engine_t *e, int row)
{
    size_t lo = 0, hi = e->n_linked;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e->linked[mid].row < row)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->n_linked && e->linked[lo].row == row ? &e->linked[lo] : NULL;
}

/* ---------------------------------------------------------------- one row, in each pass */

static int keep_key(engine_t *e, int row)
{
    if (e->n_keys == e->cap_keys) {
        size_t cap = e->cap_keys ? e->cap_keys * 2 : 1024;
        keyed_t *more = realloc(e->keys, cap * sizeof *more);
        if (!more)
            return -1;
        e->keys = more;
        e->cap_keys = cap;
    }
    keyed_t *k = &e->keys[e->n_keys];
    patient_key(e, k->key);
    k->row = row;
    k->texts = e->n_texts;
    if (k->key[0] == '\0')
        return 0;
    e->n_keys++;
    if (e->history_derived)
        record_view_derive(e->view);
    for (size_t i = 0; i < e->n_history_slots; i++) {
        const char *v = record_view_text(e->view, e->history_slots[i]);
        size_t len = v ? strlen(v) + 1 : 1;
        if (e->n_texts + len + 1 > e->cap_texts) {
            size_t cap = e->cap_texts ? e->cap_texts * 2 : 65536;
            while (cap < e->n_texts + len + 1)
                cap *= 2;
            char *more = realloc(e->texts, cap);
            if (!more)
                return -1;
            e->texts = more;
            e->cap_texts = cap;
        }
        /* an absent value is kept as "\x01" so that it stays absent */
        memcpy(e->texts + e->n_texts, v ? v : "\x01", v ? len : 2);
        e->n_texts += v ? len : 2;
    }
    return 0;
}

/* A shape problem, as ingest's checks find it (in row order, each one: not kept once per rule). */
static int report_shape_problem(void *ctx, const submission_problem_t *p)
{
    engine_t *e = ctx;
    if (e->pass == PASS_CHECK)
        report(e->o, p->row, p->field, p->rule, p->severity, "", p->message);
    return 0;
}

/* Linkage's checks of the identifiers, exactly as linkage makes them. */
static int check_identifiers(engine_t *e, int row)
{
    const audit_def_t *def = e->def;
    ncap_record_clear(e->raw);
    const int link_slots[] = {e->nhs_slot, e->dob_slot};
    for (size_t i = 0; i < 2; i++) {
        const char *v = record_view_text(e->view, link_slots[i]);
        if (v && ncap_record_set(e->raw, def->fields[link_slots[i]].name, v) != 0)
            return -1;
    }
    e->link_out.n_problems = 0;
    link_record_check_identifiers(&e->ids_only, e->raw, &e->link_out);
    for (int i = 0; i < e->link_out.n_problems; i++) {
        const link_problem_t *p = &e->link_out.problems[i];
        report(e->o, row, p->field, p->rule, p->severity, "", p->message);
    }
    /* the identifiers linkage does not check itself, e.g. the postcode: never fatal */
    for (size_t i = 0; i < def->n_fields; i++) {
        const audit_field_t *f = &def->fields[i];
        if (!f->identifier || (int)i == e->nhs_slot || (int)i == e->dob_slot ||
            record_view_missing(e->view, (int)i))
            continue;
        char rule[32], msg[320];
        if (audit_field_check(f, record_view_text(e->view, (int)i), rule, sizeof rule, msg,
                              sizeof msg) != 0)
            report(e->o, row, f->name, rule, "warning", "", msg);
    }
    return 0;
}

static int check_row(engine_t *e, int row)
{
    if (check_identifiers(e, row) != 0)
        return -1;
    record_view_derive(e->view);
    validation_result_reset(&e->res);
    if (validate_view(e->view, &e->res) != 0)
        return -1;
    for (size_t i = 0; i < e->res.n; i++) {
        const validation_problem_t *p = &e->res.problems[i];
        report(e->o, row, p->field, p->rule, p->severity, p->value, p->message);
    }
    const linked_row_t *lr = e->n_linked ? find_linked(e, row) : NULL;
    for (size_t i = 0; lr && i < lr->history.n; i++) {
        const validation_problem_t *p = &lr->history.problems[i];
        report(e->o, row, p->field, p->rule, p->severity, p->value, p->message);
    }
    return 0;
}

static int on_row(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                  const audit_field_t *const *col)
{
    engine_t *e = ctx;
    (void)s;
    if (load_row(e, csv, col) != 0)
        return -1;
    return e->pass == PASS_KEYS ? keep_key(e, row) : check_row(e, row);
}

/* ---------------------------------------------------------------- history */

typedef struct {
    size_t count;
    size_t group; /* SIZE_MAX until the patient is found to have more than one row */
} patient_t;

/* After PASS_KEYS: the rows of patients with more than one row, grouped by patient (a string map
 * of the keys; the keys are in row order, and so are the linked rows). */
static int group_patients(engine_t *e)
{
    str_map_t *keys = str_map_new(e->n_keys);
    patient_t *patients = malloc((e->n_keys ? e->n_keys : 1) * sizeof *patients);
    size_t *of = malloc((e->n_keys ? e->n_keys : 1) * sizeof *of); /* each key's patient */
    int rc = keys && patients && of ? 0 : -1;
    size_t n = 0, groups = 0;
    for (size_t i = 0; rc == 0 && i < e->n_keys; i++) {
        size_t at;
        int added = str_map_put(keys, e->keys[i].key, &at);
        if (added < 0) {
            rc = -1;
            break;
        }
        if (added)
            patients[at] = (patient_t){0, SIZE_MAX};
        n += ++patients[at].count == 2 ? 2 : patients[at].count > 2;
        of[i] = at;
    }
    e->linked = rc == 0 ? calloc(n ? n : 1, sizeof *e->linked) : NULL;
    for (size_t i = 0; e->linked && i < e->n_keys; i++) {
        patient_t *p = &patients[of[i]];
        if (p->count < 2)
            continue;
        if (p->group == SIZE_MAX)
            p->group = groups++;
        e->linked[e->n_linked++] =
            (linked_row_t){.row = e->keys[i].row, .group = p->group, .texts = e->keys[i].texts};
    }
    str_map_destroy(&keys);
    free(patients);
    free(of);
    return e->linked ? 0 : -1;
}

/* The record history rules see of a linked row: its history slots' texts. */
static int linked_record(engine_t *e, linked_row_t *lr)
{
    lr->rec = ncap_record_new();
    if (!lr->rec)
        return -1;
    const char *t = e->texts + lr->texts;
    for (size_t i = 0; i < e->n_history_slots; i++, t += strlen(t) + 1)
        if (strcmp(t, "\x01") != 0 &&
            ncap_record_set(lr->rec, audit_def_slot_name(e->def, e->history_slots[i]), t) != 0)
            return -1;
    return 0;
}

/* After PASS_KEYS and grouping: each linked row's history warnings. */
static int check_history(engine_t *e)
{
    /* members of a group, by group: sort a copy of the indices */
    history_record_t *h = calloc(e->n_linked ? e->n_linked : 1, sizeof *h);
    size_t *idx = calloc(e->n_linked ? e->n_linked : 1, sizeof *idx);
    int rc = h && idx ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < e->n_linked; i++)
        rc = linked_record(e, &e->linked[i]);
    size_t groups = 0;
    for (size_t i = 0; i < e->n_linked; i++)
        groups = e->linked[i].group + 1 > groups ? e->linked[i].group + 1 : groups;
    /* counting sort of the rows by group */
    size_t *start = calloc(groups + 1, sizeof *start);
    if (!start)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < e->n_linked; i++)
        start[e->linked[i].group + 1]++;
    for (size_t g = 0; rc == 0 && g < groups; g++)
        start[g + 1] += start[g];
    for (size_t i = 0; rc == 0 && i < e->n_linked; i++)
        idx[start[e->linked[i].group]++] = i;
    for (size_t i = 0, end; rc == 0 && i < e->n_linked; i = end) {
        size_t g = e->linked[idx[i]].group;
        for (end = i; end < e->n_linked && e->linked[idx[end]].group == g; end++)
            h[end - i] = (history_record_t){e->linked[idx[end]].rec, e->linked[idx[end]].row};
        for (size_t j = i; rc == 0 && j < end; j++) {
            linked_row_t *lr = &e->linked[idx[j]];
            lr->history.valid = 1;
            if (lr->rec)
                rc = validate_history(e->def, &h[j - i], h, end - i, &lr->history);
        }
    }
    free(start);
    free(idx);
    free(h);
    return rc;
}

/* ---------------------------------------------------------------- the file */

static int add_history_slot(engine_t *e, const char *name)
{
    int slot = audit_def_slot(e->def, name);
    for (size_t i = 0; i < e->n_history_slots; i++)
        if (e->history_slots[i] == slot)
            return 0;
    int *more = realloc(e->history_slots, (e->n_history_slots + 1) * sizeof *more);
    if (!more)
        return -1;
    e->history_slots = more;
    e->history_slots[e->n_history_slots++] = slot;
    e->history_derived |= audit_def_slot_field(e->def, slot) == NULL;
    return 0;
}

/* The slots history rules read: same, date, the field reported and the message's names. */
static int find_history_slots(engine_t *e)
{
    for (size_t r = 0; r < e->def->n_rules; r++) {
        const audit_rule_t *rule = &e->def->rules[r];
        if (!rule->history)
            continue;
        if (add_history_slot(e, rule->history->date) || add_history_slot(e, rule->field))
            return -1;
        for (size_t i = 0; i < rule->history->n_same; i++)
            if (add_history_slot(e, rule->history->same[i]))
                return -1;
        for (const char *p = strchr(rule->message, '{'); p; p = strchr(p + 1, '{')) {
            const char *end = strchr(p, '}');
            char name[64];
            if (!end || (size_t)(end - p - 1) >= sizeof name)
                break;
            memcpy(name, p + 1, (size_t)(end - p - 1));
            name[end - p - 1] = '\0';
            if (add_history_slot(e, name))
                return -1;
        }
    }
    return 0;
}

static int run_pass(engine_t *e, pass_t pass, const char *trust, const char *data, size_t len,
                    submission_t **s)
{
    e->pass = pass;
    submission_sink_t sink = {report_shape_problem, e, false};
    *s = submission_scan_csv(e->def, trust, data, len, on_row, e, &sink);
    return *s ? 0 : -1;
}

int validate_file(const audit_def_t *def, const char *trust, const char *data, size_t len,
                  file_problem_fn emit, void *ctx, file_summary_t *summary)
{
    memset(summary, 0, sizeof *summary);
    out_t o = {emit, ctx, summary};
    engine_t e = {.def = def,
                  .o = &o,
                  .view = record_view_new(def),
                  .raw = ncap_record_new(),
                  .nhs_slot = slot_linked_as(def, "nhs_number"),
                  .dob_slot = slot_linked_as(def, "dob")};
    /* linkage's derived fields are the view's business here (record_view_derive): linkage is
     * asked for its identifier checks only */
    e.ids_only = *def;
    e.ids_only.n_derived = 0;
    submission_t *s = NULL;
    int rc = e.view && e.raw ? 0 : -1;
    bool history = audit_has_history_rules(def) && e.nhs_slot >= 0 && e.dob_slot >= 0;
    if (rc == 0 && history) {
        rc = find_history_slots(&e) || run_pass(&e, PASS_KEYS, trust, data, len, &s) ||
             group_patients(&e) || check_history(&e);
        submission_destroy(&s);
    }
    if (rc == 0)
        rc = run_pass(&e, PASS_CHECK, trust, data, len, &s);
    if (rc == 0) {
        summary->data_rows = s->data_rows;
        if (s->file_error[0])
            report(&o, 1, "", "file", "error", "", s->file_error);
    }
    submission_destroy(&s);
    for (size_t i = 0; i < e.n_linked; i++) {
        ncap_record_destroy(&e.linked[i].rec);
        validation_result_free(&e.linked[i].history);
    }
    free(e.linked);
    free(e.keys);
    free(e.texts);
    free(e.history_slots);
    free(e.slot_of_col);
    validation_result_free(&e.res);
    ncap_record_destroy(&e.raw);
    record_view_destroy(&e.view);
    return rc;
}

/* ---------------------------------------------------------------- rows, for other commands */

typedef struct {
    engine_t e;
    file_row_fn row_fn;
    void *ctx;
} rows_t;

static int on_value_row(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                        const audit_field_t *const *col)
{
    rows_t *r = ctx;
    (void)s;
    if (load_row(&r->e, csv, col) != 0)
        return -1;
    record_view_derive(r->e.view);
    return r->row_fn(r->ctx, row, r->e.view);
}

static int ignore_shape_problem(void *ctx, const submission_problem_t *p)
{
    (void)ctx;
    (void)p;
    return 0;
}

int validate_file_rows(const audit_def_t *def, const char *trust, const char *data, size_t len,
                       file_row_fn row_fn, void *ctx, unsigned *data_rows)
{
    rows_t r = {.e = {.def = def, .view = record_view_new(def)}, .row_fn = row_fn, .ctx = ctx};
    *data_rows = 0;
    submission_t *s = NULL;
    if (r.e.view) {
        submission_sink_t sink = {ignore_shape_problem, NULL, false};
        s = submission_scan_csv(def, trust, data, len, on_value_row, &r, &sink);
    }
    if (s)
        *data_rows = s->data_rows;
    int rc = s ? 0 : -1;
    submission_destroy(&s);
    free(r.e.slot_of_col);
    record_view_destroy(&r.e.view);
    return rc;
}
