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

/* The rules whose problems are kept once per rule with a count (sink.aggregate): the file's
 * shape, which a broken export repeats on every row; the label heads the kept problem's message. */
static const struct {
    const char *rule, *label;
} file_rules[] = {
    {"columns", "wrong number of columns"},
    {"csv", "rows that could not be read as CSV"},
    {"encoding", "text that is not UTF-8"},
};
#define N_FILE_RULES (sizeof file_rules / sizeof *file_rules)

typedef struct {
    unsigned count;
    int first_row;
    char field[64];
    char severity[8];
    char message[512]; /* the first's */
    int rows[SUBMISSION_LISTED_ROWS];
    size_t n_rows;
} kept_t;

/* A scan's state: where problems go, and the file-level ones kept so far. */
typedef struct {
    submission_t *s;
    submission_sink_t sink;
    kept_t kept[N_FILE_RULES];
} scan_t;

static int emit(scan_t *sc, const submission_problem_t *p)
{
    sc->s->n_problems++;
    return sc->sink.problem ? sc->sink.problem(sc->sink.ctx, p) : 0;
}

static int problem(scan_t *sc, int row, const char *field, const char *rule, const char *severity,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A problem at row: to the sink, or kept with its rule's. Returns 0, or -1 when the sink stopped.
 */
static int problem(scan_t *sc, int row, const char *field, const char *rule, const char *severity,
                   const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    /* a value cut to "%.40s" through a character, or a byte of another encoding (an unknown
     * column's name is not checked): '?', since problems are stored as text and PostgreSQL
     * refuses malformed UTF-8 */
    utf8_mend(message);
    char name[256];
    snprintf(name, sizeof name, "%s", field);
    utf8_mend(name);
    field = name;
    for (size_t k = 0; sc->sink.aggregate && k < N_FILE_RULES; k++) {
        if (strcmp(rule, file_rules[k].rule) != 0)
            continue;
        kept_t *kp = &sc->kept[k];
        if (kp->count++ == 0) {
            kp->first_row = row;
            snprintf(kp->field, sizeof kp->field, "%.*s", (int)sizeof kp->field - 1, field);
            utf8_mend(kp->field);
            snprintf(kp->severity, sizeof kp->severity, "%s", severity);
            snprintf(kp->message, sizeof kp->message, "%s", message);
        }
        if (kp->n_rows < SUBMISSION_LISTED_ROWS)
            kp->rows[kp->n_rows++] = row;
        return 0;
    }
    submission_problem_t p = {row, field, rule, severity, message, 1, NULL, 0};
    return emit(sc, &p);
}

/* The kept file-level problems to the sink, once per rule: one that happened once as it was. */
static int emit_kept(scan_t *sc)
{
    for (size_t k = 0; k < N_FILE_RULES; k++) {
        const kept_t *kp = &sc->kept[k];
        if (kp->count == 0)
            continue;
        char message[640];
        if (kp->count > 1)
            snprintf(message, sizeof message, "%s (the first: %s)", file_rules[k].label,
                     kp->message);
        else
            snprintf(message, sizeof message, "%s", kp->message);
        submission_problem_t p = {kp->first_row,
                                  kp->field,
                                  file_rules[k].rule,
                                  kp->severity,
                                  message,
                                  kp->count,
                                  kp->count > 1 ? kp->rows : NULL,
                                  kp->count > 1 ? kp->n_rows : 0};
        if (emit(sc, &p) != 0)
            return -1;
    }
    return 0;
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

/* The byte offset (from 1) of the first control character of s (C0 or DEL), or 0 when none. */
static size_t control_char_at(const char *s)
{
    for (size_t i = 0; s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return i + 1;
    return 0;
}

/* The header: col[i] the field of column i (NULL: ignored, with a warning), the key, trust and
 * site columns. Linear in the columns: each name is looked up in a keyed map of the definition's
 * fields, and a field's first column is kept by its index. Returns 0 (s->file_error set when the
 * header is refused), or -1 when out of memory or the sink stopped. */
static int read_header(scan_t *sc, const audit_def_t *def, const csv_reader_t *csv,
                       const audit_field_t **col, int *key_col, int *trust_col, int *site_col)
{
    submission_t *s = sc->s;
    size_t ncols = csv_reader_nfields(csv);
    str_map_t *names = str_map_new(def->n_fields);
    long *first_col = malloc((def->n_fields + 1) * sizeof *first_col);
    size_t *field_at = malloc((def->n_fields + 1) * sizeof *field_at); /* map index -> field */
    int rc = names && first_col && field_at ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < def->n_fields; k++) {
        first_col[k] = -1;
        size_t at;
        int added = def->fields[k].name ? str_map_put(names, def->fields[k].name, &at) : 0;
        if (added < 0)
            rc = -1;
        else if (added)
            field_at[at] = k;
    }
    for (size_t i = 0; rc == 0 && !s->file_error[0] && i < ncols; i++) {
        const char *name = csv_reader_field(csv, i);
        size_t at = str_map_get(names, name);
        size_t k = at == STR_MAP_MISSING ? 0 : field_at[at];
        const audit_field_t *f = at == STR_MAP_MISSING ? NULL : &def->fields[k];
        col[i] = f;
        if (!f) {
            rc = problem(sc, 1, name, "unknown_column", "warning",
                         "column \"%.60s\" is not a field of the %s dataset %s and was ignored",
                         name, def->audit, def->dataset_version);
            continue;
        }
        if (first_col[k] >= 0) {
            snprintf(s->file_error, sizeof s->file_error,
                     "column \"%s\" appears twice in the header (columns %ld and %zu)", name,
                     first_col[k] + 1, i + 1);
            break;
        }
        first_col[k] = (long)i;
        if (strcmp(f->name, def->record_key_field) == 0)
            *key_col = (int)i;
        if (strcmp(f->name, def->trust_field) == 0)
            *trust_col = (int)i;
        if (strcmp(f->name, def->site_field) == 0)
            *site_col = (int)i;
    }
    for (size_t k = 0; rc == 0 && !s->file_error[0] && k < def->n_fields; k++)
        if (first_col[k] < 0 && def->fields[k].required)
            snprintf(s->file_error, sizeof s->file_error,
                     "the header has no column \"%s\", a required field of the %s dataset %s",
                     def->fields[k].name, def->audit, def->dataset_version);
    if (rc == 0 && !s->file_error[0] && (*key_col < 0 || *trust_col < 0 || *site_col < 0))
        snprintf(s->file_error, sizeof s->file_error,
                 "the header must name the columns \"%s\", \"%s\" and \"%s\"",
                 def->record_key_field, def->trust_field, def->site_field);
    str_map_destroy(&names);
    free(first_col);
    free(field_at);
    return rc;
}

/* A row csv_reader_next refused: its problem. */
static int refused_row(scan_t *sc, const csv_reader_t *csv, int row,
                       const audit_field_t *const *col, size_t ncols)
{
    switch (csv_reader_error_kind(csv)) {
    case CSV_ERROR_TOO_MANY_FIELDS:
        return problem(sc, row, "", "columns", "error",
                       "row has more than %zu fields but the header has %zu columns", ncols + 1,
                       ncols);
    case CSV_ERROR_FIELD_TOO_LONG: {
        size_t i = csv_reader_error_field(csv) - 1;
        const char *name = i < ncols && col[i] ? col[i]->name : "";
        return problem(sc, row, name, "field_length", "error",
                       "column %zu%s%s%s is longer than %d bytes, the most a value may have: "
                       "shorten it",
                       i + 1, *name ? " (\"" : "", name, *name ? "\")" : "",
                       SUBMISSION_MAX_FIELD_BYTES);
    }
    default:
        return problem(sc, row, "", "csv", "error", "could not read row: %s",
                       csv_reader_error(csv));
    }
}

/* The shape checks; each row fit to store goes to on_row. Returns 0, or -1 when out of memory or
 * the sink or on_row stopped. */
static int scan(const audit_def_t *def, const char *trust, const char *data, size_t len, scan_t *sc,
                submission_row_fn on_row, void *ctx)
{
    submission_t *s = sc->s;
    csv_reader_t *csv = csv_reader_new(data, len, true);
    if (!csv)
        return -1;
    csv_reader_limit(csv, SUBMISSION_MAX_COLUMNS, SUBMISSION_MAX_FIELD_BYTES);
    int rc = csv_reader_next(csv);
    if (rc <= 0) {
        if (rc < 0 && csv_reader_error_kind(csv) == CSV_ERROR_NO_MEMORY) {
            csv_reader_destroy(&csv);
            return -1;
        }
        if (rc < 0 && csv_reader_error_kind(csv) == CSV_ERROR_TOO_MANY_FIELDS)
            snprintf(s->file_error, sizeof s->file_error,
                     "the header has more than %d columns, the most a file may have: send only "
                     "the columns of the %s dataset %s",
                     SUBMISSION_MAX_COLUMNS, def->audit, def->dataset_version);
        else
            snprintf(s->file_error, sizeof s->file_error,
                     rc == 0 ? "the file is empty: expected a header row naming the audit's fields"
                             : "could not read the header row: %s",
                     csv_reader_error(csv));
        csv_reader_destroy(&csv);
        return 0;
    }
    size_t ncols = csv_reader_nfields(csv);
    const audit_field_t **col = calloc(ncols, sizeof *col);
    int key_col = -1, trust_col = -1, site_col = -1;
    if (!col || read_header(sc, def, csv, col, &key_col, &trust_col, &site_col) != 0 ||
        s->file_error[0]) {
        free(col);
        csv_reader_destroy(&csv);
        return col && s->file_error[0] ? 0 : -1;
    }
    /* A data row never needs more fields than the header has: one more tells it is too long. */
    csv_reader_limit(csv, ncols + 1, SUBMISSION_MAX_FIELD_BYTES);
    /* local ids seen so far, for duplicates within the file, and the row each was first at */
    str_map_t *ids = str_map_new(0);
    int *first_row = NULL;
    size_t cap_ids = 0;
    int rc_out = ids ? 0 : -1;
    while (rc_out == 0 && (rc = csv_reader_next(csv)) != 0) {
        int row = (int)csv_reader_line(csv);
        if (s->data_rows == SUBMISSION_MAX_ROWS) {
            snprintf(s->file_error, sizeof s->file_error,
                     "the file has more than %d data rows, the most one file may have: split it "
                     "into files of at most %d rows",
                     SUBMISSION_MAX_ROWS, SUBMISSION_MAX_ROWS);
            break;
        }
        s->data_rows++;
        if (rc < 0 && csv_reader_error_kind(csv) == CSV_ERROR_NO_MEMORY) {
            rc_out = -1;
            break;
        }
        if (rc < 0) {
            s->rejected++;
            rc_out = refused_row(sc, csv, row, col, ncols);
            continue;
        }
        if (csv_reader_nfields(csv) != ncols) {
            s->rejected++;
            rc_out = problem(sc, row, "", "columns", "error",
                             "row has %zu fields but the header has %zu columns",
                             csv_reader_nfields(csv), ncols);
            continue;
        }
        const char *local_id = csv_reader_field(csv, (size_t)key_col);
        const char *row_trust = csv_reader_field(csv, (size_t)trust_col);
        const char *site = csv_reader_field(csv, (size_t)site_col);
        const char *key = def->record_key_field;
        size_t id_len = strlen(local_id), ctl;
        if (!*local_id) {
            s->rejected++;
            rc_out =
                problem(sc, row, key, "required", "error",
                        "\"%s\" is empty: every row needs the trust's own record identifier", key);
            continue;
        }
        if (id_len > SUBMISSION_MAX_LOCAL_ID_BYTES) {
            s->rejected++;
            rc_out = problem(sc, row, key, "key_length", "error",
                             "\"%s\" is %zu bytes long, longer than %d, the most a record "
                             "identifier may have: use the trust's own short record identifier",
                             key, id_len, SUBMISSION_MAX_LOCAL_ID_BYTES);
            continue;
        }
        if ((ctl = control_char_at(local_id)) != 0) {
            s->rejected++;
            rc_out = problem(sc, row, key, "key_characters", "error",
                             "\"%s\" has a control character (byte %zu, 0x%02x): a record "
                             "identifier is printable text",
                             key, ctl, (unsigned char)local_id[ctl - 1]);
            continue;
        }
        if (strcmp(row_trust, trust) != 0) {
            s->rejected++;
            rc_out = problem(sc, row, def->trust_field, "trust_mismatch", "error",
                             "\"%s\" is \"%.40s\" but the file was submitted by trust \"%s\"",
                             def->trust_field, row_trust, trust);
            continue;
        }
        if (*site && !ods_code_site_of(site, trust)) {
            s->rejected++;
            rc_out = problem(sc, row, def->site_field, "site_trust", "error",
                             "site \"%.40s\" is not a site of trust \"%s\": a site code is the "
                             "trust's code and two more characters, e.g. \"%s01\"",
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
            rc_out = problem(
                sc, row, col[bad_col]->name, "encoding", "error",
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
            rc_out = problem(sc, row, key, "duplicate", "error",
                             "record \"%s\" appears twice in this file (first at row %d); send "
                             "each record once",
                             local_id, first_row[at]);
            continue;
        }
        first_row[at] = row;
        if (on_row(ctx, s, row, csv, col) != 0) {
            rc_out = -1;
            break;
        }
    }
    if (rc_out == 0)
        rc_out = emit_kept(sc);
    str_map_destroy(&ids);
    free(first_row);
    free(col);
    csv_reader_destroy(&csv);
    return rc_out;
}

/* Runs scan with sink; the submission, or NULL when it stopped. */
static submission_t *run(const audit_def_t *def, const char *trust, const char *data, size_t len,
                         submission_row_fn on_row, void *ctx, const submission_sink_t *sink,
                         submission_t *s)
{
    scan_t *sc = s ? calloc(1, sizeof *sc) : NULL;
    if (sc) {
        sc->s = s;
        if (sink)
            sc->sink = *sink;
    }
    if (!sc || scan(def, trust, data, len, sc, on_row, ctx) != 0)
        submission_destroy(&s);
    free(sc);
    return s;
}

submission_t *submission_scan_csv(const audit_def_t *def, const char *trust, const char *data,
                                  size_t len, submission_row_fn on_row, void *ctx,
                                  const submission_sink_t *sink)
{
    assert(def);
    assert(on_row);
    return run(def, trust, data, len, on_row, ctx, sink, calloc(1, sizeof(submission_t)));
}

/* Builds row of csv into r (zeroed first): its record, canonical JSON and hash. Returns 0, or -1
 * when out of memory (r left empty). */
static int make_row(const audit_def_t *def, int row, const csv_reader_t *csv,
                    const audit_field_t *const *col, submission_row_t *r)
{
    memset(r, 0, sizeof *r);
    ncap_record_t *rec = ncap_record_new();
    const char *local_id = "", *site = "";
    for (size_t i = 0; rec && i < csv_reader_nfields(csv); i++) {
        if (!col[i])
            continue;
        if (ncap_record_set(rec, col[i]->name, csv_reader_field(csv, i)) != 0)
            ncap_record_destroy(&rec);
    }
    if (rec) {
        local_id = ncap_record_get(rec, def->record_key_field);
        site = ncap_record_get(rec, def->site_field);
    }
    if (!rec || build_row(r, row, local_id, site, rec) != 0) {
        ncap_record_destroy(&rec);
        free(r->local_id);
        free(r->site);
        free(r->json);
        memset(r, 0, sizeof *r);
        return -1;
    }
    return 0;
}

static void row_clear(submission_row_t *r)
{
    ncap_record_destroy(&r->rec);
    free(r->local_id);
    free(r->site);
    free(r->json);
    memset(r, 0, sizeof *r);
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
    if (make_row(b->def, row, csv, col, &s->rows[s->n_rows]) != 0)
        return -1;
    s->n_rows++;
    return 0;
}

submission_t *submission_parse_csv(const audit_def_t *def, const char *trust, const char *data,
                                   size_t len, const submission_sink_t *sink)
{
    assert(def);
    submission_t *s = calloc(1, sizeof *s);
    builder_t b = {def, s, 0};
    return run(def, trust, data, len, build, &b, sink, s);
}

typedef struct {
    const audit_def_t *def;
    submission_built_fn on_row;
    void *ctx;
} streamer_t;

/* Builds a row, hands it on, and frees it. */
static int stream(void *ctx, const submission_t *scanned, int row, const csv_reader_t *csv,
                  const audit_field_t *const *col)
{
    (void)scanned;
    streamer_t *st = ctx;
    submission_row_t r;
    if (make_row(st->def, row, csv, col, &r) != 0)
        return -1;
    int rc = st->on_row(st->ctx, &r);
    row_clear(&r);
    return rc;
}

submission_t *submission_stream_csv(const audit_def_t *def, const char *trust, const char *data,
                                    size_t len, submission_built_fn on_row, void *ctx,
                                    const submission_sink_t *sink)
{
    assert(on_row);
    streamer_t st = {def, on_row, ctx};
    return submission_scan_csv(def, trust, data, len, stream, &st, sink);
}

void submission_destroy(submission_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    submission_t *s = *self_p;
    for (size_t i = 0; i < s->n_rows; i++)
        row_clear(&s->rows[i]);
    free(s->rows);
    free(s);
    *self_p = NULL;
}
