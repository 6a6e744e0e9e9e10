/* release_build.c - trust files through ingest, linkage, validation and metric, offline */
#include "release_build.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "breakdown.h"
#include "contribution.h"
#include "file_read.h"
#include "array_grow.h"
#include "str_map.h"
#include "submission.h"
#include "validate_record.h"

/* Progress every so many rows linked or counted (and after each file linked). */
#define NOTE_EVERY 100000

/* A record (audit, trust, local id), as ingest and metric hold it. */
typedef struct {
    char hash[65];      /* content hash of its latest version (ingest.raw_record) */
    uint32_t file;      /* the version metric holds: its file, + 1; 0 none (every one withheld) */
    int row;            /* ... its line in that file */
    int64_t patient_id; /* ... its patient */
    uint32_t wfile;     /* its latest version when withheld under the opt-out: its file, + 1 */
    int wrow;           /* ... its line (the selection ledger's withheld_opt_out) */
} rec_t;

/* A cell of metric.aggregate, or a value of metric.measure: one key string "period\x1fmonth
 * \x1ftrust\x1fsite\x1fmetric\x1fbreakdown\x1fcategory" (a measure's with "\x1f" and its value,
 * "%a"), split in place into the parts. */
typedef struct {
    size_t period;
    char *parts; /* owned: the key, its separators replaced by NULs */
    const char *month, *trust, *site, *metric, *breakdown, *category;
    long long numerator, denominator, expected_e9, held, missing; /* a cell's sums */
    double value;                                                 /* a measure's value */
    long long count;                                              /* ... and how many have it */
} cell_t;

/* The parts of a key before a measure's value. */
#define CELL_PARTS 7

typedef struct {
    str_map_t *keys;
    cell_t *at;
    size_t cap;
} cells_t;

struct release_build_t {
    const audit_def_t *def;
    link_memory_t *lm;
    release_note_fn note;
    void *note_ctx;
    str_map_t *records;
    rec_t *recs;
    size_t cap_recs;
    unsigned char (*file_hash)[crypto_generichash_BYTES]; /* each file's content, pass 1 */
    str_map_t *periods;
    long long *period_valid;
    size_t cap_periods;
    size_t *period_order; /* period indexes by label */
    cells_t cells;        /* metric.aggregate's */
    cells_t measures;     /* metric.measure's */
    release_totals_t totals;
    unsigned long long rows_done;
    contribution_t *contrib; /* release_build_add's */
};

static void note(release_build_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(release_build_t *self, const char *fmt, ...)
{
    if (!self->note)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    self->note(self->note_ctx, msg);
}

release_build_t *release_build_new(const audit_def_t *def, link_memory_t *lm, release_note_fn fn,
                                   void *ctx)
{
    release_build_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->def = def;
    self->lm = lm;
    self->note = fn;
    self->note_ctx = ctx;
    self->records = str_map_new(0);
    self->periods = str_map_new(0);
    self->cells.keys = str_map_new(0);
    self->measures.keys = str_map_new(0);
    if (!self->records || !self->periods || !self->cells.keys || !self->measures.keys)
        release_build_destroy(&self);
    return self;
}

void release_build_destroy(release_build_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    release_build_t *self = *self_p;
    cells_t *sets[] = {&self->cells, &self->measures};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; sets[k]->at && i < str_map_size(sets[k]->keys); i++)
            free(sets[k]->at[i].parts);
        free(sets[k]->at);
        str_map_destroy(&sets[k]->keys);
    }
    str_map_destroy(&self->records);
    free(self->recs);
    free(self->file_hash);
    str_map_destroy(&self->periods);
    free(self->period_valid);
    free(self->period_order);
    free(self->contrib);
    free(self);
    *self_p = NULL;
}

/* parts[0..n) joined by sep into stack (cap bytes) or, when longer, a new string; NULL when out
 * of memory. Free the result unless it is stack. */
