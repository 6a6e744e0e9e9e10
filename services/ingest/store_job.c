/* store_job.c - BEGIN, the file read twice (its shape and problems, then its rows streamed),
 * ingest_store, COMMIT */
#include "store_job.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "problem_stream.h"

store_job_t *store_job_new(upload_t *upload, const audit_def_t *def, const void *client,
                           size_t client_len)
{
    if (client_len > STORE_JOB_CLIENT_MAX)
        return NULL;
    store_job_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    memcpy(self->token, upload->token, sizeof self->token);
    memcpy(self->audit, upload->audit, sizeof self->audit);
    memcpy(self->trust, upload->trust, sizeof self->trust);
    memcpy(self->filename, upload->filename, sizeof self->filename);
    self->data = upload->data;
    self->bytes = upload->len;
    upload->data = NULL;
    self->def = def;
    if (client_len)
        memcpy(self->client, client, client_len);
    self->client_len = client_len;
    return self;
}

void store_job_destroy(store_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_job_t *self = *self_p;
    free(self->data);
    submission_destroy(&self->sub);
    ingest_result_free(&self->res);
    for (size_t i = 0; i < self->n_receipt; i++)
        free(self->receipt[i].rows);
    free(self->receipt);
    free(self);
    *self_p = NULL;
}

void store_job_key(const store_job_t *self, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", self->audit, self->trust);
}

/* Forgets what an attempt made, before the next. */
static void reset(store_job_t *self)
{
    submission_destroy(&self->sub);
    ingest_result_free(&self->res);
    for (size_t i = 0; i < self->n_receipt; i++)
        free(self->receipt[i].rows);
    self->n_receipt = 0;
}

/* Keeps p for the receipt: the first STORE_JOB_RECEIPT_PROBLEMS in the order found, except that
 * one kept once per rule (they come last, at most three) takes the place of the last record-level
 * one when the receipt is full. Nothing when out of memory: the receipt is a courtesy,
 * ingest.problem has them all. */
static void keep_for_receipt(store_job_t *self, const submission_problem_t *p)
{
    size_t at = self->n_receipt;
    if (at == STORE_JOB_RECEIPT_PROBLEMS) {
        size_t once = 0; /* kept once per rule so far: at the end */
        while (once < at && self->receipt[at - 1 - once].count > 1)
            once++;
        if (p->count <= 1 || once == at)
            return;
        at -= once + 1;
        free(self->receipt[at].rows);
    } else if (!self->receipt &&
               !(self->receipt = calloc(STORE_JOB_RECEIPT_PROBLEMS, sizeof *self->receipt))) {
        return;
    } else {
        self->n_receipt++;
    }
    store_job_problem_t *k = &self->receipt[at];
    memset(k, 0, sizeof *k);
    if (p->n_rows && (k->rows = malloc(p->n_rows * sizeof *k->rows)) != NULL) {
        memcpy(k->rows, p->rows, p->n_rows * sizeof *k->rows);
        k->n_rows = p->n_rows;
    }
    k->row = p->row;
    snprintf(k->field, sizeof k->field, "%s", p->field);
    snprintf(k->rule, sizeof k->rule, "%s", p->rule);
    snprintf(k->severity, sizeof k->severity, "%s", p->severity);
    snprintf(k->message, sizeof k->message, "%s", p->message);
    k->count = p->count;
}

typedef struct {
    store_job_t *job;
    problem_stream_t stream;
} sink_t;

static int on_problem(void *ctx, const submission_problem_t *p)
{
    sink_t *sk = ctx;
    if (problem_stream_put(&sk->stream, p) != 0)
        return -1;
    keep_for_receipt(sk->job, p);
    return 0;
}

static const char *file_of(const store_job_t *self)
{
    return self->data ? self->data : "";
}

/* A row fit to store, in the first pass: only counted (the scan counts it). */
static int shape_only(void *ctx, const submission_t *s, int row, const csv_reader_t *csv,
                      const audit_field_t *const *col)
{
    (void)ctx, (void)s, (void)row, (void)csv, (void)col;
    return 0;
}

/* The rows fit to store, built and streamed into sub_rows (the second pass over the file: its
 * problems went in with the first). Returns how many, or -1 with err. */
