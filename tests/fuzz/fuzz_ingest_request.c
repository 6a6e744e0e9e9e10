/* fuzz_ingest_request.c - what ncap-ingestd does with trusts' requests before it needs
 * PostgreSQL: a sequence of requests from a few connections, each decoded as ingest_server.c
 * decodes it (a ncap.v1.SubmitRequest, or a ncap.v1.FeedbackRequest, ResultsRequest or
 * OutlierRequest after its type frame) and
 * put to the same gate (request_gate.c: token and audit sizes, the trust the connection speaks
 * for, an ODS trust code, the routing id, an unknown or broken audit refused at the first chunk,
 * the per-trust submission rate, then the upload table: chunks in order, restarts, an upload
 * bound to its connection and trust, per-trust and overall limits, expiry as time passes), and a
 * finished file held against its trust's bytes and parsed as the store worker parses it
 * (store_job.c: submission_scan_csv, problems kept once per rule, then submission_stream_csv).
 * Reading feedback and storing the file need PostgreSQL: not here. ingest_server.c's part that is
 * not fuzzed is thin: naming the trust from the ZAP User-Id (caller_trust) and sending the replies.
 *
 * The input is a sequence of frames: 1 byte kind (bit 0: feedback, or with bit 4 an outlier
 * request; bits 1-2: which of four
 * connections sends it; bit 3: the connection is not authenticated as the trust the request
 * states; bit 4: a results request), 1 byte of minutes that pass before it, 2 bytes big-endian
 * length, then the request's bytes. Ingest is not stopping. Finished files stay held until the
 * input ends (a slow store pool).
 *
 * Checked: a refusal has a message, answers under the request's token or "", carries no file and
 * never grows what the table holds; a connection not authenticated as its trust is refused; an
 * upload's progress is the bytes taken; a finished file is NUL-terminated at its length and comes
 * with its audit's definition; what the table holds never passes UPLOAD_MAX_HELD_BYTES; a
 * feedback request let through to the database has a whole cursor; a results request let through
 * names an audit and a period as definitions and releases spell them; an outlier response let
 * through has a text of 1 to REQUEST_GATE_OUTLIER_TEXT_MAX bytes. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/results.pb-c.h"
#include "ncap/v1/outlier.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "request_gate.h"
#include "store_job.h"
#include "submission.h"
#include "trust_rate.h"
#include "upload.h"

/* What one input's requests share: the server's state that outlives a request. */
typedef struct {
    request_gate_t gate;
    struct {
        char trust[16];
        size_t bytes;
    } held[64]; /* finished files not yet stored */
    size_t n_held;
} server_t;

static int shape_only(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                      const audit_field_t *const *col)
{
    (void)ctx, (void)s, (void)row, (void)csv, (void)col;
    return 0;
}

static int count_built(void *ctx, const submission_row_t *row)
{
    (void)row;
    ++*(size_t *)ctx;
    return 0;
}

static void finished(server_t *sv, upload_t *done, const audit_def_t *def, const char *client,
                     size_t client_len)
{
    HARNESS_CHECK(done->data && done->data[done->len] == '\0',
                  "a finished file of %zu bytes is not NUL-terminated", done->len);
    HARNESS_CHECK(def && strcmp(def->audit, done->audit) == 0,
                  "a finished file of audit \"%s\" without its definition", done->audit);
    store_job_t *job = store_job_new(done, def, client, client_len);
    if (!job) {
        free(done->data);
        return;
    }
    HARNESS_CHECK(!done->data && job->bytes == done->len, "the file did not move into the job");
    if (sv->n_held < sizeof sv->held / sizeof sv->held[0] &&
        uploads_hold(sv->gate.uploads, job->trust, job->bytes) == 0) {
        snprintf(sv->held[sv->n_held].trust, sizeof sv->held[0].trust, "%s", job->trust);
        sv->held[sv->n_held++].bytes = job->bytes;
    }
    submission_sink_t sink = {NULL, NULL, true};
    submission_t *sub =
        submission_scan_csv(job->def, job->trust, job->data, job->bytes, shape_only, NULL, &sink);
    HARNESS_CHECK(sub, "out of memory reading %zu bytes", job->bytes);
    size_t built = 0;
    submission_t *again = submission_stream_csv(job->def, job->trust, job->data, job->bytes,
                                                count_built, &built, NULL);
    HARNESS_CHECK((again && built + sub->rejected == sub->data_rows) || sub->file_error[0],
                  "the second reading built %zu rows of %u, %u refused", built, sub->data_rows,
                  sub->rejected);
    submission_destroy(&again);
    submission_destroy(&sub);
    store_job_destroy(&job);
}

