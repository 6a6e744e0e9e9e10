/* cmd_keys.c - `ncap keys new PREFIX`: a CurveZMQ key pair for ingest or for a trust */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "curve_auth.h"

static void usage(FILE *f)
{
    fputs(
        "usage: ncap keys new PREFIX\n"
        "\n"
        "Writes a new CurveZMQ key pair: PREFIX.key (the secret key, readable by its owner only)\n"
        "and PREFIX.pub (the public key). Existing files are never overwritten.\n"
        "\n"
        "For ingest: NCAP_CURVE_SECRET_FILE=ingest.key turns CurveZMQ on, and\n"
        "NCAP_CURVE_TRUST_KEYS names a folder holding one <ODS>.pub per trust allowed to send\n"
        "(e.g. RH8.pub): a connection is then the trust whose key it proves, and may submit and\n"
        "read feedback for that trust only.\n"
        "For a trust's client (ncap submit, ncap feedback, ncap sim --submit):\n"
        "NCAP_CURVE_SERVER_KEY=ingest.pub and NCAP_CURVE_CLIENT_SECRET_FILE=RH8.key.\n",
        f);
}

int cmd_keys(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "new") != 0) {
        usage(stderr);
        return 2;
    }
    char err[4200];
    if (curve_key_pair_write(argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "ncap keys: %s\n", err);
        return 1;
    }
    printf("wrote %s.key (secret) and %s.pub (public)\n", argv[2], argv[2]);
    return 0;
}
