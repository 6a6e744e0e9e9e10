/* gateway_call - the trusts' API's calls into ingest, without HTTP, for the end-to-end test
 * tests/e2e/test_trust_gateway.sh. Never part of a deployment.
 *
 *   gateway_call [--ingest EP] [--keys DIR] [--token T] [--threads N] CALL ARGS...
 *     Through the gateway library (services/web/gateway/trust_gateway.h) with DIR/web.key and
 *     DIR/ingest.pub, the token T as the trust presented it. CALL ARGS:
 *       submit AUDIT TRUST FILE | feedback ID | results AUDIT [PERIOD] | outliers [AUDIT] |
 *       case ID | respond ID TEXT
 *     Prints "<http status>" on the first line and the JSON body on the second. With --threads N,
 *     N threads make the same call at once; each prints its two lines (under a lock).
 *
 *   gateway_call --raw [--ingest EP] [--keys DIR] [--secret KEY] [--token T] CALL ARGS...
 *     Straight to ingest with the clients the gateway uses, connecting with KEY (default
 *     DIR/web.key: the gateway's key) and sending T as the bearer token (default none), so that
 *     what ingest itself takes and refuses is seen without the gateway's own checks. CALL ARGS:
 *       submit AUDIT TRUST FILE | feedback TRUST ID | results TRUST AUDIT | outliers TRUST
 *     Prints "ok" or "refused <status>: <ingest's message>" (status 0: not classed).
 * Exit 0 when a call was made, 2 on usage. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback_client.h"
#include "file_read.h"
#include "outlier_client.h"
#include "results_client.h"
#include "submit_client.h"
#include "trust_gateway.h"

typedef struct {
    trust_gateway *gw;
    const char *token;
    char **args;
    int nargs;
    const char *data;
    size_t len;
} call_t;

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void *one_call(void *arg)
{
    call_t *c = arg;
    gateway_reply r = {0};
    const char *cmd = c->args[0];
    if (strcmp(cmd, "submit") == 0)
        trust_gateway_submit(c->gw, c->token, c->args[1], c->args[2], c->data, c->len, &r);
    else if (strcmp(cmd, "feedback") == 0)
        trust_gateway_feedback(c->gw, c->token, c->args[1], &r);
    else if (strcmp(cmd, "results") == 0)
        trust_gateway_results(c->gw, c->token, c->args[1], c->nargs > 2 ? c->args[2] : NULL, &r);
    else if (strcmp(cmd, "case") == 0)
        trust_gateway_outlier_case(c->gw, c->token, c->args[1], &r);
    else if (strcmp(cmd, "respond") == 0)
        trust_gateway_outlier_respond(c->gw, c->token, c->args[1], c->args[2], strlen(c->args[2]),
                                      &r);
    else
        trust_gateway_outliers(c->gw, c->token, c->nargs > 1 ? c->args[1] : NULL, &r);
    pthread_mutex_lock(&print_lock);
    printf("%d\n%s\n", r.http_status, r.body ? r.body : "");
    fflush(stdout);
    pthread_mutex_unlock(&print_lock);
    gateway_reply_free(&r);
    return NULL;
}

static void ignore_summary(void *arg, const feedback_summary_t *s)
{
}
static void ignore_problem(void *arg, const feedback_problem_t *p)
{
}
static void ignore_figure(void *arg, const Ncap__V1__ResultsFigure *f)
{
}
static void ignore_record(void *arg, const Ncap__V1__ResultsRecord *r)
{
}

/* --raw: one request straight to ingest. */
static int raw(ingest_target_t *to, char **args, int nargs, const char *data, size_t len)
{
    char err[4096] = "";
    unsigned refusal = 0;
    to->refusal = &refusal;
    int rc = -1;
    const char *cmd = args[0];
    if (strcmp(cmd, "submit") == 0 && nargs == 4) {
        submit_receipt_t rec;
        rc = submit_buffer(to, args[1], args[2], "raw.csv", data, len, false, 30, &rec, err,
                           sizeof err);
        if (rc == 0)
            submit_receipt_free(&rec);
    } else if (strcmp(cmd, "feedback") == 0 && nargs == 3) {
        feedback_sink_t sink = {ignore_summary, ignore_problem, NULL};
        rc = feedback_fetch(to, args[1], strtoll(args[2], NULL, 10), 0, 30, &sink, err, sizeof err);
    } else if (strcmp(cmd, "results") == 0 && nargs == 3) {
        results_sink_t sink = {ignore_figure, ignore_record, NULL};
        rc = results_fetch(to, args[1], args[2], "", 0, 30, &sink, err, sizeof err);
    } else if (strcmp(cmd, "outliers") == 0 && nargs == 2) {
        Ncap__V1__OutlierRequest req = NCAP__V1__OUTLIER_REQUEST__INIT;
        Ncap__V1__OutlierReply *rep;
        req.trust = args[1];
        rc = outlier_client_call(to, &req, 30, &rep, err, sizeof err);
        if (rc == 0) {
            if (rep->kind != NCAP__V1__OUTLIER_REPLY__KIND__OK) {
                snprintf(err, sizeof err, "%s", rep->error);
                rc = -1;
            }
            ncap__v1__outlier_reply__free_unpacked(rep, NULL);
        }
    } else {
        fprintf(stderr, "gateway_call: --raw: unknown call or wrong arguments\n");
        return 2;
    }
    if (rc == 0)
        printf("ok\n");
    else
        printf("refused %u: %s\n", refusal, err);
    return 0;
}

