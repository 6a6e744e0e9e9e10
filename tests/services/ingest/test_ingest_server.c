/* test_ingest_server.c - ncap-ingestd's request handling over real ZeroMQ sockets and a real
 * PostgreSQL ($NCAP_TEST_PG): a client sends a file in chunks and gets progress, then a receipt
 * whose records are already committed, then linkage gets each new version; requests are refused
 * with their reason; feedback answers only the owner; a file with a problem on every row is
 * stored with that problem once; an upload is its connection's (a second client with its token is
 * refused) and a trust past its submission rate is told when to retry; another trust is answered
 * while one trust's file is held up; and a stop leaves the registry, refuses what has not begun
 * but finishes what has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ingest_server.h"
#include "nudge.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/records.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "pg_fixture.h"
#include "ingest_hold_fixture.h"
#include "registry.h"

#define DB_NAME "ncap_test_ingest_server"
#define HEADER                                                                                     \
    "local_record_id,trust_code,site_code,nhs_number,date_of_birth,sex,arrival_datetime,"          \
    "residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,fracture_side,"         \
    "pathological_fracture,surgery_datetime\n"
#define ROW(id, trust)                                                                             \
    id "," trust "," trust "01,9434765919,1940-05-12,2,2026-01-10T08:00,1,2,8,ICD,L,N,"            \
       "2026-01-11T09:00\n"

typedef struct {
    char conninfo[1200];
    daemon_config_t cfg;
    PGconn *db; /* the test's own, as the superuser */
    void *ctx, *router, *client, *linkage;
    ingest_server_parts_t parts;
    ingest_server_t *srv;
    const char *audit; /* of the chunks sent (nhfd when NULL) */
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    memset(&f, 0, sizeof f);
    *state = &f;
    char base[1024], err[1024];
    if (pg_test_db_create_migrated(DB_NAME, base, sizeof base) != 0)
        return -1;
    if (!base[0])
        return 0; /* no PostgreSQL: every test skips */
    snprintf(f.conninfo, sizeof f.conninfo, "%s options='-c role=ncap_ingest'", base);
    f.cfg.pg = f.conninfo;
    f.cfg.service = "test_ingest_server";
    if (!(f.db = db_connect(base, "test_ingest_server_check", err, sizeof err)))
        return -1;
    f.ctx = zmq_ctx_new();
    f.router = zmq_socket(f.ctx, ZMQ_ROUTER);
    f.client = zmq_socket(f.ctx, ZMQ_DEALER);
    f.linkage = zmq_socket(f.ctx, ZMQ_PULL);
    if (zmq_bind(f.router, "inproc://ingest") != 0 || zmq_connect(f.client, "inproc://ingest") ||
        zmq_bind(f.linkage, "tcp://127.0.0.1:*") != 0)
        return -1;
    /* A linkage instance in the registry, for the pusher to find: the test's PULL socket. */
    char endpoint[300];
    registry_advertised_endpoint(f.linkage, NULL, endpoint, sizeof endpoint);
    f.cfg.stage = "ingest";
    f.cfg.insecure_plain = 1; /* the test's sockets are plain */
    f.parts.pusher = pusher_new(f.ctx, &f.cfg, "linkage", err, sizeof err);
    if (!f.parts.pusher ||
        registry_register(f.db, "test-linkage", "linkage", endpoint, err, sizeof err) != 0 ||
        pusher_refresh(f.parts.pusher, f.db, err, sizeof err) != 0 ||
        pusher_peers(f.parts.pusher) != 1) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f.parts.cfg = &f.cfg;
    f.parts.router = f.router;
    f.parts.audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    f.parts.pool = store_pool_new(&f.cfg, 2);
    f.parts.rate_limit = 20; /* per trust per minute: test_rate_limit */
    f.parts.rate_window_s = 60;
    f.cfg.stage = "ingest";
    f.parts.presence = presence_new(&f.cfg, "inproc://ingest", f.parts.pusher);
    f.srv = ingest_server_new(&f.parts);
    return f.srv ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        return 0;
    ingest_server_destroy(&f->srv);
    store_pool_destroy(&f->parts.pool);
    pusher_destroy(&f->parts.pusher);
    audit_cache_destroy(&f->parts.audits);
    zmq_close(f->router);
    zmq_close(f->client);
    zmq_close(f->linkage);
    zmq_ctx_term(f->ctx);
    PQfinish(f->db);
    return 0;
}

