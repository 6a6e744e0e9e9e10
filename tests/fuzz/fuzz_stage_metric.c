/* fuzz_stage_metric.c - ncap-metricd's read_row and decide (services/metric/metric_stage.c) on
 * rows of validation.record as load_sql gives them, built from the fuzzer's text (harness.h:
 * audit TAB trust TAB site TAB payload [TAB valid], one row a line, valid "t" or "f"): each key
 * metric's contribution. Storing needs PostgreSQL (store).
 *
 * Checked: the batch (harness_stage_run); a valid record whose metric cannot be evaluated, or that
 * cannot be placed in a declared breakdown (an age that is not a number), is failed as
 * STAGE_ERR_EVALUATION, never counted, and any other record is not failed; and for each record that
 * reads, the contributions (contribution_compute): at most one per metric, each of a metric of the
 * audit, a denominator of 0 or 1 (0 only when held or missing, with nothing observed), the
 * numerator never negative, and a period "YYYYQn" or none. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "breakdown.h"
#include "contribution.h"
#include "harness.h"
#include "metric_stage.h"

static metric_t ms;
static stage_ops_t ops;

static const char *const names[] = {"record_id", "version", "link_revision", "audit",
                                    "trust",     "site",    "payload",       "valid"};
static const char *const defaults[] = {NULL, NULL, NULL, "nhfd", "RH8", "RH801", "{}", "t"};
static const harness_columns_t cols = {(int)(sizeof names / sizeof names[0]), names, defaults};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ms.audits = harness_audits();
    ops = metric_stage_ops(&ms);
    return 0;
}

static bool is_period(const char *p)
{
    return p[0] == '\0' ||
           (strlen(p) == 6 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
            isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) && p[4] == 'Q' &&
            p[5] >= '1' && p[5] <= '4');
}

static void check_decision(const stage_batch_t *b, const PGresult *r)
{
    char err[512];
    ncap_record_t *rec = ncap_record_new();
    if (!rec)
        abort();
    for (size_t i = 0; i < b->n; i++) {
        const stage_item_t *it = &b->items[i];
        if (!it->input)
            continue;
        const audit_def_t *def = harness_row_record(r, (int)i, rec);
        contribution_t *c = calloc(def->n_metrics + 1, sizeof *c);
        if (!c)
            abort();
        char period[8] = "", month[8] = "";
        int nc = contribution_compute(def, rec, period, month, c, err, sizeof err);
        bool valid = PQgetvalue(r, (int)i, 7)[0] == 't';
        char cats[BREAKDOWN_COUNT][BREAKDOWN_CATEGORY_MAX];
        if (nc >= 0 && valid && period[0] &&
            breakdown_categories(def, rec, cats, err, sizeof err) != 0)
            nc = -1; /* the same failure class: the record cannot be counted */
        if (nc < 0 && valid)
            HARNESS_CHECK(it->error == STAGE_ERR_EVALUATION,
                          "a valid record whose metric fails (%s) is %s", err,
                          stage_error_name(it->error));
        else
            HARNESS_CHECK(it->error == STAGE_OK, "item %zu failed: %s", i, it->message);
        HARNESS_CHECK(is_period(period), "period \"%s\"", period);
        HARNESS_CHECK(nc <= (int)def->n_metrics, "%d contributions of %zu metrics", nc,
                      def->n_metrics);
        for (int k = 0; k < nc; k++) {
            /* counted (1), or held or missing (0, nothing observed); a ratio observes counts */
            HARNESS_CHECK((c[k].denominator == 1 || (c[k].denominator == 0 && c[k].numerator == 0 &&
                                                     (c[k].held || c[k].missing))) &&
                              c[k].numerator >= 0,
                          "metric %s contributes %lld/%d", c[k].metric_id, c[k].numerator,
                          c[k].denominator);
            bool known = false;
            for (size_t m = 0; m < def->n_metrics && !known; m++)
                known = c[k].metric_id == def->metrics[m].id;
            HARNESS_CHECK(known, "contribution to metric \"%s\", not the audit's", c[k].metric_id);
        }
        free(c);
    }
    ncap_record_destroy(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    harness_stage_run(&ops, data, size, &cols, NULL, check_decision);
    return 0;
}