static long stream_rows(store_job_t *self, PGconn *db, char *err, size_t errlen)
{
    ingest_rows_t rs;
    if (ingest_rows_begin(&rs, db, err, errlen) != 0)
        return -1;
    submission_t *again = submission_stream_csv(self->def, self->trust, file_of(self), self->bytes,
                                                ingest_rows_put, &rs, NULL);
    if (ingest_rows_end(&rs, again != NULL, err, errlen) != 0) {
        if (!again && !rs.copy.failed)
            snprintf(err, errlen, "out of memory while parsing the file");
        submission_destroy(&again);
        return -1;
    }
    size_t expected = self->sub->data_rows - self->sub->rejected;
    int same = again->data_rows == self->sub->data_rows && rs.n == expected;
    submission_destroy(&again);
    if (!same) { /* the same bytes scanned twice: never, unless memory is corrupt */
        snprintf(err, errlen, "the file's second reading gave %zu rows to store, the first %zu",
                 rs.n, expected);
        return -1;
    }
    return (long)rs.n;
}

/* One attempt in one transaction: the submission's row; a first pass over the file for its shape,
 * its problems streamed into ingest.problem; a second building the rows, streamed into sub_rows
 * (one COPY at a time on a connection, and keeping the rows between the two would make memory
 * follow the file's rows); then their versions. Returns 0 committed, 1 refused (rolled back), -1
 * failed (err; the caller rolls back). */
static int attempt(store_job_t *self, PGconn *db, char *err, size_t errlen)
{
    int64_t sid;
    sink_t sk = {.job = self};
    if (db_exec(db, "BEGIN", err, errlen) != 0 ||
        ingest_store_begin(db, self->audit, self->trust, self->filename, self->bytes, &sid, err,
                           errlen) != 0 ||
        problem_stream_begin(&sk.stream, db, sid, err, errlen) != 0)
        return -1;
    long long t0 = daemon_now_ms();
    submission_sink_t sink = {on_problem, &sk, true};
    self->sub = submission_scan_csv(self->def, self->trust, file_of(self), self->bytes, shape_only,
                                    NULL, &sink);
    int streamed = problem_stream_end(&sk.stream, self->sub != NULL, err, errlen);
    self->parse_ms = daemon_now_ms() - t0;
    if (!self->sub && !sk.stream.copy.failed)
        snprintf(err, errlen, "out of memory while parsing the file");
    if (streamed != 0)
        return -1;
    if (self->sub->file_error[0]) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return 1;
    }
    t0 = daemon_now_ms();
    long n_rows = stream_rows(self, db, err, errlen);
    int rc = -1;
    if (n_rows >= 0 && ingest_store(db, sid, self->audit, self->trust, self->sub, (size_t)n_rows,
                                    &self->res, err, errlen) == 0) {
        rc = db_exec(db, "COMMIT", err, errlen) == 0 ? 0 : -1;
        /* the connection broke with the COMMIT sent: it may have been carried out */
        self->in_doubt |= rc != 0 && !db_alive(db);
    }
    self->store_ms = daemon_now_ms() - t0;
    return rc;
}

void store_job_run(store_job_t *self, PGconn **db, const daemon_config_t *cfg)
{
    assert(self);
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%zu", self->bytes);
    ncap_log(LOG_INFO, "storing submission", "trust", self->trust, "audit", self->audit, "file",
             self->filename, "bytes", bytes, NULL);
    char err[1024] = "no database connection";
    int rc = -1;
    for (int n = 0; n < 2 && rc < 0; n++) {
        if (!*db || !db_alive(*db)) {
            PQfinish(*db);
            *db = daemon_connect(cfg);
            if (!*db)
                break;
        }
        reset(self);
        if ((rc = attempt(self, *db, err, sizeof err)) < 0) {
            db_exec(*db, "ROLLBACK", NULL, 0);
            if (db_alive(*db))
                break; /* the server refused it (or memory ran out): the same again would fail */
        }
    }
    free(self->data);
    self->data = NULL;
    if (rc == 1) {
        self->state = STORE_JOB_REFUSED;
        snprintf(self->error, sizeof self->error, "file refused: %s", self->sub->file_error);
    } else if (rc != 0) {
        self->state = STORE_JOB_FAILED;
        snprintf(self->error, sizeof self->error,
                 self->in_doubt ? "could not confirm that the submission was stored (the database "
                                  "connection broke during its commit; send it again: identical "
                                  "records are recognised and not duplicated): %s"
                                : "could not store the submission, nothing was kept: %s",
                 err);
    } else {
        self->state = STORE_JOB_STORED;
    }
}
