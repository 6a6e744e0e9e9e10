/* test_csv.c - the RFC 4180 reader and writer, with worked inputs.
 *
 * Most tests read a whole buffer and compare a transcript: one line per row, "<line>: [f1][f2]"
 * for a row (the line where it starts, then each field in brackets) or "! <message>" for a
 * malformed one, so a vector shows at a glance what a submitter would see. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* Reads data[0..len) to the end; returns the transcript (caller frees). */
static char *transcript_n(const char *data, size_t len, bool trim)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_non_null(f);
    csv_reader_t *r = csv_reader_new(data, len, trim);
    assert_non_null(r);
    int rc;
    int guard = 0;
    while ((rc = csv_reader_next(r)) != 0) {
        assert_true(++guard < 1000);
        if (rc < 0) {
            assert_int_equal(csv_reader_nfields(r), 0);
            fprintf(f, "! %s\n", csv_reader_error(r));
            continue;
        }
        assert_int_equal(rc, 1);
        fprintf(f, "%zu:", csv_reader_line(r));
        for (size_t i = 0; i < csv_reader_nfields(r); i++)
            fprintf(f, " [%s]", csv_reader_field(r, i));
        fputc('\n', f);
    }
    /* the end stays the end */
    assert_int_equal(csv_reader_next(r), 0);
    csv_reader_destroy(&r);
    assert_null(r);
    csv_reader_destroy(&r); /* harmless twice */
    fclose(f);
    return out;
}

static char *transcript(const char *data, bool trim)
{
    return transcript_n(data, strlen(data), trim);
}

#define assert_reads(data, trim, expected)                                                         \
    do {                                                                                           \
        char *got_ = transcript((data), (trim));                                                   \
        assert_string_equal(got_, (expected));                                                     \
        free(got_);                                                                                \
    } while (0)

static void test_plain_rows(void **state)
{
    (void)state;
    assert_reads("a,b,c\n1,2,3\n", false, "1: [a] [b] [c]\n2: [1] [2] [3]\n");
    /* empty fields at the start, middle and end of a row */
    assert_reads(",x,,\n", false, "1: [] [x] [] []\n");
    assert_reads(",\n", false, "1: [] []\n");
    /* a quote inside an unquoted field is taken as it is */
    assert_reads("5'10\",ab\"c\n", false, "1: [5'10\"] [ab\"c]\n");
    assert_reads("", false, "");
}

static void test_last_newline_optional(void **state)
{
    (void)state;
    assert_reads("a,b\n1,2", false, "1: [a] [b]\n2: [1] [2]\n");
    assert_reads("a,b\r\n1,2", false, "1: [a] [b]\n2: [1] [2]\n");
    assert_reads("a,", false, "1: [a] []\n");
    assert_reads("\"q\"", false, "1: [q]\n");
    assert_reads("a,\"q\"", false, "1: [a] [q]\n");
}

static void test_crlf(void **state)
{
    (void)state;
    assert_reads("a,b\r\n1,2\r\n", false, "1: [a] [b]\n2: [1] [2]\n");
    assert_reads("\"a\",\"b\"\r\n\"1\",2\r\n", false, "1: [a] [b]\n2: [1] [2]\n");
    /* mixed line ends in one file, and a final lone CR */
    assert_reads("a\r\nb\nc\r", false, "1: [a]\n2: [b]\n3: [c]\n");
    /* a CR not followed by LF is data, not a row end */
    assert_reads("a\rb,c\n", false, "1: [a\rb] [c]\n");
}

static void test_quoted_fields(void **state)
{
    (void)state;
    /* commas, doubled quotes, CRLF and LF inside quotes */
    assert_reads("\"Smith, John\",\"he said \"\"no\"\"\",\"\"\n", false,
                 "1: [Smith, John] [he said \"no\"] []\n");
    assert_reads("\"\"\"\"\n", false, "1: [\"]\n");
    assert_reads("\"a\r\nb\",\"c\nd\"\n", false, "1: [a\r\nb] [c\nd]\n");
    /* spaces after the closing quote are outside the field and dropped, trim or not */
    assert_reads("\"a\"  ,\"b\"\t\n", false, "1: [a] [b]\n");
}

