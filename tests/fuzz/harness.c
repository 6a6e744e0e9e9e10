/* harness.c - what the fuzz targets share (harness.h) */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

void harness_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    fprintf(stderr, "\n%s:%d: invariant broken: %s\n  ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

const char *harness_audit_dir(void)
{
    const char *dir = getenv("NCAP_AUDIT_DIR");
    return dir && *dir ? dir : NCAP_SOURCE_DIR "/deploy/audits";
}

audit_cache_t *harness_audits(void)
{
    static audit_cache_t *audits;
    if (!audits && !(audits = audit_cache_new(harness_audit_dir()))) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    return audits;
}

char *harness_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

size_t harness_split(char *text, char sep, char **pieces, size_t max)
{
    size_t n = 0;
    while (n + 1 < max) {
        pieces[n++] = text;
        char *at = strchr(text, sep);
        if (!at)
            return n;
        *at = '\0';
        text = at + 1;
    }
    pieces[n++] = text;
    return n;
}

PGresult *harness_result_new(int ncols, const char *const *names)
{
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc *att = calloc((size_t)ncols, sizeof *att);
    if (!r || !att) {
        PQclear(r);
        free(att);
        return NULL;
    }
    for (int i = 0; i < ncols; i++)
        att[i] = (PGresAttDesc){
            .name = (char *)names[i], .typid = 25 /* text */, .typlen = -1, .atttypmod = -1};
    int ok = PQsetResultAttrs(r, ncols, att);
    free(att);
    if (!ok) {
        PQclear(r);
        return NULL;
    }
    return r;
}

int harness_result_set(PGresult *r, int row, const char *const *values)
{
    for (int i = 0; i < PQnfields(r); i++)
        if (!PQsetvalue(r, row, i, (char *)values[i], values[i] ? (int)strlen(values[i]) : -1))
            return -1;
    return 0;
}

static const char *const validation_names[] = {
    "record_id", "version",  "revision",      "audit",      "trust",    "site",
    "payload",   "local_id", "submission_id", "row_number", "pseudonym"};
static const char *const validation_defaults[] = {NULL, NULL, NULL, "nhfd", "RH8", "RH801",
                                                  "{}", "L1", "1",  "2",    "p1"};
const harness_columns_t harness_validation_columns = {
    (int)(sizeof validation_names / sizeof validation_names[0]), validation_names,
    validation_defaults};

PGresult *harness_stage_result(const uint8_t *data, size_t size, const harness_columns_t *cols,
                               const stage_keys_t *keys)
{
    int ncols = cols->ncols;
    PGresult *r = harness_result_new(ncols, cols->names);
    char *text = harness_text(data, size);
    char *lines[HARNESS_MAX_ROWS];
    size_t n = r ? harness_split(text, '\n', lines, HARNESS_MAX_ROWS) : 0;
    for (size_t i = 0; i < n; i++) {
        char *cells[32];
        size_t nc = harness_split(lines[i], '\t', cells, ncols - 3 < 32 ? (size_t)ncols - 3 : 32);
        stage_key_t key = {(int64_t)i + 1, 1, 0};
        if (keys && i < keys->n)
            key = keys->keys[i];
        char rid[24], ver[16], lrev[16];
        snprintf(rid, sizeof rid, "%lld", (long long)key.record_id);
        snprintf(ver, sizeof ver, "%d", key.version);
        snprintf(lrev, sizeof lrev, "%d", key.link_revision);
        const char *values[64] = {rid, ver, lrev};
        for (int c = 3; c < ncols && c < 64; c++)
            values[c] = (size_t)(c - 3) < nc ? cells[c - 3] : cols->defaults[c];
        if (harness_result_set(r, (int)i, values) != 0) {
            PQclear(r);
            r = NULL;
            break;
        }
    }
    free(text);
    return r;
}

static void check_batch(const stage_batch_t *b, const PGresult *r)
{
    HARNESS_CHECK(b->n == (size_t)PQntuples(r), "%zu items of %d rows", b->n, PQntuples(r));
    char err[512];
    for (size_t i = 0; i < b->n; i++) {
        const stage_item_t *it = &b->items[i];
        int row = (int)i;
        HARNESS_CHECK(it->key.record_id == strtoll(PQgetvalue(r, row, 0), NULL, 10) &&
                          it->key.version == atoi(PQgetvalue(r, row, 1)) &&
                          it->key.link_revision == atoi(PQgetvalue(r, row, 2)),
                      "item %zu has key (%lld, %d, %d)", i, (long long)it->key.record_id,
                      it->key.version, it->key.link_revision);
        HARNESS_CHECK(it->error == STAGE_OK || it->message[0], "item %zu failed as %s, no message",
                      i, stage_error_name(it->error));
        HARNESS_CHECK(it->input || it->error != STAGE_OK, "item %zu has no input and no error", i);
        const char *payload = PQgetvalue(r, row, 6);
        ncap_record_t *rec = ncap_record_new();
        if (!rec)
            abort();
        if (message_record_from_json(payload, rec) != 0)
            HARNESS_CHECK(it->error == STAGE_ERR_INPUT,
                          "item %zu: payload %s is not a record, yet the item is %s", i, payload,
                          stage_error_name(it->error));
        else if (!audit_cache_get(harness_audits(), PQgetvalue(r, row, 3), err, sizeof err))
            HARNESS_CHECK(it->error == STAGE_ERR_DEFINITION,
                          "item %zu: audit \"%s\" has no definition, yet the item is %s", i,
                          PQgetvalue(r, row, 3), stage_error_name(it->error));
        ncap_record_destroy(&rec);
    }
}

void harness_stage_run(const stage_ops_t *ops, const uint8_t *data, size_t size,
                       const harness_columns_t *cols, const stage_keys_t *keys,
                       void (*check)(const stage_batch_t *b, const PGresult *r))
{
    PGresult *r = harness_stage_result(data, size, cols, keys);
    stage_batch_t b;
    if (!r || stage_batch_read(ops, r, &b) != 0)
        abort();
    check_batch(&b, r);
    if (check)
        check(&b, r);
    stage_batch_free(ops, &b);
    PQclear(r);
}

const audit_def_t *harness_row_record(const PGresult *r, int row, ncap_record_t *rec)
{
    char err[512];
    const audit_def_t *def =
        audit_cache_get(harness_audits(), PQgetvalue(r, row, 3), err, sizeof err);
    HARNESS_CHECK(def && message_record_from_json(PQgetvalue(r, row, 6), rec) == 0,
                  "row %d was taken, but it is not a record of a known audit", row);
    return def;
}
