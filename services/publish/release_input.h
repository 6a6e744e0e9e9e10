/* release_input.h - what a release takes from its audit's definition (pure): each metric's
 * settings for benchmark_build and the disclosure rule. The publish daemon and `ncap release
 * build` both take them from here, so that they build the same release. */
#ifndef NCAP_RELEASE_INPUT_H
#define NCAP_RELEASE_INPUT_H

#include "audit_def.h"
#include "benchmark.h"

/* A new array of def's metrics in definition order (strings borrowed from def), or NULL when out of
 * memory. Free with free(). */
benchmark_metric_t *release_input_metrics(const audit_def_t *def);
/* The definition's disclosure: {min_count} (0: none). */
long long release_input_min_count(const audit_def_t *def);

#endif