/* Sends one chunk of file token as trust: len bytes of data. */
static void send_chunk_n(fixture_t *f, const char *token, const char *trust, uint32_t seq,
                         bool last, const char *data, size_t len)
{
    Ncap__V1__SubmitRequest req = NCAP__V1__SUBMIT_REQUEST__INIT;
    req.client_token = (char *)token;
    req.audit = (char *)(f->audit ? f->audit : "nhfd");
    req.trust = (char *)trust;
    req.filename = "file.csv";
    req.seq = seq;
    req.last = last;
    req.chunk.data = (uint8_t *)data;
    req.chunk.len = len;
    size_t n = ncap__v1__submit_request__get_packed_size(&req);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    ncap__v1__submit_request__pack(&req, buf);
    assert_int_equal(zmq_send(f->client, buf, n, 0), (int)n);
    free(buf);
}

/* Sends one chunk of file token as trust. */
static void send_chunk(fixture_t *f, const char *token, const char *trust, uint32_t seq, bool last,
                       const char *data)
{
    send_chunk_n(f, token, trust, seq, last, data, strlen(data));
}

/* Runs the server until the client has a reply, and returns it (the caller frees it). */
static zmq_msg_t *await_reply(fixture_t *f)
{
    static zmq_msg_t msg;
    for (;;) {
        zmq_pollitem_t item = {f->client, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 0) == 1)
            break;
        assert_int_equal(ingest_server_poll(f->srv, 20), 0);
    }
    zmq_msg_init(&msg);
    assert_true(zmq_msg_recv(&msg, f->client, 0) >= 0);
    return &msg;
}

static Ncap__V1__SubmitReply *await_submit_reply(fixture_t *f)
{
    zmq_msg_t *m = await_reply(f);
    Ncap__V1__SubmitReply *rep =
        ncap__v1__submit_reply__unpack(NULL, zmq_msg_size(m), zmq_msg_data(m));
    zmq_msg_close(m);
    assert_non_null(rep);
    return rep;
}

/* The error reply to the request just sent; checks it says want. */
static void expect_error(fixture_t *f, const char *want)
{
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__ERROR);
    assert_string_equal(rep->error, want);
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
}

static long long count(fixture_t *f, const char *sql)
{
    char err[1024];
    PGresult *r = db_query(f->db, sql, 0, NULL, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    long long n = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static void
test_chunks_get_progress_then_a_receipt_after_commit_then_linkage_the_versions(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    ingest_server_tick(f->srv, 0);
    assert_int_equal(
        count(f, "SELECT count(*) FROM ops.instance WHERE stage = 'ingest' AND "
                 "endpoint = 'inproc://ingest' AND heartbeat_at > now() - interval '5 s'"),
        1);
    send_chunk(f, "tok-1", "RH8", 0, false, HEADER ROW("HF-1", "RH8"));
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS);
    assert_string_equal(rep->client_token, "tok-1");
    assert_int_equal(rep->bytes_received, strlen(HEADER ROW("HF-1", "RH8")));
    ncap__v1__submit_reply__free_unpacked(rep, NULL);

    send_chunk(f, "tok-1", "RH8", 1, true, ROW("HF-2", "RH8") "HF-3,RH8,RH801,short row\n");
    rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    assert_string_equal(rep->client_token, "tok-1");
    assert_int_equal(rep->rows, 3);
    assert_int_equal(rep->accepted, 2);
    assert_int_equal(rep->rejected, 1);
    assert_int_equal(rep->n_problems, 1);
    assert_int_equal(rep->problems[0]->row, 4);
    int64_t sid = rep->submission_id;
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    /* The receipt came after the commit: another connection sees the rows at once. */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM ingest.raw_record WHERE submission_id = %lld",
             (long long)sid);
    assert_int_equal(count(f, sql), 2);
    assert_int_equal(ingest_server_records(f->srv), 2);

    /* Then linkage is nudged with the key of each new version, and nothing else. */
    stage_keys_t keys = {0};
    while (keys.n < 2) {
        zmq_pollitem_t item = {f->linkage, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 0) != 1) {
            ingest_server_poll(f->srv, 20);
            continue;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        assert_true(zmq_msg_recv(&m, f->linkage, 0) >= 0);
        assert_true(nudge_read(zmq_msg_data(&m), zmq_msg_size(&m), 100, &keys) > 0);
        zmq_msg_close(&m);
    }
    assert_int_equal(keys.n, 2);
    for (size_t i = 0; i < keys.n; i++) {
        char q[400];
        assert_int_equal(keys.keys[i].version, 1);
        assert_int_equal(keys.keys[i].link_revision, 0);
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM ingest.raw_record r JOIN ingest.record USING (record_id)"
                 " WHERE r.record_id = %lld AND r.version = 1 AND r.submission_id = %lld"
                 " AND local_id = 'HF-%zu' AND trust = 'RH8' AND audit = 'nhfd'",
                 (long long)keys.keys[i].record_id, (long long)sid, i + 1);
        assert_int_equal(count(f, q), 1);
    }
    stage_keys_free(&keys);
}

