/* test_request_gate.c - whether ingest takes a trust's request before PostgreSQL: each refusal of
 * a chunk with its message for the client (a broken definition's cause kept for the log only),
 * the checks in their order (one failing check hides those after it, and takes nothing from the
 * rate), chunks taken then the finished file with its definition, a definition that breaks before
 * the last chunk, the rate and the upload slots through the gate, and a feedback and a results
 * request's checks. Pure: no sockets, no database, the time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request_gate.h"

#define T0 1000000LL /* ms: the time of the first request */
#define HEADER "local_record_id,trust_code\n"

typedef struct {
    request_gate_t gate;
    audit_cache_t *audits, *broken; /* deploy/audits; a folder whose nhfd.yaml does not load */
    char dir[64], path[96];
    request_gate_answer_t a;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/ncap_test_request_gate_XXXXXX");
    if (!mkdtemp(f.dir))
        return -1;
    snprintf(f.path, sizeof f.path, "%s/nhfd.yaml", f.dir);
    FILE *fp = fopen(f.path, "w");
    if (!fp)
        return -1;
    fputs("audit: nhfd\nfields: [unclosed\n", fp);
    fclose(fp);
    f.audits = audit_cache_new(NCAP_SOURCE_DIR "/deploy/audits");
    f.broken = audit_cache_new(f.dir);
    f.gate.uploads = uploads_new();
    f.gate.rate = trust_rate_new(6, 60); /* one back every 10 s */
    f.gate.audits = f.audits;
    *state = &f;
    return f.audits && f.broken && f.gate.uploads && f.gate.rate ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    uploads_destroy(&f->gate.uploads);
    trust_rate_destroy(&f->gate.rate);
    audit_cache_destroy(&f->audits);
    audit_cache_destroy(&f->broken);
    unlink(f->path);
    rmdir(f->dir);
    return 0;
}

/* A fresh gate for each test: no uploads, a full rate, running, the real definitions. */
static int reset(void **state)
{
    fixture_t *f = *state;
    uploads_destroy(&f->gate.uploads);
    trust_rate_destroy(&f->gate.rate);
    f->gate = (request_gate_t){uploads_new(), trust_rate_new(6, 60), f->audits, false};
    return f->gate.uploads && f->gate.rate ? 0 : -1;
}

/* A chunk as it comes decoded: of audit, stating trust. */
static Ncap__V1__SubmitRequest chunk(const char *token, const char *audit, const char *trust,
                                     uint32_t seq, bool last, const char *data)
{
    Ncap__V1__SubmitRequest req = NCAP__V1__SUBMIT_REQUEST__INIT;
    req.client_token = (char *)token;
    req.audit = (char *)audit;
    req.trust = (char *)trust;
    req.filename = "file.csv";
    req.seq = seq;
    req.last = last;
    req.chunk.data = (uint8_t *)data;
    req.chunk.len = strlen(data);
    return req;
}

/* req from connection client, spoken for as trust (the stated one unless told), at now_ms. */
static request_gate_status_t submit_as(fixture_t *f, const Ncap__V1__SubmitRequest *req,
                                       const char *trust, const char *client, long long now_ms)
{
    return request_gate_submit(&f->gate, req, trust, client, strlen(client), now_ms, &f->a);
}

static request_gate_status_t submit(fixture_t *f, const Ncap__V1__SubmitRequest *req,
                                    long long now_ms)
{
    return submit_as(f, req, req->trust, "client-a", now_ms);
}

/* req is refused, under token, saying want; nothing for the log. */
static void expect_refused(fixture_t *f, const Ncap__V1__SubmitRequest *req, const char *trust,
                           const char *token, const char *want)
{
    assert_int_equal(submit_as(f, req, trust, "client-a", T0), REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.token, token);
    assert_string_equal(f->a.msg, want);
    assert_string_equal(f->a.audit_error, "");
}

