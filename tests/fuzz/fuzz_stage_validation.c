/* fuzz_stage_validation.c - ncap-validated's read_row and decide
 * (services/validation/validation_stage.c) on rows of linkage.pseudo_record as load_sql gives
 * them, built from the fuzzer's text (harness.h: audit TAB trust TAB site TAB payload [TAB
 * local_id TAB submission_id TAB row_number TAB pseudonym], one row a line): the dataset rules.
 * History rules and storing need PostgreSQL (store).
 *
 * Checked: the batch (harness_stage_run); and for each record that reads, the decision
 * (validate_record): valid exactly when no problem is an error, every problem of a known
 * severity, rule and field, and the same decision twice over. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "validate_record.h"
#include "validation_stage.h"

static validation_t vs;
static stage_ops_t ops;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    vs.audits = harness_audits();
    ops = validation_stage_ops(&vs);
    return 0;
}

static void check_decision(const stage_batch_t *b, const PGresult *r)
{
    ncap_record_t *rec = ncap_record_new();
    if (!rec)
        abort();
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].error != STAGE_OK)
            continue;
        const audit_def_t *def = harness_row_record(r, (int)i, rec);
        validation_result_t res = {.valid = 1}, again = {.valid = 1};
        if (validate_record(def, rec, &res) != 0 || validate_record(def, rec, &again) != 0)
            abort();
        int errors = 0;
        for (size_t k = 0; k < res.n; k++) {
            const validation_problem_t *p = &res.problems[k];
            errors += strcmp(p->severity, "error") == 0;
            HARNESS_CHECK(strcmp(p->severity, "error") == 0 || strcmp(p->severity, "warning") == 0,
                          "severity \"%s\"", p->severity);
            HARNESS_CHECK(p->rule[0] && p->message[0], "problem %zu without rule or message", k);
        }
        HARNESS_CHECK(res.valid == (errors == 0), "valid %d with %d errors", res.valid, errors);
        HARNESS_CHECK(again.n == res.n && again.valid == res.valid,
                      "the same record validated twice: %zu problems, then %zu", res.n, again.n);
        for (size_t k = 0; k < res.n; k++) {
            const validation_problem_t *p = &res.problems[k], *q = &again.problems[k];
            HARNESS_CHECK(
                strcmp(p->field, q->field) == 0 && strcmp(p->rule, q->rule) == 0 &&
                    strcmp(p->severity, q->severity) == 0 && strcmp(p->value, q->value) == 0 &&
                    strcmp(p->message, q->message) == 0,
                "the same record validated twice: \"%s\", then \"%s\"", p->message, q->message);
        }
        validation_result_free(&res);
        validation_result_free(&again);
    }
    ncap_record_destroy(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_stage_run(&ops, data, size, &harness_validation_columns, NULL, check_decision);
    return 0;
}