int main(int argc, char **argv)
{
    const char *ingest = NULL, *keys = NULL, *token = NULL, *secret = NULL;
    int threads = 1, i = 1;
    bool raw_mode = false;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--raw") == 0)
            raw_mode = true;
        else if (i + 1 >= argc)
            break;
        else if (strcmp(argv[i], "--ingest") == 0)
            ingest = argv[++i];
        else if (strcmp(argv[i], "--keys") == 0)
            keys = argv[++i];
        else if (strcmp(argv[i], "--token") == 0)
            token = argv[++i];
        else if (strcmp(argv[i], "--secret") == 0)
            secret = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else
            break;
    }
    static const struct {
        const char *name;
        int min, max; /* arguments after the call's name */
    } calls[] = {{"submit", 3, 3},   {"feedback", 1, 1}, {"results", 1, 2},
                 {"outliers", 0, 1}, {"case", 1, 1},     {"respond", 2, 2}};
    bool known = raw_mode && i < argc;
    for (size_t k = 0; !known && i < argc && k < sizeof calls / sizeof *calls; k++)
        known = strcmp(argv[i], calls[k].name) == 0 && argc - i - 1 >= calls[k].min &&
                argc - i - 1 <= calls[k].max;
    if (!known || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: gateway_call [--raw] [--ingest EP] [--keys DIR] [--secret KEY] "
                        "[--token T] [--threads N] CALL ARGS... (see the source's comment)\n");
        return 2;
    }
    char **args = argv + i;
    int nargs = argc - i;
    char *data = NULL;
    size_t len = 0;
    if (strcmp(args[0], "submit") == 0) {
        if (nargs != 4 || file_read_all(args[3], &data, &len) != 0) {
            fprintf(stderr, "gateway_call: submit AUDIT TRUST FILE: could not read the file\n");
            return 2;
        }
    }
    if (raw_mode) {
        client_keys_t k;
        ingest_target_t to = {.endpoint = ingest, .bearer = token, .plain = !keys};
        if (keys) {
            snprintf(k.server, sizeof k.server, "%s/ingest.pub", keys);
            if (secret)
                snprintf(k.secret, sizeof k.secret, "%s", secret);
            else
                snprintf(k.secret, sizeof k.secret, "%s/web.key", keys);
            to.keys = &k;
        }
        int rc = raw(&to, args, nargs, data, len);
        free(data);
        return rc;
    }
    char err[4096];
    trust_gateway_config cfg = {.ingest = ingest, .keys_dir = keys, .timeout_s = 30};
    trust_gateway *gw = trust_gateway_open(&cfg, err, sizeof err);
    if (!gw) {
        fprintf(stderr, "gateway_call: %s\n", err);
        free(data);
        return 2;
    }
    call_t c = {gw, token, args, nargs, data, len};
    pthread_t tid[64];
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tid[t], NULL, one_call, &c) != 0) {
            threads = t;
            break;
        }
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    trust_gateway_close(gw);
    free(data);
    return 0;
}
