/* test_refdata.c - reference data rows read and checked (services/linkage/decide/refdata.c): the
 * register of deaths, opt-outs and IMD, with worked vectors for good rows, each kind of bad row,
 * wrong headers, CRLF and quoted fields */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "refdata.h"

#define DEATHS_HEADER "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\n"

typedef struct {
    int got;
    size_t line;
    refdata_row_t row;
    refdata_problem_t problem;
} read_t;

/* Reads every row of text (of kind), up to max, into out. Returns how many. */
static size_t read_all(refdata_kind_t kind, const char *text, read_t *out, size_t max)
{
    char err[256];
    refdata_reader_t *r = refdata_reader_new(kind, text, strlen(text), err, sizeof err);
    if (!r)
        fail_msg("could not open: %s", err);
    size_t n = 0;
    for (;;) {
        assert_true(n < max);
        memset(&out[n], 0, sizeof out[n]);
        out[n].got = refdata_reader_next(r, &out[n].row, &out[n].problem);
        if (out[n].got == 0)
            break;
        out[n].line = refdata_reader_line(r);
        n++;
    }
    refdata_reader_destroy(&r);
    assert_null(r);
    return n;
}

/* The one row of deaths data with this data line. */
static read_t one_death(const char *line)
{
    char text[1024];
    snprintf(text, sizeof text, DEATHS_HEADER "%s\n", line);
    read_t rows[2];
    assert_int_equal(read_all(REFDATA_DEATHS, text, rows, 2), 1);
    return rows[0];
}

static void test_good_death_is_normalised(void **state)
{
    (void)state;
    read_t r = one_death("401 023 2137, Ann ,\"O'Neill, Smith\",03/02/1935,f,ls14ap,20240105");
    assert_int_equal(r.got, 1);
    assert_int_equal(r.line, 2);
    assert_string_equal(r.row.nhs_number, "4010232137");
    assert_string_equal(r.row.forename, "Ann");
    assert_string_equal(r.row.surname, "O'Neill, Smith");
    assert_string_equal(r.row.date_of_birth, "1935-02-03");
    assert_string_equal(r.row.sex, "2");
    assert_string_equal(r.row.postcode, "LS1 4AP");
    assert_string_equal(r.row.date_of_death, "2024-01-05");
    assert_int_equal(strlen(r.row.row_hash), 64);
}

static void test_only_date_of_death_is_needed(void **state)
{
    (void)state;
    read_t r = one_death(",,,,,,2024-03-01");
    assert_int_equal(r.got, 1);
    assert_string_equal(r.row.nhs_number, "");
    assert_string_equal(r.row.date_of_birth, "");
    assert_string_equal(r.row.sex, "");
    assert_string_equal(r.row.postcode, "");
    assert_string_equal(r.row.date_of_death, "2024-03-01");
    /* test-range numbers are kept; pseudo-postcodes too */
    r = one_death("9434765919,,,,X,zz99 3vz,2024-03-01");
    assert_int_equal(r.got, 1);
    assert_string_equal(r.row.nhs_number, "9434765919");
    assert_string_equal(r.row.sex, "X");
    assert_string_equal(r.row.postcode, "ZZ99 3VZ");
}

static void test_row_hash_is_of_the_normalised_row(void **state)
{
    (void)state;
    read_t a = one_death("4010232137,Ann,Lee,1935-02-03,2,LS1 4AP,2024-01-05");
    read_t b = one_death("401-023-2137 , Ann, Lee ,19350203,F,ls1  4ap,05/01/2024");
    read_t c = one_death("4010232137,Ann,Lee,1935-02-03,2,LS1 4AP,2024-01-06");
    read_t d = one_death("4010232137,Ann,Le,e1935-02-03,2,LS1 4AP,2024-01-05");
    assert_string_equal(a.row.row_hash, b.row.row_hash);
    assert_string_not_equal(a.row.row_hash, c.row.row_hash);
    assert_int_equal(d.got, -1); /* "e1935-02-03" is no date */
    /* fields are kept apart: moving a letter between names changes the hash */
    read_t e = one_death("4010232137,Ann,Lee,1935-02-03,2,LS1 4AP,2024-01-05");
    read_t f = one_death("4010232137,An,nLee,1935-02-03,2,LS1 4AP,2024-01-05");
    assert_string_equal(a.row.row_hash, e.row.row_hash);
    assert_string_not_equal(e.row.row_hash, f.row.row_hash);
}

