/* submission.c - shape checks and records out of a CSV file */
#include "submission.h"

#include <assert.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "message.h"
#include "ods_code.h"
#include "str_map.h"
#include "utf8.h"

static void problem(submission_t *s, int row, const char *field, const char *rule,
                    const char *severity, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void problem(submission_t *s, int row, const char *field, const char *rule,
                    const char *severity, const char *fmt, ...)
{
    submission_problem_t *p = realloc(s->problems, (s->n_problems + 1) * sizeof *p);
    if (!p)
        return;
    s->problems = p;
    p = &s->problems[s->n_problems++];
    memset(p, 0, sizeof *p);
    p->row = row;
    snprintf(p->field, sizeof p->field, "%s", field);
    snprintf(p->rule, sizeof p->rule, "%s", rule);
    snprintf(p->severity, sizeof p->severity, "%s", severity);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
}

static int build_row(submission_row_t *r, int row, const char *local_id, const char *site,
                     ncap_record_t *rec)
{
    r->row = row;
    r->local_id = strdup(local_id);
    r->site = strdup(site);
    r->rec = rec;
    r->json = message_record_to_json(rec);
    if (!r->local_id || !r->site || !r->json)
        return -1;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)r->json, strlen(r->json));
    sodium_bin2hex(r->hash, sizeof r->hash, h, sizeof h);
    return 0;
}

/* The shape checks; each row fit to store goes to on_row. Returns 0, or -1 when out of memory. */
static int scan(const audit_def_t *def, const char *trust, const char *data, size_t len,
                submission_t *s, submission_row_fn on_row, void *ctx)
{
    csv_reader_t *csv = csv_reader_new(data, len, true);
    if (!csv)
        return -1;
    int rc = csv_reader_next(csv);
    if (rc <= 0) {
        snprintf(s->file_error, sizeof s->file_error,
                 rc == 0 ? "the file is empty: expected a header row naming the audit's fields"
                         : "could not read the header row: %s",
                 csv_reader_error(csv));
        csv_reader_destroy(&csv);
        return 0;
    }
    size_t ncols = csv_reader_nfields(csv);
    /* Map each column to a definition field; unknown columns are ignored, with a warning. */
    const audit_field_t **col = calloc(ncols, sizeof *col);
    int key_col = -1, trust_col = -1, site_col = -1;
    for (size_t i = 0; col && i < ncols; i++) {
        const char *name = csv_reader_field(csv, i);
        const audit_field_t *f = audit_def_field(def, name);
        for (size_t j = 0; f && j < i; j++)
            if (col[j] == f) {
                snprintf(s->file_error, sizeof s->file_error,
                         "column \"%s\" appears twice in the header (columns %zu and %zu)", name,
                         j + 1, i + 1);
                f = NULL;
            }
        if (!f && !s->file_error[0])
            problem(s, 1, name, "unknown_column", "warning",
                    "column \"%s\" is not a field of the %s dataset %s and was ignored", name,
                    def->audit, def->dataset_version);
        col[i] = f;
        if (f && strcmp(f->name, def->record_key_field) == 0)
            key_col = (int)i;
        if (f && strcmp(f->name, def->trust_field) == 0)
            trust_col = (int)i;
        if (f && strcmp(f->name, def->site_field) == 0)
            site_col = (int)i;
    }
    for (size_t k = 0; col && !s->file_error[0] && k < def->n_fields; k++) {
        const audit_field_t *f = &def->fields[k];
        int present = 0;
        for (size_t i = 0; i < ncols; i++)
            present |= col[i] == f;
        if (!present && f->required)
            snprintf(s->file_error, sizeof s->file_error,
                     "the header has no column \"%s\", a required field of the %s dataset %s",
                     f->name, def->audit, def->dataset_version);
    }
    if (!col || s->file_error[0] || key_col < 0 || trust_col < 0 || site_col < 0) {
        if (!s->file_error[0])
            snprintf(s->file_error, sizeof s->file_error,
                     "the header must name the columns \"%s\", \"%s\" and \"%s\"",
                     def->record_key_field, def->trust_field, def->site_field);
        free(col);
        csv_reader_destroy(&csv);
        return col ? 0 : -1;
    }
    /* local ids seen so far, for duplicates within the file, and the row each was first at */
    str_map_t *ids = str_map_new(0);
    int *first_row = NULL;
    size_t cap_ids = 0;
    int rc_out = ids ? 0 : -1;
    while (rc_out == 0 && (rc = csv_reader_next(csv)) != 0) {
        int row = (int)csv_reader_line(csv);
        s->data_rows++;
        if (rc < 0) {
            s->rejected++;
            problem(s, row, "", "csv", "error", "could not read row: %s", csv_reader_error(csv));
            continue;
        }
        if (csv_reader_nfields(csv) != ncols) {
            s->rejected++;
            problem(s, row, "", "columns", "error",
                    "row has %zu fields but the header has %zu columns", csv_reader_nfields(csv),
                    ncols);
            continue;
        }
        const char *local_id = csv_reader_field(csv, (size_t)key_col);
        const char *row_trust = csv_reader_field(csv, (size_t)trust_col);
        const char *site = csv_reader_field(csv, (size_t)site_col);
        if (!*local_id) {
            s->rejected++;
            problem(s, row, def->record_key_field, "required", "error",
                    "\"%s\" is empty: every row needs the trust's own record identifier",
                    def->record_key_field);
            continue;
        }
        if (strcmp(row_trust, trust) != 0) {
            s->rejected++;
            problem(s, row, def->trust_field, "trust_mismatch", "error",
                    "\"%s\" is \"%s\" but the file was submitted by trust \"%s\"", def->trust_field,
                    row_trust, trust);
            continue;
        }
        if (*site && !ods_code_site_of(site, trust)) {
            s->rejected++;
            problem(s, row, def->site_field, "site_trust", "error",
                    "site \"%s\" is not a site of trust \"%s\": a site code is the trust's code "
                    "and two more characters, e.g. \"%s01\"",
                    site, trust, trust);
            continue;
        }
        if (str_map_size(ids) == cap_ids) {
            size_t cap = cap_ids ? cap_ids * 2 : 1024;
            int *more = realloc(first_row, cap * sizeof *more);
            if (!more) {
                rc_out = -1;
                break;
            }
            first_row = more;
            cap_ids = cap;
        }
        size_t bad_col = 0, bad_at = 0;
        for (size_t i = 0; i < ncols && !bad_at; i++)
            if (col[i] && (bad_at = utf8_invalid_at(csv_reader_field(csv, i))) != 0)
                bad_col = i;
        if (bad_at) {
            s->rejected++;
            problem(s, row, col[bad_col]->name, "encoding", "error",
                    "\"%s\" is not UTF-8 text (byte %zu): save the file as UTF-8 and send it again",
                    col[bad_col]->name, bad_at);
            continue;
        }
        size_t at;
        int added = str_map_put(ids, local_id, &at);
        if (added < 0) {
            rc_out = -1;
            break;
        }
        if (!added) {
            s->rejected++;
            problem(s, row, def->record_key_field, "duplicate", "error",
                    "record \"%s\" appears twice in this file (first at row %d); send each record "
                    "once",
                    local_id, first_row[at]);
            continue;
        }
        first_row[at] = row;
        if (on_row(ctx, s, row, csv, col) != 0) {
            rc_out = -1;
            break;
        }
    }
    str_map_destroy(&ids);
    free(first_row);
    free(col);
    csv_reader_destroy(&csv);
    return rc_out;
}

