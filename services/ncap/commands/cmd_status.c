/* ncap status and ncap wait */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "db.h"
#include "pipeline_status.h"

static PGconn *connect_or_say(const char *cmd)
{
    char err[1024];
    PGconn *db = db_connect(NULL, cmd, err, sizeof err);
    if (!db)
        fprintf(stderr,
                "%s: %s\n(set NCAP_PG, or use deploy/local/ncap for the local deployment)\n", cmd,
                err);
    return db;
}

int cmd_status(int argc, char **argv)
{
    int json = 0;
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'h') {
            printf("usage: ncap status [--json]\n\n"
                   "Prints, per stage: live instances (heartbeat in the last 5 s), records\n"
                   "processed, backlog (records upstream holds that the stage has not processed)\n"
                   "and the rate over the last minute. --json prints one object:\n"
                   "{\"stages\":[{\"name\":\"ingest\",\"instances\":1,\"processed\":N,"
                   "\"backlog\":N,\"rate\":R},...]}\n"
                   "Reads PostgreSQL through $NCAP_PG.\n");
            return 0;
        } else {
            fprintf(stderr, "try 'ncap status --help'\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "ncap status: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    PGconn *db = connect_or_say("ncap status");
    if (!db)
        return 1;
    stage_status_t st[PIPELINE_STAGES];
    char err[1024];
    int rc = pipeline_status_read(db, st, err, sizeof err);
    PQfinish(db);
    if (rc != 0) {
        fprintf(stderr, "ncap status: %s\n", err);
        return 1;
    }
    if (json) {
        json_t *o = json_object(), *arr = json_array();
        for (int s = 0; s < PIPELINE_STAGES; s++) {
            json_t *x = json_object();
            json_object_set_new(x, "name", json_string(st[s].name));
            json_object_set_new(x, "instances", json_integer(st[s].instances));
            json_object_set_new(x, "processed", json_integer(st[s].processed));
            json_object_set_new(x, "backlog", json_integer(st[s].backlog));
            json_object_set_new(x, "rate", json_real(st[s].rate));
            json_array_append_new(arr, x);
        }
        json_object_set_new(o, "stages", arr);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return 0;
    }
    printf("%-11s %9s %12s %10s %12s\n", "stage", "instances", "processed", "backlog", "rate/s");
    for (int s = 0; s < PIPELINE_STAGES; s++)
        printf("%-11s %9lld %12lld %10lld %12.1f\n", st[s].name, st[s].instances, st[s].processed,
               st[s].backlog, st[s].rate);
    return 0;
}

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
        if (c == 't')
            timeout = atoi(optarg);
        else if (c == 's')
            settle = atoi(optarg);
        else if (c == 'h') {
            printf("usage: ncap wait [--timeout SECONDS] [--settle SECONDS]\n\n"
                   "Waits until every stage has backlog 0 and nothing new has arrived for\n"
                   "--settle seconds (2), i.e. publish reflects everything ingest holds.\n"
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
    PGconn *db = connect_or_say("ncap wait");
    if (!db)
        return 1;
    stage_status_t st[PIPELINE_STAGES];
    long long last_ingested = -1;
    int idle_for = 0;
    for (int waited = 0; waited <= timeout; waited++) {
        char err[1024];
        if (pipeline_status_read(db, st, err, sizeof err) != 0) {
            fprintf(stderr, "ncap wait: %s\n", err);
            PQfinish(db);
            return 1;
        }
        long long backlog = 0;
        for (int s = 0; s < PIPELINE_STAGES; s++)
            backlog += st[s].backlog;
        if (backlog == 0 && st[0].processed == last_ingested)
            idle_for++;
        else
            idle_for = 0;
        last_ingested = st[0].processed;
        if (idle_for > settle) {
            PQfinish(db);
            return 0;
        }
        sleep(1);
    }
    PQfinish(db);
    fprintf(stderr, "ncap wait: still busy after %d s:", timeout);
    for (int s = 0; s < PIPELINE_STAGES; s++)
        fprintf(stderr, " %s backlog %lld;", st[s].name, st[s].backlog);
    fprintf(stderr, "\n");
    return 1;
}