static char *join(char *stack, size_t cap, const char *const *parts, size_t n, char sep)
{
    size_t len = 0;
    for (size_t k = 0; k < n; k++)
        len += strlen(parts[k]) + 1;
    char *key = len <= cap ? stack : malloc(len), *p = key;
    for (size_t k = 0; key && k < n; k++) {
        size_t l = strlen(parts[k]);
        memcpy(p, parts[k], l);
        p += l;
        *p++ = k + 1 < n ? sep : '\0';
    }
    return key;
}

/* ---------------------------------------------------------------- reading a file */

/* The file read and parsed as ingest parses a submission; its content hash into hash. Returns the
 * submission, or NULL with err. */
static submission_t *parse_file(const release_build_t *self, const release_source_t *src,
                                unsigned char hash[crypto_generichash_BYTES], char *err,
                                size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(src->path, &data, &len) != 0) {
        snprintf(err, errlen, "could not read \"%s\": %s", src->path, strerror(errno));
        return NULL;
    }
    crypto_generichash(hash, crypto_generichash_BYTES, (const unsigned char *)data, len, NULL, 0);
    submission_t *s = submission_parse_csv(self->def, src->trust, data, len, NULL);
    free(data);
    if (!s)
        snprintf(err, errlen, "out of memory reading \"%s\"", src->path);
    else if (s->file_error[0]) {
        snprintf(err, errlen, "\"%s\" would be refused by ingest: %s", src->path, s->file_error);
        submission_destroy(&s);
    }
    return s;
}

/* The record of row (trust, local id), added when new; NULL when out of memory. */
static rec_t *record_of(release_build_t *self, const char *trust, const char *local_id,
                        bool *is_new)
{
    /* a trust's code has no ':' (ods_code.h), so trust:local_id names one record */
    const char *parts[] = {trust, local_id};
    char stack[256], *key = join(stack, sizeof stack, parts, 2, ':');
    if (!key)
        return NULL;
    size_t at;
    int added = str_map_put(self->records, key, &at);
    if (key != stack)
        free(key);
    if (added < 0 || array_grow((void **)&self->recs, &self->cap_recs, at + 1, sizeof *self->recs))
        return NULL;
    *is_new = added == 1;
    return &self->recs[at];
}

/* ---------------------------------------------------------------- pass 1: linkage */

typedef struct {
    link_memory_item_t items[RELEASE_BUILD_BATCH];
    size_t recs[RELEASE_BUILD_BATCH]; /* indexes: self->recs moves as it grows */
    int rows[RELEASE_BUILD_BATCH];
    size_t n;
} batch_t;

static int flush(release_build_t *self, batch_t *b, uint32_t file, release_file_counts_t *c)
{
    int rc = link_memory_link(self->lm, b->items, b->n);
    for (size_t i = 0; i < b->n; i++) {
        if (rc == 0) {
            c->versions++;
            rec_t *latest = &self->recs[b->recs[i]];
            latest->wfile = b->items[i].withheld ? file + 1 : 0;
            latest->wrow = b->rows[i];
            if (b->items[i].withheld)
                c->withheld++;
            else {
                /* the hash stays: it is the latest version's */
                rec_t *rec = &self->recs[b->recs[i]];
                rec->file = file + 1;
                rec->row = b->rows[i];
                rec->patient_id = b->items[i].patient_id;
            }
        }
        link_memory_item_clear(&b->items[i]);
    }
    b->n = 0;
    return rc;
}

