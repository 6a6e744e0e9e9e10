/* test_cmd_link.c - `ncap link` on tiny files: the clusters it prints, within one file and across
 * two (cluster ids shared), the CSV it accepts (BOM, CRLF, quotes, spaces around fields and header
 * names, no last newline, the three date layouts), --pairs, --one-to-one, --explain (the waterfall
 * of one pair), --incremental (the daemon's algorithm), that it prints the same bytes every time,
 * and its usage and input errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#include "cmd_run.h"

/* Runs cmd_link with the given arguments (NULL-terminated), stdout and stderr captured. */
static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_link, "link", arg, ap);
    va_end(ap);
    return r;
}

/* Two people; a3 is a1 again with the surname mistyped (two letters swapped). */
static const char *two_people = "rec_id,given,family,dob,postcode\n"
                                "a1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                                "a2,John,Smith,1951-11-03,M14 5TQ\n"
                                "a3,Margaret,Thomspon,1940-05-12,LS1 4AP\n";

#define MAPS                                                                                       \
    "--map", "rec_id=id", "--map", "given=forename", "--map", "family=surname", "--map",           \
        "dob=dob", "--map", "postcode=postcode"

static void test_typo_duplicate_shares_a_cluster(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, two_people);
    result_t r = run(MAPS, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    /* clusters are numbered from 1 in order of first appearance */
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,1\n");

    /* the same input and seed: the same bytes */
    result_t again = run(MAPS, path, NULL);
    assert_int_equal(again.rc, 0);
    assert_string_equal(again.out, r.out);
    assert_string_equal(again.err, r.err);
    result_free(&again);
    result_free(&r);
    unlink(path);
}

static void test_unparseable_value_is_not_fatal(void **state)
{
    (void)state;
    char path[64];
    /* a2's date of birth is no date: compared as null, counted on stderr */
    temp_file(path, "rec_id,given,family,dob,postcode\n"
                    "a1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                    "a2,John,Smith,1951-13-45,M14 5TQ\n"
                    "a3,Margaret,Thomspon,1940-05-12,LS1 4AP\n");
    result_t r = run(MAPS, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,1\n");
    char want[256];
    snprintf(want, sizeof want,
             "ncap link: 1 value could not be parsed and was compared as null\n"
             "  \"%s\" column \"dob\" (dob): 1\n",
             path);
    assert_string_equal(r.err, want);
    result_free(&r);
    unlink(path);
}

/* File A: a byte-order mark, CRLF, a quoted field, spaces around header names, no last newline.
 * File B: the same people written otherwise (DD/MM/YYYY and YYYYMMDD dates, lower case and
 * unspaced postcodes, spaces around a name, a forename misspelt), one person only in A and one
 * only in B, whose postcode is empty (null). */
static const char *file_a = "\xEF\xBB\xBFrec_id , given , family,dob,postcode\r\n"
                            "a1,Margaret,\"Thompson\",1940-05-12,LS1 4AP\r\n"
                            "a2,John,Smith,1951-11-03,M14 5TQ\r\n"
                            "a3,Priya,Patel,1962-02-28,B12 9QH\r\n"
                            "a4,Alan,Jones,1933-07-07,CF10 1AA";
static const char *file_b = "rec_id,given,family,dob,postcode\n"
                            "b1,  John  ,Smith,03/11/1951,m14 5tq\n"
                            "b2,Alan,Jones,19330707,CF10 1AA\n"
                            "b3,Margret,Thompson,19400512,LS14AP\n"
                            "b4,Kwame,Mensah,1975-09-30,\n";

static void test_two_files_share_cluster_ids(void **state)
{
    (void)state;
    char a[64], b[64], pairs[64];
    temp_file(a, file_a);
    temp_file(b, file_b);
    temp_file(pairs, "");
    result_t r = run(MAPS, "--pairs", pairs, a, b, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,3\n"
                               "1,a4,4\n"
                               "2,b1,2\n"
                               "2,b2,4\n"
                               "2,b3,1\n"
                               "2,b4,5\n");
    /* --pairs: a row per scored pair above 0.01, the left record from A, the right from B */
    FILE *f = fopen(pairs, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "record_id_l,record_id_r,match_weight,match_probability\n");
    size_t rows = 0;
    while (fgets(line, sizeof line, f)) {
        char l[16], rr[16];
        double w, p;
        assert_int_equal(sscanf(line, "%15[^,],%15[^,],%lf,%lf", l, rr, &w, &p), 4);
        assert_true(l[0] == 'a' && rr[0] == 'b');
        assert_true(p > 0.01 && p <= 1);
        if ((!strcmp(l, "a1") && !strcmp(rr, "b3")) || (!strcmp(l, "a2") && !strcmp(rr, "b1")) ||
            (!strcmp(l, "a4") && !strcmp(rr, "b2")))
            assert_true(p >= 0.5 && w > 0);
        else
            assert_true(p < 0.5);
        rows++;
    }
    fclose(f);
    assert_true(rows >= 3);

    /* the same bytes again, and with another seed the same people */
    result_t again = run(MAPS, a, b, NULL);
    assert_string_equal(again.out, r.out);
    result_free(&again);
    again = run(MAPS, "--seed", "12345", a, b, NULL);
    assert_int_equal(again.rc, 0);
    assert_string_equal(again.out, r.out);
    result_free(&again);
    result_free(&r);
    unlink(a);
    unlink(b);
    unlink(pairs);
}

/* A holds Margaret Thompson twice; B her death once. Components join all three; one-to-one links
 * the death to one record only (the first of equally probable ones). */
static void test_one_to_one(void **state)
{
    (void)state;
    char a[64], b[64];
    temp_file(a, "rec_id,given,family,dob,postcode\n"
                 "a1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                 "a2,John,Smith,1951-11-03,M14 5TQ\n"
                 "a3,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                 "a4,Alan,Jones,1933-07-07,CF10 1AA\n");
    temp_file(b, "rec_id,given,family,dob,postcode\n"
                 "d1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                 "d2,Priya,Patel,1962-02-28,B12 9QH\n");
    result_t r = run(MAPS, a, b, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,1\n"
                               "1,a4,3\n"
                               "2,d1,1\n"
                               "2,d2,4\n");
    result_free(&r);
    r = run(MAPS, "--one-to-one", a, b, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,3\n"
                               "1,a4,4\n"
                               "2,d1,1\n"
                               "2,d2,5\n");
    result_free(&r);
    unlink(a);
    unlink(b);
}

/* A row with too few fields is an error with its file and line; an NHS number that is one digit
 * repeated is a placeholder, compared as null, not a reason to link. */
static void test_bad_rows_and_placeholders(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, "rec_id,nhs,given\n"
                    "a1,4010232137,Ann\n"
                    "a2,5555555555,Bob\n"
                    "a3,5555555555,Cy\n");
    result_t r =
        run("--map", "rec_id=id", "--map", "nhs=nhs_number", "--map", "given=forename", path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(r.out, "file,record_id,cluster_id\n1,a1,1\n1,a2,2\n1,a3,3\n");
    result_free(&r);
    unlink(path);

    temp_file(path, "rec_id,given\na1,Ann\na2\n");
    r = run("--map", "rec_id=id", "--map", "given=forename", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "line 3: 1 fields, expected 2 as in the header"));
    result_free(&r);
    unlink(path);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, two_people);

    result_t r = run("--map", "rec_id=id", "--map", "given=flavour", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "unknown kind \"flavour\""));
    result_free(&r);

    /* no id mapping */
    r = run("--map", "given=forename", "--map", "family=surname", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "exactly one column must be mapped to id, got 0"));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "given=forename", "--map", "given=surname", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "column \"given\" is mapped twice"));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "middle=forename", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "has no column \"middle\""));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "given=forename", "--threshold", "1.5", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--threshold takes a probability from 0 to 1, not \"1.5\""));
    result_free(&r);

    r = run("--map", "rec_id=id", "--map", "given=forename", "/nonexistent/a.csv", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "could not read \"/nonexistent/a.csv\""));
    result_free(&r);

    r = run(MAPS, "--seed", "-3", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--seed takes a whole number, not \"-3\""));
    result_free(&r);

    r = run(MAPS, path, path, path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "expected one or two files, got 3"));
    result_free(&r);

    r = run("--help", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "usage: ncap link"));
    result_free(&r);

    /* after all those errors, a good run in the same process still works */
    r = run(MAPS, path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n1,a1,1\n1,a2,2\n1,a3,1\n");
    result_free(&r);
    unlink(path);
}

