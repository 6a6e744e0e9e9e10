/* web_path.h - what a URL may name on disk: the one gate between a request's path and the
 * releases folder (--releases). Nothing outside that folder is ever opened.
 *
 * A request's path arrives still percent-encoded (the server's unescape hook leaves it so, and
 * so do the query's values), so that an encoded NUL, slash or dot is seen here, not hidden by an
 * earlier decoding. web_path_check decodes it once and refuses, before any file is looked at:
 *   - a path that is not absolute, longer than WEB_PATH_MAX bytes or deeper than WEB_PATH_DEPTH;
 *   - a malformed escape ("%4", "%zz"), an encoded NUL, slash or backslash ("%00", "%2f", "%5c"),
 *     a control character, a backslash;
 *   - a segment "." or ".." (also when encoded: "%2e%2e"), an empty segment ("a//b");
 *   - a segment starting with "." (dotfiles and dot folders: publish builds the site in
 *     <releases>/.site.tmp-XXXX and renames it into place) - answered 404, as if absent.
 * web_path_open then walks the checked segments with openat(2) from the folder's descriptor,
 * O_NOFOLLOW on each, so a symbolic link anywhere under the folder is never followed (the folder
 * itself may be a link). Cost: one openat per segment. */
#ifndef NCAP_WEB_PATH_H
#define NCAP_WEB_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_PATH_MAX 1024
#define WEB_PATH_DEPTH 16

typedef enum {
    WEB_PATH_OK = 0,
    WEB_PATH_MALFORMED, /* 400: the path cannot be a file's (detail in err) */
    WEB_PATH_HIDDEN,    /* 404: a dotfile or dot folder */
    WEB_PATH_TOO_LONG,  /* 414 */
} web_path_status_t;

/* Decodes %XX escapes of s[0..len) into out (outlen bytes, NUL-terminated); plus_is_space: '+'
 * is a space (a query's values). Returns the decoded length, or -1 with err on a malformed
 * escape, an encoded NUL or a result longer than outlen - 1. */
long web_url_decode(const char *s, size_t len, bool plus_is_space, char *out, size_t outlen,
                    char *err, size_t errlen);

/* Checks raw, a request's path as received, and writes its decoded form into out (outlen >=
 * WEB_PATH_MAX + 1): "/" then the segments joined by "/", a trailing "/" kept (a folder asked
 * for). Returns WEB_PATH_OK or why not, with err saying what was found. */
web_path_status_t web_path_check(const char *raw, char *out, size_t outlen, char *err,
                                 size_t errlen);

/* Opens the checked path rel (from web_path_check, leading "/" included) under the folder
 * root_fd, never following a symbolic link. Returns the descriptor (a file or a folder, the
 * caller fstat's it), or -1 with errno (ENOENT, ELOOP for a link, ENOTDIR, EACCES). */
int web_path_open(int root_fd, const char *rel);

#endif