static void test_requests_are_refused_with_their_reason(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    assert_int_equal(zmq_send(f->client, "\xff\xff", 2, 0), 2);
    expect_error(f, "could not decode the request: not an ncap.v1.SubmitRequest");
    send_chunk(f, "", "RH8", 0, true, HEADER);
    expect_error(f, "request refused: missing or over-long client token or audit");
    send_chunk(f, "tok-2", "NHS TRUST", 0, true, HEADER);
    expect_error(f, "request refused: trust \"NHS TRUST\" is not an ODS trust code");
    send_chunk(f, "tok-3", "RH8", 4, true, HEADER);
    expect_error(f, "chunk out of order or submission unknown (ingest may have restarted): send "
                    "the file again");
    /* An audit the ingest has no definition of: said, without any path of the server. */
    f->audit = "nosuchaudit";
    send_chunk(f, "tok-5", "RH8", 0, true, HEADER);
    expect_error(f, "unknown audit \"nosuchaudit\": there is no nosuchaudit.yaml among the audit "
                    "definitions");
    f->audit = NULL;
    send_chunk(f, "tok-4", "RH8", 0, true, "");
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__ERROR);
    assert_non_null(strstr(rep->error, "file refused: "));
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
}

/* Asks for the first page of feedback on sid as trust; the reply (the caller frees it). */
static Ncap__V1__FeedbackReply *ask_feedback(fixture_t *f, const char *trust, int64_t sid)
{
    Ncap__V1__FeedbackRequest req = NCAP__V1__FEEDBACK_REQUEST__INIT;
    req.trust = (char *)trust;
    req.submission_id = sid;
    uint8_t buf[256];
    size_t len = ncap__v1__feedback_request__pack(&req, buf);
    const char *type = INGEST_FEEDBACK_REQUEST_TYPE;
    zmq_send(f->client, type, strlen(type), ZMQ_SNDMORE);
    zmq_send(f->client, buf, len, 0);
    zmq_msg_t *m = await_reply(f);
    Ncap__V1__FeedbackReply *fb =
        ncap__v1__feedback_reply__unpack(NULL, zmq_msg_size(m), zmq_msg_data(m));
    zmq_msg_close(m);
    assert_non_null(fb);
    return fb;
}

