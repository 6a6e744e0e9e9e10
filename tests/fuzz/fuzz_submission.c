/* fuzz_submission.c - ingest's shape checks (services/ingest/submission.c) on any file, against a
 * real audit definition of deploy/audits. The input's first line names the audit and the trust
 * submitting ("nhfd RH8"); the rest is the file as sent.
 *
 * Checked: submission_parse_csv (problems to a sink, the file-level ones kept once per rule, as
 * ncap-ingestd's store worker has them), submission_scan_csv (what `ncap validate` streams, and the
 * worker's first reading) and submission_stream_csv (the worker's second reading, its rows built
 * one at a time) agree on every count, problem and row; every problem is well formed (a row, a
 * rule, a severity, a message; one kept once per rule lists min(count, SUBMISSION_LISTED_ROWS)
 * rows, ascending, the first its own); without aggregation there are at least as many; each kept
 * row has a unique, non-empty local id of at most SUBMISSION_MAX_LOCAL_ID_BYTES, rows in file
 * order, canonical JSON that reads back as the same record, and the SHA-256 of that JSON. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "message.h"
#include "str_map.h"
#include "submission.h"

/* The problems a sink was given, as text, to compare two runs. */
typedef struct {
    char *text;
    size_t len;
    FILE *out;
    unsigned long long n;
} problems_t;

static void problems_open(problems_t *p)
{
    memset(p, 0, sizeof *p);
    if (!(p->out = open_memstream(&p->text, &p->len)))
        abort();
}

static void problems_close(problems_t *p)
{
    fclose(p->out);
    free(p->text);
}

static int on_problem(void *ctx, const submission_problem_t *p)
{
    problems_t *ps = ctx;
    ps->n++;
    HARNESS_CHECK(p->row >= 1 && p->field && p->rule[0] && p->message[0] &&
                      (strcmp(p->severity, "error") == 0 || strcmp(p->severity, "warning") == 0),
                  "problem at row %d, rule \"%s\", severity \"%s\": \"%s\"", p->row, p->rule,
                  p->severity, p->message);
    HARNESS_CHECK(p->count >= 1, "problem \"%s\" with count 0", p->message);
    if (p->count == 1) {
        HARNESS_CHECK(!p->rows && p->n_rows == 0, "a single problem with %zu rows", p->n_rows);
    } else {
        size_t want = p->count < SUBMISSION_LISTED_ROWS ? p->count : SUBMISSION_LISTED_ROWS;
        HARNESS_CHECK(p->rows && p->n_rows == want && p->rows[0] == p->row,
                      "rule %s kept %u times lists %zu rows, from row %d", p->rule, p->count,
                      p->n_rows, p->rows ? p->rows[0] : -1);
        for (size_t i = 1; i < p->n_rows; i++)
            HARNESS_CHECK(p->rows[i] > p->rows[i - 1], "rule %s lists row %d after row %d", p->rule,
                          p->rows[i], p->rows[i - 1]);
    }
    fprintf(ps->out, "%d\t%s\t%s\t%s\t%s\t%u\n", p->row, p->field, p->rule, p->severity, p->message,
            p->count);
    return 0;
}

typedef struct {
    const submission_t *parsed;
    size_t seen;
} scan_ctx_t;

/* Each row scan_csv passes on is the parsed row of the same index, with the same values. */
static int on_row(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                  const audit_field_t *const *col)
{
    scan_ctx_t *c = ctx;
    HARNESS_CHECK(c->seen < c->parsed->n_rows, "scan passes on more rows than parse keeps (%zu)",
                  c->parsed->n_rows);
    const submission_row_t *r = &c->parsed->rows[c->seen++];
    HARNESS_CHECK(r->row == row, "scan row %d, parse row %d", row, r->row);
    HARNESS_CHECK(s->n_problems <= c->parsed->n_problems, "scan has more problems so far");
    for (size_t i = 0; i < csv_reader_nfields(csv); i++) {
        if (!col[i])
            continue;
        const char *v = ncap_record_get(r->rec, col[i]->name);
        HARNESS_CHECK(v && strcmp(v, csv_reader_field(csv, i)) == 0,
                      "row %d field %s: scan \"%s\", parse \"%s\"", row, col[i]->name,
                      csv_reader_field(csv, i), v ? v : "(none)");
    }
    return 0;
}

static int on_row_count(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                        const audit_field_t *const *col)
{
    (void)ctx, (void)s, (void)row, (void)csv, (void)col;
    return 0;
}

/* Each row stream_csv builds is the parsed row of the same index: the same JSON and hash. */
static int on_built(void *ctx, const submission_row_t *b)
{
    scan_ctx_t *c = ctx;
    HARNESS_CHECK(c->seen < c->parsed->n_rows, "stream builds more rows than parse keeps (%zu)",
                  c->parsed->n_rows);
    const submission_row_t *r = &c->parsed->rows[c->seen++];
    HARNESS_CHECK(r->row == b->row && strcmp(r->local_id, b->local_id) == 0 &&
                      strcmp(r->site, b->site) == 0 && strcmp(r->json, b->json) == 0 &&
                      strcmp(r->hash, b->hash) == 0,
                  "stream row %d (%s) is not parse row %d (%s)", b->row, b->json, r->row, r->json);
    return 0;
}

