/* fuzz_stage_linkage.c - ncap-linkd's read_row and decide (services/linkage/linkage_stage.c) on
 * rows of ingest.raw_record as load_sql gives them, built from the fuzzer's text (harness.h:
 * audit TAB trust TAB site TAB payload [TAB local_id TAB submission_id TAB row_number], one row a
 * line). Everything before the patient index, which needs PostgreSQL.
 *
 * Checked: the batch (harness_stage_run); and for each record that reads, what decide made of
 * it (link_record_prepare): the pseudonymised record holds no identifier field and no name that
 * is not a field of the audit or a derived field, and at most LINK_MAX_PROBLEMS problems. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "link_record.h"
#include "linkage_stage.h"

static linkage_t lk;
static stage_ops_t ops;

static const char *const names[] = {"record_id",     "version",   "link_revision", "audit",
                                    "trust",         "site",      "payload",       "local_id",
                                    "submission_id", "row_number"};
static const char *const defaults[] = {NULL,    NULL, NULL, "nhfd", "RH8",
                                       "RH801", "{}", "L1", "1",    "2"};
static const harness_columns_t cols = {(int)(sizeof names / sizeof names[0]), names, defaults};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lk.audits = harness_audits();
    ops = linkage_stage_ops(&lk);
    return 0;
}

static bool is_derived(const audit_def_t *def, const char *name)
{
    for (size_t i = 0; i < def->n_derived; i++)
        if (strcmp(def->derived[i].name, name) == 0)
            return true;
    return false;
}

static void check_decision(const stage_batch_t *b, const PGresult *r)
{
    ncap_record_t *raw = ncap_record_new();
    if (!raw)
        abort();
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].error != STAGE_OK)
            continue;
        const audit_def_t *def = harness_row_record(r, (int)i, raw);
        link_outcome_t out;
        if (link_record_prepare(def, b->items[i].key.record_id, raw, &out) != 0)
            abort();
        HARNESS_CHECK(out.n_problems >= 0 && out.n_problems <= LINK_MAX_PROBLEMS, "%d problems",
                      out.n_problems);
        for (size_t k = 0; k < out.pseudo->n; k++) {
            const char *name = out.pseudo->fields[k].name;
            const audit_field_t *f = audit_def_field(def, name);
            HARNESS_CHECK(!f || !f->identifier, "identifier \"%s\" passed on", name);
            HARNESS_CHECK(f || is_derived(def, name), "\"%s\", not a field, passed on", name);
        }
        link_outcome_clear(&out);
    }
    ncap_record_destroy(&raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_stage_run(&ops, data, size, &cols, NULL, check_decision);
    return 0;
}