static void test_each_refusal_says_why(void **state)
{
    fixture_t *f = *state;
    char long_token[81], long_audit[41];
    memset(long_token, 't', 80);
    long_token[80] = '\0';
    memset(long_audit, 'a', 40);
    long_audit[40] = '\0';
    const char *bad_request = "request refused: missing or over-long client token or audit";
    Ncap__V1__SubmitRequest req = chunk("", "nhfd", "RH8", 0, true, HEADER);
    expect_refused(f, &req, "RH8", "", bad_request);
    req = chunk(long_token, "nhfd", "RH8", 0, true, HEADER);
    expect_refused(f, &req, "RH8", "", bad_request);
    req = chunk("tok", long_audit, "RH8", 0, true, HEADER);
    expect_refused(f, &req, "RH8", "", bad_request);

    req = chunk("tok", "nhfd", "RH8", 0, true, HEADER);
    expect_refused(f, &req, NULL, "tok",
                   "request refused: this connection is not authenticated as trust \"RH8\"");
    req = chunk("tok", "nhfd", "NHS TRUST", 0, true, HEADER);
    expect_refused(f, &req, "NHS TRUST", "tok",
                   "request refused: trust \"NHS TRUST\" is not an ODS trust code");

    f->gate.stopping = true;
    req = chunk("tok", "nhfd", "RH8", 0, true, HEADER);
    expect_refused(f, &req, "RH8", "tok",
                   "ingest is stopping: nothing of this file was kept; send it again in a minute");
    f->gate.stopping = false;

    char client[UPLOAD_CLIENT_MAX + 1];
    memset(client, 'c', sizeof client);
    assert_int_equal(request_gate_submit(&f->gate, &req, "RH8", client, sizeof client, T0, &f->a),
                     REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.msg,
                        "request refused: the connection's routing id is longer than 256 bytes");

    req = chunk("tok", "nosuchaudit", "RH8", 0, true, HEADER);
    expect_refused(f, &req, "RH8", "tok",
                   "unknown audit \"nosuchaudit\": there is no nosuchaudit.yaml among the audit "
                   "definitions");
    req = chunk("tok", "../etc", "RH8", 0, true, HEADER);
    expect_refused(f, &req, "RH8", "tok",
                   "unknown audit \"../etc\": audit names are lower-case letters, digits and "
                   "underscores");

    /* A definition that does not load: the client is told only that, the cause is for the log. */
    f->gate.audits = f->broken;
    req = chunk("tok", "nhfd", "RH8", 0, true, HEADER);
    assert_int_equal(submit(f, &req, T0), REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.msg,
                        "audit \"nhfd\" cannot take submissions now: its definition on this "
                        "ingest does not load (the operators can see why in its log); send the "
                        "file again later");
    assert_non_null(strstr(f->a.audit_error, f->path));
    f->gate.audits = f->audits;

    /* The upload table's refusals come through as it words them. */
    req = chunk("tok", "nhfd", "RH8", 4, true, HEADER);
    expect_refused(f, &req, "RH8", "tok",
                   "chunk out of order or submission unknown (ingest may have restarted): send "
                   "the file again");
    req = chunk("own", "nhfd", "RH8", 0, false, HEADER);
    assert_int_equal(submit(f, &req, T0), REQUEST_GATE_MORE);
    req = chunk("own", "nhfd", "RH8", 1, true, "x\n");
    assert_int_equal(submit_as(f, &req, "RH8", "client-b", T0), REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.msg,
                        "chunk refused: upload \"own\" was begun by another connection, and only "
                        "the connection that began an upload may continue it: send the file "
                        "again under a new token");

    /* The rate (6 a minute): 5 more begun, the next refused with the wait for one back. */
    for (int i = 0; i < 5; i++) {
        char token[16];
        snprintf(token, sizeof token, "r%d", i);
        req = chunk(token, "nhfd", "RH8", 0, true, HEADER);
        assert_int_not_equal(submit(f, &req, T0), REQUEST_GATE_REFUSED);
        free(f->a.done.data);
    }
    req = chunk("tok", "nhfd", "RH8", 0, true, HEADER);
    assert_int_equal(submit(f, &req, T0 + 1500), REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.msg,
                        "too many submissions from trust RH8: 6 in the last 60 s, the most one "
                        "trust may begin; retry after 9 s");
}

/* A request that fails every check is refused by the first; mend that one and the next answers.
 * None of them takes from the trust's rate. */
