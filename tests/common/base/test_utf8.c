/* test_utf8.c - UTF-8 well-formedness: a whole text (utf8_invalid_at) and one character
 * (utf8_seq_len, which message.c's JSON reader steps by) agree on what is well formed */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "utf8.h"

static void test_one_character(void **state)
{
    (void)state;
    assert_int_equal(utf8_seq_len("a"), 1);
    assert_int_equal(utf8_seq_len(""), 0);
    assert_int_equal(utf8_seq_len("\xc3\xab"), 2);             /* ë */
    assert_int_equal(utf8_seq_len("\xe2\x82\xac"), 3);         /* € */
    assert_int_equal(utf8_seq_len("\xf0\x9f\x98\x80"), 4);     /* U+1F600 */
    assert_int_equal(utf8_seq_len("\xeb"), 0);                 /* Windows-1252 ë */
    assert_int_equal(utf8_seq_len("\xc0\xaf"), 0);             /* overlong / */
    assert_int_equal(utf8_seq_len("\xe0\x80\xaf"), 0);         /* overlong / */
    assert_int_equal(utf8_seq_len("\xed\xa0\x80"), 0);         /* a surrogate */
    assert_int_equal(utf8_seq_len("\xf4\x90\x80\x80"), 0);     /* past U+10FFFF */
    assert_int_equal(utf8_seq_len("\xe2\x82"), 0);             /* cut short */
    assert_int_equal(utf8_seq_len("\x80"), 0);                 /* a continuation byte */
    assert_int_equal(utf8_seq_len("\xf8\x88\x80\x80\x80"), 0); /* a five-byte form */
}

static void test_whole_text(void **state)
{
    (void)state;
    assert_int_equal(utf8_invalid_at(""), 0);
    assert_int_equal(utf8_invalid_at("Zo\xc3\xab \xe2\x82\xac"), 0);
    assert_int_equal(utf8_invalid_at("Zo\xeb"), 3);
    assert_int_equal(utf8_invalid_at("ab\xc3\xab\xed\xa0\x80"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_character),
        cmocka_unit_test(test_whole_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
