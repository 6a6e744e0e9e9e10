/* test_upload.c - a file arriving in chunks: what completes it, what is refused with which
 * message, and the limits: file size, bytes held per trust and in all, uploads per trust and in
 * all (never one trust's upload dropped to make room for another's), an upload bound to the
 * connection and trust that began it, and idle time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload.h"
#include "utf8.h"

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
    char err[512];
} outcome_t;

/* Adds a chunk of token from connection client for trust. */
static outcome_t add_as(uploads_t *u, const char *client, const char *trust, const char *token,
                        uint32_t seq, bool last, const char *data, long long now_ms)
{
    outcome_t o;
    memset(&o, 0, sizeof o);
    upload_chunk_t c = {token, "nhfd", trust,        "file.csv", seq,
                        last,  data,   strlen(data), client,     strlen(client)};
    o.status = uploads_add(u, &c, now_ms, &o.progress, &o.done, o.err, sizeof o.err);
    return o;
}

/* A chunk of trust RH8 from connection "c1". */
static outcome_t add(uploads_t *u, const char *token, uint32_t seq, bool last, const char *data,
                     long long now_ms)
{
    return add_as(u, "c1", "RH8", token, seq, last, data, now_ms);
}

static void test_chunks_in_order_make_the_file(void **state)
{
    uploads_t *u = *state;
    outcome_t o = add(u, "t1", 0, false, "a,b\n", 1);
    assert_int_equal(o.status, UPLOAD_MORE);
    assert_int_equal(o.progress, 4);
    o = add(u, "t1", 1, false, "1,2\n", 2);
    assert_int_equal(o.status, UPLOAD_MORE);
    assert_int_equal(o.progress, 8);
    assert_int_equal(uploads_bytes(u), 8);
    o = add(u, "t1", 2, true, "3,4\n", 3);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.token, "t1");
    assert_string_equal(o.done.audit, "nhfd");
    assert_string_equal(o.done.trust, "RH8");
    assert_string_equal(o.done.filename, "file.csv");
    assert_int_equal(o.done.client_len, 2);
    assert_memory_equal(o.done.client, "c1", 2);
    assert_int_equal(o.done.len, 12);
    assert_string_equal(o.done.data, "a,b\n1,2\n3,4\n"); /* NUL-terminated */
    free(o.done.data);
    /* It has left the table: the token is free again, and a next chunk is unknown. */
    assert_int_equal(uploads_bytes(u), 0);
    o = add(u, "t1", 3, true, "x", 4);
    assert_int_equal(o.status, UPLOAD_REFUSED);
}

/* A file's name as the trust's system sends it: in another encoding (Windows-1252's "é" is the
 * byte 0xe9), or longer than the 255 bytes kept with a character across the cut. It is stored as
 * text (ingest.submission), which PostgreSQL refuses when it is not UTF-8, so the name kept has a
 * '?' for each byte that begins no character, and the file is taken. */
static void test_a_file_name_not_utf8_or_cut_is_mended(void **state)
{
    uploads_t *u = *state;
    char long_name[300];
    snprintf(long_name, sizeof long_name, "%0254d\xc3\xa9.csv", 0);
    const char *names[] = {"donn\xe9"
                           "es.csv",
                           long_name};
    const char *want_tail[] = {"donn?es.csv", "0?"};
    for (size_t i = 0; i < 2; i++) {
        outcome_t o;
        memset(&o, 0, sizeof o);
        upload_chunk_t c = {"t9", "nhfd", "RH8", names[i], 0, true, "a\n", 2, "c1", 2};
        o.status = uploads_add(u, &c, 1, &o.progress, &o.done, o.err, sizeof o.err);
        assert_int_equal(o.status, UPLOAD_COMPLETE);
        assert_int_equal(utf8_invalid_at(o.done.filename), 0);
        size_t n = strlen(o.done.filename), t = strlen(want_tail[i]);
        assert_true(n >= t);
        assert_string_equal(o.done.filename + n - t, want_tail[i]);
        free(o.done.data);
    }
}

static void test_a_one_chunk_file_and_an_empty_one(void **state)
{
    uploads_t *u = *state;
    outcome_t o = add(u, "t1", 0, true, "a,b\n", 1);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.data, "a,b\n");
    free(o.done.data);
    o = add(u, "t2", 0, true, "", 1);
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
    outcome_t o = add(u, "never-begun", 1, false, "x", 1);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, want);
    add(u, "t1", 0, false, "a", 1);
    o = add(u, "t1", 2, false, "c", 2); /* chunk 1 is missing */
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, want);
    assert_int_equal(uploads_bytes(u), 0);
    o = add(u, "t1", 1, false, "b", 3); /* dropped: even the right chunk is unknown now */
    assert_int_equal(o.status, UPLOAD_REFUSED);
}

