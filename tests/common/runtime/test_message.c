/* test_message.c - a record as every stage stores it: JSON text with sorted keys (so the same
 * record always gives the same text and hash) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "rng.h"
#include "strbuf.h"

static ncap_record_t *sample(void)
{
    /* in the order a trust might send them, not sorted */
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "trust_code", "RR8");
    ncap_record_set(rec, "local_record_id", "HF-0001");
    ncap_record_set(rec, "surname", "O'Brien \"Jr\", Zo\xc3\xab"); /* Zoë in UTF-8 */
    ncap_record_set(rec, "asa_grade", "3");
    ncap_record_set(rec, "discharge_date", "");
    ncap_record_set(rec, "notes", "line 1\nline 2\\end");
    return rec;
}

static void assert_same_record(const ncap_record_t *a, const ncap_record_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const char *v = ncap_record_get(b, a->fields[i].name);
        assert_non_null(v);
        assert_string_equal(v, a->fields[i].value);
    }
}

static void test_json_has_sorted_keys_and_exact_text(void **state)
{
    (void)state;
    ncap_record_t *rec = sample();
    char *json = message_record_to_json(rec);
    assert_non_null(json);
    assert_string_equal(json, "{\"asa_grade\":\"3\","
                              "\"discharge_date\":\"\","
                              "\"local_record_id\":\"HF-0001\","
                              "\"notes\":\"line 1\\nline 2\\\\end\","
                              "\"surname\":\"O'Brien \\\"Jr\\\", Zo\xc3\xab\","
                              "\"trust_code\":\"RR8\"}");
    free(json);
    ncap_record_destroy(&rec);
}

static void test_json_does_not_depend_on_field_order(void **state)
{
    (void)state;
    ncap_record_t *a = ncap_record_new(), *b = ncap_record_new();
    ncap_record_set(a, "sex", "2");
    ncap_record_set(a, "asa_grade", "4");
    ncap_record_set(a, "fracture_side", "L");
    ncap_record_set(b, "fracture_side", "L");
    ncap_record_set(b, "sex", "2");
    ncap_record_set(b, "asa_grade", "4");
    char *ja = message_record_to_json(a), *jb = message_record_to_json(b);
    assert_string_equal(ja, jb);
    assert_string_equal(ja, "{\"asa_grade\":\"4\",\"fracture_side\":\"L\",\"sex\":\"2\"}");
    free(ja);
    free(jb);
    ncap_record_destroy(&a);
    ncap_record_destroy(&b);
}

static void test_json_of_empty_record(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    char *json = message_record_to_json(rec);
    assert_string_equal(json, "{}");
    ncap_record_t *back = ncap_record_new();
    assert_int_equal(message_record_from_json(json, back), 0);
    assert_int_equal(back->n, 0);
    free(json);
    ncap_record_destroy(&rec);
    ncap_record_destroy(&back);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    ncap_record_t *rec = sample();
    char *json = message_record_to_json(rec);
    ncap_record_t *back = ncap_record_new();
    ncap_record_set(back, "stale", "left over from an earlier record");
    assert_int_equal(message_record_from_json(json, back), 0);
    assert_null(ncap_record_get(back, "stale")); /* cleared first */
    assert_same_record(rec, back);
    /* and the stored text is stable: parse and dump again gives the same bytes (same hash) */
    char *again = message_record_to_json(back);
    assert_string_equal(again, json);
    free(json);
    free(again);
    ncap_record_destroy(&rec);
    ncap_record_destroy(&back);
}

static void test_json_refuses_what_is_not_an_object(void **state)
{
    (void)state;
    ncap_record_t *rec = ncap_record_new();
    assert_int_equal(message_record_from_json("[\"a\",\"b\"]", rec), -1);
    assert_int_equal(message_record_from_json("{\"a\":", rec), -1);
    assert_int_equal(message_record_from_json("", rec), -1);
    assert_int_equal(message_record_from_json("\"text\"", rec), -1);
    ncap_record_destroy(&rec);
}

static void test_json_keeps_or_refuses_text_that_is_not_utf8(void **state)
{
    (void)state;
    /* A file saved as Windows-1252 (Excel's default) has "Zoë" as Zo\xeb. Whatever the stage does
     * with it, the surname must not vanish from the stored record while the rest is kept. */
    ncap_record_t *rec = ncap_record_new();
    ncap_record_set(rec, "local_record_id", "HF-0002");
    ncap_record_set(rec, "surname", "Zo\xeb");
    char *json = message_record_to_json(rec);
    /* NULL, so that the caller refuses the row; never the record without the field */
    int kept_or_refused = !json || strstr(json, "\"surname\"") != NULL;
    free(json);
    ncap_record_destroy(&rec);
    assert_true(kept_or_refused);
}

/* What message.c did before its direct path, all through jansson: the reference the direct path
 * must agree with, on what it accepts and on the record it gives (fields, values, order). */
static int reference_from_json(const char *json, ncap_record_t *rec)
{
    ncap_record_clear(rec);
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        ncap_record_set(rec, k, json_is_string(v) ? json_string_value(v) : "");
    }
    json_decref(o);
    return 0;
}

