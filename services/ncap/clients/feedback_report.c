/* feedback_report.c - a submission's feedback as CSV or readable text */
#include "feedback_report.h"

#include <stdlib.h>

#include "csv.h"

/* n with thousands separators: 999998 -> "999,998" */
static void group_digits(char *out, size_t outlen, unsigned long long n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < outlen; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

void feedback_report_rows(strbuf_t *b, unsigned count, const uint32_t *rows, size_t n_rows,
                          size_t max_listed)
{
    if (count <= 1)
        return;
    size_t listed = n_rows < max_listed ? n_rows : max_listed;
    char n[32], l[32];
    group_digits(n, sizeof n, count);
    group_digits(l, sizeof l, listed);
    if (listed < count)
        strbuf_appendf(b, "%s rows (first %s listed: ", n, l);
    else
        strbuf_appendf(b, "%s rows: ", n);
    for (size_t i = 0; i < listed; i++)
        strbuf_appendf(b, i ? ", %u" : "%u", rows[i]);
    strbuf_append(b, listed < count ? ", ...)" : "");
}

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
    strbuf_t msg;
    strbuf_init(&msg);
    strbuf_append(&msg, p->message);
    if (p->count > 1) {
        strbuf_append(&msg, "; ");
        feedback_report_rows(&msg, p->count, p->rows, p->n_rows, p->n_rows);
    }
    const char *cols[] = {sid, row, p->field, p->rule, p->severity, p->value, msg.s};
    csv_write_row(out, cols, sizeof cols / sizeof *cols);
    strbuf_free(&msg);
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
    fputs(")", out);
    if (p->count > 1) {
        strbuf_t rows;
        strbuf_init(&rows);
        feedback_report_rows(&rows, p->count, p->rows, p->n_rows, p->n_rows);
        fprintf(out, ": %s", rows.s ? rows.s : "");
        strbuf_free(&rows);
    }
    fputs("\n", out);
}

int feedback_exit_status(const feedback_summary_t *s)
{
    return s->errors > 0 ? 1 : 0;
}
