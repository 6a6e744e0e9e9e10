/* web_path.c - what a URL may name on disk */
#include "web_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long web_url_decode(const char *s, size_t len, bool plus_is_space, char *out, size_t outlen,
                    char *err, size_t errlen)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < len ? hex(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, errlen,
                         "malformed percent escape \"%.*s\": expected %% and two hex "
                         "digits",
                         (int)(len - i < 3 ? len - i : 3), s + i);
                return -1;
            }
            c = (char)(hi * 16 + lo);
            if (c == '\0') {
                snprintf(err, errlen, "encoded NUL (%%00) is not allowed");
                return -1;
            }
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (n + 1 >= outlen) {
            snprintf(err, errlen, "longer than %zu bytes once decoded", outlen - 1);
            return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return (long)n;
}

/* Checks one raw segment [s, e) and appends its decoded form to out at *n. */
static web_path_status_t segment(const char *s, const char *e, char *out, size_t outlen, size_t *n,
                                 char *err, size_t errlen)
{
    for (const char *p = s; p + 2 < e; p++)
        if (p[0] == '%') {
            int hi = hex(p[1]), lo = hex(p[2]);
            if (hi >= 0 && lo >= 0 && (hi * 16 + lo == '/' || hi * 16 + lo == '\\')) {
                snprintf(err, errlen, "encoded %s (%.3s) in a path is not allowed",
                         hi * 16 + lo == '/' ? "slash" : "backslash", p);
                return WEB_PATH_MALFORMED;
            }
        }
    char seg[WEB_PATH_MAX + 1];
    long len = web_url_decode(s, (size_t)(e - s), false, seg, sizeof seg, err, errlen);
    if (len < 0)
        return WEB_PATH_MALFORMED;
    if (len == 0) {
        snprintf(err, errlen, "empty path segment (\"//\") is not allowed");
        return WEB_PATH_MALFORMED;
    }
    if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
        snprintf(err, errlen, "path segment \"%s\" is not allowed: no relative paths", seg);
        return WEB_PATH_MALFORMED;
    }
    for (long i = 0; i < len; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (c == '\\' || c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "path segment has a %s at byte %ld: not allowed",
                     c == '\\' ? "backslash" : "control character", i + 1);
            return WEB_PATH_MALFORMED;
        }
    }
    if (seg[0] == '.') {
        snprintf(err, errlen, "no such file (hidden names are never served)");
        return WEB_PATH_HIDDEN;
    }
    if (*n + 1 + (size_t)len + 1 > outlen) {
        snprintf(err, errlen, "path longer than %d bytes", WEB_PATH_MAX);
        return WEB_PATH_TOO_LONG;
    }
    out[(*n)++] = '/';
    memcpy(out + *n, seg, (size_t)len);
    *n += (size_t)len;
    out[*n] = '\0';
    return WEB_PATH_OK;
}

web_path_status_t web_path_check(const char *raw, char *out, size_t outlen, char *err,
                                 size_t errlen)
{
    size_t rawlen = strlen(raw);
    if (rawlen > WEB_PATH_MAX) {
        snprintf(err, errlen, "path of %zu bytes: at most %d", rawlen, WEB_PATH_MAX);
        return WEB_PATH_TOO_LONG;
    }
    if (raw[0] != '/') {
        snprintf(err, errlen, "path \"%.40s\" is not absolute: expected it to start with /", raw);
        return WEB_PATH_MALFORMED;
    }
    size_t n = 0;
    out[0] = '\0';
    int depth = 0;
    const char *s = raw + 1;
    while (*s) {
        const char *e = strchr(s, '/');
        if (!e)
            e = s + strlen(s);
        if (++depth > WEB_PATH_DEPTH) {
            snprintf(err, errlen, "path deeper than %d segments", WEB_PATH_DEPTH);
            return WEB_PATH_MALFORMED;
        }
        web_path_status_t st = segment(s, e, out, outlen, &n, err, errlen);
        if (st != WEB_PATH_OK)
            return st;
        if (*e == '\0')
            break;
        s = e + 1;
        if (*s == '\0') { /* a trailing slash: a folder */
            out[n++] = '/';
            out[n] = '\0';
        }
    }
    if (n == 0) {
        out[0] = '/';
        out[1] = '\0';
    }
    return WEB_PATH_OK;
}

int web_path_open(int root_fd, const char *rel)
{
    char buf[WEB_PATH_MAX + 1];
    if (strlen(rel) > WEB_PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", rel);
    int fd = dup(root_fd);
    if (fd < 0)
        return -1;
    char *save = NULL;
    for (char *seg = strtok_r(buf, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        /* web_path_check has refused these; refused again so no caller can forget it */
        if (seg[0] == '.' || strchr(seg, '\\')) {
            close(fd);
            errno = ENOENT;
            return -1;
        }
        int next = openat(fd, seg, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        int saved = errno;
        close(fd);
        if (next < 0) {
            errno = saved;
            return -1;
        }
        fd = next;
    }
    /* a FIFO or device would block or misbehave: the caller serves regular files only */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}