static void test_chunk_zero_again_restarts_the_upload(void **state)
{
    uploads_t *u = *state;
    add(u, "t1", 0, false, "old", 1);
    add(u, "t1", 1, false, "old", 2);
    outcome_t o = add(u, "t1", 0, false, "new", 3);
    assert_int_equal(o.status, UPLOAD_MORE);
    assert_int_equal(o.progress, 3);
    o = add(u, "t1", 1, true, "!", 4);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.data, "new!");
    free(o.done.data);
}

static void test_another_connection_cannot_continue_restart_or_finish_an_upload(void **state)
{
    uploads_t *u = *state;
    assert_int_equal(add_as(u, "c1", "RH8", "tok", 0, false, "mine,", 1).status, UPLOAD_MORE);
    /* a second client with the token (the attack of issue 11: it once finished the upload) */
    const char *want = "chunk refused: upload \"tok\" was begun by another connection, and only "
                       "the connection that began an upload may continue it: send the file "
                       "again under a new token";
    outcome_t o = add_as(u, "c2", "RH8", "tok", 1, true, "theirs", 2);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, want);
    o = add_as(u, "c2", "RH8", "tok", 0, true, "theirs", 3); /* nor restart it */
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, want);
    /* nor, on the same connection, as another trust */
    o = add_as(u, "c1", "RX1", "tok", 1, false, "x", 4);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, "chunk refused: upload \"tok\" is trust RH8's, not trust RX1's: "
                               "send the file again under a new token");
    /* the owner's upload went on untouched */
    o = add_as(u, "c1", "RH8", "tok", 1, true, "done", 5);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    assert_string_equal(o.done.data, "mine,done");
    free(o.done.data);
}

static void test_a_trust_has_at_most_its_uploads_and_never_takes_another_trusts(void **state)
{
    uploads_t *u = *state;
    char token[32];
    for (int i = 0; i < UPLOAD_MAX_PER_TRUST; i++) {
        snprintf(token, sizeof token, "a%d", i);
        assert_int_equal(add_as(u, "ca", "RA1", token, 0, false, "x", 1).status, UPLOAD_MORE);
    }
    assert_int_equal(add_as(u, "cb", "RB1", "b0", 0, false, "y", 2).status, UPLOAD_MORE);
    /* trust A's next, from any connection: refused; none of its own or B's is dropped */
    outcome_t o = add_as(u, "ca2", "RA1", "a-more", 0, false, "x", 3);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, "too many uploads in progress for trust RA1: 4, the most one trust "
                               "may have at once; send this file once one of them has finished "
                               "(an upload that sends nothing for 10 minutes is dropped)");
    assert_int_equal(uploads_bytes(u), UPLOAD_MAX_PER_TRUST + 1);
    o = add_as(u, "cb", "RB1", "b0", 1, true, "!", 4);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    free(o.done.data);
    /* one of A's finishes: A may begin another */
    o = add_as(u, "ca", "RA1", "a0", 1, true, "!", 5);
    assert_int_equal(o.status, UPLOAD_COMPLETE);
    free(o.done.data);
    assert_int_equal(add_as(u, "ca2", "RA1", "a-more", 0, false, "x", 6).status, UPLOAD_MORE);
}

static void test_when_every_slot_is_taken_a_new_upload_waits_and_none_is_dropped(void **state)
{
    uploads_t *u = *state;
    char token[32], trust[8];
    for (int i = 0; i < UPLOAD_MAX_PENDING; i++) {
        snprintf(token, sizeof token, "t%d", i);
        snprintf(trust, sizeof trust, "R%02d", i / UPLOAD_MAX_PER_TRUST);
        assert_int_equal(add_as(u, "c", trust, token, 0, false, "x", 100 + i).status, UPLOAD_MORE);
    }
    outcome_t o = add_as(u, "c", "RZZ", "newcomer", 0, false, "y", 500);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, "ingest has 256 uploads in progress, the most it takes at once; "
                               "send the file again in a minute");
    /* every upload in progress, the longest idle included, goes on */
    assert_int_equal(uploads_bytes(u), UPLOAD_MAX_PENDING);
    assert_int_equal(add_as(u, "c", "R00", "t0", 1, false, "x", 501).status, UPLOAD_MORE);
}