/* A chunk from client; authenticated: the connection speaks for the trust it states (in plain
 * mode, always). */
static void submit(server_t *sv, const char *client, bool authenticated, const uint8_t *body,
                   size_t len, long long now_ms)
{
    Ncap__V1__SubmitRequest *req = ncap__v1__submit_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    const char *trust = authenticated ? req->trust : NULL;
    size_t before = uploads_bytes(sv->gate.uploads);
    request_gate_answer_t a;
    request_gate_status_t st =
        request_gate_submit(&sv->gate, req, trust, client, strlen(client), now_ms, &a);
    HARNESS_CHECK(trust || st == REQUEST_GATE_REFUSED,
                  "a connection not authenticated as trust \"%s\" was let through", req->trust);
    switch (st) {
    case REQUEST_GATE_REFUSED:
        HARNESS_CHECK(a.msg[0], "refused without a reason");
        HARNESS_CHECK(a.token == req->client_token || strcmp(a.token, "") == 0,
                      "refused under a token that is not the request's");
        HARNESS_CHECK(!a.done.data, "a refusal came with a file");
        HARNESS_CHECK(uploads_bytes(sv->gate.uploads) <= before,
                      "a refusal grew what the table holds from %zu to %zu", before,
                      uploads_bytes(sv->gate.uploads));
        break;
    case REQUEST_GATE_MORE:
        HARNESS_CHECK(a.progress >= req->chunk.len, "progress %zu after a chunk of %zu", a.progress,
                      req->chunk.len);
        HARNESS_CHECK(uploads_bytes(sv->gate.uploads) <= before + req->chunk.len,
                      "held grew by more than the chunk");
        break;
    case REQUEST_GATE_COMPLETE:
        HARNESS_CHECK(a.progress == a.done.len, "progress %zu, file of %zu", a.progress,
                      a.done.len);
        finished(sv, &a.done, a.def, client, strlen(client));
        break;
    }
    HARNESS_CHECK(uploads_bytes(sv->gate.uploads) + uploads_held(sv->gate.uploads) <=
                      UPLOAD_MAX_HELD_BYTES,
                  "%zu bytes in progress and %zu held", uploads_bytes(sv->gate.uploads),
                  uploads_held(sv->gate.uploads));
    ncap__v1__submit_request__free_unpacked(req, NULL);
}

static void feedback(bool authenticated, const uint8_t *body, size_t len)
{
    Ncap__V1__FeedbackRequest *req = ncap__v1__feedback_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    const char *trust = authenticated ? req->trust : NULL;
    char msg[1024];
    request_gate_feedback_t st = request_gate_feedback(req, trust, msg, sizeof msg);
    HARNESS_CHECK(msg[0], "a feedback answer without a message");
    HARNESS_CHECK(trust || st == REQUEST_GATE_FEEDBACK_REFUSED,
                  "a connection not authenticated as trust \"%s\" was let through", req->trust);
    if (st == REQUEST_GATE_FEEDBACK_READ && req->after)
        HARNESS_CHECK(req->after->field && req->after->rule && req->after->stage &&
                          req->after->message,
                      "a cursor with a NULL string");
    ncap__v1__feedback_request__free_unpacked(req, NULL);
}

