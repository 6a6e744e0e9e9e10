/* submit_client.c - a file to ingest in chunks over a DEALER socket; the receipt back */
#include "submit_client.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "feedback_report.h"
#include "ingest_reply.h"
#include "ncap/v1/submission.pb-c.h"
#include "strbuf.h"

#define CHUNK_BYTES (1u << 20)
#define RECEIPT_ROWS_LISTED 10 /* rows shown of a problem kept once per rule; feedback has more */

/* Waits for one reply. Returns it (caller frees) or NULL on timeout or a bad reply. */
static Ncap__V1__SubmitReply *await_reply(void *sock, int timeout_s, char *err, size_t errlen)
{
    ProtobufCMessage *m;
    switch (
        ingest_reply_await(sock, timeout_s, &ncap__v1__submit_reply__descriptor, &m, err, errlen)) {
    case INGEST_REPLY_OK:
        return (Ncap__V1__SubmitReply *)m;
    case INGEST_REPLY_INTERRUPTED:
        snprintf(err, errlen,
                 "interrupted while waiting for ingest's receipt; the submission may "
                 "or may not have been stored: send it again (identical records are "
                 "recognised and not duplicated)");
        return NULL;
    case INGEST_REPLY_TIMEOUT:
        snprintf(err, errlen,
                 "no reply from ingest within %d s; the submission may or may not "
                 "have been stored: send it again (identical records are recognised "
                 "and not duplicated)",
                 timeout_s);
        return NULL;
    case INGEST_REPLY_BROKEN:
        break;
    }
    return NULL;
}

int submit_buffer(const ingest_target_t *to, const char *audit, const char *trust,
                  const char *filename, const char *data, size_t len, bool progress, int timeout_s,
                  submit_receipt_t *receipt, char *err, size_t errlen)
{
    memset(receipt, 0, sizeof *receipt);
    void *ctx = zmq_ctx_new();
    void *sock = ingest_connect(ctx, to, trust, timeout_s, err, errlen);
    int rc = -1;
    bool progress_line = false; /* a "\rsent ..." line on stderr waits for its newline */
    if (!sock)
        goto out;
    unsigned char raw[16];
    char token[33];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    size_t sent = 0;
    uint32_t seq = 0;
    do {
        size_t n = len - sent < CHUNK_BYTES ? len - sent : CHUNK_BYTES;
        Ncap__V1__SubmitRequest req = NCAP__V1__SUBMIT_REQUEST__INIT;
        req.client_token = token;
        req.audit = (char *)audit;
        req.trust = (char *)trust;
        req.bearer_token = ingest_target_bearer(to);
        req.filename = (char *)filename;
        req.format = "csv";
        req.seq = seq++;
        req.chunk.data = (uint8_t *)data + sent;
        req.chunk.len = n;
        req.last = sent + n == len;
        size_t plen = ncap__v1__submit_request__get_packed_size(&req);
        uint8_t *buf = malloc(plen ? plen : 1);
        if (!buf) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        ncap__v1__submit_request__pack(&req, buf);
        int s = zmq_send(sock, buf, plen, 0);
        free(buf);
        if (s < 0) {
            ingest_send_error(zmq_errno(), timeout_s, err, errlen);
            goto out;
        }
        sent += n;
        Ncap__V1__SubmitReply *rep = await_reply(sock, timeout_s, err, errlen);
        if (!rep)
            goto out;
        if (rep->kind == NCAP__V1__SUBMIT_REPLY__KIND__ERROR) {
            snprintf(err, errlen, "%s", rep->error);
            ingest_target_refused(to, rep->status);
            ncap__v1__submit_reply__free_unpacked(rep, NULL);
            goto out;
        }
        if (rep->kind == NCAP__V1__SUBMIT_REPLY__KIND__PROGRESS) {
            if (progress) {
                fprintf(stderr, "\rsent %.1f of %.1f MB (%3.0f%%)", (double)sent / 1048576.0,
                        (double)len / 1048576.0, 100.0 * (double)sent / (double)len);
                progress_line = true;
            }
            ncap__v1__submit_reply__free_unpacked(rep, NULL);
            continue;
        }
        if (progress_line) {
            fprintf(stderr, "\rsent %.1f MB; ingest committed it              \n",
                    (double)len / 1048576.0);
            progress_line = false;
        }
        receipt->submission_id = rep->submission_id;
        receipt->rows = rep->rows;
        receipt->accepted = rep->accepted;
        receipt->unchanged = rep->unchanged;
        receipt->rejected = rep->rejected;
        strbuf_t lines;
        strbuf_init(&lines);
        for (size_t i = 0; i < rep->n_problems; i++) {
            const Ncap__V1__RowProblem *p = rep->problems[i];
            strbuf_appendf(&lines, "row %u: %s%s%s (%s, %s)", p->row, p->field,
                           p->field[0] ? ": " : "", p->message, p->severity, p->rule);
            if (p->count > 1) { /* kept once per rule: its rows, the first few */
                strbuf_append(&lines, ": ");
                feedback_report_rows(&lines, p->count, p->rows, p->n_rows, RECEIPT_ROWS_LISTED);
            }
            strbuf_append(&lines, "\n");
        }
        receipt->reply = rep;
        if (lines.oom) {
            strbuf_free(&lines);
            submit_receipt_free(receipt);
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        receipt->problem_lines = lines.s;
        rc = 0;
        break;
    } while (sent < len || rc != 0);
out:
    if (progress_line)
        fputc('\n', stderr); /* the error that follows starts a line of its own */
    if (sock)
        zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}

void submit_receipt_print(FILE *out, const submit_receipt_t *receipt, bool with_problems)
{
    fprintf(out, "submission %lld: %u rows, %u accepted, %u unchanged, %u rejected\n",
            (long long)receipt->submission_id, receipt->rows, receipt->accepted, receipt->unchanged,
            receipt->rejected);
    if (with_problems && receipt->problem_lines)
        fputs(receipt->problem_lines, out);
}

void submit_receipt_free(submit_receipt_t *receipt)
{
    free(receipt->problem_lines);
    receipt->problem_lines = NULL;
    if (receipt->reply)
        ncap__v1__submit_reply__free_unpacked(receipt->reply, NULL);
    receipt->reply = NULL;
}
