/* file_read.h - a whole file into memory */
#ifndef NCAP_FILE_READ_H
#define NCAP_FILE_READ_H

#include <stddef.h>

/* Reads path ("-": standard input) into a new NUL-terminated buffer the caller frees.
 * Returns 0, or -1 (errno says why) when it cannot be opened or read, or memory runs out. */
int file_read_all(const char *path, char **data, size_t *len);

#endif
