/* command_db.h - how an ncap subcommand connects to PostgreSQL, and what it says when it cannot */
#ifndef NCAP_COMMAND_DB_H
#define NCAP_COMMAND_DB_H

#include <libpq-fe.h>

/* Connects through $NCAP_PG as "ncap COMMAND" (db_connect). When that fails, prints
 * "ncap COMMAND: REASON" and how to name a database on stderr and returns NULL; the caller
 * chooses the exit status. The caller owns the connection (PQfinish). */
PGconn *command_db_connect(const char *command);

#endif
