/* test_datetime.c - dates and times in every accepted form, calendar edges, periods, ages */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "datetime.h"

static int64_t parse(const char *s, bool *has_time)
{
    int64_t t = -12345;
    bool ht = false;
    assert_int_equal(ncap_datetime_parse(s, &t, &ht), 0);
    if (has_time)
        *has_time = ht;
    return t;
}

static void rejects(const char *s)
{
    int64_t t;
    bool ht;
    if (ncap_datetime_parse(s, &t, &ht) == 0)
        fail_msg("\"%s\" was accepted", s);
}

static void test_every_form_gives_the_same_instant(void **state)
{
    (void)state;
    bool ht;
    const int64_t nine_am = 1772355600; /* 2026-03-01T09:00:00Z */
    assert_int_equal(parse("2026-03-01T09:00", &ht), nine_am);
    assert_true(ht);
    assert_int_equal(parse("2026-03-01T09:00:00", NULL), nine_am);
    assert_int_equal(parse("2026-03-01T09:00Z", NULL), nine_am);
    assert_int_equal(parse("2026-03-01T09:00:00Z", NULL), nine_am);
    /* an offset is checked but the clock time as written is kept */
    assert_int_equal(parse("2026-03-01T09:00+01:00", NULL), nine_am);
    assert_int_equal(parse("2026-03-01T09:00-01:30", NULL), nine_am);
    assert_int_equal(parse("2026-03-01 09:00", NULL), nine_am);
    assert_int_equal(parse("2026-03-01 09:00:00", NULL), nine_am);
    assert_int_equal(parse("01/03/2026 09:00", &ht), nine_am);
    assert_true(ht);
    assert_int_equal(parse("01/03/2026 09:00:00", NULL), nine_am);
    assert_int_equal(parse("2026-03-01T09:00:59", NULL), nine_am + 59);
}

static void test_dates_are_midnight_utc_without_time(void **state)
{
    (void)state;
    bool ht = true;
    assert_int_equal(parse("1970-01-01", &ht), 0);
    assert_false(ht);
    assert_int_equal(parse("2026-01-01", &ht), 1767225600);
    assert_false(ht);
    assert_int_equal(parse("01/01/2026", &ht), 1767225600);
    assert_false(ht);
    assert_int_equal(parse("1969-12-31", NULL), -86400);
    /* surrounding spaces from a CSV cell are tolerated */
    assert_int_equal(parse(" 2026-01-01 ", NULL), 1767225600);
}

static void test_offsets_keep_the_clock_time(void **state)
{
    (void)state;
    char out[21];
    ncap_datetime_format(parse("2026-01-01T00:30+01:00", NULL), out);
    assert_string_equal(out, "2026-01-01T00:30:00Z");
    ncap_datetime_format(parse("2025-12-31T23:30-02:00", NULL), out);
    assert_string_equal(out, "2025-12-31T23:30:00Z");
}

static void test_calendar_is_checked(void **state)
{
    (void)state;
    parse("2024-02-29", NULL); /* leap year */
    parse("2000-02-29", NULL); /* divisible by 400 */
    parse("29/02/2024", NULL);
    parse("2026-12-31T23:59:59", NULL);
    rejects("2026-02-29"); /* not a leap year */
    rejects("1900-02-29"); /* divisible by 100, not 400 */
    rejects("29/02/2026");
    rejects("31/06/2026"); /* June has 30 days */
    rejects("2026-04-31");
    rejects("2026-13-01");
    rejects("2026-00-10");
    rejects("2026-01-00");
    rejects("00/01/2026");
}

static void test_malformed_values_are_refused(void **state)
{
    (void)state;
    rejects("");
    rejects("   ");
    rejects("2026-1-5");
    rejects("2026-01-5");
    rejects("26-01-05");
    rejects("1/3/2026");
    rejects("2026/03/01");
    rejects("2026-03-01T24:00");
    rejects("2026-03-01T23:60");
    rejects("2026-03-01T23:59:60");
    rejects("2026-03-01T9:00");
    rejects("2026-03-01T09");
    rejects("2026-03-01T");
    rejects("2026-03-01T09:00+0100");
    rejects("2026-03-01T09:00+01");
    rejects("2026-03-01T09:00+24:00");
    rejects("2026-03-01 09:00Z"); /* offsets only on the T form */
    rejects("01/03/2026T09:00");  /* T only on the ISO form */
    rejects("2026-03-01 09:00 extra");
    rejects("2026-03-01x");
    rejects("tomorrow");
}