static int link_file(release_build_t *self, uint32_t file, const release_source_t *src,
                     release_file_counts_t *c, batch_t *b, char *err, size_t errlen)
{
    submission_t *s = parse_file(self, src, self->file_hash[file], err, errlen);
    if (!s)
        return -1;
    c->data_rows = s->data_rows;
    c->refused = s->rejected;
    int rc = 0;
    for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
        const submission_row_t *row = &s->rows[r];
        bool is_new;
        rec_t *rec = record_of(self, src->trust, row->local_id, &is_new);
        if (!rec) {
            rc = -1;
            break;
        }
        /* ingest: a new version only when the content changed */
        if (!is_new && strcmp(rec->hash, row->hash) == 0) {
            c->unchanged++;
            continue;
        }
        /* the hash of the latest version, withheld or not; what metric holds is set once
         * linked */
        snprintf(rec->hash, sizeof rec->hash, "%s", row->hash);
        b->items[b->n] = (link_memory_item_t){.def = self->def, .raw = row->rec};
        b->recs[b->n] = (size_t)(rec - self->recs);
        b->rows[b->n++] = row->row;
        if (b->n == RELEASE_BUILD_BATCH)
            rc = flush(self, b, file, c);
        if (++self->rows_done % NOTE_EVERY == 0)
            note(self, "linked %llu rows", self->rows_done);
    }
    if (rc == 0 && b->n > 0)
        rc = flush(self, b, file, c);
    b->n = 0;
    submission_destroy(&s);
    if (rc != 0)
        snprintf(err, errlen, "out of memory linking \"%s\"", src->path);
    return rc;
}

static int order_periods(release_build_t *self);

/* ---------------------------------------------------------------- pass 2: validation, metric */

/* The entry of key parts[0..n) in set, added (sums 0) when new; NULL when out of memory. */
static cell_t *cell_of(cells_t *set, size_t period, const char *const *parts, size_t n)
{
    char stack[256], *key = join(stack, sizeof stack, parts, n, '\x1f');
    if (!key)
        return NULL;
    size_t at;
    int added = str_map_put(set->keys, key, &at);
    cell_t *cell = added < 0 || array_grow((void **)&set->at, &set->cap, at + 1, sizeof *set->at)
                       ? NULL
                       : &set->at[at];
    if (cell && added) {
        cell->period = period;
        char *p = cell->parts = strdup(key);
        const char **part[CELL_PARTS] = {NULL,           &cell->month,  &cell->trust,
                                         &cell->site,    &cell->metric, &cell->breakdown,
                                         &cell->category};
        for (size_t k = 0; p && k < CELL_PARTS; k++) {
            char *end = strchr(p, '\x1f');
            if (end)
                *end = '\0';
            if (part[k])
                *part[k] = p;
            p = end ? end + 1 : p + strlen(p);
        }
        if (!cell->parts)
            cell = NULL;
    }
    if (key != stack)
        free(key);
    return cell;
}

/* Adds contribution c of a record of period and month to its cell (breakdown, category) and, when
 * it has a value, counts the value. Returns 0, or -1 when out of memory. */
static int add_cell(release_build_t *self, size_t period, const char *month, const char *trust,
                    const char *site, const char *breakdown, const char *category,
                    const contribution_t *c)
{
    const char *parts[CELL_PARTS + 1] = {
        str_map_key(self->periods, period), month, trust, site, c->metric_id, breakdown, category};
    cell_t *cell = cell_of(&self->cells, period, parts, CELL_PARTS);
    if (!cell)
        return -1;
    cell->numerator += c->numerator;
    cell->denominator += c->denominator;
    cell->expected_e9 += c->expected_e9;
    cell->held += c->held;
    cell->missing += c->missing;
    if (!c->has_value)
        return 0;
    /* as metric.measure keeps it: -0 counts as 0 */
    double value = c->value + 0.0;
    char text[40];
    snprintf(text, sizeof text, "%a", value);
    parts[CELL_PARTS] = text;
    cell_t *m = cell_of(&self->measures, period, parts, CELL_PARTS + 1);
    if (!m)
        return -1;
    m->value = value;
    m->count++;
    return 0;
}

/* The index of period in self->periods (added when new, with its count of valid records) into
 * *p. Returns 0, or -1 when out of memory. */
static int period_of(release_build_t *self, const char *period, size_t *p)
{
    int added = str_map_put(self->periods, period, p);
    return added < 0 || array_grow((void **)&self->period_valid, &self->cap_periods, *p + 1,
                                   sizeof *self->period_valid)
               ? -1
               : 0;
}

/* metric's decision on one record's validated version (pseudo, valid as validation found it):
 * its period, validity and the cells its contributions go to (contrib: room for def->n_metrics).
 * Returns 0, or -1 when out of memory. */
