/* outlier_gate.c - a release's alarms held back until their cases are published */
#include "outlier_gate.h"

#include <math.h>
#include <string.h>

#include "outlier_process.h"

static bool is_published(const benchmark_row_t *row, const outlier_unit_t *published, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(published[i].area_code, row->area_code) == 0 &&
            strcmp(published[i].metric, row->metric) == 0 &&
            strcmp(published[i].level, row->level) == 0)
            return true;
    return false;
}

void outlier_gate_release(const audit_def_t *def, benchmark_release_t *rel,
                          const outlier_unit_t *published, size_t n)
{
    if (!def->outliers.enabled)
        return;
    for (size_t i = 0; i < rel->n_rows; i++) {
        benchmark_row_t *row = &rel->rows[i];
        if (strcmp(row->level, "trust") != 0 && strcmp(row->level, "site") != 0)
            continue;
        bool alarm = row->outlier && strncmp(row->outlier, "alarm_", 6) == 0;
        if (alarm && is_published(row, published, n))
            continue;
        if (alarm)
            row->outlier = outlier_public_flag(row->outlier, false);
        /* on every unit's all row, not only a held alarm's: empty limits must not mark one */
        if (strcmp(row->breakdown, "all") == 0) {
            row->funnel_lower998 = row->funnel_upper998 = NAN;
            row->lower998 = row->upper998 = NAN;
        }
    }
}

bool outlier_gate_unit_row(const benchmark_row_t *row)
{
    return (strcmp(row->level, "trust") == 0 || strcmp(row->level, "site") == 0) &&
           strcmp(row->breakdown, "all") == 0 && row->has_funnel;
}