static void test_bad_nhs_number_says_why_without_the_number(void **state)
{
    (void)state;
    read_t r = one_death("4010232138,Ann,Lee,,,,2024-01-05");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.field, "nhs_number");
    assert_string_equal(r.problem.reason, "field \"nhs_number\" fails the Modulus 11 check");
    r = one_death("401023213,Ann,Lee,,,,2024-01-05");
    assert_int_equal(r.got, -1);
    assert_non_null(strstr(r.problem.reason, "expected 10 digits"));
    assert_null(strstr(r.problem.reason, "401023213"));
    r = one_death("4444444444,Ann,Lee,,,,2024-01-05");
    assert_int_equal(r.got, -1);
    assert_non_null(strstr(r.problem.reason, "placeholder"));
}

static void test_bad_dates(void **state)
{
    (void)state;
    read_t r = one_death("4010232137,Ann,Lee,1935-02-03,2,,31/02/2024");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.field, "date_of_death");
    assert_string_equal(r.problem.reason,
                        "field \"date_of_death\" has value \"31/02/2024\", expected a date "
                        "(YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)");
    r = one_death("4010232137,Ann,Lee,19351303,2,,2024-01-01");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.field, "date_of_birth");
    r = one_death("4010232137,Ann,Lee,1935-02-03,2,,");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.field, "date_of_death");
    assert_string_equal(r.problem.reason, "field \"date_of_death\" is empty");
    r = one_death("4010232137,Ann,Lee,2024-02-03,2,,2024-01-01");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.reason,
                        "date of death (2024-01-01) is before the date of birth (2024-02-03)");
    /* the same day is fine (a death on the day of birth) */
    assert_int_equal(one_death(",,,2024-01-01,,,2024-01-01").got, 1);
}

static void test_bad_sex_and_postcode(void **state)
{
    (void)state;
    read_t r = one_death(",,,,7,,2024-01-01");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.field, "sex");
    r = one_death(",,,,,NOT A POSTCODE,2024-01-01");
    assert_int_equal(r.got, -1);
    assert_string_equal(r.problem.field, "postcode");
}

static void test_bad_rows_do_not_stop_the_file(void **state)
{
    (void)state;
    /* CRLF, a quoted field over two lines, a blank line, a short row, a malformed quote */
    const char *text = "nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\r\n"
                       "4010232137,Ann,\"Lee\r\nSmith\",,,,2024-01-05\r\n"
                       "\r\n"
                       "4010232138,Bob,Ray,,,,2024-01-05\r\n"
                       "4857773457,Cy,Day,,,\r\n"
                       "4857773457,\"Cy\"x,Day,,,,2024-01-05\r\n"
                       "6400123458,Di,Eve,,,,2024-02-29"; /* no last newline */
    read_t rows[8];
    size_t n = read_all(REFDATA_DEATHS, text, rows, 8);
    assert_int_equal(n, 5);
    assert_int_equal(rows[0].got, -1); /* a name is one line */
    assert_int_equal(rows[0].line, 2);
    assert_string_equal(rows[0].problem.reason, "field \"surname\" holds a control character");
    assert_int_equal(rows[1].got, -1);
    assert_int_equal(rows[1].line, 5);
    assert_string_equal(rows[1].problem.field, "nhs_number");
    assert_int_equal(rows[2].got, -1);
    assert_int_equal(rows[2].line, 6);
    assert_string_equal(rows[2].problem.field, "");
    assert_string_equal(rows[2].problem.reason, "6 fields, expected 7 as in the header");
    assert_int_equal(rows[3].got, -1);
    assert_int_equal(rows[3].line, 7);
    assert_int_equal(rows[4].got, 1);
    assert_int_equal(rows[4].line, 8);
    assert_string_equal(rows[4].row.date_of_death, "2024-02-29");
}

