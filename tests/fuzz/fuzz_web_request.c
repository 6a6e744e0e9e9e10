/* fuzz_web_request.c - ncap-webd's handling of one request from any bytes: the request line, the
 * headers it reads and a body, through web_handle_headers and web_handle (web_handler.c: the
 * route table, the query grammar, Accept, the trusts' checks, the path gate and the file opener),
 * with no database and no gateway (their routes answer 503), over a releases folder made once:
 * site/index.html, a release file, a hidden folder and a symbolic link to a secret file beside
 * the folder.
 *
 * Checked: every answer has a status of the server's set; every refusal (4xx, 5xx) is a
 * problem+json document whose status is the answer's; a file is only ever served from inside the
 * folder (never the secret file, never a hidden one) and a 405 names what is allowed; a request
 * answered from its headers is answered the same with its body.
 *
 * Input: "METHOD PATH[?QUERY]" on the first line, then header lines "Name: value" (Accept,
 * Authorization, Content-Type, If-None-Match) up to an empty line, then the body. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "web_handler.h"

static int root_fd = -1;
static struct stat secret, hidden;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    HARNESS_CHECK(f != NULL, "could not write %s", path);
    fputs(text, f);
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char base[] = "/tmp/ncap-fuzz-web-XXXXXX", p[256];
    HARNESS_CHECK(mkdtemp(base) != NULL, "mkdtemp failed");
    const char *const dirs[] = {"releases", "releases/site", "releases/nhfd",
                                "releases/nhfd/2026Q1", "releases/.site.tmp-x"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(p, sizeof p, "%s/%s", base, dirs[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/secret", base);
    write_file(p, "secret");
    stat(p, &secret);
    char link[256];
    snprintf(link, sizeof link, "%s/releases/site/secret.html", base);
    symlink(p, link);
    snprintf(link, sizeof link, "%s/releases/nhfd/up", base);
    symlink("..", link);
    snprintf(p, sizeof p, "%s/releases/site/index.html", base);
    write_file(p, "<h1>portal</h1>");
    snprintf(p, sizeof p, "%s/releases/nhfd/2026Q1/latest.csv", base);
    write_file(p, "audit,period\n");
    snprintf(p, sizeof p, "%s/releases/.site.tmp-x/index.html", base);
    write_file(p, "hidden");
    stat(p, &hidden);
    snprintf(p, sizeof p, "%s/releases", base);
    root_fd = open(p, O_RDONLY | O_DIRECTORY);
    HARNESS_CHECK(root_fd >= 0, "could not open %s", p);
    return 0;
}

static const int statuses[] = {200, 301, 302, 304, 400, 401, 403, 404, 405,
                               406, 413, 414, 415, 431, 500, 503};

static void check_reply(const web_reply_t *rep)
{
    bool known = false;
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
        known |= rep->status == statuses[i];
    HARNESS_CHECK(known, "status %d", rep->status);
    if (rep->status >= 400) {
        HARNESS_CHECK(rep->content_type && strcmp(rep->content_type, "application/problem+json") == 0,
                      "a %d that is not a problem: %s", rep->status,
                      rep->content_type ? rep->content_type : "(no type)");
        json_t *o = json_loads(rep->body.s ? rep->body.s : "", 0, NULL);
        HARNESS_CHECK(o && json_integer_value(json_object_get(o, "status")) == rep->status &&
                          json_is_string(json_object_get(o, "type")) &&
                          json_is_string(json_object_get(o, "title")),
                      "problem document: %s", rep->body.s ? rep->body.s : "(none)");
        json_decref(o);
        HARNESS_CHECK(rep->status != 405 || rep->allow[0], "a 405 without Allow");
    }
    if (rep->fd >= 0) {
        struct stat st;
        HARNESS_CHECK(fstat(rep->fd, &st) == 0 && S_ISREG(st.st_mode), "not a regular file");
        HARNESS_CHECK(!(st.st_ino == secret.st_ino && st.st_dev == secret.st_dev),
                      "the secret file outside the releases folder was opened");
        HARNESS_CHECK(!(st.st_ino == hidden.st_ino && st.st_dev == hidden.st_dev),
                      "a file of a hidden folder was opened");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = harness_text(data, size);
    if (!text)
        return 0;
    char *body = strstr(text, "\n\n");
    if (body)
        *body = '\0', body += 2;
    char *lines[8];
    size_t n = harness_split(text, '\n', lines, 8);
    char *sp = strchr(lines[0], ' ');
    const char *method = sp ? lines[0] : "GET";
    char *target = sp ? sp + 1 : lines[0];
    if (sp)
        *sp = '\0';
    web_kv_t query[32];
    size_t nq = 0;
    char *q = strchr(target, '?');
    if (q) {
        *q++ = '\0';
        char *pieces[32];
        size_t np = harness_split(q, '&', pieces, 32);
        for (size_t i = 0; i < np; i++) {
            char *eq = strchr(pieces[i], '=');
            if (eq)
                *eq++ = '\0';
            query[nq++] = (web_kv_t){pieces[i], eq};
        }
    }
    web_request_t req = {.method = method, .path = target, .query = query, .n_query = nq};
    for (size_t i = 1; i < n; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *v = colon[1] == ' ' ? colon + 2 : colon + 1;
        if (strcasecmp(lines[i], "Accept") == 0)
            req.accept = v;
        else if (strcasecmp(lines[i], "Authorization") == 0)
            req.authorization = v;
        else if (strcasecmp(lines[i], "Content-Type") == 0)
            req.content_type = v;
        else if (strcasecmp(lines[i], "If-None-Match") == 0)
            req.if_none_match = v;
    }
    web_context_t ctx = {.releases_fd = root_fd};
    web_reply_t head, whole;
    web_reply_init(&head);
    bool answered = web_handle_headers(&ctx, &req, &head);
    if (answered)
        check_reply(&head);
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    web_reply_init(&whole);
    web_handle(&ctx, &req, &whole);
    check_reply(&whole);
    HARNESS_CHECK(!answered || head.status == whole.status,
                  "answered %d from the headers, %d with the body", head.status, whole.status);
    web_reply_free(&head);
    web_reply_free(&whole);
    free(text);
    return 0;
}