static int count_validated(release_build_t *self, const char *trust, const char *site,
                           const char *local_id, const ncap_record_t *pseudo, bool valid,
                           bool with_death, contribution_t *contrib)
{
    const audit_def_t *def = self->def;
    char period[8], month[8], err[400];
    int nc = contribution_compute(def, pseudo, period, month, contrib, err, sizeof err);
    /* as the daemon's decide: a value must be finite to be counted */
    for (int k = 0; k < nc && valid; k++)
        if (contrib[k].has_value && !isfinite(contrib[k].value)) {
            snprintf(err, sizeof err, "metric \"%s\": value is %g, expected a finite number",
                     contrib[k].metric_id, contrib[k].value);
            nc = -1;
        }
    char cats[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX];
    if (valid && nc > 0 && breakdown_categories(def, pseudo, cats, err, sizeof err) != 0)
        nc = -1;
    self->totals.records++;
    if (nc < 0 && valid) {
        /* the daemon quarantines it: no record state, no contribution */
        self->totals.quarantined++;
        note(self, "record \"%s\" of %s is left out as the metric stage would quarantine it: %s",
             local_id, trust, err);
        return 0;
    }
    if (with_death)
        self->totals.with_death++;
    if (valid)
        self->totals.valid++;
    if (!period[0]) {
        self->totals.no_period++;
        return 0;
    }
    size_t p;
    if (period_of(self, period, &p) != 0)
        return -1;
    if (valid)
        self->period_valid[p]++;
    if (!valid) { /* as the daemon's decide: counted once as rejected, in no metric */
        const contribution_t rejected = {
            .metric_id = CONTRIBUTION_REJECTED, .numerator = 0, .denominator = 1};
        return add_cell(self, p, month, trust, site, "all", "", &rejected);
    }
    /* as the daemon's decide: a valid record with a period counts once (CONTRIBUTION_RECORDS),
     * per trust for case ascertainment (release_build_trust_records) */
    const contribution_t record = {.metric_id = CONTRIBUTION_RECORDS, .denominator = 1};
    if (add_cell(self, p, month, trust, site, "all", "", &record) != 0)
        return -1;
    int n = nc > 0 ? nc : 0;
    for (int k = 0; k < n; k++) {
        if (add_cell(self, p, month, trust, site, "all", "", &contrib[k]) != 0)
            return -1;
        /* a breakdown's cells for the whole period (month ""), as metric keeps them (0046) */
        for (int b = 0; b < BREAKDOWN_COUNT; b++)
            if (cats[b][0] && add_cell(self, p, "", trust, site, breakdown_name((breakdown_t)b),
                                       cats[b], &contrib[k]) != 0)
                return -1;
    }
    return 0;
}

/* metric's decision on one record's latest version, linked and validated in memory. Returns 0, or
 * -1 when out of memory. */
static int count_record(release_build_t *self, const char *trust, const submission_row_t *row,
                        const rec_t *rec, contribution_t *contrib)
{
    const audit_def_t *def = self->def;
    link_outcome_t out;
    validation_result_t res = {0};
    int rc = -1;
    if (link_memory_final(self->lm, def, row->rec, rec->patient_id, &out) == 0 &&
        validate_record(def, out.pseudo, &res) == 0)
        rc = count_validated(self, trust, row->site, row->local_id, out.pseudo, res.valid,
                             link_memory_date_of_death(self->lm, rec->patient_id)[0] != '\0',
                             contrib);
    link_outcome_clear(&out);
    validation_result_free(&res);
    return rc;
}

int release_build_add_withheld(release_build_t *self, const char *trust, const char *site,
                               const ncap_record_t *rec)
{
    char period[8], month[8];
    if (!breakdown_period(self->def, rec, period, month, NULL))
        return 0;
    size_t p;
    if (period_of(self, period, &p) != 0)
        return -1;
    const contribution_t withheld = {.metric_id = BENCHMARK_WITHHELD, .denominator = 1};
    return add_cell(self, p, month, trust, site, "all", "", &withheld);
}

