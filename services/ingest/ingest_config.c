/* ingest_config.c - ncap-ingestd's own options are taken out of argv before daemon_config_parse
 * sees the rest */
#include "ingest_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pool.h"
#include "submission.h"
#include "trust_rate.h"
#include "upload.h"

#define SERVICE "ncap-ingestd"

/* where: the option or variable the value came from, for the message. */
static int parse_workers(const char *where, const char *s, ingest_options_t *o)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > STORE_POOL_MAX_WORKERS) {
        fprintf(stderr, "invalid value \"%s\" for %s: expected a whole number from 1 to %d\n", s,
                where, STORE_POOL_MAX_WORKERS);
        return -1;
    }
    o->store_workers = (int)v;
    return 0;
}

/* "N/S", N submissions per S seconds, or "0": no limit. */
static int parse_rate(const char *where, const char *s, ingest_options_t *o)
{
    char *end;
    unsigned long n = strtoul(s, &end, 10), w = 0;
    int ok = end != s && *s != '-';
    if (ok && n == 0 && *end == '\0') {
        o->rate_limit = 0;
        return 0;
    }
    if (ok && *end == '/') {
        const char *ws = end + 1;
        w = strtoul(ws, &end, 10);
        ok = end != ws && *ws != '-' && *end == '\0';
    } else {
        ok = 0;
    }
    if (!ok || n < 1 || n > 1000000 || w < 1 || w > 86400) {
        fprintf(stderr,
                "invalid value \"%s\" for %s: expected N/S, at most N submissions per trust "
                "every S seconds (N 1-1000000, S 1-86400), e.g. 60/60, or 0 for no limit\n",
                s, where);
        return -1;
    }
    o->rate_limit = (unsigned)n;
    o->rate_window_s = (unsigned)w;
    return 0;
}

static const struct {
    const char *option, *env;
    int (*parse)(const char *where, const char *s, ingest_options_t *o);
} own[] = {
    {"--store-workers", "NCAP_STORE_WORKERS", parse_workers},
    {"--submission-rate", "NCAP_SUBMISSION_RATE", parse_rate},
};
#define N_OWN (sizeof own / sizeof *own)

static void print_help(void)
{
    printf("\nncap-ingestd's own options:\n"
           "  --store-workers N        threads that parse and store finished uploads, each with "
           "its own\n"
           "                           PostgreSQL connection ($NCAP_STORE_WORKERS, default %d, "
           "at most %d)\n"
           "  --submission-rate N/S    at most N submissions begun per trust every S seconds "
           "(a token\n"
           "                           bucket; $NCAP_SUBMISSION_RATE, default %d/%d; 0: no "
           "limit); past it\n"
           "                           a trust is told \"too many submissions from trust T: N in "
           "the last S s,\n"
           "                           retry after W s\"\n"
           "\nlimits (each refused with a message saying what was found and the limit):\n"
           "  a file               at most %u MB, %d data rows and %d columns\n"
           "  a value              at most %d bytes (a longer one refuses its row)\n"
           "  a record's local id  at most %d bytes of printable text (else its row is refused)\n"
           "  uploads in progress  %d per trust, %d in all, each dropped after %d minutes "
           "without a chunk;\n"
           "                       never one trust's to make room for another's; an upload "
           "continues\n"
           "                       only on the connection that began it\n"
           "  not yet stored       %u MB received per trust, %u MB in all\n"
           "  a request message    at most %u MB (ZMQ_MAXMSGSIZE: a larger one closes the "
           "connection;\n"
           "                       ncap submit sends chunks of 1 MB)\n"
           "  problems             streamed to ingest.problem as found; those of the file's "
           "shape\n"
           "                       (%s) kept once per rule with their count and\n"
           "                       first %d rows\n",
           INGEST_STORE_WORKERS_DEFAULT, STORE_POOL_MAX_WORKERS, TRUST_RATE_LIMIT_DEFAULT,
           TRUST_RATE_WINDOW_DEFAULT, UPLOAD_MAX_FILE_BYTES >> 20, SUBMISSION_MAX_ROWS,
           SUBMISSION_MAX_COLUMNS, SUBMISSION_MAX_FIELD_BYTES, SUBMISSION_MAX_LOCAL_ID_BYTES,
           UPLOAD_MAX_PER_TRUST, UPLOAD_MAX_PENDING, UPLOAD_EXPIRY_MS / 60000,
           UPLOAD_MAX_TRUST_BYTES >> 20, UPLOAD_MAX_HELD_BYTES >> 20,
           UPLOAD_MAX_MESSAGE_BYTES >> 20, SUBMISSION_FILE_RULES, SUBMISSION_LISTED_ROWS);
}

int ingest_config_parse(daemon_config_t *cfg, ingest_options_t *opts, int argc, char **argv)
{
    *opts = (ingest_options_t){INGEST_STORE_WORKERS_DEFAULT, TRUST_RATE_LIMIT_DEFAULT,
                               TRUST_RATE_WINDOW_DEFAULT};
    for (size_t k = 0; k < N_OWN; k++) {
        const char *env = getenv(own[k].env);
        char where[64];
        snprintf(where, sizeof where, "$%s", own[k].env);
        if (env && *env && own[k].parse(where, env, opts) != 0)
            return 2;
    }
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) {
        fprintf(stderr, SERVICE ": out of memory\n");
        return 2;
    }
    int n = 0, rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        size_t k = 0, len = 0;
        for (; i > 0 && k < N_OWN; k++) {
            len = strlen(own[k].option);
            if (strncmp(a, own[k].option, len) == 0 && (a[len] == '\0' || a[len] == '='))
                break;
        }
        if (i == 0 || k == N_OWN) {
            rest[n++] = argv[i];
        } else if (a[len] == '=') {
            rc = own[k].parse(own[k].option, a + len + 1, opts) != 0 ? 2 : 0;
        } else if (i + 1 < argc) {
            rc = own[k].parse(own[k].option, argv[++i], opts) != 0 ? 2 : 0;
        } else {
            fprintf(stderr, "option \"%s\" needs a value; try '" SERVICE " --help'\n",
                    own[k].option);
            rc = 2;
        }
    }
    if (rc == 0)
        rc = daemon_config_parse(
            cfg, SERVICE, "ingest",
            "Takes trusts' submissions (CSV with a header) over ZeroMQ, checks each file's "
            "shape, stores every record\nas received in the ingest schema, answers with a receipt "
            "only after commit, and passes new\nrecord versions to linkage. Finished uploads are "
            "parsed and stored by a pool of threads, one\naudit and trust at a time in the order "
            "they arrived, so that a large file never holds up\nanother trust, feedback or the "
            "heartbeat. On SIGTERM it takes no new upload, refuses the\nfiles not yet begun "
            "(the client is told to send them again), finishes storing the others,\nsends their "
            "receipts and exits 0.",
            n, rest);
    free(rest);
    if (rc == 1)
        print_help();
    return rc;
}
