/* action_verdict.c - an action's verdict from the public run chart */
#include "action_verdict.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_grow.h"
#include "benchmark.h"
#include "csv.h"

/* spc.csv's columns (benchmark_spc.c): audit, metric, level, area_code, month, numerator,
 * denominator, value, ... */
enum { COL_METRIC = 1, COL_LEVEL = 2, COL_AREA = 3, COL_MONTH = 4, COL_VALUE = 7, COL_MIN = 8 };

int action_verdict(const char *spc_csv, const char *metric, const char *trust, const char *date,
                   spc_improvement_t improvement, spc_verdict_result_t *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->verdict = SPC_VERDICT_PENDING;
    char start[8];
    benchmark_action_month(date, start);
    if (!start[0]) {
        snprintf(err, errlen, "action date \"%s\" is not a date YYYY-MM-DD", date);
        return -1;
    }
    if (!spc_csv || !*spc_csv)
        return 0;
    csv_reader_t *r = csv_reader_new(spc_csv, strlen(spc_csv), false);
    double *values = NULL;
    size_t n = 0, cap = 0, change = SIZE_MAX;
    int rc = -1;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int got, line = 0; (got = csv_reader_next(r)) != 0; line++) {
        if (got < 0 || csv_reader_nfields(r) < COL_MIN) {
            snprintf(err, errlen, "spc.csv line %zu: %s", csv_reader_line(r),
                     got < 0 ? csv_reader_error(r) : "fewer columns than spc.csv has");
            goto out;
        }
        const char *value = csv_reader_field(r, COL_VALUE);
        if (line == 0 || strcmp(csv_reader_field(r, COL_METRIC), metric) != 0 ||
            strcmp(csv_reader_field(r, COL_LEVEL), "trust") != 0 ||
            strcmp(csv_reader_field(r, COL_AREA), trust) != 0 || !*value)
            continue;
        if (array_grow((void **)&values, &cap, n + 1, sizeof *values) != 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        char *end;
        values[n] = strtod(value, &end);
        if (*end) {
            snprintf(err, errlen, "spc.csv line %zu: value \"%s\" is not a number",
                     csv_reader_line(r), value);
            goto out;
        }
        if (change == SIZE_MAX && strcmp(csv_reader_field(r, COL_MONTH), start) >= 0)
            change = n;
        n++;
    }
    rc = 0;
    if (change == SIZE_MAX || change == 0) { /* no month after it, or none before */
        out->before = change == SIZE_MAX ? n : 0;
        out->after = change == SIZE_MAX ? 0 : n;
    } else {
        rc = spc_verdict(values, n, change, improvement, out, err, errlen);
    }
out:
    free(values);
    csv_reader_destroy(&r);
    return rc;
}