static void check_rows(const audit_def_t *def, const submission_t *s)
{
    str_map_t *ids = str_map_new(0);
    ncap_record_t *back = ncap_record_new();
    if (!ids || !back)
        abort();
    int last_row = 1;
    for (size_t i = 0; i < s->n_rows; i++) {
        const submission_row_t *r = &s->rows[i];
        HARNESS_CHECK(r->row > last_row, "row %d kept after row %d", r->row, last_row);
        last_row = r->row;
        HARNESS_CHECK(r->local_id[0] && strlen(r->local_id) <= SUBMISSION_MAX_LOCAL_ID_BYTES,
                      "row %d kept with a local id of %zu bytes", r->row, strlen(r->local_id));
        HARNESS_CHECK(strcmp(r->local_id, ncap_record_get(r->rec, def->record_key_field)) == 0,
                      "row %d: local id \"%s\" is not the record's", r->row, r->local_id);
        size_t at;
        HARNESS_CHECK(str_map_put(ids, r->local_id, &at) == 1, "local id \"%s\" kept twice",
                      r->local_id);
        HARNESS_CHECK(message_record_from_json(r->json, back) == 0 && back->n == r->rec->n,
                      "row %d: its JSON %s does not read back", r->row, r->json);
        for (size_t k = 0; k < r->rec->n; k++) {
            const char *v = ncap_record_get(back, r->rec->fields[k].name);
            HARNESS_CHECK(v && strcmp(v, r->rec->fields[k].value) == 0,
                          "row %d field %s changed through JSON", r->row, r->rec->fields[k].name);
        }
        unsigned char h[crypto_hash_sha256_BYTES];
        char hex[65];
        crypto_hash_sha256(h, (const unsigned char *)r->json, strlen(r->json));
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        HARNESS_CHECK(strcmp(hex, r->hash) == 0, "row %d: hash is not its JSON's", r->row);
    }
    ncap_record_destroy(&back);
    str_map_destroy(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) /* once: later calls return at once */
        abort();
    const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
    if (!nl)
        return 0;
    char head[64], audit[40] = "", trust[24] = "";
    memcpy(head, data, (size_t)(nl - data));
    head[nl - data] = '\0';
    if (sscanf(head, "%39s %23s", audit, trust) != 2)
        return 0;
    char err[512];
    const audit_def_t *def = audit_cache_get(harness_audits(), audit, err, sizeof err);
    if (!def)
        return 0;
    size_t len = size - (size_t)(nl + 1 - data);
    char *file = malloc(len ? len : 1); /* exact size: ASan sees a read past the end */
    if (!file)
        abort();
    memcpy(file, nl + 1, len);

    problems_t pp, sp, all;
    problems_open(&pp);
    problems_open(&sp);
    problems_open(&all);
    submission_sink_t psink = {on_problem, &pp, true}, ssink = {on_problem, &sp, true},
                      asink = {on_problem, &all, false};
    submission_t *parsed = submission_parse_csv(def, trust, file, len, &psink);
    HARNESS_CHECK(parsed, "out of memory");
    HARNESS_CHECK(parsed->rejected <= parsed->data_rows, "%u rejected of %u rows", parsed->rejected,
                  parsed->data_rows);
    HARNESS_CHECK(parsed->n_rows + parsed->rejected == parsed->data_rows || parsed->file_error[0],
                  "%zu kept + %u rejected != %u rows", parsed->n_rows, parsed->rejected,
                  parsed->data_rows);
    HARNESS_CHECK(parsed->n_problems == pp.n, "%llu problems counted, %llu given",
                  parsed->n_problems, pp.n);
    check_rows(def, parsed);

    scan_ctx_t ctx = {parsed, 0};
    submission_t *scanned = submission_scan_csv(def, trust, file, len, on_row, &ctx, &ssink);
    HARNESS_CHECK(scanned, "out of memory");
    HARNESS_CHECK(ctx.seen == parsed->n_rows, "scan passed on %zu rows, parse kept %zu", ctx.seen,
                  parsed->n_rows);
    HARNESS_CHECK(scanned->n_problems == parsed->n_problems &&
                      scanned->rejected == parsed->rejected &&
                      scanned->data_rows == parsed->data_rows &&
                      strcmp(scanned->file_error, parsed->file_error) == 0,
                  "scan and parse disagree: problems %llu/%llu, rejected %u/%u, file error "
                  "\"%s\"/\"%s\"",
                  scanned->n_problems, parsed->n_problems, scanned->rejected, parsed->rejected,
                  scanned->file_error, parsed->file_error);
    fflush(pp.out);
    fflush(sp.out);
    HARNESS_CHECK(pp.len == sp.len && memcmp(pp.text, sp.text, pp.len) == 0,
                  "scan and parse gave different problems:\n%s\n---\n%s", pp.text, sp.text);
    submission_destroy(&scanned);

    /* every problem in full: at least as many, the same rows refused */
    submission_t *each = submission_scan_csv(def, trust, file, len, on_row_count, NULL, &asink);
    HARNESS_CHECK(each && each->n_problems >= parsed->n_problems &&
                      each->rejected == parsed->rejected,
                  "without aggregation: %llu problems (%llu with), %u rejected (%u with)",
                  each ? each->n_problems : 0, parsed->n_problems, each ? each->rejected : 0,
                  parsed->rejected);
    submission_destroy(&each);

    /* built one at a time (what the store worker streams into its COPY): the parsed rows */
    ctx = (scan_ctx_t){parsed, 0};
    submission_t *streamed = submission_stream_csv(def, trust, file, len, on_built, &ctx, NULL);
    HARNESS_CHECK(streamed && ctx.seen == parsed->n_rows && streamed->n_rows == 0 &&
                      streamed->rejected == parsed->rejected,
                  "stream built %zu rows, parse kept %zu", ctx.seen, parsed->n_rows);
    submission_destroy(&streamed);
    problems_close(&pp);
    problems_close(&sp);
    problems_close(&all);
    submission_destroy(&parsed);
    free(file);
    return 0;
}