static void test_a_problem_on_every_row_is_stored_once_and_record_problems_all(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    /* 20,000 lines of one column (each a wrong column count), then 1,500 rows of another trust */
    size_t cap = 20000 * 2 + 1500 * 160 + 1024, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv, cap, HEADER);
    for (int i = 0; i < 20000; i++)
        len += (size_t)snprintf(csv + len, cap - len, "x\n");
    for (int i = 0; i < 1500; i++)
        len += (size_t)snprintf(csv + len, cap - len, ROW("O%d", "RX9"), i);
    send_chunk_n(f, "tok-many", "RB1", 0, true, csv, len);
    free(csv);
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    assert_int_equal(rep->rows, 21500);
    assert_int_equal(rep->rejected, 21500);
    /* the receipt: 200 problems by row, the one kept once per rule first */
    assert_int_equal(rep->n_problems, 200);
    assert_int_equal(rep->problems[0]->row, 2);
    assert_string_equal(rep->problems[0]->rule, "columns");
    assert_int_equal(rep->problems[0]->count, 20000);
    assert_int_equal(rep->problems[0]->n_rows, 1000);
    assert_int_equal(rep->problems[0]->rows[999], 1001);
    assert_int_equal(rep->problems[1]->row, 20002);
    assert_string_equal(rep->problems[1]->rule, "trust_mismatch");
    int64_t sid = rep->submission_id;
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ingest.problem WHERE submission_id = %lld AND rule = "
             "'trust_mismatch' AND occurrences = 1 AND first_rows IS NULL",
             (long long)sid);
    assert_int_equal(count(f, sql), 1500);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM ingest.problem WHERE submission_id = %lld AND rule = "
             "'columns' AND row_number = 2 AND occurrences = 20000 AND "
             "first_rows = (SELECT array_agg(g) FROM generate_series(2, 1001) g)",
             (long long)sid);
    assert_int_equal(count(f, sql), 1);
    /* feedback: the summary counts each row's, the first page lists the kept one with its rows */
    Ncap__V1__FeedbackReply *fb = ask_feedback(f, "RB1", sid);
    assert_int_equal(fb->kind, NCAP__V1__FEEDBACK_REPLY__KIND__PAGE);
    assert_int_equal(fb->summary->errors, 21500);
    assert_int_equal(fb->n_problems, 1000);
    assert_true(fb->more);
    assert_string_equal(fb->problems[0]->rule, "columns");
    assert_int_equal(fb->problems[0]->count, 20000);
    assert_int_equal(fb->problems[0]->n_rows, 1000);
    assert_int_equal(fb->problems[0]->rows[0], 2);
    assert_int_equal(fb->problems[1]->count, 1);
    assert_int_equal(fb->problems[1]->n_rows, 0);
    ncap__v1__feedback_reply__free_unpacked(fb, NULL);
}

static void test_an_upload_is_its_connections_and_a_trust_has_a_rate(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    /* the first client begins a file */
    send_chunk(f, "tok-own", "RC1", 0, false, HEADER);
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS);
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    /* a second client with its token cannot finish it */
    void *first = f->client;
    f->client = zmq_socket(f->ctx, ZMQ_DEALER);
    assert_int_equal(zmq_connect(f->client, "inproc://ingest"), 0);
    send_chunk(f, "tok-own", "RC1", 1, true, ROW("EVIL", "RC1"));
    expect_error(f, "chunk refused: upload \"tok-own\" was begun by another connection, and only "
                    "the connection that began an upload may continue it: send the file again "
                    "under a new token");
    zmq_close(f->client);
    f->client = first;
    /* the owner finishes it, as sent */
    send_chunk(f, "tok-own", "RC1", 1, true, ROW("HF-1", "RC1"));
    rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    assert_int_equal(rep->accepted, 1);
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    assert_int_equal(count(f, "SELECT count(*) FROM ingest.record WHERE local_id = 'EVIL'"), 0);

    /* RC2 begins 20 uploads (4 in progress at most, the others refused), then one more: past
     * its rate */
    char token[32];
    for (int i = 0; i < 20; i++) {
        snprintf(token, sizeof token, "rate-%d", i);
        send_chunk(f, token, "RC2", 0, false, HEADER);
        rep = await_submit_reply(f);
        assert_int_equal(rep->kind, i < 4 ? NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS
                                          : NCAP__V1__SUBMIT_REPLY__KIND__ERROR);
        if (i >= 4)
            assert_non_null(strstr(rep->error, "too many uploads in progress for trust RC2: 4"));
        ncap__v1__submit_reply__free_unpacked(rep, NULL);
    }
    send_chunk(f, "rate-more", "RC2", 0, true, HEADER);
    rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__ERROR);
    /* one back every 3 s: the wait is 3 s less the time the 20 took, rounded up */
    const char *want = "too many submissions from trust RC2: 20 in the last 60 s, the most one "
                       "trust may begin; retry after ";
    assert_int_equal(strncmp(rep->error, want, strlen(want)), 0);
    int wait_s = 0;
    char unit[4] = "";
    assert_int_equal(sscanf(rep->error + strlen(want), "%d %3s", &wait_s, unit), 2);
    assert_true(wait_s >= 1 && wait_s <= 3);
    assert_string_equal(unit, "s");
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    /* another trust is not held back */
    send_chunk(f, "rate-other", "RC3", 0, true, HEADER ROW("HF-1", "RC3"));
    rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
}

