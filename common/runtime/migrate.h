/* migrate.h - the schema migrations of deploy/migrations, embedded at build time */
#ifndef NCAP_MIGRATE_H
#define NCAP_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct {
    const char *name; /* file name, e.g. "0001_stages.sql"; NULL ends the list */
    const char *sql;
} ncap_migration_t;

extern const ncap_migration_t ncap_migrations[];

/* Applies every migration not yet applied, each in its own transaction, in name order. Safe to run
 * twice and by two processes at once (an advisory lock serialises them). *applied counts those run
 * now. Returns 0, or -1 with a message naming the migration in err. */
int migrate_run(PGconn *db, int *applied, char *err, size_t errlen);

#endif