int release_build_add(release_build_t *self, const char *trust, const char *site,
                      const char *local_id, const ncap_record_t *pseudo, bool valid)
{
    if (!self->contrib &&
        !(self->contrib = calloc(self->def->n_metrics + 1, sizeof *self->contrib)))
        return -1;
    return count_validated(self, trust, site, local_id, pseudo, valid, false, self->contrib);
}

int release_build_finish(release_build_t *self)
{
    return order_periods(self);
}

static int count_file(release_build_t *self, uint32_t file, const release_source_t *src, char *err,
                      size_t errlen)
{
    unsigned char hash[crypto_generichash_BYTES];
    submission_t *s = parse_file(self, src, hash, err, errlen);
    if (!s)
        return -1;
    if (memcmp(hash, self->file_hash[file], sizeof hash) != 0) {
        snprintf(err, errlen, "\"%s\" changed while it was read", src->path);
        submission_destroy(&s);
        return -1;
    }
    contribution_t *contrib = calloc(self->def->n_metrics + 1, sizeof *contrib);
    int rc = contrib ? 0 : -1;
    for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
        const submission_row_t *row = &s->rows[r];
        bool is_new;
        const rec_t *rec = record_of(self, src->trust, row->local_id, &is_new);
        if (!rec)
            rc = -1;
        else if (rec->file == file + 1 && rec->row == row->row)
            rc = count_record(self, src->trust, row, rec, contrib);
        /* its latest version withheld: in its period's ledger, placed as metric would */
        if (rc == 0 && rec && rec->wfile == file + 1 && rec->wrow == row->row)
            rc = release_build_add_withheld(self, src->trust, row->site, row->rec);
        if (++self->rows_done % NOTE_EVERY == 0)
            note(self, "validated and counted %llu rows", self->rows_done);
    }
    free(contrib);
    submission_destroy(&s);
    if (rc != 0)
        snprintf(err, errlen, "out of memory counting \"%s\"", src->path);
    return rc;
}

