/* pg_password.h - a PostgreSQL password kept in a file: a Docker Compose secret
 * (/run/secrets/<role>), read by every ncap program that connects ($NCAP_PG_PASSWORD_FILE, db.h)
 * and by `ncap migrate --role-passwords DIR` for each daemon role. The password never leaves the
 * process in clear: libpq answers the server's SCRAM-SHA-256 challenge with it, and migrate sends
 * only its SCRAM verifier. */
#ifndef NCAP_PG_PASSWORD_H
#define NCAP_PG_PASSWORD_H

#include <stddef.h>

/* Room for a password and its terminating NUL; a longer one is refused. */
#define PG_PASSWORD_MAX 1024

/* Reads the password in path: the file's first line without its line end ("\n" or "\r\n"). An
 * empty password, one of PG_PASSWORD_MAX bytes or more, a NUL byte, or anything but white space
 * after the first line is refused (the wrong file, e.g. a pgpass or a key). The file's mode is not
 * checked: a Compose secret outside swarm keeps its host mode and must be readable by the
 * container's user. Returns 0, or -1 with a message naming the file (never its content) in err
 * and out "". The caller wipes out after use (explicit_bzero). */
int pg_password_read(const char *path, char out[PG_PASSWORD_MAX], char *err, size_t errlen);

#endif
