/* test_strbuf.c - the growable string, and PostgreSQL array literals built with it: a value a
 * trust sent with quotes, backslashes or commas reaches the database unchanged, NULL stays NULL */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "strbuf.h"

static void test_append_and_reset(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    assert_int_equal(b.len, 0);
    strbuf_append(&b, "could not parse row ");
    strbuf_appendf(&b, "%d: field \"%s\" has value \"%s\"", 12, "asa_grade", "7");
    strbuf_append_n(&b, ", expected 1-5 and more", 14);
    assert_string_equal(
        b.s, "could not parse row 12: field \"asa_grade\" has value \"7\", expected 1-5");
    assert_int_equal(b.len, strlen(b.s));
    assert_int_equal(b.oom, 0);
    strbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.s, "");
    strbuf_append(&b, "again");
    assert_string_equal(b.s, "again");
    strbuf_free(&b);
    assert_null(b.s);
    assert_int_equal(b.len, 0);
    strbuf_free(&b); /* harmless twice */
}

static void test_append_empty_gives_empty_string(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    strbuf_append(&b, "");
    assert_non_null(b.s);
    assert_string_equal(b.s, "");
    strbuf_appendf(&b, "%s", "");
    assert_string_equal(b.s, "");
    strbuf_free(&b);
}

static void test_grows_past_many_pages(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    for (int i = 0; i < 10000; i++)
        strbuf_appendf(&b, "%04d,", i % 10000);
    assert_int_equal(b.len, 50000);
    assert_int_equal(strlen(b.s), 50000);
    assert_memory_equal(b.s, "0000,0001,", 10);
    assert_string_equal(b.s + b.len - 10, "9998,9999,");
    /* one append larger than the doubling step */
    strbuf_reset(&b);
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    strbuf_append(&b, "<");
    strbuf_append(&b, big);
    strbuf_appendf(&b, "%s>", big);
    assert_int_equal(b.len, 1 + 4999 + 4999 + 1);
    assert_int_equal(b.s[0], '<');
    assert_int_equal(b.s[b.len - 1], '>');
    strbuf_free(&b);
}

static char *array_of(strbuf_t *b, const char *const *values, size_t n)
{
    strbuf_reset(b);
    strbuf_pg_array_open(b);
    for (size_t i = 0; i < n; i++)
        strbuf_pg_array_elem(b, values[i]);
    strbuf_pg_array_close(b);
    return b->s;
}

static void test_pg_array_plain_values(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    const char *ids[] = {"HF-0001", "HF-0002", "HF-0003"};
    assert_string_equal(array_of(&b, ids, 3), "{\"HF-0001\",\"HF-0002\",\"HF-0003\"}");
    const char *one[] = {"RR8"};
    assert_string_equal(array_of(&b, one, 1), "{\"RR8\"}");
    strbuf_free(&b);
}

static void test_pg_array_empty(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    assert_string_equal(array_of(&b, NULL, 0), "{}");
    strbuf_free(&b);
}

static void test_pg_array_escapes_quotes_and_backslashes(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    /* what PostgreSQL's array_in reads back as: say "hi" | C:\temp\ | \" */
    const char *v[] = {"say \"hi\"", "C:\\temp\\", "\\\""};
    assert_string_equal(array_of(&b, v, 3), "{\"say \\\"hi\\\"\",\"C:\\\\temp\\\\\",\"\\\\\\\"\"}");
    strbuf_free(&b);
}

static void test_pg_array_commas_braces_spaces_stay_inside_quotes(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    const char *v[] = {"Smith, John", "{not,an,array}", "  padded  ", ""};
    assert_string_equal(array_of(&b, v, 4),
                        "{\"Smith, John\",\"{not,an,array}\",\"  padded  \",\"\"}");
    strbuf_free(&b);
}

static void test_pg_array_null_vs_the_text_null(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    /* SQL NULL is the bare word; the text "NULL" a trust typed is quoted, so it stays text */
    const char *v[] = {NULL, "NULL", NULL, "x"};
    assert_string_equal(array_of(&b, v, 4), "{NULL,\"NULL\",NULL,\"x\"}");
    const char *only_null[] = {NULL};
    assert_string_equal(array_of(&b, only_null, 1), "{NULL}");
    strbuf_free(&b);
}

static void test_pg_array_inside_a_larger_statement(void **state)
{
    (void)state;
    strbuf_t b;
    strbuf_init(&b);
    /* two arrays built one after the other in the same buffer, as for a batched insert */
    strbuf_append(&b, "SELECT '");
    strbuf_pg_array_open(&b);
    strbuf_pg_array_elem(&b, "a");
    strbuf_pg_array_elem(&b, "b{");
    strbuf_pg_array_close(&b);
    strbuf_append(&b, "', '");
    strbuf_pg_array_open(&b);
    strbuf_pg_array_elem(&b, NULL);
    strbuf_pg_array_elem(&b, "c");
    strbuf_pg_array_close(&b);
    strbuf_append(&b, "'");
    assert_string_equal(b.s, "SELECT '{\"a\",\"b{\"}', '{NULL,\"c\"}'");
    strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_reset),
        cmocka_unit_test(test_append_empty_gives_empty_string),
        cmocka_unit_test(test_grows_past_many_pages),
        cmocka_unit_test(test_pg_array_plain_values),
        cmocka_unit_test(test_pg_array_empty),
        cmocka_unit_test(test_pg_array_escapes_quotes_and_backslashes),
        cmocka_unit_test(test_pg_array_commas_braces_spaces_stay_inside_quotes),
        cmocka_unit_test(test_pg_array_null_vs_the_text_null),
        cmocka_unit_test(test_pg_array_inside_a_larger_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
