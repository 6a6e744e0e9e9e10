/* web_static.c - the releases folder over HTTP */
#include "web_static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "web_path.h"

static const char *const types[][2] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".csv", "text/csv; charset=utf-8"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".yaml", "application/yaml"},
    {".pdf", "application/pdf"},
};

const char *web_static_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (strcasecmp(dot, types[i][0]) == 0)
                return types[i][1];
    return "application/octet-stream";
}

/* Whether If-None-Match (a list of entity tags, or *) names etag. */
static int etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return 0;
    if (strcmp(inm, "*") == 0)
        return 1;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag))
        if ((p == inm || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return 1;
    return 0;
}

static void redirect(web_reply_t *rep, int status, const char *to)
{
    rep->status = status;
    snprintf(rep->location, sizeof rep->location, "%s", to);
    rep->content_type = "text/plain; charset=utf-8";
    strbuf_appendf(&rep->body, "see %s\n", to);
}

void web_static_serve(int root_fd, const web_request_t *req, web_reply_t *rep)
{
    char path[WEB_PATH_MAX + 2], err[256];
    switch (web_path_check(req->path, path, sizeof path, err, sizeof err)) {
    case WEB_PATH_OK:
        break;
    case WEB_PATH_MALFORMED:
        web_reply_problem(rep, 400, "bad-path", err, NULL);
        return;
    case WEB_PATH_HIDDEN:
        web_reply_problem(rep, 404, NULL, err, NULL);
        return;
    case WEB_PATH_TOO_LONG:
        web_reply_problem(rep, 414, NULL, err, NULL);
        return;
    }
    if (strcmp(path, "/") == 0) {
        redirect(rep, 302, "/site/");
        return;
    }
    int fd = web_path_open(root_fd, path);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        if (path[n - 1] != '/') { /* the folder's page, whose relative links need the slash */
            close(fd);
            char to[WEB_PATH_MAX + 4];
            snprintf(to, sizeof to, "%s/", req->path);
            redirect(rep, 301, to);
            return;
        }
        int index = openat(fd, "index.html", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        close(fd);
        fd = index;
        if (fd >= 0 && fstat(fd, &st) != 0) {
            close(fd);
            fd = -1;
        }
        snprintf(path + n, sizeof path - n, "index.html");
    }
    if (fd < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        web_reply_problem(rep, 404, NULL,
                          "no such file in the releases: the portal is at /site/, release files "
                          "at /<audit>/<period>/<file>",
                          req->path);
        return;
    }
    snprintf(rep->etag, sizeof rep->etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
    struct tm tm;
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(rep->last_modified, sizeof rep->last_modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    rep->content_type = web_static_type(path);
    rep->html = strncmp(rep->content_type, "text/html", 9) == 0 ||
                strncmp(rep->content_type, "image/svg", 9) == 0;
    /* a new revision replaces latest.* in place: revalidate (cheap, with the ETag) */
    rep->cache_control = "no-cache";
    if (etag_matches(req->if_none_match, rep->etag)) {
        close(fd);
        rep->status = 304;
        return;
    }
    rep->status = 200;
    rep->fd = fd;
    rep->fd_size = (uint64_t)st.st_size;
}