static void test_the_checks_go_in_order(void **state)
{
    fixture_t *f = *state;
    trust_rate_destroy(&f->gate.rate);
    f->gate.rate = trust_rate_new(1, 60); /* one submission a minute */
    assert_non_null(f->gate.rate);
    f->gate.stopping = true;
    char client[UPLOAD_CLIENT_MAX + 1];
    memset(client, 'c', sizeof client);
    const char *stated = "NHS TRUST", *trust = NULL, *token = "", *audit = "nosuchaudit";
    size_t client_len = sizeof client;
    const char *want[] = {
        "request refused: missing or over-long client token or audit",
        "request refused: this connection is not authenticated as trust \"NHS TRUST\"",
        "request refused: trust \"NHS TRUST\" is not an ODS trust code",
        "ingest is stopping: nothing of this file was kept; send it again in a minute",
        "request refused: the connection's routing id is longer than 256 bytes",
        "unknown audit \"nosuchaudit\": there is no nosuchaudit.yaml among the audit definitions",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        Ncap__V1__SubmitRequest req = chunk(token, audit, stated, 0, false, HEADER);
        assert_int_equal(request_gate_submit(&f->gate, &req, trust, client, client_len, T0, &f->a),
                         REQUEST_GATE_REFUSED);
        assert_string_equal(f->a.msg, want[i]);
        switch (i) { /* mend what was refused */
        case 0:
            token = "tok";
            break;
        case 1:
            trust = stated;
            break;
        case 2:
            stated = trust = "RH8";
            break;
        case 3:
            f->gate.stopping = false;
            break;
        case 4:
            client_len = UPLOAD_CLIENT_MAX;
            break;
        case 5:
            audit = "nhfd";
            break;
        }
    }
    /* All mended: taken, with the one submission of the minute. */
    Ncap__V1__SubmitRequest req = chunk(token, audit, stated, 0, false, HEADER);
    assert_int_equal(request_gate_submit(&f->gate, &req, trust, client, client_len, T0, &f->a),
                     REQUEST_GATE_MORE);
    assert_int_equal(f->a.progress, strlen(HEADER));
    /* A later chunk is held to neither the audit it states nor the rate: the upload's audit is
     * the first chunk's. */
    req = chunk(token, "nosuchaudit", "RH8", 1, false, "x\n");
    assert_int_equal(request_gate_submit(&f->gate, &req, trust, client, client_len, T0, &f->a),
                     REQUEST_GATE_MORE);
    assert_int_equal(f->a.progress, strlen(HEADER "x\n"));
    /* Chunk 0 again: past the rate now, before the table is asked. */
    req = chunk("next", "nhfd", "RH8", 0, false, HEADER);
    assert_int_equal(request_gate_submit(&f->gate, &req, trust, client, client_len, T0, &f->a),
                     REQUEST_GATE_REFUSED);
    assert_non_null(strstr(f->a.msg, "too many submissions from trust RH8: 1 in the last 60 s"));
}

static void test_chunks_are_taken_then_the_file_comes_whole_with_its_definition(void **state)
{
    fixture_t *f = *state;
    Ncap__V1__SubmitRequest req = chunk("tok-1", "nhfd", "RH8", 0, false, HEADER);
    assert_int_equal(submit(f, &req, T0), REQUEST_GATE_MORE);
    assert_string_equal(f->a.token, "tok-1");
    assert_int_equal(f->a.progress, strlen(HEADER));
    req = chunk("tok-1", "nhfd", "RH8", 1, true, "HF-1,RH8\n");
    assert_int_equal(submit(f, &req, T0 + 1000), REQUEST_GATE_COMPLETE);
    assert_int_equal(f->a.progress, strlen(HEADER "HF-1,RH8\n"));
    assert_int_equal(f->a.done.len, f->a.progress);
    assert_string_equal(f->a.done.data, HEADER "HF-1,RH8\n");
    assert_string_equal(f->a.done.token, "tok-1");
    assert_string_equal(f->a.done.trust, "RH8");
    assert_non_null(f->a.def);
    assert_string_equal(f->a.def->audit, "nhfd");
    free(f->a.done.data);
    assert_int_equal(uploads_bytes(f->gate.uploads), 0);
}

/* A definition that stops loading between the first chunk and the last: the file is refused
 * (and freed), the client told, the cause kept for the log. */
static void test_a_file_whose_definition_no_longer_loads_is_refused_whole(void **state)
{
    fixture_t *f = *state;
    Ncap__V1__SubmitRequest req = chunk("tok-2", "nhfd", "RH8", 0, false, HEADER);
    assert_int_equal(submit(f, &req, T0), REQUEST_GATE_MORE);
    f->gate.audits = f->broken;
    req = chunk("tok-2", "nhfd", "RH8", 1, true, "HF-1,RH8\n");
    assert_int_equal(submit(f, &req, T0), REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.token, "tok-2");
    assert_non_null(strstr(f->a.msg, "audit \"nhfd\" cannot take submissions now"));
    assert_non_null(strstr(f->a.audit_error, f->path));
    assert_null(f->a.done.data);
    assert_null(f->a.def);
    assert_int_equal(uploads_bytes(f->gate.uploads), 0);
    f->gate.audits = f->audits;
}

