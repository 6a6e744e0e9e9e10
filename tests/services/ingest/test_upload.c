/* test_upload.c - a file arriving in chunks: what completes it, what is refused with which
 * message, and the limits (file size, bytes held at once, uploads at once, idle time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload.h"

static int setup(void **state)
{
    *state = uploads_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    uploads_t *u = *state;
    uploads_destroy(&u);
    assert_null(u);
    return 0;
}

typedef struct {
    upload_status_t status;
    size_t progress;
    upload_t done;
    char err[256];
} outcome_t;

static outcome_t add(uploads_t *u, const char *token, uint32_t seq, bool last, const char *data,
                     size_t held_elsewhere, long long now_ms)
{
    outcome_t o;
    memset(&o, 0, sizeof o);
    upload_chunk_t c = {token, "nhfd", "RH8", "RH8.csv", seq, last, data, strlen(data)};
    o.status =
        uploads_add(u, &c, held_elsewhere, now_ms, &o.progress, &o.done, o.err, sizeof o.err);
    return o;
}

static void test_chunks_in_order_make_the_file(void **state)
{
    uploads_t *u = *state;
    outcome_t o = add(u, "t1", 0, false, "a,b\n", 0, 1);
    assert_int_equal(o.status, UPLOAD_MORE);
    assert_int_equal(o.progress, 4);
    o = add(u, "t1", 1, false, "1,2\n", 0, 2);
    assert_int_equal(o.status, UPLOAD_MORE);
    assert_int_equal(o.progress, 8);
    assert_int_equal(uploads_bytes(u), 8);
    o = add(u, "t1", 2, true, "3,4\n", 0, 3);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.token, "t1");
    assert_string_equal(o.done.audit, "nhfd");
    assert_string_equal(o.done.trust, "RH8");
    assert_string_equal(o.done.filename, "RH8.csv");
    assert_int_equal(o.done.len, 12);
    assert_string_equal(o.done.data, "a,b\n1,2\n3,4\n"); /* NUL-terminated */
    free(o.done.data);
    /* It has left the table: the token is free again, and a next chunk is unknown. */
    assert_int_equal(uploads_bytes(u), 0);
    o = add(u, "t1", 3, true, "x", 0, 4);
    assert_int_equal(o.status, UPLOAD_REFUSED);
}

static void test_a_one_chunk_file_and_an_empty_one(void **state)
{
    uploads_t *u = *state;
    outcome_t o = add(u, "t1", 0, true, "a,b\n", 0, 1);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.data, "a,b\n");
    free(o.done.data);
    o = add(u, "t2", 0, true, "", 0, 1);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_int_equal(o.done.len, 0);
    assert_non_null(o.done.data);
    assert_string_equal(o.done.data, "");
    free(o.done.data);
}

static void test_a_chunk_out_of_order_or_unknown_is_refused_and_the_upload_dropped(void **state)
{
    uploads_t *u = *state;
    const char *want = "chunk out of order or submission unknown (ingest may have restarted): "
                       "send the file again";
    outcome_t o = add(u, "never-begun", 1, false, "x", 0, 1);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, want);
    add(u, "t1", 0, false, "a", 0, 1);
    o = add(u, "t1", 2, false, "c", 0, 2); /* chunk 1 is missing */
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, want);
    assert_int_equal(uploads_bytes(u), 0);
    o = add(u, "t1", 1, false, "b", 0, 3); /* dropped: even the right chunk is unknown now */
    assert_int_equal(o.status, UPLOAD_REFUSED);
}

static void test_chunk_zero_again_restarts_the_upload(void **state)
{
    uploads_t *u = *state;
    add(u, "t1", 0, false, "old", 0, 1);
    add(u, "t1", 1, false, "old", 0, 2);
    outcome_t o = add(u, "t1", 0, false, "new", 0, 3);
    assert_int_equal(o.status, UPLOAD_MORE);
    assert_int_equal(o.progress, 3);
    o = add(u, "t1", 1, true, "!", 0, 4);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.data, "new!");
    free(o.done.data);
}

