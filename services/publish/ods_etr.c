/* ods_etr.c - NHS trusts read from an ODS etr extract and checked (see ods_etr.h) */
#include "ods_etr.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ods_code.h"
#include "utf8.h"

/* the columns read, in the order of the extract */
enum { COL_CODE, COL_NAME, COL_GROUPING, N_READ };

struct ods_etr_reader_t {
    csv_reader_t *csv;
    size_t line;
};

ods_etr_reader_t *ods_etr_reader_new(const char *data, size_t len)
{
    assert(data || len == 0);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    ods_etr_reader_t *self = calloc(1, sizeof *self);
    if (self && !(self->csv = csv_reader_new(data ? data : "", len, true)))
        ods_etr_reader_destroy(&self);
    if (self)
        csv_reader_limit(self->csv, ODS_ETR_MAX_FIELDS, ODS_ETR_MAX_FIELD);
    return self;
}

void ods_etr_reader_destroy(ods_etr_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csv_reader_destroy(&(*self_p)->csv);
    free(*self_p);
    *self_p = NULL;
}

size_t ods_etr_reader_line(const ods_etr_reader_t *self)
{
    assert(self);
    return self->line;
}

static int bad(ods_etr_problem_t *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(ods_etr_problem_t *p, const char *field, const char *fmt, ...)
{
    snprintf(p->field, sizeof p->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    return -1;
}

/* A national grouping code: a capital letter and two digits (Y56, W00). */
static bool grouping_shape(const char *s)
{
    return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= '0' && s[1] <= '9' &&
           s[2] >= '0' && s[2] <= '9';
}

/* Checks the current row of the CSV into row. */
static int check_row(const ods_etr_reader_t *self, ods_etr_row_t *row, ods_etr_problem_t *p)
{
    size_t n = csv_reader_nfields(self->csv);
    if (n < N_READ)
        return bad(p, "",
                   "found %zu column%s, expected at least 3 (code, name, national grouping, ...) "
                   "as in the ODS etr extract",
                   n, n == 1 ? "" : "s");
    const char *code = csv_reader_field(self->csv, COL_CODE);
    const char *name = csv_reader_field(self->csv, COL_NAME);
    const char *grouping = csv_reader_field(self->csv, COL_GROUPING);
    if (ods_code_kind(code) != ODS_CODE_TRUST)
        return bad(p, "code",
                   "code \"%.40s\" is not a trust's ODS code: expected 3 capital letters and "
                   "digits starting with a letter, such as RH8",
                   code);
    if (!name[0])
        return bad(p, "name", "trust %s has no name (second column)", code);
    if (strlen(name) > ODS_ETR_NAME_MAX)
        return bad(p, "name", "the name of trust %s has %zu bytes, expected at most %d", code,
                   strlen(name), ODS_ETR_NAME_MAX);
    size_t at = utf8_invalid_at(name);
    if (at)
        return bad(p, "name", "the name of trust %s is not UTF-8 text (byte %zu)", code, at);
    if (grouping[0] && !grouping_shape(grouping))
        return bad(p, "national_grouping",
                   "national grouping \"%.40s\" of trust %s is not a code such as Y56 (a capital "
                   "letter and two digits), nor empty",
                   grouping, code);
    snprintf(row->code, sizeof row->code, "%s", code);
    snprintf(row->name, sizeof row->name, "%s", name);
    snprintf(row->region, sizeof row->region, "%s", grouping);
    return 1;
}

int ods_etr_reader_next(ods_etr_reader_t *self, ods_etr_row_t *row, ods_etr_problem_t *problem)
{
    assert(self && row && problem);
    memset(row, 0, sizeof *row);
    memset(problem, 0, sizeof *problem);
    for (;;) {
        int got = csv_reader_next(self->csv);
        if (got == 0)
            return 0;
        self->line = csv_reader_line(self->csv);
        if (got < 0) { /* csv's "line N: why": the line is said by the caller */
            const char *why = csv_reader_error(self->csv);
            const char *colon = strncmp(why, "line ", 5) == 0 ? strstr(why, ": ") : NULL;
            return bad(problem, "", "%s", colon ? colon + 2 : why);
        }
        if (csv_reader_nfields(self->csv) == 1 && !csv_reader_field(self->csv, 0)[0])
            continue; /* a blank line */
        return check_row(self, row, problem);
    }
}

const char *ods_etr_region(const ods_etr_row_t *row)
{
    return row->region[0] ? row->region : "unknown";
}