/* The NHS Data Dictionary's forms, worked: ISO 8601 date, date and time with optional seconds and
 * offset, and DD/MM/YYYY [HH:MM]. */
static void test_nhs_date_forms(void **state)
{
    (void)state;
    bool ht;
    /* 29 February in leap years, every form; 2024-02-29 is day 19782 */
    int64_t leap_day = 19782LL * 86400;
    assert_int_equal(parse("2024-02-29", &ht), leap_day);
    assert_false(ht);
    assert_int_equal(parse("29/02/2024", NULL), leap_day);
    assert_int_equal(parse("2024-02-29T23:59", &ht), leap_day + 86340);
    assert_true(ht);
    assert_int_equal(parse("29/02/2024 23:59", NULL), leap_day + 86340);
    assert_int_equal(parse("2024-02-29T06:30:15+05:30", NULL), leap_day + 23415);
    assert_int_equal(parse("2000-02-29T00:00:00Z", NULL), 11016LL * 86400);
    /* ... and not in other years */
    rejects("2025-02-29");
    rejects("29/02/2025 10:00");
    rejects("2100-02-29T10:00");
    rejects("29/02/1900");
    /* midnight is 00:00 of the next day, never 24:00 */
    rejects("2026-03-01T24:00");
    rejects("2026-03-01T24:00:00");
    rejects("01/03/2026 24:00");
    assert_int_equal(parse("2026-03-02T00:00", NULL) - parse("2026-03-01T23:59", NULL), 60);
    /* bad offsets */
    rejects("2026-03-01T09:00+01:60");
    rejects("2026-03-01T09:00+1:00");
    rejects("2026-03-01T09:00+");
    rejects("2026-03-01T09:00-");
    rejects("2026-03-01T09:00z");
    rejects("2026-03-01T09:00ZZ");
    rejects("2026-03-01T09:00+01:00Z");
    rejects("2026-03-01+01:00");  /* an offset needs a time */
    rejects("01/03/2026 09:00Z"); /* offsets only on the ISO form */
    rejects("01/03/2026 09:00+01:00");
    /* offsets are checked, not applied: the ward clock time is kept */
    assert_int_equal(parse("2026-03-01T09:00-05:00", NULL), parse("2026-03-01T09:00", NULL));
    assert_int_equal(parse("2026-03-01T09:00:30+14:00", NULL), parse("01/03/2026 09:00:30", NULL));
    /* DD/MM/YYYY with a time of HH:MM only after one space */
    rejects("01/03/2026  09:00");
    rejects("01/03/2026 9:00");
    rejects("1/03/2026 09:00");
}

static void test_date_parse_takes_dates_only(void **state)
{
    (void)state;
    int y = 0, m = 0, d = 0;
    assert_int_equal(ncap_date_parse("2026-03-01", &y, &m, &d), 0);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 3);
    assert_int_equal(d, 1);
    assert_int_equal(ncap_date_parse("29/02/2024", &y, &m, &d), 0);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_int_equal(ncap_date_parse("2026-03-01T09:00", &y, &m, &d), -1);
    assert_int_equal(ncap_date_parse("01/03/2026 09:00", &y, &m, &d), -1);
    assert_int_equal(ncap_date_parse("2026-02-29", &y, &m, &d), -1);
    assert_int_equal(ncap_date_parse("2026-1-5", &y, &m, &d), -1);
}

