/* test_web_problem.c - RFC 9457 problem details: the five members, the type naming the kind of
 * problem, bytes a client sent (not UTF-8, quotes, control characters) never breaking the JSON;
 * and every refusal the handler makes from a request alone (no database, no gateway) answered
 * as a problem with the status that says what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "web_handler.h"
#include "web_problem.h"

static json_t *parsed(const strbuf_t *b)
{
    json_error_t e;
    json_t *o = json_loads(b->s, 0, &e);
    if (!o)
        fail_msg("not JSON (%s): %s", e.text, b->s);
    return o;
}

static void test_members(void **state)
{
    (void)state;
    strbuf_t b = {0};
    assert_int_equal(web_problem_json(&b, 404, NULL, "no such file", "/x"), 0);
    json_t *o = parsed(&b);
    assert_string_equal(json_string_value(json_object_get(o, "type")),
                        "urn:ncap:problem:not-found");
    assert_string_equal(json_string_value(json_object_get(o, "title")), "Not Found");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 404);
    assert_string_equal(json_string_value(json_object_get(o, "detail")), "no such file");
    assert_string_equal(json_string_value(json_object_get(o, "instance")), "/x");
    json_decref(o);
    strbuf_reset(&b);
    assert_int_equal(
        web_problem_json(&b, 503, "database-unavailable", "down\n\"quoted\"\x01", "/\xff\xfe"), 0);
    o = parsed(&b);
    assert_string_equal(json_string_value(json_object_get(o, "type")),
                        "urn:ncap:problem:database-unavailable");
    assert_string_equal(json_string_value(json_object_get(o, "detail")), "down\n\"quoted\"\x01");
    assert_string_equal(json_string_value(json_object_get(o, "instance")),
                        "(path not valid UTF-8)");
    json_decref(o);
    strbuf_reset(&b);
    assert_int_equal(web_problem_json(&b, 418, NULL, NULL, NULL), 0);
    o = parsed(&b);
    assert_null(json_object_get(o, "detail"));
    assert_null(json_object_get(o, "instance"));
    assert_string_equal(json_string_value(json_object_get(o, "title")), "Error");
    json_decref(o);
    strbuf_free(&b);
}

static void expect(const web_context_t *ctx, const char *method, const char *path,
                   const web_kv_t *q, size_t nq, const char *accept, int status, const char *slug)
{
    web_request_t req = {
        .method = method, .path = path, .query = q, .n_query = nq, .accept = accept};
    web_reply_t rep;
    web_reply_init(&rep);
    web_handle(ctx, &req, &rep);
    if (rep.status != status)
        fail_msg("%s %s: status %d, expected %d: %s", method, path, rep.status, status,
                 rep.body.s ? rep.body.s : "");
    assert_string_equal(rep.content_type, WEB_PROBLEM_TYPE);
    json_t *o = parsed(&rep.body);
    char type[128];
    snprintf(type, sizeof type, "urn:ncap:problem:%s", slug);
    assert_string_equal(json_string_value(json_object_get(o, "type")), type);
    assert_int_equal(json_integer_value(json_object_get(o, "status")), status);
    assert_string_equal(json_string_value(json_object_get(o, "instance")), path);
    if (status == 405)
        assert_true(rep.allow[0] != '\0');
    json_decref(o);
    web_reply_free(&rep);
}

static void test_refusals(void **state)
{
    (void)state;
    web_context_t ctx = {.releases_fd = -1}; /* no database, no gateway, no folder */
    web_kv_t bad_level[] = {{"level", "county"}};
    web_kv_t unknown[] = {{"x", "1"}};
    web_kv_t csv[] = {{"format", "csv"}};
    expect(&ctx, "GET", "/api/v1/audits/nhfd/rows", bad_level, 1, NULL, 400, "bad-query");
    expect(&ctx, "GET", "/api/v1/audits", unknown, 1, NULL, 400, "bad-query");
    expect(&ctx, "GET", "/api/v1/audits/nhfd/metrics", csv, 1, NULL, 400, "bad-query");
    expect(&ctx, "GET", "/api/v1/nothing", NULL, 0, NULL, 404, "not-found");
    expect(&ctx, "DELETE", "/api/v1/audits", NULL, 0, NULL, 405, "method-not-allowed");
    expect(&ctx, "PUT", "/site/index.html", NULL, 0, NULL, 405, "method-not-allowed");
    expect(&ctx, "GET", "/api/v1/audits", NULL, 0, "text/html", 406, "not-acceptable");
    expect(&ctx, "GET", "/api/v1/audits", NULL, 0, NULL, 503, "database-unavailable");
    expect(&ctx, "GET", "/api/v1/results", NULL, 0, NULL, 503, "gateway-not-configured");
    expect(&ctx, "POST", "/api/v1/submissions", NULL, 0, NULL, 503, "gateway-not-configured");
    expect(&ctx, "GET", "/site/../../etc/passwd", NULL, 0, NULL, 400, "bad-path");
    expect(&ctx, "GET", "/%2e%2e/etc/passwd", NULL, 0, NULL, 400, "bad-path");
    expect(&ctx, "GET", "/.site.tmp-1/index.html", NULL, 0, NULL, 404, "not-found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
