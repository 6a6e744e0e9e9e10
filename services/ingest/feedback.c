/* feedback.c - a submission's feedback summary to and from its message */
#include "feedback.h"

#include <stdio.h>
#include <string.h>

void feedback_summary_to_message(const feedback_summary_t *s, Ncap__V1__FeedbackSummary *m)
{
    ncap__v1__feedback_summary__init(m);
    m->audit = (char *)s->audit;
    m->trust = (char *)s->trust;
    m->filename = (char *)s->filename;
    m->received_at = (char *)s->received_at;
    m->rows = s->rows;
    m->stored = s->stored;
    m->unchanged = s->unchanged;
    m->rejected_ingest = s->rejected_ingest;
    m->validated = s->validated;
    m->rejected_validation = s->rejected_validation;
    m->withheld = s->withheld;
    m->in_flight = s->in_flight;
    m->errors = s->errors;
    m->warnings = s->warnings;
}

void feedback_summary_from_message(const Ncap__V1__FeedbackSummary *m, feedback_summary_t *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->audit, sizeof s->audit, "%s", m->audit);
    snprintf(s->trust, sizeof s->trust, "%s", m->trust);
    snprintf(s->filename, sizeof s->filename, "%s", m->filename);
    snprintf(s->received_at, sizeof s->received_at, "%s", m->received_at);
    s->rows = m->rows;
    s->stored = m->stored;
    s->unchanged = m->unchanged;
    s->rejected_ingest = m->rejected_ingest;
    s->validated = m->validated;
    s->rejected_validation = m->rejected_validation;
    s->withheld = m->withheld;
    s->in_flight = m->in_flight;
    s->errors = m->errors;
    s->warnings = m->warnings;
}
