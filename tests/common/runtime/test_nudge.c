/* test_nudge.c - the only message between stages: keys, never data; a malformed or hostile one is
 * refused, and no nudge makes a stage take more than it asked for */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ncap/v1/records.pb-c.h"
#include "nudge.h"

static size_t pack(const stage_key_t *keys, size_t n, uint8_t *buf)
{
    Ncap__V1__RecordKey cells[8];
    Ncap__V1__RecordKey *ptrs[8];
    for (size_t i = 0; i < n; i++) {
        ncap__v1__record_key__init(&cells[i]);
        cells[i].record_id = keys[i].record_id;
        cells[i].version = keys[i].version;
        cells[i].link_revision = keys[i].link_revision;
        ptrs[i] = &cells[i];
    }
    Ncap__V1__Nudge m = NCAP__V1__NUDGE__INIT;
    m.keys = ptrs;
    m.n_keys = n;
    return ncap__v1__nudge__pack(&m, buf);
}

static void test_keys_read_back_as_sent(void **state)
{
    (void)state;
    stage_key_t keys[] = {{1, 1, 0}, {9007199254740993LL, 7, 3}};
    uint8_t buf[256];
    size_t len = pack(keys, 2, buf);
    stage_keys_t out = {0};
    assert_int_equal(nudge_read(buf, len, 500, &out), 2);
    assert_int_equal(out.n, 2);
    assert_memory_equal(out.keys, keys, sizeof keys);
    stage_keys_free(&out);
}

static void test_keys_no_stage_holds_are_left_out(void **state)
{
    (void)state;
    stage_key_t keys[] = {{0, 1, 0}, {5, 0, 0}, {5, 1, -1}, {-3, 1, 0}, {6, 2, 1}};
    uint8_t buf[256];
    size_t len = pack(keys, 5, buf);
    stage_keys_t out = {0};
    assert_int_equal(nudge_read(buf, len, 500, &out), 1);
    assert_int_equal(out.keys[0].record_id, 6);
    stage_keys_free(&out);
}

static void test_a_nudge_gives_no_more_keys_than_asked(void **state)
{
    (void)state;
    stage_key_t keys[] = {{1, 1, 0}, {2, 1, 0}, {3, 1, 0}};
    uint8_t buf[256];
    size_t len = pack(keys, 3, buf);
    stage_keys_t out = {0};
    assert_int_equal(nudge_read(buf, len, 2, &out), 2);
    assert_int_equal(out.n, 2);
    stage_keys_free(&out);
}

static void test_what_is_not_a_nudge_is_refused(void **state)
{
    (void)state;
    stage_keys_t out = {0};
    const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_equal(nudge_read(garbage, sizeof garbage, 500, &out), -1);
    const uint8_t wrong_type[] = {0x08, 0x01}; /* field 1 as a varint, not a message */
    assert_int_equal(nudge_read(wrong_type, sizeof wrong_type, 500, &out), -1);
    assert_int_equal(out.n, 0);
    /* an empty message is a nudge of no keys */
    assert_int_equal(nudge_read("", 0, 500, &out), 0);
    stage_keys_free(&out);
}

static void test_a_full_nudge_fits_the_inbox_limit(void **state)
{
    (void)state;
    Ncap__V1__RecordKey cells[NUDGE_MAX_KEYS];
    Ncap__V1__RecordKey *ptrs[NUDGE_MAX_KEYS];
    for (size_t i = 0; i < NUDGE_MAX_KEYS; i++) {
        ncap__v1__record_key__init(&cells[i]);
        cells[i].record_id = INT64_MAX;
        cells[i].version = INT32_MAX;
        cells[i].link_revision = INT32_MAX;
        ptrs[i] = &cells[i];
    }
    Ncap__V1__Nudge m = NCAP__V1__NUDGE__INIT;
    m.keys = ptrs;
    m.n_keys = NUDGE_MAX_KEYS;
    assert_true(ncap__v1__nudge__get_packed_size(&m) <= NUDGE_MAX_KEYS * 32 + 16);
    assert_true(ncap__v1__nudge__get_packed_size(&m) < NUDGE_MAX_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_read_back_as_sent),
        cmocka_unit_test(test_keys_no_stage_holds_are_left_out),
        cmocka_unit_test(test_a_nudge_gives_no_more_keys_than_asked),
        cmocka_unit_test(test_what_is_not_a_nudge_is_refused),
        cmocka_unit_test(test_a_full_nudge_fits_the_inbox_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