static void test_what_is_held_elsewhere_counts_against_the_limit(void **state)
{
    uploads_t *u = *state;
    add(u, "t1", 0, false, "abcd", 0, 1);
    outcome_t o = add(u, "t2", 0, false, "efgh", UPLOAD_MAX_HELD_BYTES - 8, 2);
    assert_int_equal(o.status, UPLOAD_MORE); /* exactly at the limit */
    o = add(u, "t2", 1, false, "i", UPLOAD_MAX_HELD_BYTES - 8, 3);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, "ingest is receiving too much at once (1 GB in progress); send "
                               "the file again in a minute");
    /* t2 was dropped; t1 goes on. */
    assert_int_equal(uploads_bytes(u), 4);
    o = add(u, "t1", 1, true, "e", 0, 4);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    free(o.done.data);
}

static void test_a_file_over_512_mb_is_refused(void **state)
{
    uploads_t *u = *state;
    add(u, "t1", 0, false, "abc", 0, 1);
    /* A chunk that would take the file one byte past the limit: refused before it is read. */
    static const char small[1];
    upload_chunk_t c = {"t1", "nhfd", "RH8", "RH8.csv", 1, true, small, UPLOAD_MAX_FILE_BYTES - 2};
    size_t progress;
    upload_t done;
    char err[256];
    assert_int_equal(uploads_add(u, &c, 0, 2, &progress, &done, err, sizeof err), UPLOAD_REFUSED);
    assert_string_equal(err, "file refused: larger than 512 MB; split it");
    assert_int_equal(uploads_bytes(u), 0);
}

static void test_a_new_upload_replaces_the_longest_idle_when_all_slots_are_taken(void **state)
{
    uploads_t *u = *state;
    char token[16];
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++) {
        snprintf(token, sizeof token, "t%d", i);
        /* t7 has waited longest */
        assert_int_equal(add(u, token, 0, false, "x", 0, i == 7 ? 1 : 100 + i).status, UPLOAD_MORE);
    }
    assert_int_equal(add(u, "newcomer", 0, false, "y", 0, 500).status, UPLOAD_MORE);
    assert_int_equal(uploads_bytes(u), UPLOAD_MAX_PENDING);
    assert_int_equal(add(u, "t7", 1, false, "x", 0, 501).status, UPLOAD_REFUSED);
    assert_int_equal(add(u, "t8", 1, false, "x", 0, 501).status, UPLOAD_MORE);
}

static void test_idle_uploads_expire_and_clear_drops_all(void **state)
{
    uploads_t *u = *state;
    add(u, "old", 0, false, "abc", 0, 1000);
    add(u, "new", 0, false, "de", 0, 1000 + UPLOAD_EXPIRY_MS);
    assert_int_equal(uploads_expire(u, 1000 + UPLOAD_EXPIRY_MS), 0); /* not yet: exactly 10 min */
    assert_int_equal(uploads_expire(u, 1001 + UPLOAD_EXPIRY_MS), 1);
    assert_int_equal(uploads_bytes(u), 2);
    assert_int_equal(add(u, "old", 1, true, "x", 0, 2000 + UPLOAD_EXPIRY_MS).status,
                     UPLOAD_REFUSED);
    add(u, "third", 0, false, "f", 0, 2000 + UPLOAD_EXPIRY_MS);
    assert_int_equal(uploads_clear(u), 2);
    assert_int_equal(uploads_bytes(u), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chunks_in_order_make_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_one_chunk_file_and_an_empty_one, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_chunk_out_of_order_or_unknown_is_refused_and_the_upload_dropped, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_chunk_zero_again_restarts_the_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_what_is_held_elsewhere_counts_against_the_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_file_over_512_mb_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_new_upload_replaces_the_longest_idle_when_all_slots_are_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_uploads_expire_and_clear_drops_all, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