static void test_feedback_answers_the_owner_only(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    send_chunk(f, "tok-5", "RA1", 0, true, HEADER ROW("HF-1", "RA1"));
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    int64_t sid = rep->submission_id;
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    const char *askers[] = {"RA1", "RH8"};
    for (int i = 0; i < 2; i++) {
        Ncap__V1__FeedbackReply *fb = ask_feedback(f, askers[i], sid);
        if (i == 0) {
            assert_int_equal(fb->kind, NCAP__V1__FEEDBACK_REPLY__KIND__PAGE);
            assert_non_null(fb->summary);
            assert_int_equal(fb->summary->rows, 1);
        } else {
            char want[100];
            snprintf(want, sizeof want, "no submission %lld for trust RH8", (long long)sid);
            assert_int_equal(fb->kind, NCAP__V1__FEEDBACK_REPLY__KIND__NOT_FOUND);
            assert_string_equal(fb->error, want);
        }
        ncap__v1__feedback_reply__free_unpacked(fb, NULL);
    }
}

static void test_a_stop_refuses_what_has_not_begun_and_finishes_what_has(void **state)
{
    fixture_t *f = *state;
    if (!f->db)
        skip();
    ingest_hold_record(f->db, "RX1", "HF-7"); /* RX1's file is held up */
    send_chunk(f, "held", "RX1", 0, true, HEADER ROW("HF-7", "RX1"));
    while (ingest_lock_waiters(f->db, "test_ingest_server") != 1)
        ingest_server_poll(f->srv, 5); /* until a store worker waits for that transaction */
    /* Another trust is answered meanwhile. */
    send_chunk(f, "other", "RY1", 0, true, HEADER ROW("HF-1", "RY1"));
    Ncap__V1__SubmitReply *rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    assert_string_equal(rep->client_token, "other");
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    /* RX1's next file waits behind its first; an upload is in progress. */
    send_chunk(f, "waits", "RX1", 0, true, HEADER ROW("HF-8", "RX1"));
    send_chunk(f, "partial", "RZ1", 0, false, HEADER);
    rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS);
    ncap__v1__submit_reply__free_unpacked(rep, NULL);

    ingest_server_stop(f->srv);
    ingest_server_stop(f->srv); /* again: nothing more */
    assert_int_equal(count(f, "SELECT count(*) FROM ops.instance WHERE stage = 'ingest'"), 0);
    expect_error(f, "ingest is stopping: nothing of this file was kept; send it again in a minute");
    assert_false(ingest_server_finished(f->srv));
    send_chunk(f, "partial", "RZ1", 1, true, ROW("HF-1", "RZ1"));
    expect_error(f, "ingest is stopping: nothing of this file was kept; send it again in a minute");

    pg_fixture_exec(f->db, "ROLLBACK");
    rep = await_submit_reply(f);
    assert_int_equal(rep->kind, NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT);
    assert_string_equal(rep->client_token, "held");
    assert_int_equal(rep->accepted, 1);
    ncap__v1__submit_reply__free_unpacked(rep, NULL);
    assert_true(ingest_server_finished(f->srv));
    assert_int_equal(count(f, "SELECT count(*) FROM ingest.record WHERE trust IN ('RX1', 'RZ1')"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_chunks_get_progress_then_a_receipt_after_commit_then_linkage_the_versions),
        cmocka_unit_test(test_requests_are_refused_with_their_reason),
        cmocka_unit_test(test_feedback_answers_the_owner_only),
        cmocka_unit_test(test_a_problem_on_every_row_is_stored_once_and_record_problems_all),
        cmocka_unit_test(test_an_upload_is_its_connections_and_a_trust_has_a_rate),
        /* last: it stops the server */
        cmocka_unit_test(test_a_stop_refuses_what_has_not_begun_and_finishes_what_has),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