/* 6 submissions a minute and 4 uploads in progress per trust, through the gate: a refusal by the
 * table still took from the rate; a slot comes back when an upload finishes, a submission when
 * the rate refills; another trust is not held back. */
static void test_the_rate_and_the_upload_slots(void **state)
{
    fixture_t *f = *state;
    Ncap__V1__SubmitRequest req;
    char token[16];
    for (int i = 0; i < 6; i++) {
        snprintf(token, sizeof token, "up-%d", i);
        req = chunk(token, "nhfd", "RC2", 0, false, HEADER);
        if (i < UPLOAD_MAX_PER_TRUST) {
            assert_int_equal(submit(f, &req, T0), REQUEST_GATE_MORE);
        } else {
            assert_int_equal(submit(f, &req, T0), REQUEST_GATE_REFUSED);
            assert_string_equal(f->a.msg,
                                "too many uploads in progress for trust RC2: 4, the most one "
                                "trust may have at once; send this file once one of them has "
                                "finished (an upload that sends nothing for 10 minutes is "
                                "dropped)");
        }
    }
    req = chunk("up-6", "nhfd", "RC2", 0, false, HEADER);
    assert_int_equal(submit(f, &req, T0 + 4000), REQUEST_GATE_REFUSED);
    assert_string_equal(f->a.msg, "too many submissions from trust RC2: 6 in the last 60 s, the "
                                  "most one trust may begin; retry after 6 s");
    /* another trust is not held back */
    req = chunk("other", "nhfd", "RC3", 0, true, HEADER);
    assert_int_equal(submit(f, &req, T0 + 4000), REQUEST_GATE_COMPLETE);
    free(f->a.done.data);
    /* 10 s on, one submission is back but the 4 slots are still taken */
    req = chunk("up-6", "nhfd", "RC2", 0, false, HEADER);
    assert_int_equal(submit(f, &req, T0 + 10000), REQUEST_GATE_REFUSED);
    assert_non_null(strstr(f->a.msg, "too many uploads in progress for trust RC2: 4"));
    /* one finishes: its slot is back, but that refusal took the submission */
    req = chunk("up-0", "nhfd", "RC2", 1, true, "HF-1,RC2\n");
    assert_int_equal(submit(f, &req, T0 + 10000), REQUEST_GATE_COMPLETE);
    free(f->a.done.data);
    req = chunk("up-6", "nhfd", "RC2", 0, false, HEADER);
    assert_int_equal(submit(f, &req, T0 + 10000), REQUEST_GATE_REFUSED);
    assert_non_null(strstr(f->a.msg, "too many submissions from trust RC2"));
    /* 10 s more: begun */
    assert_int_equal(submit(f, &req, T0 + 20000), REQUEST_GATE_MORE);
}

