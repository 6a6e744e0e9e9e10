/* ncap submit - send a file to ingest and print the receipt once ingest has committed it */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "file_read.h"
#include "number_arg.h"
#include "submit_client.h"
#include "usage_error.h"

int cmd_submit(int argc, char **argv)
{
    const char *audit = NULL, *trust = NULL, *endpoint = NULL;
    int timeout = 120, quiet = 0;
    static const struct option opts[] = {{"audit", required_argument, 0, 'a'},
                                         {"trust", required_argument, 0, 't'},
                                         {"endpoint", required_argument, 0, 'e'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            audit = optarg;
            break;
        case 't':
            trust = optarg;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'T':
            if (number_arg_timeout("submit", optarg, &timeout) != 0)
                return 2;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            printf(
                "usage: ncap submit --audit AUDIT --trust ODS [options] FILE\n\n"
                "Sends FILE (CSV with a header; - for standard input) to ingest as trust ODS and\n"
                "prints the receipt, which ingest sends only once the records are committed:\n"
                "submission id, rows, accepted (new record versions), unchanged (identical to\n"
                "what ingest already holds) and rejected, then each row's problem on a line of\n"
                "its own (the first 200; 'ncap feedback' lists them all). Progress goes to\n"
                "standard error.\n\n"
                "options:\n"
                "  --audit AUDIT       audit, e.g. nhfd\n"
                "  --trust ODS         submitting trust's ODS code, e.g. RH8\n"
                "  --endpoint URL      ingest endpoint (default $NCAP_INGEST, else the live\n"
                "                      instances found through $NCAP_PG, tried until one proves\n"
                "                      ingest's key)\n"
                "  --timeout SECONDS   give up waiting for ingest after this long (120)\n"
                "  --quiet             print only the receipt line\n\n"
                "keys (CurveZMQ): NCAP_CURVE_SERVER_KEY is ingest's public key file (ingest.pub);\n"
                "NCAP_CLIENT_KEYS a folder of <ODS>.key, of which ODS.key is used (or\n"
                "NCAP_CURVE_CLIENT_SECRET_FILE, one trust's key). None set: a plain connection,\n"
                "which only an ingest started with --insecure-plain answers.\n\n"
                "exit status: 0 stored (even with rejected rows), 1 refused or failed, 2 usage\n");
            return 0;
        default:
            fprintf(stderr, "try 'ncap submit --help'\n");
            return 2;
        }
    }
    if (!audit || !trust || optind != argc - 1 || timeout <= 0) {
        fprintf(stderr,
                "ncap submit: need --audit, --trust and one FILE; try 'ncap submit --help'\n");
        return 2;
    }
    const char *path = argv[optind];
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len) != 0) {
        fprintf(stderr, "ncap submit: could not read \"%s\"\n", path);
        return 2;
    }
    char err[4096];
    const char *base = strrchr(path, '/');
    submit_receipt_t rec;
    ingest_target_t to = {.endpoint = endpoint};
    int rc = submit_buffer(&to, audit, trust, base ? base + 1 : path, data, len, !quiet, timeout,
                           &rec, err, sizeof err);
    free(data);
    if (rc != 0) {
        fprintf(stderr, "ncap submit: %s\n", err);
        return 1;
    }
    submit_receipt_print(stdout, &rec, !quiet);
    submit_receipt_free(&rec);
    return 0;
}
