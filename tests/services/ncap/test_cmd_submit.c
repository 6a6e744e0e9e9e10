/* test_cmd_submit.c - what `ncap submit` prints for ingest's receipt, word for word: the summary
 * line, then each row problem on a line of its own, against a stand-in for ingest on a real
 * ZeroMQ socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "commands.h"
#include "ncap/v1/submission.pb-c.h"

#include "cmd_run.h"

/* A stand-in for ncap-ingestd: a ROUTER socket that answers one submission with one reply. */
typedef struct {
    void *ctx, *sock;
    char endpoint[64];
    const Ncap__V1__SubmitReply *reply; /* sent back once the request marked last arrives */
    char trust[16];                     /* what the request said */
    pthread_t thread;
} fake_ingest_t;

static void *fake_ingest_serve(void *arg)
{
    fake_ingest_t *f = arg;
    for (;;) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&id, f->sock, 0) < 0 || zmq_msg_recv(&body, f->sock, 0) < 0) {
            zmq_msg_close(&id);
            zmq_msg_close(&body);
            return NULL;
        }
        Ncap__V1__SubmitRequest *req =
            ncap__v1__submit_request__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
        bool last = req && req->last;
        if (req)
            snprintf(f->trust, sizeof f->trust, "%s", req->trust);
        ncap__v1__submit_request__free_unpacked(req, NULL);
        zmq_msg_close(&body);
        Ncap__V1__SubmitReply progress = NCAP__V1__SUBMIT_REPLY__INIT;
        const Ncap__V1__SubmitReply *rep = last ? f->reply : &progress;
        size_t n = ncap__v1__submit_reply__get_packed_size(rep);
        uint8_t *buf = malloc(n ? n : 1);
        ncap__v1__submit_reply__pack(rep, buf);
        zmq_msg_send(&id, f->sock, ZMQ_SNDMORE);
        zmq_send(f->sock, buf, n, 0);
        free(buf);
        if (last)
            return NULL;
    }
}

static void fake_ingest_start(fake_ingest_t *f, const Ncap__V1__SubmitReply *reply)
{
    memset(f, 0, sizeof *f);
    f->reply = reply;
    f->ctx = zmq_ctx_new();
    f->sock = zmq_socket(f->ctx, ZMQ_ROUTER);
    assert_non_null(f->sock);
    int linger = 0;
    zmq_setsockopt(f->sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(f->sock, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof f->endpoint;
    assert_int_equal(zmq_getsockopt(f->sock, ZMQ_LAST_ENDPOINT, f->endpoint, &len), 0);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_ingest_serve, f), 0);
}

static void fake_ingest_stop(fake_ingest_t *f)
{
    pthread_join(f->thread, NULL);
    zmq_close(f->sock);
    zmq_ctx_term(f->ctx);
}

/* Runs cmd_submit with the given arguments (NULL-terminated), stdout and stderr captured. */
static result_t run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_submit, "submit", arg, ap);
    va_end(ap);
    return r;
}

/* Submits a small file to a stand-in for ingest that answers with reply; quiet adds --quiet. */
static result_t submit(const Ncap__V1__SubmitReply *reply, bool quiet)
{
    char path[64];
    temp_file(path, "nhs_number,asa_grade\n9434765919,2\n9434765870,7\n");
    fake_ingest_t f;
    fake_ingest_start(&f, reply);
    result_t r = run("--audit", "nhfd", "--trust", "RH8", "--endpoint", f.endpoint, "--timeout",
                     "60", quiet ? "--quiet" : path, quiet ? path : NULL, NULL);
    fake_ingest_stop(&f);
    assert_string_equal(f.trust, "RH8");
    unlink(path);
    return r;
}

static Ncap__V1__RowProblem problem(uint32_t row, const char *field, const char *rule,
                                    const char *message)
{
    Ncap__V1__RowProblem p = NCAP__V1__ROW_PROBLEM__INIT;
    p.row = row;
    p.field = (char *)field;
    p.rule = (char *)rule;
    p.severity = "error";
    p.message = (char *)message;
    return p;
}

/* Submits to a stand-in for ingest whose receipt says 3 rows, 1 accepted, 2 rejected, with the
 * two rows' problems (one of them not about a field). */
static result_t submit_two_rejected(bool quiet)
{
    Ncap__V1__RowProblem p1 = problem(2, "asa_grade", "range", "has value \"7\", expected 1-5"),
                         p2 = problem(3, "", "columns", "has 3 fields, the header has 2");
    Ncap__V1__RowProblem *ps[] = {&p1, &p2};
    Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
    rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__RECEIPT;
    rep.submission_id = 84;
    rep.rows = 3;
    rep.accepted = 1;
    rep.unchanged = 0;
    rep.rejected = 2;
    rep.problems = ps;
    rep.n_problems = 2;
    return submit(&rep, quiet);
}

/* The summary line ends in a newline, and each problem follows on a line of its own, in the order
 * a reader wants them: what happened to the file, then why rows were refused. */
static void test_receipt_then_one_line_per_problem(void **state)
{
    result_t r = submit_two_rejected(false);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "submission 84: 3 rows, 1 accepted, 0 unchanged, 2 rejected\n"
                               "row 2: asa_grade: has value \"7\", expected 1-5 (error, range)\n"
                               "row 3: has 3 fields, the header has 2 (error, columns)\n");
    assert_string_equal(r.err, "");
    result_free(&r);
}

static void test_quiet_prints_the_receipt_line_only(void **state)
{
    result_t r = submit_two_rejected(true);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "submission 84: 3 rows, 1 accepted, 0 unchanged, 2 rejected\n");
    assert_string_equal(r.err, "");
    result_free(&r);
}

static void test_refusal_is_an_error_line(void **state)
{
    Ncap__V1__SubmitReply rep = NCAP__V1__SUBMIT_REPLY__INIT;
    rep.kind = NCAP__V1__SUBMIT_REPLY__KIND__ERROR;
    rep.error = "unknown audit \"nhfd\"";
    result_t r = submit(&rep, false);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "ncap submit: unknown audit \"nhfd\"\n");
    result_free(&r);
}

/* A timeout that is not a whole number of seconds in range is a usage error, not 0 or garbage. */
static void test_bad_timeout_is_a_usage_error(void **state)
{
    (void)state;
    const char *bad[] = {"5x", "", "-1", "0", "86401", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        result_t r =
            run("--audit", "nhfd", "--trust", "RH8", "--timeout", bad[i], "file.csv", NULL);
        assert_int_equal(r.rc, 2);
        assert_string_equal(r.out, "");
        char want[128];
        snprintf(want, sizeof want, "ncap submit: --timeout must be 1-86400 seconds, not \"%s\"\n",
                 bad[i]);
        assert_non_null(strstr(r.err, want));
        result_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receipt_then_one_line_per_problem),
        cmocka_unit_test(test_quiet_prints_the_receipt_line_only),
        cmocka_unit_test(test_refusal_is_an_error_line),
        cmocka_unit_test(test_bad_timeout_is_a_usage_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
