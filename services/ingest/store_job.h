/* store_job.h - one finished upload on its way into PostgreSQL: the file and who to answer, then
 * what storing it gave (the receipt's figures, or why nothing was kept). A store worker runs it;
 * the request loop made it and answers from it. */
#ifndef NCAP_STORE_JOB_H
#define NCAP_STORE_JOB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "audit_def.h"
#include "daemon.h"
#include "ingest_store.h"
#include "submission.h"
#include "upload.h"

#define STORE_JOB_CLIENT_MAX 256       /* bytes of a ZeroMQ routing id */
#define STORE_JOB_RECEIPT_PROBLEMS 200 /* problems sent with the receipt; ncap feedback has all */

/* A problem kept for the receipt (as submission_problem_t, owning its strings and rows). */
typedef struct {
    int row;
    char field[64], rule[32], severity[8], message[640];
    unsigned count;
    int *rows;
    size_t n_rows;
} store_job_problem_t;

typedef enum {
    STORE_JOB_WAITING, /* not run yet */
    STORE_JOB_STORED,  /* committed: sub, res and receipt hold what the receipt and linkage need */
    STORE_JOB_REFUSED, /* the file's shape was refused (sub->file_error): nothing kept */
    STORE_JOB_FAILED,  /* could not parse or store it: nothing kept, the reason in error */
} store_job_state_t;

typedef struct {
    /* the finished upload */
    char token[80];
    char audit[40];
    char trust[16];
    char filename[256];
    char *data; /* the file, NUL-terminated; freed once stored (a retry reads it again) */
    size_t bytes;
    const audit_def_t *def; /* the audit's definition (not owned; outlives the job) */
    unsigned char client[STORE_JOB_CLIENT_MAX]; /* who to answer: opaque here */
    size_t client_len;
    /* what storing it gave */
    store_job_state_t state;
    char error[1100]; /* REFUSED, FAILED: the message for the client */
    submission_t *sub; /* the file's counts and file_error; no rows (they were streamed) */
    ingest_result_t res;
    /* the first STORE_JOB_RECEIPT_PROBLEMS problems in the order found, those kept once per rule
     * (found last) always among them; every problem is in ingest.problem */
    store_job_problem_t *receipt;
    size_t n_receipt;
    long long parse_ms, store_ms;
    int in_doubt; /* a COMMIT was sent and its connection broke: it may have been carried out */
    /* the loop's: versions passed on to linkage so far */
    size_t passed_on;
} store_job_t;

/* A job for upload (its data moves into the job: upload->data is NULL afterwards), answering the
 * client whose routing id is client (client_len <= STORE_JOB_CLIENT_MAX), against def. NULL when
 * out of memory (upload unchanged). */
store_job_t *store_job_new(upload_t *upload, const audit_def_t *def, const void *client,
                           size_t client_len);
void store_job_destroy(store_job_t **self_p);

/* The key whose jobs must be stored one at a time, in order: "audit/trust". */
void store_job_key(const store_job_t *self, char *out, size_t outlen);

/* Parses the file and stores it in one transaction on *db, which it (re)connects through
 * daemon_connect(cfg) when there is none or it was lost (one retry after a lost connection): the
 * submission's row, its problems streamed into ingest.problem as a first reading of the file finds
 * them (file-level ones kept once per rule), then its rows, built and streamed into PostgreSQL by
 * a second reading, one at a time. Memory beyond the file is a few megabytes whatever its rows:
 * the local ids seen (for duplicates), two COPY buffers, the versions to pass on. The file's
 * bytes are freed at the end. Sets state, and error unless STORED. Never sends anything: the
 * caller answers only after this has returned, so a receipt always follows the commit. */
void store_job_run(store_job_t *self, PGconn **db, const daemon_config_t *cfg);

#endif
