/* fuzz_submission.c - ingest's shape checks (services/ingest/submission.c) on any file, against a
 * real audit definition of deploy/audits. The input's first line names the audit and the trust
 * submitting ("nhfd RH8"); the rest is the file as sent.
 *
 * Checked: submission_parse_csv and submission_scan_csv (what `ncap validate` streams) agree on
 * every count, problem and row; each kept row has a unique, non-empty local id, rows in file
 * order, canonical JSON that reads back as the same record, and the SHA-256 of that JSON. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "message.h"
#include "str_map.h"
#include "submission.h"

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
        HARNESS_CHECK(r->local_id[0], "row %d kept without a local id", r->row);
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

    submission_t *parsed = submission_parse_csv(def, trust, file, len);
    HARNESS_CHECK(parsed, "out of memory");
    HARNESS_CHECK(parsed->rejected <= parsed->data_rows, "%u rejected of %u rows", parsed->rejected,
                  parsed->data_rows);
    HARNESS_CHECK(parsed->n_rows + parsed->rejected == parsed->data_rows || parsed->file_error[0],
                  "%zu kept + %u rejected != %u rows", parsed->n_rows, parsed->rejected,
                  parsed->data_rows);
    check_rows(def, parsed);

    scan_ctx_t ctx = {parsed, 0};
    submission_t *scanned = submission_scan_csv(def, trust, file, len, on_row, &ctx);
    HARNESS_CHECK(scanned, "out of memory");
    HARNESS_CHECK(ctx.seen == parsed->n_rows, "scan passed on %zu rows, parse kept %zu", ctx.seen,
                  parsed->n_rows);
    HARNESS_CHECK(
        scanned->n_problems == parsed->n_problems && scanned->rejected == parsed->rejected &&
            scanned->data_rows == parsed->data_rows &&
            strcmp(scanned->file_error, parsed->file_error) == 0,
        "scan and parse disagree: problems %zu/%zu, rejected %u/%u, file error \"%s\"/\"%s\"",
        scanned->n_problems, parsed->n_problems, scanned->rejected, parsed->rejected,
        scanned->file_error, parsed->file_error);
    for (size_t i = 0; i < parsed->n_problems; i++)
        HARNESS_CHECK(
            memcmp(&scanned->problems[i], &parsed->problems[i], sizeof parsed->problems[i]) == 0,
            "problem %zu differs: \"%s\" / \"%s\"", i, scanned->problems[i].message,
            parsed->problems[i].message);
    submission_destroy(&scanned);
    submission_destroy(&parsed);
    free(file);
    return 0;
}
