/* cmd_keys.c - `ncap keys`: CurveZMQ key pairs, one at a time, for the stages, or for every trust
 * the simulator can produce; the trusts' bearer tokens for the HTTP API */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "curve_auth.h"
#include "sim.h"
#include "trust_token.h"
#include "usage_error.h"

/* The stages with a key pair: the pipeline's five, and the web daemon (ingest's gateway). */
static const char *const key_stages[] = {"ingest", "linkage", "validation",
                                         "metric", "publish", "web"};

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: ncap keys new PREFIX\n"
        "       ncap keys stages DIR\n"
        "       ncap keys trusts DIR [--trusts K]\n"
        "       ncap keys token --trust ODS [--label LABEL] [DIR]\n"
        "\n"
        "new: writes a CurveZMQ key pair, PREFIX.key (the secret key, readable by its owner only)\n"
        "and PREFIX.pub (the public key). Existing files are never overwritten.\n"
        "stages: a pair for each stage, DIR/<stage>.key and .pub (ingest, linkage, validation,\n"
        "metric, publish, and web: the web daemon's, which ingest admits as the trusts' HTTP\n"
        "gateway); a stage whose .key exists keeps it.\n"
        "trusts: a pair for each trust code `ncap sim` can produce, DIR/<ODS>.key and .pub: the\n"
        "first K (default all %d); a trust whose .key exists keeps it.\n"
        "DIR is created (mode 0700) when missing.\n"
        "token: a new bearer token for the trust's HTTP API (ncap-webd), printed once on standard\n"
        "output and never stored: DIR/<ODS>.token (or <ODS>.<LABEL>.token) gets only its hash.\n"
        "DIR is ingest's --trust-keys folder (default $NCAP_TRUST_KEYS); ingest takes a new token\n"
        "and drops a revoked one (its file deleted) within seconds, without a restart. A file is\n"
        "never overwritten: a second token of a trust needs a --label.\n"
        "\n"
        "Daemons: --keys DIR holds <stage>.key, the stage's own secret key, and the .pub of the\n"
        "stages it talks to (its upstream's and its downstream's); ncap-ingestd also takes\n"
        "--trust-keys DIR, one <ODS>.pub per trust allowed to submit, e.g. RH8.pub: a connection\n"
        "is then the trust whose key it proves, and may submit and read feedback for that trust\n"
        "only. Clients (ncap submit, ncap feedback, ncap sim --submit): NCAP_CURVE_SERVER_KEY=\n"
        "ingest.pub, and NCAP_CLIENT_KEYS=DIR (the <ODS>.key of the trust spoken for) or\n"
        "NCAP_CURVE_CLIENT_SECRET_FILE=RH8.key (one trust).\n",
        SIM_MAX_TRUSTS);
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "ncap keys: could not create \"%s\": %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* DIR/NAME.key and .pub unless DIR/NAME.key exists. Returns 1 written, 0 kept, -1 failed. */
static int pair_once(const char *dir, const char *name)
{
    char prefix[4096], path[4200], err[4400];
    snprintf(prefix, sizeof prefix, "%s/%s", dir, name);
    snprintf(path, sizeof path, "%s.key", prefix);
    if (access(path, F_OK) == 0)
        return 0;
    if (curve_key_pair_write(prefix, err, sizeof err) != 0) {
        fprintf(stderr, "ncap keys: %s\n", err);
        return -1;
    }
    return 1;
}

/* Pairs for names[0..n) in dir. Returns the exit status. */
static int pairs(const char *dir, const char *what, size_t n, const char *const *names)
{
    if (make_dir(dir) != 0)
        return 1;
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = pair_once(dir, names[i]);
        if (rc < 0)
            return 1;
        written += (size_t)rc;
    }
    printf("%s: %zu key pairs written, %zu kept in \"%s\"\n", what, written, n - written, dir);
    return 0;
}

static int trusts(int argc, char **argv)
{
    long k = SIM_MAX_TRUSTS;
    if (argc == 5 && strcmp(argv[3], "--trusts") == 0) {
        char *end;
        k = strtol(argv[4], &end, 10);
        if (!*argv[4] || *end || k < 1 || k > SIM_MAX_TRUSTS)
            return usage_error("keys", "invalid value \"%s\" for --trusts, expected 1-%d", argv[4],
                               SIM_MAX_TRUSTS);
    } else if (argc != 3) {
        usage(stderr);
        return 2;
    }
    char(*codes)[8] = calloc((size_t)k, sizeof *codes);
    const char **names = calloc((size_t)k, sizeof *names);
    if (!codes || !names) {
        free(codes);
        free(names);
        fprintf(stderr, "ncap keys: out of memory\n");
        return 1;
    }
    sim_trust_codes((size_t)k, codes);
    for (long i = 0; i < k; i++)
        names[i] = codes[i];
    int rc = pairs(argv[2], "trusts", (size_t)k, names);
    free(codes);
    free(names);
    return rc;
}

/* ncap keys token --trust ODS [--label LABEL] [DIR] */
static int token(int argc, char **argv)
{
    const char *trust = NULL, *label = NULL, *dir = getenv("NCAP_TRUST_KEYS");
    bool dir_given = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
            trust = argv[++i];
        else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
            label = argv[++i];
        else if (argv[i][0] != '-' && !dir_given) {
            dir = argv[i];
            dir_given = true;
        } else
            return usage_error("keys", "unexpected argument \"%s\" for ncap keys token", argv[i]);
    }
    if (!trust)
        return usage_error("keys", "ncap keys token needs --trust ODS, the trust the token is for");
    if (!dir || !*dir)
        return usage_error("keys", "ncap keys token needs DIR, ingest's --trust-keys folder (or "
                                   "NCAP_TRUST_KEYS)");
    char tok[TRUST_TOKEN_MAX + 1], path[4200], err[4400];
    if (trust_token_new(trust, tok, sizeof tok, err, sizeof err) != 0)
        return usage_error("keys", "%s", err);
    if (make_dir(dir) != 0)
        return 1;
    if (trust_token_store(dir, trust, label, tok, path, sizeof path, err, sizeof err) != 0) {
        sodium_memzero(tok, sizeof tok);
        fprintf(stderr, "ncap keys: %s\n", err);
        return 1;
    }
    fprintf(stderr,
            "wrote %s (the token's hash). The token, shown once: give it to trust %s over a safe "
            "channel; revoke it by deleting that file\n",
            path, trust);
    printf("%s\n", tok);
    sodium_memzero(tok, sizeof tok);
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "trusts") == 0)
        return trusts(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "token") == 0)
        return token(argc, argv);
    if (argc == 3 && strcmp(argv[1], "stages") == 0)
        return pairs(argv[2], "stages", sizeof key_stages / sizeof *key_stages, key_stages);
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