static void test_bytes_held_count_against_the_trust_and_ingest(void **state)
{
    uploads_t *u = *state;
    /* trust RA1 has a file almost at its limit waiting to be stored */
    assert_int_equal(uploads_hold(u, "RA1", UPLOAD_MAX_TRUST_BYTES - 8), 0);
    assert_int_equal(uploads_held(u), UPLOAD_MAX_TRUST_BYTES - 8);
    assert_int_equal(add_as(u, "ca", "RA1", "a", 0, false, "abcd", 1).status, UPLOAD_MORE);
    assert_int_equal(add_as(u, "ca", "RA1", "a", 1, false, "efgh", 2).status, UPLOAD_MORE);
    outcome_t o = add_as(u, "ca", "RA1", "a", 2, false, "i", 3);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, "trust RA1 has 512 MB received and not yet stored, and this "
                               "chunk would take it past 512 MB, the most one trust may have at "
                               "once; send the file again once the receipts of its earlier files "
                               "have come back");
    assert_int_equal(uploads_bytes(u), 0); /* dropped */
    /* another trust is not held back by RA1's bytes */
    assert_int_equal(add_as(u, "cb", "RB1", "b", 0, false, "efgh", 4).status, UPLOAD_MORE);
    /* RA1's file stored: RA1 may send again */
    uploads_release(u, "RA1", UPLOAD_MAX_TRUST_BYTES - 8);
    assert_int_equal(uploads_held(u), 0);
    assert_int_equal(add_as(u, "ca", "RA1", "a2", 0, false, "abcd", 5).status, UPLOAD_MORE);
    /* ingest's total: two trusts' held files fill it */
    assert_int_equal(uploads_hold(u, "RC1", UPLOAD_MAX_TRUST_BYTES), 0);
    assert_int_equal(uploads_hold(u, "RD1", UPLOAD_MAX_HELD_BYTES - UPLOAD_MAX_TRUST_BYTES - 8), 0);
    o = add_as(u, "cb", "RB1", "b", 1, false, "i", 6);
    assert_int_equal(o.status, UPLOAD_REFUSED);
    assert_string_equal(o.err, "ingest is receiving too much at once (1024 MB in progress); "
                               "send the file again in a minute");
    /* a release of an unknown trust, or of more than held, changes nothing it should not */
    uploads_release(u, "RZZ", 5);
    uploads_release(u, "RC1", UPLOAD_MAX_HELD_BYTES);
    assert_int_equal(uploads_held(u), UPLOAD_MAX_HELD_BYTES - UPLOAD_MAX_TRUST_BYTES - 8);
}

static void test_a_file_over_512_mb_is_refused(void **state)
{
    uploads_t *u = *state;
    add(u, "t1", 0, false, "abc", 1);
    /* A chunk that would take the file one byte past the limit: refused before it is read. */
    static const char small[1];
    upload_chunk_t c = {"t1", "nhfd", "RH8", "RH8.csv", 1, true, small, UPLOAD_MAX_FILE_BYTES - 2,
                        "c1", 2};
    size_t progress;
    upload_t done;
    char err[256];
    assert_int_equal(uploads_add(u, &c, 2, &progress, &done, err, sizeof err), UPLOAD_REFUSED);
    assert_string_equal(err, "file refused: larger than 512 MB; split it");
    assert_int_equal(uploads_bytes(u), 0);
}

static void test_idle_uploads_expire_and_clear_drops_all(void **state)
{
    uploads_t *u = *state;
    add(u, "old", 0, false, "abc", 1000);
    add(u, "new", 0, false, "de", 1000 + UPLOAD_EXPIRY_MS);
    assert_int_equal(uploads_expire(u, 1000 + UPLOAD_EXPIRY_MS), 0); /* not yet: exactly 10 min */
    assert_int_equal(uploads_expire(u, 1001 + UPLOAD_EXPIRY_MS), 1);
    assert_int_equal(uploads_bytes(u), 2);
    assert_int_equal(add(u, "old", 1, true, "x", 2000 + UPLOAD_EXPIRY_MS).status, UPLOAD_REFUSED);
    add(u, "third", 0, false, "f", 2000 + UPLOAD_EXPIRY_MS);
    assert_int_equal(uploads_clear(u), 2);
    assert_int_equal(uploads_bytes(u), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_file_name_not_utf8_or_cut_is_mended),
        T(test_chunks_in_order_make_the_file),
        T(test_a_one_chunk_file_and_an_empty_one),
        T(test_a_chunk_out_of_order_or_unknown_is_refused_and_the_upload_dropped),
        T(test_chunk_zero_again_restarts_the_upload),
        T(test_another_connection_cannot_continue_restart_or_finish_an_upload),
        T(test_a_trust_has_at_most_its_uploads_and_never_takes_another_trusts),
        T(test_when_every_slot_is_taken_a_new_upload_waits_and_none_is_dropped),
        T(test_bytes_held_count_against_the_trust_and_ingest),
        T(test_a_file_over_512_mb_is_refused),
        T(test_idle_uploads_expire_and_clear_drops_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
