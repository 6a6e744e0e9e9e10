/* sim_submit.c - simulated trusts submitting round after round, until told to stop */
#include "sim_submit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "submit_client.h"

/* set by SIGINT and SIGTERM: the round in progress stops before its next file */
static volatile sig_atomic_t stop_asap;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_asap = 1;
}

/* Sleeps up to seconds, waking early when asked to stop. */
static void pause_between_rounds(double seconds)
{
    struct timespec left = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (!stop_asap && nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* One round: a fresh set of records, one submission per trust, then their deaths to the register
 * (when there is one). Returns 0, or 1 when the records could not be made at all. */
static int submit_round(const sim_opts_t *base, unsigned round, sim_register_t *deaths)
{
    sim_opts_t opts = *base;
    opts.round = round;
    char err[4096];
    sim_t *sim = sim_new(&opts, err, sizeof err);
    if (!sim) {
        fprintf(stderr, "ncap sim: round %u: %s\n", round, err);
        return 1;
    }
    unsigned files = 0, rows = 0, accepted = 0, rejected = 0, failed = 0;
    for (size_t t = 0; t < sim_ntrusts(sim) && !stop_asap; t++) {
        if (sim_trust_nrecords(sim, t) == 0)
            continue;
        const char *code = sim_trust_code(sim, t);
        char *buf;
        size_t len;
        if (sim_trust_buffer(sim, t, &buf, &len) != 0) {
            fprintf(stderr, "ncap sim: round %u: could not write the file of trust \"%s\"\n", round,
                    code);
            failed++;
            continue;
        }
        char filename[64];
        snprintf(filename, sizeof filename, "%s-round%u.csv", code, round);
        submit_receipt_t receipt;
        memset(&receipt, 0, sizeof receipt);
        /* each trust with its own key (NCAP_CLIENT_KEYS/<ODS>.key), to whichever ingest answers */
        if (submit_buffer(NULL, opts.audit, code, filename, buf, len, false, 60, &receipt, err,
                          sizeof err) != 0) {
            fprintf(stderr, "ncap sim: round %u: could not submit \"%s\": %s\n", round, filename,
                    err);
            failed++;
        } else {
            files++;
            rows += receipt.rows;
            accepted += receipt.accepted;
            rejected += receipt.rejected;
        }
        free(buf);
    }
    printf("round %u: %u files, %u rows, %u accepted, %u rejected", round, files, rows, accepted,
           rejected);
    if (failed)
        printf(", %u failed", failed);
    char covers_to[11];
    size_t added;
    if (deaths) {
        if (sim_register_round(deaths, sim, round, covers_to, &added, err, sizeof err) == 0)
            printf(", deaths to %s (%zu new)", covers_to, added);
        else
            fprintf(stderr, "ncap sim: round %u: %s\n", round, err);
    }
    putchar('\n');
    fflush(stdout);
    sim_destroy(&sim);
    return 0;
}

int sim_submit_rounds(const sim_opts_t *opts, double interval, unsigned long long rounds,
                      sim_register_t *deaths)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stop_asap = 0;
    for (unsigned long long round = 1; !stop_asap && (rounds == 0 || round <= rounds); round++) {
        if (submit_round(opts, (unsigned)round, deaths) != 0)
            return 1;
        if (rounds != 0 && round == rounds)
            break;
        pause_between_rounds(interval);
    }
    return 0;
}
