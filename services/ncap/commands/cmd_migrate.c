/* ncap migrate - create or update the database schemas */
#include <stdio.h>
#include <string.h>

#include "command_db.h"
#include "commands.h"
#include "migrate.h"

int cmd_migrate(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: ncap migrate\n\n"
               "Applies the schema migrations built into ncap (deploy/migrations) that the\n"
               "database ($NCAP_PG) has not had yet: one schema per stage, one role per daemon.\n"
               "Safe to run twice, and by two processes at once. Connect as a role that may\n"
               "create schemas and roles.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "ncap migrate: unexpected argument \"%s\"; try 'ncap migrate --help'\n",
                argv[1]);
        return 2;
    }
    char err[2048];
    PGconn *db = command_db_connect("migrate");
    if (!db)
        return 1;
    int applied = 0;
    int rc = migrate_run(db, &applied, err, sizeof err);
    PQfinish(db);
    if (rc != 0) {
        fprintf(stderr, "ncap migrate: %s\n", err);
        return 1;
    }
    int total = 0;
    while (ncap_migrations[total].name)
        total++;
    printf("migrations: %d applied now, %d in all\n", applied, total);
    return 0;
}
