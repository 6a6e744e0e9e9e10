/* feedback.h - what a trust is told about one of its submissions: how far the pipeline has got
 * with it, and each problem any stage found (plain values, shared by ingest, which reads them, and
 * the ncap command, which prints them). */
#ifndef NCAP_FEEDBACK_H
#define NCAP_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "ncap/v1/feedback.pb-c.h"

typedef struct {
    char audit[40];
    char trust[16];
    char filename[256];
    char received_at[32]; /* ISO 8601, UTC */
    unsigned rows, stored, unchanged, rejected_ingest;
    unsigned validated, rejected_validation;
    unsigned withheld;  /* stored, then withheld by linkage under the national data opt-out */
    unsigned in_flight; /* stored but not yet through validation: 0 when the pipeline is done */
    unsigned long long errors, warnings;
} feedback_summary_t;

/* One problem. The strings and rows belong to whoever filled it in (a query result, a reply). */
typedef struct {
    unsigned row; /* for a problem ingest kept once per rule, its first row */
    const char *field, *rule, *severity, *value, *message, *stage;
    unsigned count;       /* rows with it: 0 or 1 for one row, more for one kept once per rule */
    const uint32_t *rows; /* count > 1: its first n_rows rows (at most 1,000), ascending */
    size_t n_rows;
} feedback_problem_t;

/* The summary as sent (m's strings point into s) and as received (copied). */
void feedback_summary_to_message(const feedback_summary_t *s, Ncap__V1__FeedbackSummary *m);
void feedback_summary_from_message(const Ncap__V1__FeedbackSummary *m, feedback_summary_t *s);

#endif
