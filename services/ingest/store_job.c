/* store_job.c - parse, then BEGIN, ingest_store, COMMIT */
#include "store_job.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

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
    free(self);
    *self_p = NULL;
}

void store_job_key(const store_job_t *self, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", self->audit, self->trust);
}

void store_job_run(store_job_t *self, PGconn **db, const daemon_config_t *cfg)
{
    assert(self);
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%zu", self->bytes);
    ncap_log(LOG_INFO, "storing submission", "trust", self->trust, "audit", self->audit, "file",
             self->filename, "bytes", bytes, NULL);
    long long t0 = daemon_now_ms();
    self->sub =
        submission_parse_csv(self->def, self->trust, self->data ? self->data : "", self->bytes);
    free(self->data);
    self->data = NULL;
    self->parse_ms = daemon_now_ms() - t0;
    if (!self->sub) {
        self->state = STORE_JOB_FAILED;
        snprintf(self->error, sizeof self->error, "out of memory while parsing the file");
        return;
    }
    if (self->sub->file_error[0]) {
        self->state = STORE_JOB_REFUSED;
        snprintf(self->error, sizeof self->error, "file refused: %s", self->sub->file_error);
        return;
    }
    char err[1024] = "no database connection";
    int ok = 0;
    t0 = daemon_now_ms();
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        if (!*db || !db_alive(*db)) {
            PQfinish(*db);
            *db = daemon_connect(cfg);
            if (!*db)
                break;
        }
        if (db_exec(*db, "BEGIN", err, sizeof err) == 0 &&
            ingest_store(*db, self->audit, self->trust, self->filename, self->bytes, self->sub,
                         &self->res, err, sizeof err) == 0 &&
            db_exec(*db, "COMMIT", err, sizeof err) == 0) {
            ok = 1;
        } else {
            db_exec(*db, "ROLLBACK", NULL, 0);
            ingest_result_free(&self->res);
            if (db_alive(*db))
                break; /* the server refused it: the same again would be refused again */
        }
    }
    self->store_ms = daemon_now_ms() - t0;
    if (!ok) {
        self->state = STORE_JOB_FAILED;
        snprintf(self->error, sizeof self->error,
                 "could not store the submission, nothing was kept: %s", err);
        return;
    }
    self->state = STORE_JOB_STORED;
}