static void test_line_numbers_after_multiline_fields(void **state)
{
    (void)state;
    /* row 2 starts on line 2 and holds two newlines (lines 2-4), so the next row is on line 5;
     * line 6 is empty; the row on line 7 holds a CRLF, so the last row is on line 9 */
    const char *data = "id,note\n"
                       "1,\"first\nsecond\nthird\"\n"
                       "2,plain\n"
                       "\n"
                       "3,\"x\r\ny\"\r\n"
                       "4,end";
    assert_reads(data, false,
                 "1: [id] [note]\n"
                 "2: [1] [first\nsecond\nthird]\n"
                 "5: [2] [plain]\n"
                 "7: [3] [x\r\ny]\n"
                 "9: [4] [end]\n");
}

static void test_empty_lines_skipped_but_counted(void **state)
{
    (void)state;
    assert_reads("\n\na\n\r\n\nb\n\n", false, "3: [a]\n6: [b]\n");
    assert_reads("\n\n\n", false, "");
    /* a line of blanks is a row of one field unless trimming, when it counts as empty */
    assert_reads("a\n  \nb\n", false, "1: [a]\n2: [  ]\n3: [b]\n");
    assert_reads("a\n \t \nb\n  ", true, "1: [a]\n3: [b]\n");
    /* a quoted empty field is a row, not an empty line */
    assert_reads("\"\"\n", false, "1: []\n");
}

static void test_bom_skipped_at_start_only(void **state)
{
    (void)state;
    assert_reads("\xEF\xBB\xBFnhs_number,sex\n1,2\n", false, "1: [nhs_number] [sex]\n2: [1] [2]\n");
    assert_reads("\xEF\xBB\xBF\"quoted\"\n", false, "1: [quoted]\n");
    assert_reads("\xEF\xBB\xBF", false, "");
    /* anywhere else it is data */
    assert_reads("a\n\xEF\xBB\xBF"
                 "b\n",
                 false,
                 "1: [a]\n2: [\xEF\xBB\xBF"
                 "b]\n");
}

static void test_trim(void **state)
{
    (void)state;
    const char *data = "  a , b\t,\t\"c \"  , \" d\"\n x y ,,  \n";
    assert_reads(data, true, "1: [a] [b] [c ] [ d]\n2: [x y] [] []\n");
    /* without trim the blanks stay, and a quote after a blank is data */
    assert_reads(data, false, "1: [  a ] [ b\t] [\t\"c \"  ] [ \" d\"]\n2: [ x y ] [] [  ]\n");
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    /* the open quote on line 2 never closes: the row is reported at its line, and reading goes on
     * at the line after the quote */
    assert_reads("a,b\n1,\"oops\n2,x\n3,y", false,
                 "1: [a] [b]\n"
                 "! line 2: unterminated quoted field\n"
                 "3: [2] [x]\n"
                 "4: [3] [y]\n");
    /* a row starting on line 3 with a good multi-line field, then a stray quote on line 4: the
     * error names line 3 and reading resumes at line 5 */
    assert_reads("h\n\n\"ok\nstill\",\"bad\nnext\n", false,
                 "1: [h]\n"
                 "! line 3: unterminated quoted field\n"
                 "5: [next]\n");
    assert_reads("\"", false, "! line 1: unterminated quoted field\n");
    assert_reads("\"abc\"\"", false, "! line 1: unterminated quoted field\n");
}