static void test_days_from_civil_worked_values(void **state)
{
    (void)state;
    assert_int_equal(ncap_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(ncap_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(ncap_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(ncap_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(ncap_days_from_civil(2026, 3, 1), 20513);
    assert_int_equal(ncap_days_from_civil(1900, 3, 1) - ncap_days_from_civil(1900, 2, 28), 1);
    assert_int_equal(ncap_days_from_civil(2000, 3, 1) - ncap_days_from_civil(2000, 2, 28), 2);
}

static void test_civil_from_days_inverts_days_from_civil(void **state)
{
    (void)state;
    int py, pm, pd;
    ncap_civil_from_days(-800001, &py, &pm, &pd);
    for (int64_t days = -800000; days <= 800000; days++) {
        int y, m, d;
        ncap_civil_from_days(days, &y, &m, &d);
        assert_int_equal(ncap_days_from_civil(y, m, d), days);
        /* consecutive days are consecutive dates */
        if (d == 1)
            assert_true(m == pm + 1 || (m == 1 && pm == 12 && y == py + 1));
        else
            assert_true(d == pd + 1 && m == pm && y == py);
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_quarter_labels(void **state)
{
    (void)state;
    char q[8];
    ncap_quarter_label(parse("2026-01-01", NULL), q);
    assert_string_equal(q, "2026Q1");
    ncap_quarter_label(parse("2026-03-31T23:59:59", NULL), q);
    assert_string_equal(q, "2026Q1");
    ncap_quarter_label(parse("2026-04-01", NULL), q);
    assert_string_equal(q, "2026Q2");
    ncap_quarter_label(parse("2026-09-30T12:00", NULL), q);
    assert_string_equal(q, "2026Q3");
    ncap_quarter_label(parse("2025-12-31T23:59", NULL), q);
    assert_string_equal(q, "2025Q4");
    /* 00:30 on the ward clock on 1 April is in April, whatever offset is written */
    ncap_quarter_label(parse("2026-04-01T00:30+01:00", NULL), q);
    assert_string_equal(q, "2026Q2");
    ncap_quarter_label(-1, q);
    assert_string_equal(q, "1969Q4");
    /* and the month of each */
    ncap_month_label(parse("2026-03-31T23:59:59", NULL), q);
    assert_string_equal(q, "2026-03");
    ncap_month_label(parse("2026-04-01T00:30+01:00", NULL), q);
    assert_string_equal(q, "2026-04");
    ncap_month_label(parse("2025-12-31T23:59", NULL), q);
    assert_string_equal(q, "2025-12");
    ncap_month_label(-1, q);
    assert_string_equal(q, "1969-12"); /* and its day, counted from 1970-01-01, before 1970 too */
    assert_int_equal(ncap_day_of(parse("1970-01-02T00:00", NULL)), 1);
    assert_int_equal(ncap_day_of(-1), -1);
    assert_int_equal(ncap_day_of(-86400), -1);
    assert_int_equal(ncap_day_of(-86401), -2);
}

static void test_age_in_whole_years(void **state)
{
    (void)state;
    int64_t dob = parse("1950-06-15", NULL);
    assert_int_equal(ncap_age_years(dob, parse("2026-06-14T23:59", NULL)), 75);
    assert_int_equal(ncap_age_years(dob, parse("2026-06-15T00:00", NULL)), 76);
    assert_int_equal(ncap_age_years(dob, parse("2026-12-31", NULL)), 76);
    assert_int_equal(ncap_age_years(dob, dob), 0);
    /* born on 29 February: the birthday is 1 March in other years */
    int64_t leap = parse("2000-02-29", NULL);
    assert_int_equal(ncap_age_years(leap, parse("2026-02-28T23:00", NULL)), 25);
    assert_int_equal(ncap_age_years(leap, parse("2026-03-01", NULL)), 26);
    assert_int_equal(ncap_age_years(leap, parse("2028-02-28", NULL)), 27);
    assert_int_equal(ncap_age_years(leap, parse("2028-02-29", NULL)), 28);
    /* born before 1970 */
    assert_int_equal(ncap_age_years(parse("1925-01-01", NULL), parse("2026-01-01", NULL)), 101);
}

static void test_format(void **state)
{
    (void)state;
    char out[21];
    ncap_datetime_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    ncap_datetime_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    ncap_datetime_format(1709210096, out);
    assert_string_equal(out, "2024-02-29T12:34:56Z");
    /* format then parse gives the same instant */
    assert_int_equal(parse(out, NULL), 1709210096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_form_gives_the_same_instant),
        cmocka_unit_test(test_dates_are_midnight_utc_without_time),
        cmocka_unit_test(test_offsets_keep_the_clock_time),
        cmocka_unit_test(test_calendar_is_checked),
        cmocka_unit_test(test_malformed_values_are_refused),
        cmocka_unit_test(test_date_parse_takes_dates_only),
        cmocka_unit_test(test_nhs_date_forms),
        cmocka_unit_test(test_days_from_civil_worked_values),
        cmocka_unit_test(test_civil_from_days_inverts_days_from_civil),
        cmocka_unit_test(test_quarter_labels),
        cmocka_unit_test(test_age_in_whole_years),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
