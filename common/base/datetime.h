/* datetime.h - dates and times as trusts send them, and the periods audits report on.
 * Times are the clock time as written, counted as seconds since 1970-01-01T00:00 on that clock:
 * an offset (Z, +01:00) is checked but not applied, because audits compare ward clock times
 * (arrival 08:00+01:00 to surgery 20:00 next day is 36 hours, written either way). */
#ifndef NCAP_DATETIME_H
#define NCAP_DATETIME_H

#include <stdbool.h>
#include <stdint.h>

/* Accepts YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM|-HH:MM], "YYYY-MM-DD HH:MM[:SS]",
 * DD/MM/YYYY and "DD/MM/YYYY HH:MM[:SS]". Checks the calendar (no 31 June, 29 Feb only in leap
 * years). *has_time says whether a time was given. Returns 0, or -1 when s is not such a value. */
int ncap_datetime_parse(const char *s, int64_t *epoch_s, bool *has_time);
/* A date only (the forms above without time). Returns 0 or -1. */
int ncap_date_parse(const char *s, int *y, int *m, int *d);
int64_t ncap_days_from_civil(int y, int m, int d);
void ncap_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Days since 1970-01-01 of the day a time falls on (floor of epoch_s / 86400, before 1970 too). */
int64_t ncap_day_of(int64_t epoch_s);
/* Calendar quarter of a time as "YYYYQn" (out needs 7 bytes). */
void ncap_quarter_label(int64_t epoch_s, char out[8]);
/* Calendar month of a time as "YYYY-MM" (out needs 8 bytes). */
void ncap_month_label(int64_t epoch_s, char out[8]);
/* Whole years from date of birth to a time (birthdays counted on the day; 29 Feb on 1 Mar). */
int ncap_age_years(int64_t dob_epoch_s, int64_t at_epoch_s);
/* Formats as YYYY-MM-DDTHH:MM:SSZ (out needs 21 bytes). */
void ncap_datetime_format(int64_t epoch_s, char out[21]);

#endif