static void test_text_after_closing_quote(void **state)
{
    (void)state;
    const char *data = "a,b,c\n"
                       "\n"
                       "\"multi\nline\",\"ok\",\"fine\"x,after\n"
                       "1,2,3\n";
    /* the row starts on line 3; the x is in field 3; the next line is 5 */
    assert_reads(data, false,
                 "1: [a] [b] [c]\n"
                 "! line 3: unexpected character 'x' after closing quote in field 3\n"
                 "5: [1] [2] [3]\n");
    assert_reads("\"a\" \"b\"\nz\n", false,
                 "! line 1: unexpected character '\"' after closing quote in field 1\n"
                 "2: [z]\n");
    /* an unprintable byte is shown in hex; a CR before other text is not a line end */
    assert_reads("\"a\"\rb\nz\n", false,
                 "! line 1: unexpected byte 0x0d after closing quote in field 1\n"
                 "2: [z]\n");
    assert_reads("\"caf\"\xC3\xA9\nz", false,
                 "! line 1: unexpected byte 0xc3 after closing quote in field 1\n"
                 "2: [z]\n");
    /* malformed last line without a newline */
    assert_reads("1\n\"a\"b", false,
                 "1: [1]\n"
                 "! line 2: unexpected character 'b' after closing quote in field 1\n");
}

static void test_nul_byte_is_an_error_for_its_row(void **state)
{
    (void)state;
    static const char data[] = "a,b\n"
                               "1,x\0y\n"
                               "2,\"q\0\nstill q\"\n"
                               "3,z\n";
    char *got = transcript_n(data, sizeof data - 1, false);
    /* the quoted NUL's row is read to its proper end, so the row on line 5 is found */
    assert_string_equal(got, "1: [a] [b]\n"
                             "! line 2: unexpected NUL byte in field 2\n"
                             "! line 3: unexpected NUL byte in field 2\n"
                             "5: [3] [z]\n");
    free(got);
}

static void test_wide_and_long_rows(void **state)
{
    (void)state;
    /* 500 fields, then one 100 000-byte field: the buffers grow and earlier fields stay valid */
    char *data = malloc(200000);
    assert_non_null(data);
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        n += (size_t)sprintf(data + n, "%s%d", i ? "," : "", i);
    data[n++] = '\n';
    data[n++] = '"';
    for (int i = 0; i < 100000; i++)
        data[n++] = i % 1000 == 999 ? '\n' : 'x';
    data[n++] = '"';
    data[n++] = ',';
    data[n++] = 'e';
    csv_reader_t *r = csv_reader_new(data, n, false);
    assert_int_equal(csv_reader_next(r), 1);
    assert_int_equal(csv_reader_nfields(r), 500);
    assert_string_equal(csv_reader_field(r, 0), "0");
    assert_string_equal(csv_reader_field(r, 499), "499");
    assert_int_equal(csv_reader_next(r), 1);
    assert_int_equal(csv_reader_line(r), 2);
    assert_int_equal(csv_reader_nfields(r), 2);
    assert_int_equal(strlen(csv_reader_field(r, 0)), 100000);
    assert_string_equal(csv_reader_field(r, 1), "e");
    assert_int_equal(csv_reader_next(r), 0);
    csv_reader_destroy(&r);
    free(data);
}

/* Reads data with limits; the transcript, with the kind and field of each error. */
static char *limited(const char *data, size_t max_fields, size_t max_bytes)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_non_null(f);
    csv_reader_t *r = csv_reader_new(data, strlen(data), true);
    assert_non_null(r);
    csv_reader_limit(r, max_fields, max_bytes);
    int rc;
    while ((rc = csv_reader_next(r)) != 0) {
        if (rc < 0) {
            fprintf(f, "! %s (kind %d, field %zu)\n", csv_reader_error(r),
                    (int)csv_reader_error_kind(r), csv_reader_error_field(r));
            continue;
        }
        assert_int_equal(csv_reader_error_kind(r), CSV_ERROR_NONE);
        fprintf(f, "%zu:", csv_reader_line(r));
        for (size_t i = 0; i < csv_reader_nfields(r); i++)
            fprintf(f, " [%s]", csv_reader_field(r, i));
        fputc('\n', f);
    }
    csv_reader_destroy(&r);
    fclose(f);
    return out;
}

