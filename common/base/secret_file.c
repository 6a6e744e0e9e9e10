/* secret_file.c - key files read only when nobody else may touch them (secret_file.h) */
#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long secret_file_read(const char *path, const char *what, bool owner_only, char *buf, size_t buflen,
                      char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "could not open the %s \"%s\": %s", what, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "the %s \"%s\" is not a regular file", what, path);
        close(fd);
        return -1;
    }
    if (owner_only && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf(err, errlen,
                 "the %s \"%s\" has mode %04o, expected no access for group or others (chmod 600 "
                 "\"%s\")",
                 what, path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    ssize_t n = buflen ? read(fd, buf, buflen - 1) : -1;
    int read_errno = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "could not read the %s \"%s\": %s", what, path,
                 buflen ? strerror(read_errno) : "no room");
        return -1;
    }
    buf[n] = '\0';
    return (long)n;
}
