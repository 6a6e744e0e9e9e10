/* test_web_path.c - the gate between a URL and the releases folder: a table of hostile paths, each
 * refused with the status that says why, the same paths never opening a file outside the folder
 * (a real folder with a symbolic link out of it, a dot folder, a file outside), and what is
 * allowed decoded as a browser means it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_path.h"
#include "web_reply.h"
#include "web_static.h"

static const struct {
    const char *path;
    web_path_status_t want;
} hostile[] = {
    {"/..", WEB_PATH_MALFORMED},
    {"/../etc/passwd", WEB_PATH_MALFORMED},
    {"/site/../../etc/passwd", WEB_PATH_MALFORMED},
    {"/site/./index.html", WEB_PATH_MALFORMED},
    {"/%2e%2e/etc/passwd", WEB_PATH_MALFORMED},
    {"/%2E%2E/etc/passwd", WEB_PATH_MALFORMED},
    {"/.%2e/etc/passwd", WEB_PATH_MALFORMED},
    {"/site/%2e%2e%2f%2e%2e%2fetc", WEB_PATH_MALFORMED},
    {"/site%2f..%2f..%2fetc%2fpasswd", WEB_PATH_MALFORMED},
    {"/site/%5c..%5c..%5cetc", WEB_PATH_MALFORMED},
    {"/site\\..\\..\\etc\\passwd", WEB_PATH_MALFORMED},
    {"/site/index.html%00.csv", WEB_PATH_MALFORMED},
    {"/site/%00", WEB_PATH_MALFORMED},
    {"/site/%0a", WEB_PATH_MALFORMED},
    {"/site/%1b[31m", WEB_PATH_MALFORMED},
    {"/site/%", WEB_PATH_MALFORMED},
    {"/site/%4", WEB_PATH_MALFORMED},
    {"/site/%zz", WEB_PATH_MALFORMED},
    {"/site//index.html", WEB_PATH_MALFORMED},
    {"//etc/passwd", WEB_PATH_MALFORMED},
    {"site/index.html", WEB_PATH_MALFORMED},
    {"", WEB_PATH_MALFORMED},
    {"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", WEB_PATH_MALFORMED},
    {"/.site.tmp-ab12/index.html", WEB_PATH_HIDDEN},
    {"/.git/config", WEB_PATH_HIDDEN},
    {"/nhfd/2026Q1/.latest.csv.tmp.12", WEB_PATH_HIDDEN},
    {"/%2esite.tmp/index.html", WEB_PATH_HIDDEN},
    {"/site/..x", WEB_PATH_HIDDEN},
};

static void test_hostile_paths_are_refused(void **state)
{
    (void)state;
    char out[WEB_PATH_MAX + 2], err[256];
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        web_path_status_t got = web_path_check(hostile[i].path, out, sizeof out, err, sizeof err);
        if (got != hostile[i].want)
            fail_msg("\"%s\": got %d, expected %d (%s)", hostile[i].path, got, hostile[i].want,
                     got == WEB_PATH_OK ? out : err);
        assert_true(err[0] != '\0');
    }
    char longp[WEB_PATH_MAX + 10];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(web_path_check(longp, out, sizeof out, err, sizeof err), WEB_PATH_TOO_LONG);
}

static void test_allowed_paths_decode(void **state)
{
    (void)state;
    static const char *const ok[][2] = {
        {"/", "/"},
        {"/site/", "/site/"},
        {"/site/index.html", "/site/index.html"},
        {"/nhfd/2026Q1/r0003/release.csv", "/nhfd/2026Q1/r0003/release.csv"},
        {"/site/trust%20RX1.html", "/site/trust RX1.html"},
        {"/site/a+b", "/site/a+b"}, /* a path's "+" is a plus, not a space */
        /* decoded once: a file whose name is "%2e%2e", looked up as such, never as ".." */
        {"/%252e%252e/x", "/%2e%2e/x"},
    };
    char out[WEB_PATH_MAX + 2], err[256];
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (web_path_check(ok[i][0], out, sizeof out, err, sizeof err) != WEB_PATH_OK)
            fail_msg("\"%s\" refused: %s", ok[i][0], err);
        assert_string_equal(out, ok[i][1]);
    }
}

static void test_url_decode(void **state)
{
    (void)state;
    char out[16], err[128];
    assert_int_equal(web_url_decode("a%20b+c", 7, true, out, sizeof out, err, sizeof err), 5);
    assert_string_equal(out, "a b c");
    assert_int_equal(web_url_decode("a%2", 3, false, out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "malformed percent escape"));
    assert_int_equal(web_url_decode("%00", 3, false, out, sizeof out, err, sizeof err), -1);
    assert_int_equal(
        web_url_decode("0123456789abcdefXYZ", 19, false, out, sizeof out, err, sizeof err), -1);
}