int release_build_run(release_build_t *self, const release_source_t *files, size_t n,
                      release_file_counts_t *counts, char *err, size_t errlen)
{
    free(self->file_hash);
    self->file_hash = calloc(n + 1, sizeof *self->file_hash);
    batch_t *b = calloc(1, sizeof *b);
    int rc = self->file_hash && b ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    self->rows_done = 0;
    for (size_t f = 0; rc == 0 && f < n; f++) {
        release_file_counts_t c = {0};
        rc = link_file(self, (uint32_t)f, &files[f], &c, b, err, errlen);
        if (counts)
            counts[f] = c;
        if (rc == 0)
            note(self,
                 "%s: %u data rows: %u refused by ingest's checks, %u unchanged, %u record "
                 "versions linked, %u of them withheld under the opt-out",
                 files[f].path, c.data_rows, c.refused, c.unchanged, c.versions, c.withheld);
    }
    free(b);
    self->rows_done = 0;
    for (size_t f = 0; rc == 0 && f < n; f++)
        rc = count_file(self, (uint32_t)f, &files[f], err, errlen);
    self->totals.patients = link_memory_patients(self->lm);
    if (rc == 0 && order_periods(self) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    return rc;
}

void release_build_totals(const release_build_t *self, release_totals_t *out)
{
    *out = self->totals;
}

/* ---------------------------------------------------------------- the sums */

/* The periods in order, once every record is counted. Returns 0 or -1. */
static int order_periods(release_build_t *self)
{
    size_t n = str_map_size(self->periods);
    free(self->period_order);
    if (!(self->period_order = calloc(n + 1, sizeof *self->period_order)))
        return -1;
    /* insertion: a release has a few periods */
    for (size_t k = 0; k < n; k++) {
        size_t at = k;
        while (at > 0 && strcmp(str_map_key(self->periods, self->period_order[at - 1]),
                                str_map_key(self->periods, k)) > 0) {
            self->period_order[at] = self->period_order[at - 1];
            at--;
        }
        self->period_order[at] = k;
    }
    return 0;
}

/* The period index of the i-th in order. */
static size_t period_at(const release_build_t *self, size_t i)
{
    return self->period_order[i];
}

size_t release_build_n_periods(const release_build_t *self)
{
    return str_map_size(self->periods);
}

const char *release_build_period(const release_build_t *self, size_t i)
{
    return str_map_key(self->periods, period_at(self, i));
}

long long release_build_period_records(const release_build_t *self, size_t i)
{
    return self->period_valid[period_at(self, i)];
}

long long release_build_trust_records(const release_build_t *self, size_t i, const char *trust)
{
    size_t p = period_at(self, i);
    long long n = 0;
    for (size_t k = 0; k < str_map_size(self->cells.keys); k++) {
        const cell_t *c = &self->cells.at[k];
        if (c->period == p && strcmp(c->metric, CONTRIBUTION_RECORDS) == 0 &&
            strcmp(c->trust, trust) == 0)
            n += c->denominator;
    }
    return n;
}

/* Whether a cell's sums are all 0: metric.aggregate keeps no such cell. */
static bool cell_empty(const cell_t *c)
{
    return c->numerator == 0 && c->denominator == 0 && c->expected_e9 == 0 && c->held == 0 &&
           c->missing == 0;
}

static benchmark_cell_t cell_out(const cell_t *c)
{
    return (benchmark_cell_t){.trust = c->trust,
                              .site = c->site,
                              .metric = c->metric,
                              .breakdown = c->breakdown,
                              .category = c->category,
                              .month = c->month,
                              .numerator = c->numerator,
                              .denominator = c->denominator,
                              .expected_e9 = c->expected_e9,
                              .held = c->held,
                              .missing = c->missing};
}

static benchmark_measure_t measure_out(const cell_t *c)
{
    return (benchmark_measure_t){.trust = c->trust,
                                 .site = c->site,
                                 .metric = c->metric,
                                 .breakdown = c->breakdown,
                                 .category = c->category,
                                 .month = c->month,
                                 .value = c->value,
                                 .count = c->count};
}

int release_build_sums(const release_build_t *self, size_t i, release_sums_t *out)
{
    size_t p = period_at(self, i);
    const char *label = str_map_key(self->periods, p);
    size_t nc = str_map_size(self->cells.keys), nm = str_map_size(self->measures.keys);
    *out = (release_sums_t){.records = self->period_valid[p]};
    out->cells = calloc(nc + 1, sizeof *out->cells);
    out->series = calloc(nc + 1, sizeof *out->series);
    out->measures = calloc(nm + 1, sizeof *out->measures);
    out->series_measures = calloc(nm + 1, sizeof *out->series_measures);
    if (!out->cells || !out->series || !out->measures || !out->series_measures) {
        release_sums_free(out);
        return -1;
    }
    for (size_t k = 0; k < nc; k++) {
        const cell_t *c = &self->cells.at[k];
        if (cell_empty(c) || strcmp(c->metric, CONTRIBUTION_RECORDS) == 0) /* in records */
            continue;
        if (c->period == p)
            out->cells[out->n_cells++] = cell_out(c);
        if (strcmp(c->breakdown, "all") == 0 &&
            strcmp(str_map_key(self->periods, c->period), label) <= 0)
            out->series[out->n_series++] = cell_out(c);
    }
    for (size_t k = 0; k < nm; k++) {
        const cell_t *c = &self->measures.at[k];
        if (c->period == p)
            out->measures[out->n_measures++] = measure_out(c);
        if (strcmp(c->breakdown, "all") == 0 &&
            strcmp(str_map_key(self->periods, c->period), label) <= 0)
            out->series_measures[out->n_series_measures++] = measure_out(c);
    }
    /* as publish reads them: the period's months summed, everything in one order */
    if (release_sums_merge_months(out) != 0 || release_sums_sort(out) != 0) {
        release_sums_free(out);
        return -1;
    }
    return 0;
}