static void results(bool authenticated, const uint8_t *body, size_t len)
{
    Ncap__V1__ResultsRequest *req = ncap__v1__results_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    const char *trust = authenticated ? req->trust : NULL;
    char msg[1024];
    request_gate_results_t st = request_gate_results(req, trust, msg, sizeof msg);
    HARNESS_CHECK(msg[0], "a results answer without a message");
    HARNESS_CHECK(trust || st == REQUEST_GATE_RESULTS_REFUSED,
                  "a connection not authenticated as trust \"%s\" was let through", req->trust);
    if (st == REQUEST_GATE_RESULTS_READ)
        HARNESS_CHECK(strlen(req->audit) > 0 && strlen(req->audit) < 40 &&
                          strspn(req->audit, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
                              strlen(req->audit) &&
                          (!req->period[0] || strlen(req->period) == 6),
                      "audit \"%s\" or period \"%s\" let through", req->audit, req->period);
    ncap__v1__results_request__free_unpacked(req, NULL);
}

static void outlier(bool authenticated, const uint8_t *body, size_t len)
{
    Ncap__V1__OutlierRequest *req = ncap__v1__outlier_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    const char *trust = authenticated ? req->trust : NULL;
    char msg[1024];
    request_gate_feedback_t st = request_gate_outlier(req, trust, msg, sizeof msg);
    HARNESS_CHECK(msg[0], "an outlier answer without a message");
    HARNESS_CHECK(trust || st == REQUEST_GATE_FEEDBACK_REFUSED,
                  "a connection not authenticated as trust \"%s\" was let through", req->trust);
    if (st == REQUEST_GATE_FEEDBACK_READ &&
        req->action == NCAP__V1__OUTLIER_REQUEST__ACTION__RESPOND)
        HARNESS_CHECK(req->text && req->text[0] &&
                          strlen(req->text) <= REQUEST_GATE_OUTLIER_TEXT_MAX,
                      "a response of %zu bytes let through", req->text ? strlen(req->text) : 0);
    ncap__v1__outlier_request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) /* once: later calls return at once */
        abort();
    static const char *const clients[] = {"client-a", "client-b", "client-c", "client-d"};
    server_t sv = {{uploads_new(),
                    trust_rate_new(TRUST_RATE_LIMIT_DEFAULT, TRUST_RATE_WINDOW_DEFAULT),
                    harness_audits(), false},
                   {{"", 0}},
                   0};
    if (!sv.gate.uploads || !sv.gate.rate || !sv.gate.audits)
        abort();
    long long now_ms = 1000000000LL;
    while (size >= 4) {
        unsigned kind = data[0];
        now_ms += (long long)data[1] * 60 * 1000;
        size_t len = (size_t)data[2] << 8 | data[3];
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        uint8_t *body = malloc(len ? len : 1); /* exact size: ASan sees a read past the end */
        if (!body)
            abort();
        memcpy(body, data, len);
        uploads_expire(sv.gate.uploads, now_ms); /* the server's tick */
        bool authenticated = !(kind & 8);
        if ((kind & 48) == 16)
            results(authenticated, body, len);
        else if ((kind & 48) == 32)
            outlier(authenticated, body, len);
        else if (kind & 1)
            feedback(authenticated, body, len);
        else
            submit(&sv, clients[(kind >> 1) & 3], authenticated, body, len, now_ms);
        free(body);
        data += len;
        size -= len;
    }
    for (size_t i = 0; i < sv.n_held; i++) /* stored at last */
        uploads_release(sv.gate.uploads, sv.held[i].trust, sv.held[i].bytes);
    HARNESS_CHECK(uploads_held(sv.gate.uploads) == 0, "%zu bytes held after every file was stored",
                  uploads_held(sv.gate.uploads));
    uploads_destroy(&sv.gate.uploads);
    trust_rate_destroy(&sv.gate.rate);
    return 0;
}