static void test_limits_refuse_the_row_and_go_on_after_it(void **state)
{
    (void)state;
    /* at the limits: read */
    char *got = limited("a,b,c\nabcd,,x\n", 3, 4);
    assert_string_equal(got, "1: [a] [b] [c]\n2: [abcd] [] [x]\n");
    free(got);
    /* one field too many, one byte too long (unquoted, quoted over lines, with "" escapes): each
     * row refused, and reading goes on at the next row, not the next line */
    got = limited("a,b,c,d\n"
                  "abcde,x\n"
                  "ok,\"ab\ncde\nfgh\",z\n"
                  "\"ab\"\"\"\"\"\"\",y\n"
                  "last,1\n",
                  3, 4);
    assert_string_equal(got, "! line 1: more than 3 fields (kind 2, field 0)\n"
                             "! line 2: field 1 is longer than 4 bytes (kind 3, field 1)\n"
                             "! line 3: field 2 is longer than 4 bytes (kind 3, field 2)\n"
                             "! line 6: field 1 is longer than 4 bytes (kind 3, field 1)\n"
                             "7: [last] [1]\n");
    free(got);
    /* a syntax error is still one */
    got = limited("\"a\"b\nc\n", 3, 4);
    assert_string_equal(got, "! line 1: unexpected character 'b' after closing quote in field 1 "
                             "(kind 1, field 0)\n2: [c]\n");
    free(got);
}

/* Writes rows with csv_write_row; returns the text (caller frees). */
static char *write_rows(const char *const *const *rows, const size_t *widths, size_t nrows)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    assert_non_null(f);
    for (size_t i = 0; i < nrows; i++)
        csv_write_row(f, rows[i], widths[i]);
    fclose(f);
    return out;
}

static void test_writer_quotes_only_when_needed(void **state)
{
    (void)state;
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    const char *fields[] = {"plain",    "a,b",      "say \"hi\"", "two\nlines",
                            "cr\rhere", " leading", "trailing\t", "in side",
                            "",         "O'Brien",  "\""};
    csv_write_row(f, fields, sizeof fields / sizeof *fields);
    csv_write_field(f, NULL);
    fputc('|', f);
    csv_write_field(f, "x");
    fclose(f);
    assert_string_equal(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\","
                             "\" leading\",\"trailing\t\",in side,,O'Brien,\"\"\"\"\n|x");
    free(out);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *r0[] = {"nhs_number", "surname", "note", "empty", "blank"};
    const char *r1[] = {"4010232137", "O'Brien, Jr", "fell \"twice\"\r\nat home", "", "  "};
    const char *r2[] = {""}; /* a row of one empty field must not vanish as an empty line */
    const char *r3[] = {"\"", ",", "\n", " x ", "\t"};
    const char *const *rows[] = {r0, r1, r2, r3};
    const size_t widths[] = {5, 5, 1, 5};
    char *text = write_rows(rows, widths, 4);

    for (int trim = 0; trim <= 1; trim++) {
        csv_reader_t *r = csv_reader_new(text, strlen(text), trim);
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(csv_reader_next(r), 1);
            assert_int_equal(csv_reader_nfields(r), widths[i]);
            for (size_t j = 0; j < widths[i]; j++)
                assert_string_equal(csv_reader_field(r, j), rows[i][j]);
        }
        assert_int_equal(csv_reader_next(r), 0);
        csv_reader_destroy(&r);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows),
        cmocka_unit_test(test_last_newline_optional),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_line_numbers_after_multiline_fields),
        cmocka_unit_test(test_empty_lines_skipped_but_counted),
        cmocka_unit_test(test_bom_skipped_at_start_only),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_text_after_closing_quote),
        cmocka_unit_test(test_nul_byte_is_an_error_for_its_row),
        cmocka_unit_test(test_wide_and_long_rows),
        cmocka_unit_test(test_limits_refuse_the_row_and_go_on_after_it),
        cmocka_unit_test(test_writer_quotes_only_when_needed),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
