/* feedback_store.h - a trust's submission and every problem any stage found in it, read for the
 * trust's `ncap feedback`: who owns the submission, how far the pipeline has got with it, and the
 * problems one page at a time in the order row, field, rule, stage, message. */
#ifndef NCAP_FEEDBACK_STORE_H
#define NCAP_FEEDBACK_STORE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_def.h"
#include "feedback.h"

/* Where a page starts: after this problem (all NULL/0 for the first page). */
typedef struct {
    unsigned row;
    const char *field, *rule, *stage, *message;
} feedback_cursor_t;

typedef struct {
    PGresult *result; /* owns the strings */
    uint32_t *rows;   /* owns the problems' rows */
    feedback_problem_t *problems;
    size_t n;
    int more; /* problems follow the last of this page */
} feedback_page_t;

/* Looks up submission_id as trust's. Returns 1 when it is trust's (summary filled: counted only
 * when with_counts, else audit, trust, filename and received_at alone), 0 when there is no such
 * submission or it belongs to another trust (the caller must not tell which), -1 on a database
 * error (message in err). */
int feedback_store_find(PGconn *db, int64_t submission_id, const char *trust, int with_counts,
                        feedback_summary_t *summary, char *err, size_t errlen);

/* Reads up to limit problems of submission_id after cursor (NULL: from the start) into page.
 * The value of an identifier field of def is never returned (belt and braces: no stage stores
 * one). Returns 0, or -1 with a message in err. */
int feedback_store_page(PGconn *db, int64_t submission_id, const audit_def_t *def,
                        const feedback_cursor_t *after, unsigned limit, feedback_page_t *page,
                        char *err, size_t errlen);
void feedback_page_clear(feedback_page_t *page);

#endif