static void test_header(void **state)
{
    (void)state;
    char err[256];
    /* any order, any case, blanks and a byte order mark */
    const char *ok = "\xEF\xBB\xBF"
                     "Date_Of_Death, nhs_number,forename,surname,date_of_birth,sex,postcode\n"
                     "2024-01-05,4010232137,Ann,Lee,,,\n";
    read_t rows[2];
    assert_int_equal(read_all(REFDATA_DEATHS, ok, rows, 2), 1);
    assert_string_equal(rows[0].row.nhs_number, "4010232137");
    assert_string_equal(rows[0].row.date_of_death, "2024-01-05");

    const struct {
        refdata_kind_t kind;
        const char *text, *err;
    } bad[] = {
        {REFDATA_DEATHS, "nhs_number,forename,surname,date_of_birth,sex,postcode\n",
         "wrong header for deaths data: column \"date_of_death\" is missing, expected "
         "\"nhs_number,forename,surname,date_of_birth,sex,postcode,date_of_death\""},
        {REFDATA_OPTOUTS, "nhs_no\n4010232137\n",
         "wrong header for optouts data: unexpected column \"nhs_no\", expected "
         "\"nhs_number\""},
        {REFDATA_OPTOUTS, "nhs_number,nhs_number\n",
         "wrong header for optouts data: column \"nhs_number\" appears twice"},
        {REFDATA_IMD, "",
         "the file is empty: expected the header "
         "\"lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile\""},
        {REFDATA_IMD, "E01000001,29199,9,5\n",
         "wrong header for imd data: unexpected column \"E01000001\", expected "
         "\"lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        refdata_reader_t *r =
            refdata_reader_new(bad[i].kind, bad[i].text, strlen(bad[i].text), err, sizeof err);
        assert_null(r);
        assert_string_equal(err, bad[i].err);
    }
}

static void test_optouts(void **state)
{
    (void)state;
    read_t rows[4];
    /* an empty value is a blank line, skipped as such */
    size_t n = read_all(REFDATA_OPTOUTS, "nhs_number\n485 777 3457\n\"\"\n4857773458\n", rows, 4);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].got, 1);
    assert_string_equal(rows[0].row.nhs_number, "4857773457");
    assert_int_equal(rows[1].got, -1);
    assert_int_equal(rows[1].line, 4);
    assert_string_equal(rows[1].problem.field, "nhs_number");
}

static void test_imd(void **state)
{
    (void)state;
    read_t rows[8];
    size_t n = read_all(REFDATA_IMD,
                        "lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile\n"
                        "E01000001,29199,9,5\n"
                        "E01000002,30379,11,5\n"
                        "E01000003,14915,5,2\n"
                        "E0100003,14915,5,3\n"
                        "E01000005,x,3,2\n",
                        rows, 8);
    assert_int_equal(n, 5);
    assert_int_equal(rows[0].got, 1);
    assert_string_equal(rows[0].row.lsoa, "E01000001");
    assert_int_equal(rows[0].row.imd_rank, 29199);
    assert_int_equal(rows[0].row.imd_decile, 9);
    assert_int_equal(rows[0].row.imd_quintile, 5);
    assert_string_equal(rows[1].problem.reason,
                        "field \"imd2019_decile\" has value \"11\", expected 1-10");
    assert_string_equal(rows[2].problem.reason,
                        "quintile 2 does not agree with decile 5 (expected 3)");
    assert_string_equal(rows[3].problem.field, "lsoa11cd");
    assert_string_equal(rows[4].problem.field, "imd2019_rank");
}

static void test_dates_and_kinds(void **state)
{
    (void)state;
    char out[11];
    assert_int_equal(refdata_date_normalise("2024-02-29", out), 0);
    assert_string_equal(out, "2024-02-29");
    assert_int_equal(refdata_date_normalise("20240229", out), 0);
    assert_string_equal(out, "2024-02-29");
    assert_int_equal(refdata_date_normalise("29/02/2024", out), 0);
    assert_string_equal(out, "2024-02-29");
    assert_int_equal(refdata_date_normalise("29/02/2023", out), -1);
    assert_int_equal(refdata_date_normalise("19551192", out), -1);
    assert_int_equal(refdata_date_normalise("2024-01-01T10:00", out), -1);
    refdata_kind_t k;
    assert_int_equal(refdata_kind_parse("optouts", &k), 0);
    assert_int_equal(k, REFDATA_OPTOUTS);
    assert_int_equal(refdata_kind_parse("death", &k), -1);
    assert_string_equal(refdata_kind_header(REFDATA_IMD),
                        "lsoa11cd,imd2019_rank,imd2019_decile,imd2019_quintile");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_death_is_normalised),
        cmocka_unit_test(test_only_date_of_death_is_needed),
        cmocka_unit_test(test_row_hash_is_of_the_normalised_row),
        cmocka_unit_test(test_bad_nhs_number_says_why_without_the_number),
        cmocka_unit_test(test_bad_dates),
        cmocka_unit_test(test_bad_sex_and_postcode),
        cmocka_unit_test(test_bad_rows_do_not_stop_the_file),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_optouts),
        cmocka_unit_test(test_imd),
        cmocka_unit_test(test_dates_and_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
