/* action_verdict.h - the verdict on one registered action (`ncap action list`), from the run chart
 * the public sees: the trust's months of the metric in a release's spc.csv (its shown months, a
 * hidden month having no value), split at the first month after the action
 * (benchmark_action_month), judged by spc_verdict (common/stats/spc_verdict.h). Pure: text in, a
 * verdict out. */
#ifndef NCAP_ACTION_VERDICT_H
#define NCAP_ACTION_VERDICT_H

#include <stddef.h>

#include "spc_verdict.h"

/* The verdict on an action of trust on metric on date ("YYYY-MM-DD"), from spc_csv (a release's
 * spc.csv, NULL or "" when the audit has no release yet). A chart with no month on one side of the
 * action is pending. Returns 0, or -1 with err for a spc.csv that cannot be read. */
int action_verdict(const char *spc_csv, const char *metric, const char *trust, const char *date,
                   spc_improvement_t improvement, spc_verdict_result_t *out, char *err,
                   size_t errlen);

#endif
