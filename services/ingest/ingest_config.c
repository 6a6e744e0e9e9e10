/* ingest_config.c - --store-workers is taken out of argv before daemon_config_parse sees the rest
 */
#include "ingest_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pool.h"

#define SERVICE "ncap-ingestd"
#define OPTION "--store-workers"

/* where: the option or variable the value came from, for the message. */
static int parse_workers(const char *where, const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > STORE_POOL_MAX_WORKERS) {
        fprintf(stderr, "invalid value \"%s\" for %s: expected a whole number from 1 to %d\n", s,
                where, STORE_POOL_MAX_WORKERS);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int ingest_config_parse(daemon_config_t *cfg, int *store_workers, int argc, char **argv)
{
    *store_workers = INGEST_STORE_WORKERS_DEFAULT;
    const char *env = getenv("NCAP_STORE_WORKERS");
    if (env && *env && parse_workers("$NCAP_STORE_WORKERS", env, store_workers) != 0)
        return 2;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) {
        fprintf(stderr, SERVICE ": out of memory\n");
        return 2;
    }
    int n = 0, rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        size_t len = strlen(OPTION);
        if (i == 0 || strncmp(a, OPTION, len) != 0 || (a[len] != '\0' && a[len] != '=')) {
            rest[n++] = argv[i];
        } else if (a[len] == '=') {
            rc = parse_workers(OPTION, a + len + 1, store_workers) != 0 ? 2 : 0;
        } else if (i + 1 < argc) {
            rc = parse_workers(OPTION, argv[++i], store_workers) != 0 ? 2 : 0;
        } else {
            fprintf(stderr, "option \"%s\" needs a value; try '" SERVICE " --help'\n", OPTION);
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
        printf("\nncap-ingestd's own option:\n"
               "  " OPTION " N        threads that parse and store finished uploads, each with "
               "its own\n"
               "                           PostgreSQL connection ($NCAP_STORE_WORKERS, default "
               "%d, at most %d)\n",
               INGEST_STORE_WORKERS_DEFAULT, STORE_POOL_MAX_WORKERS);
    return rc;
}