static void test_a_feedback_request(void **state)
{
    (void)state;
    Ncap__V1__FeedbackRequest req = NCAP__V1__FEEDBACK_REQUEST__INIT;
    char msg[1024];
    req.trust = "RH8";
    req.submission_id = 42;
    assert_int_equal(request_gate_feedback(&req, NULL, msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_string_equal(msg,
                        "request refused: this connection is not authenticated as trust \"RH8\"");
    req.trust = "NHS TRUST";
    assert_int_equal(request_gate_feedback(&req, "NHS TRUST", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_string_equal(msg, "request refused: trust \"NHS TRUST\" is not an ODS trust code");
    req.trust = "RH801"; /* a site's code, not its trust's */
    assert_int_equal(request_gate_feedback(&req, "RH801", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_string_equal(msg, "request refused: trust \"RH801\" is not an ODS trust code");
    req.trust = "RH8";
    assert_int_equal(request_gate_feedback(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_READ);
    assert_string_equal(msg, "no submission 42 for trust RH8"); /* should the database have none */
    req.submission_id = 0;
    assert_int_equal(request_gate_feedback(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_NOT_FOUND);
    assert_string_equal(msg, "no submission 0 for trust RH8");
    req.submission_id = -7;
    assert_int_equal(request_gate_feedback(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_NOT_FOUND);
}

static void test_a_results_request(void **state)
{
    (void)state;
    Ncap__V1__ResultsRequest req = NCAP__V1__RESULTS_REQUEST__INIT;
    char msg[1024];
    req.trust = "RH8";
    req.audit = "nhfd";
    /* another trust's key: the same refusal as feedback's */
    assert_int_equal(request_gate_results(&req, NULL, msg, sizeof msg),
                     REQUEST_GATE_RESULTS_REFUSED);
    assert_string_equal(msg,
                        "request refused: this connection is not authenticated as trust \"RH8\"");
    req.trust = "RH801";
    assert_int_equal(request_gate_results(&req, "RH801", msg, sizeof msg),
                     REQUEST_GATE_RESULTS_REFUSED);
    assert_string_equal(msg, "request refused: trust \"RH801\" is not an ODS trust code");
    req.trust = "RH8";
    assert_int_equal(request_gate_results(&req, "RH8", msg, sizeof msg), REQUEST_GATE_RESULTS_READ);
    assert_string_equal(msg, "no results for trust RH8 in audit nhfd"); /* should it have none */
    req.period = "2025Q3";
    assert_int_equal(request_gate_results(&req, "RH8", msg, sizeof msg), REQUEST_GATE_RESULTS_READ);
    assert_string_equal(msg, "no results for trust RH8 in audit nhfd, period 2025Q3");
    const char *bad_periods[] = {"2025Q5", "2025-07", "25Q3", "2025Q3x"};
    for (size_t i = 0; i < sizeof bad_periods / sizeof *bad_periods; i++) {
        req.period = (char *)bad_periods[i];
        assert_int_equal(request_gate_results(&req, "RH8", msg, sizeof msg),
                         REQUEST_GATE_RESULTS_REFUSED);
        assert_non_null(strstr(msg, "is not a quarter such as 2025Q3"));
    }
    req.period = "";
    const char *bad_audits[] = {"", "NHFD", "../etc", "a-b"};
    for (size_t i = 0; i < sizeof bad_audits / sizeof *bad_audits; i++) {
        req.audit = (char *)bad_audits[i];
        assert_int_equal(request_gate_results(&req, "RH8", msg, sizeof msg),
                         REQUEST_GATE_RESULTS_REFUSED);
        assert_non_null(strstr(msg, "is not an audit's name"));
    }
}

static void test_an_outlier_request(void **state)
{
    (void)state;
    Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
    char msg[1024];
    req.trust = "RH8";
    req.action = NCAP__V1__OUTLIER_REQUEST__ACTION__SHOW;
    req.case_id = 12;
    /* the trust's checks, as for feedback */
    assert_int_equal(request_gate_outlier(&req, NULL, msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_string_equal(msg,
                        "request refused: this connection is not authenticated as trust \"RH8\"");
    req.trust = "RH801";
    assert_int_equal(request_gate_outlier(&req, "RH801", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    req.trust = "RH8";
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_READ);
    assert_string_equal(msg, "no outlier case 12 for trust RH8");
    req.case_id = 0;
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_NOT_FOUND);
    assert_string_equal(msg, "no outlier case 0 for trust RH8");
    /* a list needs no case */
    req.action = NCAP__V1__OUTLIER_REQUEST__ACTION__LIST;
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_READ);
    /* a response: 1 to REQUEST_GATE_OUTLIER_TEXT_MAX bytes */
    req.action = NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND;
    req.case_id = 12;
    req.text = "";
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_string_equal(msg, "request refused: the response has 0 bytes, expected 1 to 65536");
    static char big[REQUEST_GATE_OUTLIER_TEXT_MAX + 2];
    memset(big, 'x', REQUEST_GATE_OUTLIER_TEXT_MAX + 1);
    req.text = big;
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    req.text = "ok \xff";
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_string_equal(msg,
                        "request refused: the response is not UTF-8 text (byte 4), expected text");
    req.text = "We have looked at it.";
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_READ);
    req.action = 7; /* what no client sends */
    assert_int_equal(request_gate_outlier(&req, "RH8", msg, sizeof msg),
                     REQUEST_GATE_FEEDBACK_REFUSED);
    assert_non_null(strstr(msg, "unknown outlier action 7"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_each_refusal_says_why, reset),
        cmocka_unit_test_setup(test_the_checks_go_in_order, reset),
        cmocka_unit_test_setup(test_chunks_are_taken_then_the_file_comes_whole_with_its_definition,
                               reset),
        cmocka_unit_test_setup(test_a_file_whose_definition_no_longer_loads_is_refused_whole,
                               reset),
        cmocka_unit_test_setup(test_the_rate_and_the_upload_slots, reset),
        cmocka_unit_test(test_a_feedback_request),
        cmocka_unit_test(test_a_results_request),
        cmocka_unit_test(test_an_outlier_request),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
