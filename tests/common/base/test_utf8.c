/* test_utf8.c - UTF-8 well-formedness: a whole text (utf8_invalid_at) and one character
 * (utf8_seq_len, which message.c's JSON reader steps by) agree on what is well formed; a prefix
 * cut at a character's boundary (utf8_trim_partial); capitals lowered beyond ASCII (utf8_lower) */
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

static void test_lower_case(void **state)
{
    (void)state;
    assert_int_equal(utf8_lower(0x00cb), 0x00eb); /* Ë ë */
    assert_int_equal(utf8_lower(0x00dc), 0x00fc); /* Ü ü */
    assert_int_equal(utf8_lower(0x0178), 0x00ff); /* Ÿ ÿ */
    assert_int_equal(utf8_lower(0x0141), 0x0142); /* Ł ł */
    assert_int_equal(utf8_lower(0x01c5), 0x01c6); /* ǅ ǆ, a title case */
    assert_int_equal(utf8_lower(0x03a3), 0x03c3); /* Σ σ */
    assert_int_equal(utf8_lower(0x0401), 0x0451); /* Ё ё */
    assert_int_equal(utf8_lower(0x0416), 0x0436); /* Ж ж */
    assert_int_equal(utf8_lower(0x0531), 0x0561); /* Ա ա */
    /* no single lower case of two bytes, or none at all: as it is */
    assert_int_equal(utf8_lower(0x0130), 0x0130); /* İ: "i" and a combining dot */
    assert_int_equal(utf8_lower(0x00d7), 0x00d7); /* × */
    assert_int_equal(utf8_lower(0x00df), 0x00df); /* ß */
    assert_int_equal(utf8_lower(0x00eb), 0x00eb);
    assert_int_equal(utf8_lower('A'), 'A');       /* ASCII is tolower's */
    assert_int_equal(utf8_lower(0x1e9e), 0x1e9e); /* ẞ: three bytes */
    /* the table: in order, two-byte letters both, each lower case lower already */
    unsigned up[600], lo[600];
    size_t n = utf8_lower_pairs(up, lo, 600);
    assert_true(n >= 400 && n <= 600);
    for (size_t k = 0; k < n; k++) {
        assert_true(up[k] >= 0x80 && up[k] < 0x800 && lo[k] >= 0x80 && lo[k] < 0x800);
        assert_true(k == 0 || up[k - 1] < up[k]);
        assert_int_equal(utf8_lower(lo[k]), lo[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_character),
        cmocka_unit_test(test_whole_text),
        cmocka_unit_test(test_prefix_at_a_boundary),
        cmocka_unit_test(test_lower_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
