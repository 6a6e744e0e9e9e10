/* datetime.c - dates and times as trusts send them, with days-from-civil arithmetic (no timegm,
 * mktime or TZ: the answer never depends on the machine's time zone). */
#include "datetime.h"

#include <string.h>

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year eras of 146097 days
 * from 0000-03-01 so that the leap day falls at the end of each year. */
int64_t ncap_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                        /* 0..399 */
    int64_t mp = (m + 9) % 12;                           /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void ncap_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0..11, March = 0 */
    int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = dd;
}

/* Reads exactly n digits at *p and advances. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool valid_date(int y, int m, int d)
{
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* A date in either form at *p; advances past it. */
static bool parse_date_part(const char **p, int *y, int *m, int *d, bool *iso)
{
    const char *s = *p;
    *iso = !(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '/');
    if (!*iso) {
        if (!digits(&s, 2, d) || *s++ != '/' || !digits(&s, 2, m) || *s++ != '/' ||
            !digits(&s, 4, y))
            return false;
    } else {
        if (!digits(&s, 4, y) || *s++ != '-' || !digits(&s, 2, m) || *s++ != '-' ||
            !digits(&s, 2, d))
            return false;
    }
    if (!valid_date(*y, *m, *d))
        return false;
    *p = s;
    return true;
}

/* HH:MM[:SS] at *p; advances past it. */
static bool parse_time_part(const char **p, int *secs)
{
    const char *s = *p;
    int hh, mi, ss = 0;
    if (!digits(&s, 2, &hh) || *s++ != ':' || !digits(&s, 2, &mi))
        return false;
    if (*s == ':') {
        s++;
        if (!digits(&s, 2, &ss))
            return false;
    }
    if (hh > 23 || mi > 59 || ss > 59)
        return false;
    *secs = hh * 3600 + mi * 60 + ss;
    *p = s;
    return true;
}

/* Z, +HH:MM or -HH:MM at *p: the offset east of UTC in seconds. */
static bool parse_offset(const char **p, int *offset)
{
    const char *s = *p;
    if (*s == 'Z') {
        *offset = 0;
        *p = s + 1;
        return true;
    }
    if (*s != '+' && *s != '-')
        return false;
    int sign = *s++ == '-' ? -1 : 1;
    int hh, mi;
    if (!digits(&s, 2, &hh) || *s++ != ':' || !digits(&s, 2, &mi) || hh > 23 || mi > 59)
        return false;
    *offset = sign * (hh * 3600 + mi * 60);
    *p = s;
    return true;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool at_end(const char *s)
{
    return *skip_spaces(s) == '\0';
}

int ncap_datetime_parse(const char *s, int64_t *epoch_s, bool *has_time)
{
    if (!s)
        return -1;
    const char *p = skip_spaces(s);
    int y, m, d;
    bool iso;
    if (!parse_date_part(&p, &y, &m, &d, &iso))
        return -1;
    int secs = 0, offset = 0;
    bool timed = false;
    if (*p == 'T' && iso) {
        p++;
        if (!parse_time_part(&p, &secs))
            return -1;
        if (*p == 'Z' || *p == '+' || *p == '-') {
            if (!parse_offset(&p, &offset))
                return -1;
        }
        timed = true;
    } else if (*p == ' ' && !at_end(p)) {
        p++;
        if (!parse_time_part(&p, &secs))
            return -1;
        timed = true;
    }
    if (!at_end(p))
        return -1;
    /* Audit times are ward clock times: an offset, when given, says which clock the time was read
     * from, and the clock time as written is what the audit compares (36 hours on the ward is
     * 36 hours whether the sender wrote +01:00 or not). */
    (void)offset;
    *epoch_s = ncap_days_from_civil(y, m, d) * 86400 + secs;
    if (has_time)
        *has_time = timed;
    return 0;
}

int ncap_date_parse(const char *s, int *y, int *m, int *d)
{
    if (!s)
        return -1;
    const char *p = skip_spaces(s);
    int yy, mm, dd;
    bool iso;
    if (!parse_date_part(&p, &yy, &mm, &dd, &iso) || !at_end(p))
        return -1;
    *y = yy;
    *m = mm;
    *d = dd;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Writes v as exactly n digits (years outside 0-9999 wrap; no audit date is near them). */
static char *put_digits(char *out, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        int64_t r = v % 10;
        out[i] = (char)('0' + (r < 0 ? -r : r));
        v /= 10;
    }
    return out + n;
}

int64_t ncap_day_of(int64_t epoch_s)
{
    return floor_div(epoch_s, 86400);
}

void ncap_quarter_label(int64_t epoch_s, char out[8])
{
    int y, m, d;
    ncap_civil_from_days(floor_div(epoch_s, 86400), &y, &m, &d);
    char *o = put_digits(out, y, 4);
    *o++ = 'Q';
    *o++ = (char)('1' + (m - 1) / 3);
    *o = '\0';
}

void ncap_month_label(int64_t epoch_s, char out[8])
{
    int y, m, d;
    ncap_civil_from_days(floor_div(epoch_s, 86400), &y, &m, &d);
    char *o = put_digits(out, y, 4);
    *o++ = '-';
    o = put_digits(o, m, 2);
    *o = '\0';
}

int ncap_age_years(int64_t dob_epoch_s, int64_t at_epoch_s)
{
    int by, bm, bd, ay, am, ad;
    ncap_civil_from_days(floor_div(dob_epoch_s, 86400), &by, &bm, &bd);
    ncap_civil_from_days(floor_div(at_epoch_s, 86400), &ay, &am, &ad);
    int age = ay - by;
    /* not yet had this year's birthday; a 29 February birthday falls on 1 March in other years */
    if (am < bm || (am == bm && ad < bd))
        age--;
    return age;
}

void ncap_datetime_format(int64_t epoch_s, char out[21])
{
    int64_t days = floor_div(epoch_s, 86400);
    int64_t secs = epoch_s - days * 86400;
    int y, m, d;
    ncap_civil_from_days(days, &y, &m, &d);
    char *o = put_digits(out, y, 4);
    *o++ = '-';
    o = put_digits(o, m, 2);
    *o++ = '-';
    o = put_digits(o, d, 2);
    *o++ = 'T';
    o = put_digits(o, secs / 3600, 2);
    *o++ = ':';
    o = put_digits(o, secs / 60 % 60, 2);
    *o++ = ':';
    o = put_digits(o, secs % 60, 2);
    *o++ = 'Z';
    *o = '\0';
}
