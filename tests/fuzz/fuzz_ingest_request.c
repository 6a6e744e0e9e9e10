/* fuzz_ingest_request.c - what ncap-ingestd does with trusts' requests before it needs
 * PostgreSQL: a sequence of requests from a few connections, each decoded as ingest_server.c
 * decodes it (a ncap.v1.SubmitRequest, or a ncap.v1.FeedbackRequest after its type frame), the
 * request's checks (token and audit sizes, the trust an ODS trust code, an unknown audit refused at
 * the first chunk, the per-trust submission rate: trust_rate.c), the upload table (upload.c: chunks
 * in order, restarts, an upload bound to its connection and trust, per-trust and overall limits,
 * expiry as time passes), and a finished file held against its trust's bytes and parsed as the
 * store worker parses it (store_job.c: submission_parse_csv, problems kept once per rule).
 * Reading feedback and storing the file need PostgreSQL: not here.
 *
 * ingest_server.c keeps these steps in static functions tied to its ROUTER socket; this target
 * repeats its checks in the same order (keep them in step with handle_submit).
 *
 * The input is a sequence of frames: 1 byte kind (bit 0: feedback; bits 1-2: which of four
 * connections sends it), 1 byte of minutes that pass before it, 2 bytes big-endian length, then
 * the request's bytes. Finished files stay held until the input ends (a slow store pool).
 *
 * Checked: an upload's progress is the bytes taken; a finished file is NUL-terminated at its
 * length; what the table holds never passes UPLOAD_MAX_HELD_BYTES. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "ods_code.h"
#include "store_job.h"
#include "submission.h"
#include "trust_rate.h"
#include "upload.h"

/* What one input's requests share: the server's state that outlives a request. */
typedef struct {
    uploads_t *uploads;
    trust_rate_t *rate;
    struct {
        char trust[16];
        size_t bytes;
    } held[64]; /* finished files not yet stored */
    size_t n_held;
} server_t;

static void finished(server_t *sv, upload_t *done, const char *client, size_t client_len)
{
    HARNESS_CHECK(done->data && done->data[done->len] == '\0',
                  "a finished file of %zu bytes is not NUL-terminated", done->len);
    char err[1024];
    const audit_def_t *def = audit_cache_get(harness_audits(), done->audit, err, sizeof err);
    store_job_t *job = def ? store_job_new(done, def, client, client_len) : NULL;
    if (!job) {
        free(done->data);
        return;
    }
    HARNESS_CHECK(!done->data && job->bytes == done->len, "the file did not move into the job");
    if (sv->n_held < sizeof sv->held / sizeof sv->held[0] &&
        uploads_hold(sv->uploads, job->trust, job->bytes) == 0) {
        snprintf(sv->held[sv->n_held].trust, sizeof sv->held[0].trust, "%s", job->trust);
        sv->held[sv->n_held++].bytes = job->bytes;
    }
    submission_sink_t sink = {NULL, NULL, true};
    submission_t *sub = submission_parse_csv(job->def, job->trust, job->data, job->bytes, &sink);
    HARNESS_CHECK(sub, "out of memory parsing %zu bytes", job->bytes);
    submission_destroy(&sub);
    store_job_destroy(&job);
}

static void submit(server_t *sv, const char *client, const uint8_t *body, size_t len,
                   long long now_ms)
{
    Ncap__V1__SubmitRequest *req = ncap__v1__submit_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    upload_t done;
    char err[1024];
    if (!req->client_token[0] || strlen(req->client_token) >= sizeof done.token ||
        strlen(req->audit) >= sizeof done.audit || ods_code_kind(req->trust) == ODS_CODE_INVALID ||
        (req->seq == 0 && !audit_cache_get(harness_audits(), req->audit, err, sizeof err)) ||
        (req->seq == 0 && trust_rate_take(sv->rate, req->trust, now_ms) > 0)) {
        ncap__v1__submit_request__free_unpacked(req, NULL);
        return; /* refused before the upload table */
    }
    upload_chunk_t chunk = {
        req->client_token, req->audit,      req->trust,     req->filename, req->seq,
        req->last,         req->chunk.data, req->chunk.len, client,        strlen(client)};
    size_t progress = 0, before = uploads_bytes(sv->uploads);
    switch (uploads_add(sv->uploads, &chunk, now_ms, &progress, &done, err, sizeof err)) {
    case UPLOAD_REFUSED:
        HARNESS_CHECK(err[0], "refused without a reason");
        break;
    case UPLOAD_MORE:
        HARNESS_CHECK(progress >= req->chunk.len, "progress %zu after a chunk of %zu", progress,
                      req->chunk.len);
        HARNESS_CHECK(uploads_bytes(sv->uploads) <= before + req->chunk.len,
                      "held grew by more than the chunk");
        break;
    case UPLOAD_COMPLETE:
        HARNESS_CHECK(progress == done.len, "progress %zu, file of %zu", progress, done.len);
        finished(sv, &done, client, strlen(client));
        break;
    }
    HARNESS_CHECK(uploads_bytes(sv->uploads) + uploads_held(sv->uploads) <= UPLOAD_MAX_HELD_BYTES,
                  "%zu bytes in progress and %zu held", uploads_bytes(sv->uploads),
                  uploads_held(sv->uploads));
    ncap__v1__submit_request__free_unpacked(req, NULL);
}

static void feedback(const uint8_t *body, size_t len)
{
    Ncap__V1__FeedbackRequest *req = ncap__v1__feedback_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    if (ods_code_kind(req->trust) != ODS_CODE_INVALID && req->submission_id > 0 && req->after)
        HARNESS_CHECK(req->after->field && req->after->rule && req->after->stage &&
                          req->after->message,
                      "a cursor with a NULL string");
    ncap__v1__feedback_request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) /* once: later calls return at once */
        abort();
    static const char *const clients[] = {"client-a", "client-b", "client-c", "client-d"};
    server_t sv = {uploads_new(),
                   trust_rate_new(TRUST_RATE_LIMIT_DEFAULT, TRUST_RATE_WINDOW_DEFAULT),
                   {{"", 0}},
                   0};
    if (!sv.uploads || !sv.rate)
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
        uploads_expire(sv.uploads, now_ms); /* the server's tick */
        if (kind & 1)
            feedback(body, len);
        else
            submit(&sv, clients[(kind >> 1) & 3], body, len, now_ms);
        free(body);
        data += len;
        size -= len;
    }
    for (size_t i = 0; i < sv.n_held; i++) /* stored at last */
        uploads_release(sv.uploads, sv.held[i].trust, sv.held[i].bytes);
    HARNESS_CHECK(uploads_held(sv.uploads) == 0, "%zu bytes held after every file was stored",
                  uploads_held(sv.uploads));
    uploads_destroy(&sv.uploads);
    trust_rate_destroy(&sv.rate);
    return 0;
}