/* A releases folder: site/index.html, a release file, a dot folder, a link out of the folder and
 * a link inside it; a secret file beside the folder. */
static char root[256], outside[300];

static void make_tree(void)
{
    snprintf(root, sizeof root, "%s/ncap-test-web-path-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof p, "%s/releases", root);
    assert_int_equal(mkdir(p, 0755), 0);
    const char *const dirs[] = {"releases/site", "releases/nhfd", "releases/nhfd/2026Q1",
                                "releases/.site.tmp-x"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    const char *const files[] = {"releases/site/index.html", "releases/nhfd/2026Q1/latest.csv",
                                 "releases/.site.tmp-x/index.html", "secret.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(files[i], f);
        fclose(f);
    }
    snprintf(outside, sizeof outside, "%s/secret.txt", root);
    snprintf(p, sizeof p, "%s/releases/site/out.html", root);
    assert_int_equal(symlink(outside, p), 0);
    snprintf(p, sizeof p, "%s/releases/site/up", root);
    assert_int_equal(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/releases/site/in.csv", root);
    assert_int_equal(symlink("../nhfd/2026Q1/latest.csv", p), 0);
}

static void remove_tree(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static int serve(int fd, const char *path, web_reply_t *rep)
{
    web_request_t req = {.method = "GET", .path = path};
    web_reply_init(rep);
    web_static_serve(fd, &req, rep);
    return rep->status;
}

static void test_files_only_inside_never_through_links(void **state)
{
    (void)state;
    make_tree();
    char p[512];
    snprintf(p, sizeof p, "%s/releases", root);
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    web_reply_t rep;
    assert_int_equal(serve(fd, "/site/index.html", &rep), 200);
    assert_true(rep.fd >= 0);
    assert_int_equal(rep.fd_size, strlen("releases/site/index.html"));
    assert_string_equal(rep.content_type, "text/html; charset=utf-8");
    assert_true(rep.etag[0] == '"');
    web_reply_free(&rep);
    assert_int_equal(serve(fd, "/site/", &rep), 200); /* the folder's index.html */
    web_reply_free(&rep);
    assert_int_equal(serve(fd, "/site", &rep), 301);
    assert_string_equal(rep.location, "/site/");
    web_reply_free(&rep);
    assert_int_equal(serve(fd, "/", &rep), 302);
    assert_string_equal(rep.location, "/site/");
    web_reply_free(&rep);
    assert_int_equal(serve(fd, "/nhfd/2026Q1/latest.csv", &rep), 200);
    assert_string_equal(rep.content_type, "text/csv; charset=utf-8");
    web_reply_free(&rep);
    /* links: out of the folder, to its parent, and even inside it: never followed */
    const char *const refused[] = {"/site/out.html",        "/site/up/secret.txt",     "/site/up/",
                                   "/site/in.csv",          "/.site.tmp-x/index.html", "/nhfd/",
                                   "/nhfd/2026Q1/none.csv", "/site/index.html/x"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        int st = serve(fd, refused[i], &rep);
        if (st != 404)
            fail_msg("%s: status %d, expected 404", refused[i], st);
        assert_int_equal(rep.fd, -1);
        assert_string_equal(rep.content_type, "application/problem+json");
        web_reply_free(&rep);
    }
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        if (!hostile[i].path[0])
            continue;
        int st = serve(fd, hostile[i].path, &rep);
        assert_true(st == 400 || st == 404);
        assert_int_equal(rep.fd, -1);
        web_reply_free(&rep);
    }
    /* the opener alone, with what the check would have refused */
    errno = 0;
    assert_int_equal(web_path_open(fd, "/site/out.html"), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(web_path_open(fd, "/../secret.txt"), -1);
    assert_int_equal(web_path_open(fd, "/.site.tmp-x/index.html"), -1);
    close(fd);
    remove_tree();
}

static void test_if_none_match(void **state)
{
    (void)state;
    make_tree();
    char p[512];
    snprintf(p, sizeof p, "%s/releases", root);
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    web_reply_t rep;
    assert_int_equal(serve(fd, "/site/index.html", &rep), 200);
    char etag[64];
    snprintf(etag, sizeof etag, "%s", rep.etag);
    web_reply_free(&rep);
    web_request_t req = {.method = "GET", .path = "/site/index.html", .if_none_match = etag};
    web_reply_init(&rep);
    web_static_serve(fd, &req, &rep);
    assert_int_equal(rep.status, 304);
    assert_int_equal(rep.fd, -1);
    web_reply_free(&rep);
    close(fd);
    remove_tree();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_paths_are_refused),
        cmocka_unit_test(test_allowed_paths_decode),
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_files_only_inside_never_through_links),
        cmocka_unit_test(test_if_none_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
