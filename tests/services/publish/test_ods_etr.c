/* test_ods_etr.c - NHS trusts read from an ODS etr extract: the columns read, a byte order mark,
 * blank lines and CRLF, and each bad row refused with its line and reason while the next is read
 * (a code that is not a trust's, no name, a name too long or not UTF-8, a grouping of the wrong
 * shape, too few columns, a row past the limits) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ods_etr.h"

/* Reads text whole: each row as "CODE|NAME|REGION" or "line N: FIELD: REASON", joined by "\n". */
static char *read_all(const char *text, size_t len)
{
    ods_etr_reader_t *r = ods_etr_reader_new(text, len);
    assert_non_null(r);
    size_t cap = 1 << 16, used = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    ods_etr_row_t row;
    ods_etr_problem_t p;
    int got;
    while ((got = ods_etr_reader_next(r, &row, &p)) != 0) {
        if (got > 0)
            used += (size_t)snprintf(out + used, cap - used, "%s|%s|%s\n", row.code, row.name,
                                     row.region);
        else
            used += (size_t)snprintf(out + used, cap - used, "line %zu: %s: %s\n",
                                     ods_etr_reader_line(r), p.field, p.reason);
        assert_true(used < cap);
    }
    ods_etr_reader_destroy(&r);
    assert_null(r);
    return out;
}

static void test_good_rows(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF"
                       "R1A,WORCESTERSHIRE HEALTH AND CARE NHS TRUST,Y55,Q77,ISAAC MADDOX HOUSE,"
                       "SHRUB HILL INDUSTRIAL ESTATE,,WORCESTER,WORCESTERSHIRE,WR4 9RW,20110701,,,"
                       ",,,,,,,,0,,F\r\n"
                       "\r\n"
                       "R1E,\"STAFFORDSHIRE AND STOKE ON TRENT PARTNERSHIP NHS TRUST\",Y55,Q76\n"
                       " R0B , SOUTH TYNESIDE AND SUNDERLAND NHS FOUNDATION TRUST ,,\n";
    char *got = read_all(text, strlen(text));
    assert_string_equal(got, "R1A|WORCESTERSHIRE HEALTH AND CARE NHS TRUST|Y55\n"
                             "R1E|STAFFORDSHIRE AND STOKE ON TRENT PARTNERSHIP NHS TRUST|Y55\n"
                             "R0B|SOUTH TYNESIDE AND SUNDERLAND NHS FOUNDATION TRUST|\n");
    free(got);
}

static void test_bad_rows_are_reported_and_skipped(void **state)
{
    (void)state;
    char name[ODS_ETR_NAME_MAX + 2];
    memset(name, 'A', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char text[8192];
    int n = snprintf(text, sizeof text,
                     "RR801,A SITE NOT A TRUST,Y54\n" /* 1 */
                     "1RR,DIGIT FIRST,Y54\n"          /* 2 */
                     "RR8,,Y54\n"                     /* 3 */
                     "RR8,%s,Y54\n"                   /* 4 */
                     "RR8,BAD \xC3 UTF-8,Y54\n"       /* 5 */
                     "RR8,GROUPING,Y5A\n"             /* 6 */
                     "RR8,GROUPING,y56\n"             /* 7 */
                     "RR8,TWO COLUMNS\n",             /* 8 */
                     name);
    /* line 9: a row of more columns than ODS_ETR_MAX_FIELDS; line 10 good; line 11 a quote
     * never closed, to the end of the file */
    n += snprintf(text + n, sizeof text - (size_t)n, "RR9,MANY,Y54");
    for (int i = 0; i < ODS_ETR_MAX_FIELDS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, ",x");
    snprintf(text + n, sizeof text - (size_t)n, "\nRT1,LAST GOOD,Y56\nRR8,\"UNTERMINATED,Y54\n");
    char *got = read_all(text, strlen(text));
    const char *want[] = {
        "line 1: code: code \"RR801\" is not a trust's ODS code: expected 3 capital letters and "
        "digits starting with a letter, such as RH8",
        "line 2: code: code \"1RR\" is not a trust's ODS code",
        "line 3: name: trust RR8 has no name (second column)",
        "line 4: name: the name of trust RR8 has 201 bytes, expected at most 200",
        "line 5: name: the name of trust RR8 is not UTF-8 text (byte 5)",
        "line 6: national_grouping: national grouping \"Y5A\" of trust RR8 is not a code such as "
        "Y56 (a capital letter and two digits), nor empty",
        "line 7: national_grouping: national grouping \"y56\"",
        "line 8: : found 2 columns, expected at least 3 (code, name, national grouping, ...) as "
        "in the ODS etr extract",
        "line 9: : more than 64 fields",
        "RT1|LAST GOOD|Y56",
        "line 11: : unterminated quoted field",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(got, want[i]))
            fail_msg("\"%s\" not in:\n%s", want[i], got);
    free(got);
}

static void test_empty_input(void **state)
{
    (void)state;
    char *got = read_all("", 0);
    assert_string_equal(got, "");
    free(got);
    got = read_all("\n\n\r\n", 4);
    assert_string_equal(got, "");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_rows),
        cmocka_unit_test(test_bad_rows_are_reported_and_skipped),
        cmocka_unit_test(test_empty_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
