/* test_utf8.c - UTF-8 well-formedness: a whole text (utf8_invalid_at) and one character
 * (utf8_seq_len, which message.c's JSON reader steps by) agree on what is well formed; a prefix
 * cut at a character's boundary (utf8_trim_partial) */
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

/* "Zoë €😀" is Z o (c3 ab) space (e2 82 ac) (f0 9f 98 80): 12 bytes */
static void test_prefix_at_a_boundary(void **state)
{
    (void)state;
    const char *s = "Zo\xc3\xab \xe2\x82\xac\xf0\x9f\x98\x80";
    static const size_t want[13] = {0, 1, 2, 2, 4, 5, 5, 5, 8, 8, 8, 8, 12};
    for (size_t n = 0; n <= 12; n++) {
        size_t got = utf8_trim_partial(s, n);
        assert_int_equal(got, want[n]);
        char prefix[16] = {0};
        for (size_t i = 0; i < got; i++)
            prefix[i] = s[i];
        assert_int_equal(utf8_invalid_at(prefix), 0);
    }
    /* malformed bytes are not its to mend: left as they are; but a byte that begins a longer
     * character at the end is taken for one cut short (Windows-1252's ë, 0xeb, begins three) */
    assert_int_equal(utf8_trim_partial("a\x80\x80\x80\x80", 5), 5);
    assert_int_equal(utf8_trim_partial("\x80", 1), 1);
    assert_int_equal(utf8_trim_partial("a\xeb", 2), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_character),
        cmocka_unit_test(test_whole_text),
        cmocka_unit_test(test_prefix_at_a_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
