/* file_read.h - a whole file into memory */
#ifndef NCAP_FILE_READ_H
#define NCAP_FILE_READ_H

#include <stddef.h>

/* Reads path ("-": standard input) into a new NUL-terminated buffer the caller frees.
 * Returns 0, or -1 (errno says why) when it cannot be opened or read, or memory runs out. */
int file_read_all(const char *path, char **data, size_t *len);
/* The same, reading at most max bytes: a file holding more is refused (-1, errno EFBIG) after
 * max + 1 bytes, whatever its size, so a huge file or an endless one (/dev/zero) costs no more. */
int file_read_max(const char *path, size_t max, char **data, size_t *len);

#endif
