/* cmd_wait.c - `ncap wait`: until every stage has worked off its backlog */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "command_db.h"
#include "commands.h"
#include "daemon.h"
#include "number_arg.h"
#include "pipeline_status.h"
#include "usage_error.h"

int cmd_wait(int argc, char **argv)
{
    int timeout = 300, settle = 2;
    static const struct option opts[] = {{"timeout", required_argument, 0, 't'},
                                         {"settle", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        unsigned long long v;
        if (c == 't' || c == 's') {
            if (number_arg_whole(optarg, 86400, &v) != 0 || (c == 't' && v == 0))
                return usage_error("wait", "--%s must be %s-86400 seconds, not \"%s\"",
                                   c == 't' ? "timeout" : "settle", c == 't' ? "1" : "0", optarg);
            if (c == 't')
                timeout = (int)v;
            else
                settle = (int)v;
        } else if (c == 'h') {
            printf("usage: ncap wait [--timeout SECONDS] [--settle SECONDS]\n\n"
                   "Waits until every stage has backlog 0 and nothing new has arrived for\n"
                   "--settle seconds (2), i.e. publish reflects everything ingest holds; looks\n"
                   "5 times a second (less often where reading the status takes longer).\n"
                   "Exit 0 when idle, 1 on timeout (300 s) with the last status on stderr.\n");
            return 0;
        } else {
            fprintf(stderr, "try 'ncap wait --help'\n");
            return 2;
        }
    }
    if (timeout <= 0 || settle < 0) {
        fprintf(stderr, "ncap wait: --timeout must be positive and --settle not negative\n");
        return 2;
    }
    PGconn *db = command_db_connect("wait");
    if (!db)
        return 1;
    stage_status_t st[PIPELINE_STAGES];
    long long last_ingested = -1;
    /* looked at every 200 ms (or, where reading the status takes longer, 4 times as long as it
     * took, up to a second): done once idle (every backlog 0, nothing new ingested) throughout
     * the last --settle seconds. Whether any backlog is left is all it asks: each is counted with
     * bound 1 (two rows a part at most), O(1) however far behind a stage is (counted whole,
     * linkage's backlog 1.5 million records behind took over a second a count in the
     * two-million-record benchmark) */
    long long start = daemon_now_ms(), idle_since = -1;
    char err[1024];
    for (;;) {
        long long asked = daemon_now_ms();
        if (pipeline_status_read(db, 1, st, err, sizeof err) != 0) {
            fprintf(stderr, "ncap wait: %s\n", err);
            PQfinish(db);
            return 1;
        }
        long long now = daemon_now_ms(), backlog = 0;
        for (int s = 0; s < PIPELINE_STAGES; s++)
            backlog += st[s].backlog;
        if (backlog != 0 || st[0].processed != last_ingested)
            idle_since = -1;
        else if (idle_since < 0)
            idle_since = now;
        last_ingested = st[0].processed;
        if (idle_since >= 0 && now - idle_since >= settle * 1000LL) {
            PQfinish(db);
            return 0;
        }
        if (now - start >= timeout * 1000LL)
            break;
        long long pause = 4 * (now - asked);
        usleep((useconds_t)(pause < 200 ? 200 : pause > 1000 ? 1000 : pause) * 1000);
    }
    /* the message's backlogs counted whole */
    int rc = pipeline_status_read(db, 0, st, err, sizeof err);
    PQfinish(db);
    if (rc != 0) {
        fprintf(stderr, "ncap wait: still busy after %d s; %s\n", timeout, err);
        return 1;
    }
    fprintf(stderr, "ncap wait: still busy after %d s:", timeout);
    for (int s = 0; s < PIPELINE_STAGES; s++)
        fprintf(stderr, " %s backlog %lld;", st[s].name, st[s].backlog);
    fprintf(stderr, "\n");
    return 1;
}
