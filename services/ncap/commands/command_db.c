/* command_db.c - one way for the subcommands to connect to PostgreSQL */
#include "command_db.h"

#include <stdio.h>

#include "db.h"

PGconn *command_db_connect(const char *command)
{
    char name[128], err[1024];
    snprintf(name, sizeof name, "ncap %s", command);
    PGconn *db = db_connect(NULL, name, err, sizeof err);
    if (!db)
        fprintf(stderr,
                "%s: %s\n(set NCAP_PG, or use deploy/local/ncap for the local deployment)\n", name,
                err);
    return db;
}
