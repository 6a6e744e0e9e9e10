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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_has_sorted_keys_and_exact_text),
        cmocka_unit_test(test_json_does_not_depend_on_field_order),
        cmocka_unit_test(test_json_of_empty_record),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_refuses_what_is_not_an_object),
        cmocka_unit_test(test_json_keeps_or_refuses_text_that_is_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
