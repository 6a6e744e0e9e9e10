/* secret_file.h - a small file that holds a key, read as a key should be: only a regular file, and,
 * for a secret, only when neither its group nor others may read or write it. The mode checked is
 * that of the file opened, so nothing can swap the file between the check and the read. */
#ifndef NCAP_SECRET_FILE_H
#define NCAP_SECRET_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Reads at most buflen - 1 bytes of path into buf, NUL-terminated. what names the file in errors
 * ("pseudonymisation key file", "secret key file"); owner_only refuses a file open to group or
 * others, with its mode and the chmod that fixes it. Returns the bytes read, or -1 with err set:
 * "could not open the WHAT \"PATH\": REASON", "the WHAT \"PATH\" is not a regular file", "the WHAT
 * \"PATH\" has mode 0644, expected no access for group or others (chmod 600 \"PATH\")" or "could
 * not read the WHAT \"PATH\": REASON". The caller wipes buf when it held a secret. */
long secret_file_read(const char *path, const char *what, bool owner_only, char *buf, size_t buflen,
                      char *err, size_t errlen);

#endif
