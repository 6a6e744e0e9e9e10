/* fuzz_ingest_request.c - what ncap-ingestd does with a trust's requests before it needs
 * PostgreSQL: a sequence of requests, each decoded as ingest_server.c decodes it (a
 * ncap.v1.SubmitRequest, or a ncap.v1.FeedbackRequest after its type frame), the request's checks
 * (token and audit sizes, the trust an ODS trust code), the upload table (upload.c: chunks in
 * order, restarts, limits, eviction, expiry as time passes), and a finished file parsed against
 * its audit's definition as the store worker parses it first (store_job.c:
 * submission_parse_csv). Reading feedback and storing the file need PostgreSQL: not here.
 *
 * ingest_server.c keeps these steps in static functions tied to its ROUTER socket; this target
 * repeats its checks in the same order (keep them in step).
 *
 * The input is a sequence of frames: 1 byte kind (bit 0: feedback), 1 byte of minutes that pass
 * before it, 2 bytes big-endian length, then the request's bytes.
 *
 * Checked: an upload's progress is the bytes taken, a finished file is NUL-terminated at its
 * length, and the uploads held never pass UPLOAD_MAX_HELD_BYTES. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ncap/v1/feedback.pb-c.h"
#include "ncap/v1/submission.pb-c.h"
#include "ods_code.h"
#include "store_job.h"
#include "submission.h"
#include "upload.h"

static void finished(upload_t *done)
{
    HARNESS_CHECK(done->data && done->data[done->len] == '\0',
                  "a finished file of %zu bytes is "
                  "not NUL-terminated",
                  done->len);
    char err[1024];
    const audit_def_t *def = audit_cache_get(harness_audits(), done->audit, err, sizeof err);
    if (!def) {
        free(done->data);
        return;
    }
    store_job_t *job = store_job_new(done, def, "client", 6);
    if (!job)
        abort();
    HARNESS_CHECK(!done->data && job->bytes == done->len, "the file did not move into the job");
    submission_t *sub = submission_parse_csv(job->def, job->trust, job->data, job->bytes);
    HARNESS_CHECK(sub, "out of memory parsing %zu bytes", job->bytes);
    submission_destroy(&sub);
    store_job_destroy(&job);
}

static void submit(uploads_t *uploads, const uint8_t *body, size_t len, long long now_ms)
{
    Ncap__V1__SubmitRequest *req = ncap__v1__submit_request__unpack(NULL, len, body);
    if (!req)
        return; /* "could not decode the request" */
    upload_t done;
    if (!req->client_token[0] || strlen(req->client_token) >= sizeof done.token ||
        strlen(req->audit) >= sizeof done.audit || ods_code_kind(req->trust) == ODS_CODE_INVALID) {
        ncap__v1__submit_request__free_unpacked(req, NULL);
        return; /* refused before the upload table */
    }
    upload_chunk_t chunk = {req->client_token, req->audit, req->trust,      req->filename,
                            req->seq,          req->last,  req->chunk.data, req->chunk.len};
    size_t progress = 0, before = uploads_bytes(uploads);
    char err[1024];
    switch (uploads_add(uploads, &chunk, 0, now_ms, &progress, &done, err, sizeof err)) {
    case UPLOAD_REFUSED:
        HARNESS_CHECK(err[0], "refused without a reason");
        break;
    case UPLOAD_MORE:
        HARNESS_CHECK(progress >= req->chunk.len, "progress %zu after a chunk of %zu", progress,
                      req->chunk.len);
        HARNESS_CHECK(uploads_bytes(uploads) <= before + req->chunk.len, "held grew by more than "
                                                                         "the chunk");
        break;
    case UPLOAD_COMPLETE:
        HARNESS_CHECK(progress == done.len, "progress %zu, file of %zu", progress, done.len);
        finished(&done);
        break;
    }
    HARNESS_CHECK(uploads_bytes(uploads) <= UPLOAD_MAX_HELD_BYTES, "%zu bytes held",
                  uploads_bytes(uploads));
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
    uploads_t *uploads = uploads_new();
    if (!uploads)
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
        uploads_expire(uploads, now_ms); /* the server's tick */
        if (kind & 1)
            feedback(body, len);
        else
            submit(uploads, body, len, now_ms);
        free(body);
        data += len;
        size -= len;
    }
    uploads_destroy(&uploads);
    return 0;
}
