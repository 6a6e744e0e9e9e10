/* ncap migrate - create or update the database schemas, and set the daemon roles' passwords */
#include <stdio.h>
#include <string.h>

#include "command_db.h"
#include "commands.h"
#include "migrate.h"

int cmd_migrate(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: ncap migrate [--role-passwords DIR]\n\n"
               "Applies the schema migrations built into ncap (deploy/migrations) that the\n"
               "database ($NCAP_PG) has not had yet: one schema per stage, one role per daemon.\n"
               "Safe to run twice, and by two processes at once. Connect as a role that may\n"
               "create schemas and roles.\n\n"
               "  --role-passwords DIR  then set the password of each daemon role (ncap_ingest,\n"
               "                        ncap_linkage, ncap_validation, ncap_metric, ncap_publish,\n"
               "                        ncap_web)\n"
               "                        to the first line of DIR/<role>, e.g. Compose secrets in\n"
               "                        /run/secrets; only its SCRAM-SHA-256 verifier is sent\n");
        return 0;
    }
    const char *password_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--role-passwords") == 0 && i + 1 < argc && argv[i + 1][0]) {
            password_dir = argv[++i];
        } else if (strcmp(argv[i], "--role-passwords") == 0) {
            fprintf(stderr, "ncap migrate: --role-passwords needs a folder (one file per role)\n");
            return 2;
        } else {
            fprintf(stderr, "ncap migrate: unexpected argument \"%s\"; try 'ncap migrate --help'\n",
                    argv[i]);
            return 2;
        }
    }
    char err[2048];
    PGconn *db = command_db_connect("migrate");
    if (!db)
        return 1;
    int applied = 0;
    int rc = migrate_run(db, &applied, err, sizeof err);
    if (rc == 0) {
        int total = 0;
        while (ncap_migrations[total].name)
            total++;
        printf("migrations: %d applied now, %d in all\n", applied, total);
    }
    if (rc == 0 && password_dir) {
        rc = migrate_set_passwords(db, password_dir, err, sizeof err);
        if (rc == 0)
            printf("passwords: set for the daemon roles from %s\n", password_dir);
    }
    PQfinish(db);
    if (rc != 0) {
        fprintf(stderr, "ncap migrate: %s\n", err);
        return 1;
    }
    return 0;
}
