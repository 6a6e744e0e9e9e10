/* feedback_report.c - a submission's feedback as CSV or readable text */
#include "feedback_report.h"

#include "csv.h"

void feedback_report_csv_header(FILE *out)
{
    static const char *const head[] = {"submission_id", "row",   "field",  "rule",
                                       "severity",      "value", "message"};
    csv_write_row(out, head, sizeof head / sizeof *head);
}

void feedback_report_csv_row(FILE *out, int64_t submission_id, const feedback_problem_t *p)
{
    char sid[24], row[16];
    snprintf(sid, sizeof sid, "%lld", (long long)submission_id);
    snprintf(row, sizeof row, "%u", p->row);
    const char *cols[] = {sid, row, p->field, p->rule, p->severity, p->value, p->message};
    csv_write_row(out, cols, sizeof cols / sizeof *cols);
}

unsigned feedback_accepted(const feedback_summary_t *s)
{
    unsigned rejected = s->rejected_validation;
    return s->validated > rejected ? s->validated - rejected : 0;
}

void feedback_report_text_summary(FILE *out, int64_t submission_id, const feedback_summary_t *s)
{
    fprintf(out, "submission %lld: %s, trust %s, file \"%s\", received %s\n",
            (long long)submission_id, s->audit, s->trust, s->filename, s->received_at);
    fprintf(out, "rows: %u in the file; %u accepted, %u rejected (%u by ingest, %u by validation)",
            s->rows, feedback_accepted(s), s->rejected_ingest + s->rejected_validation,
            s->rejected_ingest, s->rejected_validation);
    if (s->unchanged)
        fprintf(out,
                ", %u unchanged (identical to a version already sent: their feedback is with "
                "that submission)",
                s->unchanged);
    if (s->withheld)
        fprintf(out, ", %u withheld (the patient opted out of the use of their data)", s->withheld);
    fputs("\n", out);
    fprintf(out, "problems: %llu error%s, %llu warning%s\n", s->errors, s->errors == 1 ? "" : "s",
            s->warnings, s->warnings == 1 ? "" : "s");
    if (s->in_flight == 0)
        fputs("pipeline: finished with this submission\n", out);
    else
        fprintf(out,
                "pipeline: still working: %u record%s not yet validated; ask again for their "
                "problems\n",
                s->in_flight, s->in_flight == 1 ? "" : "s");
}

void feedback_report_text_row(FILE *out, const feedback_problem_t *p)
{
    fprintf(out, "row %u: ", p->row);
    if (p->field[0])
        fprintf(out, "%s: ", p->field);
    fprintf(out, "%s (%s, %s", p->message, p->severity, p->rule);
    if (p->value[0])
        fprintf(out, ", value \"%s\"", p->value);
    fputs(")\n", out);
}

int feedback_exit_status(const feedback_summary_t *s)
{
    return s->errors > 0 ? 1 : 0;
}
