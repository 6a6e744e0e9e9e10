/* cmd_status.c - `ncap status`: each stage's live instances, records processed, backlog, rate and
 * quarantined records */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "command_db.h"
#include "commands.h"
#include "pipeline_status.h"

int cmd_status(int argc, char **argv)
{
    int json = 0, exact = 0;
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"exact", no_argument, 0, 'e'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hje", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'e')
            exact = 1;
        else if (c == 'h') {
            printf("usage: ncap status [--json] [--exact]\n\n"
                   "Prints, per stage: live instances (heartbeat in the last 5 s), records\n"
                   "processed, backlog (records upstream holds that the stage has not processed),\n"
                   "the rate over the last minute, and records quarantined (ones the stage could\n"
                   "not process: see ncap quarantine list). A backlog is counted up to %d\n"
                   "records a part, and a quarantine up to as many, so that a call stays quick\n"
                   "during a catch-up: one shown as \"N+\" has more than N records; --exact\n"
                   "counts every one (O(backlog): about 2 s a million).\n"
                   "--json prints one object:\n"
                   "{\"stages\":[{\"name\":\"ingest\",\"instances\":1,\"processed\":N,"
                   "\"backlog\":N,\"backlog_more\":false,\"rate\":R,\"quarantined\":N,"
                   "\"quarantined_more\":false},...]}\n"
                   "(backlog_more: there is more than backlog; quarantined_more likewise).\n"
                   "Reads PostgreSQL through $NCAP_PG.\n",
                   PIPELINE_STATUS_BOUND);
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
    PGconn *db = command_db_connect("status");
    if (!db)
        return 1;
    stage_status_t st[PIPELINE_STAGES];
    char err[1024];
    int rc = pipeline_status_read(db, exact ? 0 : PIPELINE_STATUS_BOUND, st, err, sizeof err);
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
            json_object_set_new(x, "backlog_more", json_boolean(st[s].backlog_more));
            json_object_set_new(x, "rate", json_real(st[s].rate));
            json_object_set_new(x, "quarantined", json_integer(st[s].quarantined));
            json_object_set_new(x, "quarantined_more", json_boolean(st[s].quarantined_more));
            json_array_append_new(arr, x);
        }
        json_object_set_new(o, "stages", arr);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return 0;
    }
    printf("%-11s %9s %12s %10s %12s %12s\n", "stage", "instances", "processed", "backlog",
           "rate/s", "quarantined");
    for (int s = 0; s < PIPELINE_STAGES; s++) {
        char backlog[32], held[32];
        snprintf(backlog, sizeof backlog, "%lld%s", st[s].backlog, st[s].backlog_more ? "+" : "");
        snprintf(held, sizeof held, "%lld%s", st[s].quarantined, st[s].quarantined_more ? "+" : "");
        printf("%-11s %9lld %12lld %10s %12.1f %12s\n", st[s].name, st[s].instances,
               st[s].processed, backlog, st[s].rate, held);
    }
    return 0;
}
