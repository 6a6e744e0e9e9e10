/* follow_up.c - the register's coverage on a record, and when a record's follow-up completes */
#include "follow_up.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "datetime.h"

int follow_up_stamp(const audit_def_t *def, ncap_record_t *pseudo, const char *covers_to)
{
    if (!audit_def_linked(def, FOLLOW_UP_COVERAGE_FIELD))
        return 0;
    const char *was = ncap_record_get(pseudo, FOLLOW_UP_COVERAGE_FIELD);
    if (strcmp(was ? was : "", covers_to) == 0)
        return 0;
    if (!covers_to[0]) {
        ncap_record_remove(pseudo, FOLLOW_UP_COVERAGE_FIELD);
        return 1;
    }
    return ncap_record_set(pseudo, FOLLOW_UP_COVERAGE_FIELD, covers_to) == 0 ? 1 : -1;
}

/* Days since 1970-01-01 of a date YYYY-MM-DD into *day: 0, or -1 when it is not one. */
static int day_of(const char *date, int64_t *day)
{
    int y, m, d;
    if (ncap_date_parse(date, &y, &m, &d) != 0)
        return -1;
    *day = ncap_days_from_civil(y, m, d);
    return 0;
}

bool follow_up_due(const audit_def_t *def, const ncap_record_t *rec, const char *covers_to,
                   char due[11])
{
    if (!audit_def_linked(def, FOLLOW_UP_COVERAGE_FIELD) || !def->period_field)
        return false;
    const char *pv = ncap_record_get(rec, def->period_field);
    int64_t t, covered = INT64_MIN;
    bool has_time;
    if (!pv || !*pv || ncap_datetime_parse(pv, &t, &has_time) != 0)
        return false;
    if (covers_to[0] && day_of(covers_to, &covered) != 0)
        covered = INT64_MIN;
    /* the period day: the date part of the clock time */
    int64_t period = ncap_day_of(t), first = INT64_MAX;
    for (size_t i = 0; i < def->n_metrics; i++) {
        int n = def->metrics[i].follow_up_days;
        if (n > 0 && period + n > covered && period + n < first)
            first = period + n;
    }
    if (first == INT64_MAX)
        return false;
    int y, m, d;
    ncap_civil_from_days(first, &y, &m, &d);
    if (y < 1 || y > 9999) /* past what a date field holds: no register will cover it */
        return false;
    snprintf(due, 11, "%04d-%02d-%02d", y, m, d);
    return true;
}