/* --explain: one row per mapped column with its values, level and weight, a blank column at
 * level 0 weighing 0, then the totals; an unknown id or one id only are errors. */
static void test_explain(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, "rec_id,given,family,dob,postcode\n"
                    "a1,Margaret,Thompson,1940-05-12,LS1 4AP\n"
                    "a2,John,Smith,1951-11-03,M14 5TQ\n"
                    "a3,Margaret,Thomspon,1940-05-12,\n");
    result_t r = run(MAPS, "--explain", "a1", "a3", path, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "column           kind       a1"));
    assert_non_null(strstr(r.out, "given            forename   margaret           margaret      "
                                  "         1 exact"));
    assert_non_null(strstr(r.out, "family           surname    thompson           thomspon"));
    assert_non_null(strstr(r.out, "postcode         postcode   LS1 4AP            (null)        "
                                  "         0 null                         -         -    0.00    "
                                  "0.00\n"));
    assert_non_null(strstr(r.out, "match weight"));
    assert_non_null(strstr(r.out, "log2 prior odds"));
    assert_non_null(strstr(r.out, "probability at or above the threshold 0.5"));
    result_free(&r);
    r = run(MAPS, "--explain", "a1", "a9", path, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "no record with id \"a9\""));
    result_free(&r);
    r = run(MAPS, "--explain", "a1", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "--explain takes two record ids"));
    result_free(&r);
    unlink(path);
}

/* --incremental: the same output format; a3 (a1 with a typo) joins a1's patient. */
static void test_incremental(void **state)
{
    (void)state;
    char path[64];
    temp_file(path, two_people);
    result_t r = run(MAPS, "--incremental", path, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "file,record_id,cluster_id\n"
                               "1,a1,1\n"
                               "1,a2,2\n"
                               "1,a3,1\n");
    result_free(&r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typo_duplicate_shares_a_cluster),
        cmocka_unit_test(test_unparseable_value_is_not_fatal),
        cmocka_unit_test(test_two_files_share_cluster_ids),
        cmocka_unit_test(test_one_to_one),
        cmocka_unit_test(test_bad_rows_and_placeholders),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