static char *reference_to_json(const ncap_record_t *rec)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < rec->n; i++) {
        json_t *v = json_string(rec->fields[i].value);
        if (!v || json_object_set_new(o, rec->fields[i].name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

/* Both ways agree with jansson on json: accepted or not, the same fields in the same order. */
static void assert_as_jansson(const char *json)
{
    ncap_record_t *a = ncap_record_new(), *b = ncap_record_new();
    int ra = message_record_from_json(json, a), rb = reference_from_json(json, b);
    if (ra != rb)
        fail_msg("%s: message_record_from_json %d, jansson %d", json, ra, rb);
    if (ra == 0) {
        assert_int_equal(a->n, b->n);
        for (size_t i = 0; i < a->n; i++) {
            assert_string_equal(a->fields[i].name, b->fields[i].name);
            assert_string_equal(a->fields[i].value, b->fields[i].value);
        }
        char *ja = message_record_to_json(a), *jb = reference_to_json(b);
        if (!ja || !jb)
            assert_ptr_equal(ja, jb);
        else
            assert_string_equal(ja, jb);
        free(ja);
        free(jb);
    }
    ncap_record_destroy(&a);
    ncap_record_destroy(&b);
}

static void test_json_read_as_jansson_reads_it(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{}",
        " { } ",
        "{}x",
        "{} ",
        "{\"a\":\"1\"}",
        " {\t\"a\" :\n\"1\" ,\r\"b\": \"\" } ",
        "{\"a\":\"1\",}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":\"1\" \"b\":\"2\"}",
        "{\"a\":\"1\"",
        "{\"a\":\"1",
        "{\"a",
        "{",
        "{\"a\":\"1\"}}",
        "{\"a\":\"1\"} {}",
        "{\"a\":\"x\",\"b\":\"y\",\"a\":\"z\"}", /* a repeated name: the last value, first place */
        "{\"\":\"empty name\"}",
        "{\"a\":\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\\"}",
        "{\"a\":\"\\u00e9\\u0041\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\\ud83d\\ude00\"}",
        "{\"a\":\"\\ud83d\"}",
        "{\"\\u0062\":\"1\",\"b\":\"2\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"}",
        "{\"a\":\"Zo\xeb\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\xff\":\"1\"}",
        "{\"a\":1}",
        "{\"a\":-1.5e3,\"b\":\"2\"}",
        "{\"a\":true,\"b\":false,\"c\":null}",
        "{\"a\":[\"1\",{\"b\":\"2\"}],\"c\":\"3\"}",
        "{\"a\":{}}",
        "{\"a\":99999999999999999999999}",
        "{\"a\":1e999}",
        "{\"a\":01}",
        "{'a':'1'}",
        "{a:\"1\"}",
        "[]",
        "\"s\"",
        "1",
        "null",
        "",
        " ",
        "\xef\xbb\xbf{}",
        "{\"a\":\"\\u0001\\u001f\\u007f\"}",
        "{\"a\":\"1\"}\x0c",
        "{\"a\":\"1\"}\v",
        "{\"a\":\"1\"}\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_as_jansson(cases[i]);
    /* past the direct path's buffer on the stack (4,096 bytes) */
    strbuf_t big;
    strbuf_init(&big);
    strbuf_append(&big, "{");
    for (int i = 0; i < 2000; i++)
        strbuf_appendf(&big, "%s\"field_%d\":\"value \\\"%d\\\"\"", i ? "," : "", i, i);
    strbuf_append(&big, "}");
    assert_false(big.oom);
    assert_as_jansson(big.s);
    strbuf_free(&big);
}

static void test_json_read_as_jansson_reads_it_at_random(void **state)
{
    (void)state;
    /* flat objects of strings of bytes drawn from a small alphabet of JSON's awkward characters,
     * then, half the time, one byte changed: thousands of near misses of the direct path */
    static const char *const pieces[] = {
        "a",
        "Z",
        " ",
        "\\\"",
        "\\\\",
        "\\n",
        "\\u00e9",
        "\\u",
        "\\",
        "\"",
        "\xc3\xab",
        "\xeb",
        "\t",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\xed\xa0\x80",
        "/",
        "\\/",
        ",",
        ":",
        "{",
        "}",
        "1",
    };
    static const char bytes[] = "{}[]\":, \\\tax1\xc3\xab\x01";
    rng_t rng;
    rng_seed(&rng, 14, 0);
    char json[512];
    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        json[n++] = '{';
        int fields = (int)(size_t)(rng_next(&rng) % (5));
        for (int f = 0; f < fields; f++) {
            if (f)
                json[n++] = ',';
            for (int part = 0; part < 2; part++) {
                json[n++] = '"';
                int len = (int)(size_t)(rng_next(&rng) % (4));
                for (int k = 0; k < len; k++) {
                    const char *p =
                        pieces[(size_t)(rng_next(&rng) % (sizeof pieces / sizeof *pieces))];
                    memcpy(json + n, p, strlen(p));
                    n += strlen(p);
                }
                json[n++] = '"';
                if (!part)
                    json[n++] = ':';
            }
        }
        json[n++] = '}';
        if ((size_t)(rng_next(&rng) % (2)))
            json[(size_t)(rng_next(&rng) % (n))] =
                bytes[(size_t)(rng_next(&rng) % (sizeof bytes - 1))];
        json[n] = '\0';
        assert_as_jansson(json);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_has_sorted_keys_and_exact_text),
        cmocka_unit_test(test_json_does_not_depend_on_field_order),
        cmocka_unit_test(test_json_of_empty_record),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_refuses_what_is_not_an_object),
        cmocka_unit_test(test_json_keeps_or_refuses_text_that_is_not_utf8),
        cmocka_unit_test(test_json_read_as_jansson_reads_it),
        cmocka_unit_test(test_json_read_as_jansson_reads_it_at_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
