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

/* The login roles of the daemons, as 0001 creates them; NULL ends the list. */
extern const char *const migrate_daemon_roles[];

/* Sets the password of every daemon role (migrate_daemon_roles) to the one in dir/<role> (e.g. the
 * Compose secrets in /run/secrets), all in one transaction, after reading every file: a missing or
 * bad one changes nothing. Only the SCRAM-SHA-256 verifier computed here (PQencryptPasswordConn)
 * reaches the server, so no password is sent, logged or stored in clear. Setting them again is
 * harmless (a new salt, the same password). Returns 0, or -1 with a message naming the role and
 * file, never a password, in err. */
int migrate_set_passwords(PGconn *db, const char *dir, char *err, size_t errlen);

#endif
