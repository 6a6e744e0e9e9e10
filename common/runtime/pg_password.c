/* pg_password.c - a PostgreSQL password kept in a file */
#include "pg_password.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int pg_password_read(const char *path, char out[PG_PASSWORD_MAX], char *err, size_t errlen)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "could not open the password file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    /* one byte more than a password may have, to see that it is too long */
    char buf[PG_PASSWORD_MAX + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    int read_error = ferror(f);
    /* what follows the first line may only be white space (a final blank line, say) */
    int extra = 0, c;
    while (!read_error && n == sizeof buf && (c = fgetc(f)) != EOF)
        extra |= !isspace(c);
    fclose(f);
    const char *why = NULL;
    size_t len = 0;
    if (read_error)
        why = "could not be read";
    else {
        while (len < n && buf[len] != '\n' && buf[len] != '\0')
            len++;
        if (len >= PG_PASSWORD_MAX)
            why = "holds a password too long (1024 bytes or more)";
        else if (len < n && buf[len] == '\0')
            why = "holds a NUL byte";
        else {
            for (size_t i = len; i < n; i++)
                extra |= !isspace((unsigned char)buf[i]);
            if (len > 0 && buf[len - 1] == '\r')
                len--;
            if (extra)
                why = "holds more than one line (expected the password alone)";
            else if (len == 0)
                why = "is empty (expected the password on its first line)";
        }
    }
    if (why) {
        explicit_bzero(buf, sizeof buf);
        snprintf(err, errlen, "the password file \"%s\" %s", path, why);
        return -1;
    }
    memcpy(out, buf, len);
    out[len] = '\0';
    explicit_bzero(buf, sizeof buf);
    return 0;
}
