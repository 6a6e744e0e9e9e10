/* feedback_report.h - a submission's feedback as a trust reads it (pure: values in, text out):
 * CSV with a header, or readable text under a summary. */
#ifndef NCAP_FEEDBACK_REPORT_H
#define NCAP_FEEDBACK_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "feedback.h"
#include "strbuf.h"

/* The rows of a problem ingest kept once per rule (count > 1), at most max_listed of them:
 * "999,998 rows (first 1,000 listed: 2, 3, ...)", or "3 rows: 2, 5, 9" when all are listed.
 * Nothing for a one-row problem. */
void feedback_report_rows(strbuf_t *b, unsigned count, const uint32_t *rows, size_t n_rows,
                          size_t max_listed);

/* "submission_id,row,field,rule,severity,value,message"; the message of a problem kept once per
 * rule ends with its rows ("...; 999,998 rows (first 1,000 listed: 2, 3, ...)"). */
void feedback_report_csv_header(FILE *out);
void feedback_report_csv_row(FILE *out, int64_t submission_id, const feedback_problem_t *p);

/* The summary, several lines, e.g.
 *   submission 12: nhfd, trust RH8, file "RH8.csv", received 2026-11-23T13:10:00Z
 *   rows: 1000 in the file; 950 accepted, 48 rejected (8 by ingest, 40 by validation), ...
 *   problems: 52 errors, 130 warnings
 *   pipeline: finished with this submission
 */
void feedback_report_text_summary(FILE *out, int64_t submission_id, const feedback_summary_t *s);
/* One line: row 12: asa_grade: MESSAGE (error, range, value "7"); for a problem kept once per
 * rule: row 2: MESSAGE (error, columns): 999,998 rows (first 1,000 listed: 2, 3, ...) */
void feedback_report_text_row(FILE *out, const feedback_problem_t *p);

/* Rows accepted: stored and accepted by validation (records still in flight are not counted). */
unsigned feedback_accepted(const feedback_summary_t *s);
/* Exit status of `ncap feedback`: 1 when the submission has errors, else 0. */
int feedback_exit_status(const feedback_summary_t *s);

#endif