submission_t *submission_scan_csv(const audit_def_t *def, const char *trust, const char *data,
                                  size_t len, submission_row_fn on_row, void *ctx)
{
    assert(def);
    assert(on_row);
    submission_t *s = calloc(1, sizeof *s);
    if (s && scan(def, trust, data, len, s, on_row, ctx) != 0)
        submission_destroy(&s);
    return s;
}

typedef struct {
    const audit_def_t *def;
    submission_t *s;
    size_t cap_rows;
} builder_t;

/* Keeps a row: its record, canonical JSON and hash. */
static int build(void *ctx, const submission_t *scanned, int row, const csv_reader_t *csv,
                 const audit_field_t *const *col)
{
    (void)scanned;
    builder_t *b = ctx;
    submission_t *s = b->s;
    if (s->n_rows == b->cap_rows) {
        size_t cap = b->cap_rows ? b->cap_rows * 2 : 256;
        submission_row_t *rows = realloc(s->rows, cap * sizeof *rows);
        if (!rows)
            return -1;
        s->rows = rows;
        b->cap_rows = cap;
    }
    ncap_record_t *rec = ncap_record_new();
    const char *local_id = "", *site = "";
    for (size_t i = 0; rec && i < csv_reader_nfields(csv); i++) {
        if (!col[i])
            continue;
        if (ncap_record_set(rec, col[i]->name, csv_reader_field(csv, i)) != 0)
            ncap_record_destroy(&rec);
    }
    if (rec) {
        local_id = ncap_record_get(rec, b->def->record_key_field);
        site = ncap_record_get(rec, b->def->site_field);
    }
    submission_row_t *r = &s->rows[s->n_rows];
    memset(r, 0, sizeof *r);
    if (!rec || build_row(r, row, local_id, site, rec) != 0) {
        ncap_record_destroy(&rec);
        free(r->local_id);
        free(r->site);
        free(r->json);
        return -1;
    }
    s->n_rows++;
    return 0;
}

submission_t *submission_parse_csv(const audit_def_t *def, const char *trust, const char *data,
                                   size_t len)
{
    assert(def);
    submission_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    builder_t b = {def, s, 0};
    if (scan(def, trust, data, len, s, build, &b) != 0)
        submission_destroy(&s);
    return s;
}

void submission_destroy(submission_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    submission_t *s = *self_p;
    for (size_t i = 0; i < s->n_rows; i++) {
        ncap_record_destroy(&s->rows[i].rec);
        free(s->rows[i].local_id);
        free(s->rows[i].site);
        free(s->rows[i].json);
    }
    free(s->rows);
    free(s->problems);
    free(s);
    *self_p = NULL;
}
