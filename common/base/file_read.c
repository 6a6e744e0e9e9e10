/* file_read.c - a whole file into memory */
#include "file_read.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int file_read_all(const char *path, char **data, size_t *len)
{
    return file_read_max(path, SIZE_MAX - 1, data, len);
}

int file_read_max(const char *path, size_t max, char **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - n - 1;
        if (want > max - n + 1)
            want = max - n + 1; /* one byte past max tells a file that is too big */
        size_t r = fread(buf + n, 1, want, f);
        n += r;
        if (r == 0 || n > max)
            break;
    }
    int bad = ferror(f), big = n > max;
    if (f != stdin)
        fclose(f);
    if (!buf || bad || big) {
        free(buf);
        if (big)
            errno = EFBIG;
        return -1;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
