/* test_web_query.c - the read API's query strings: every parameter's grammar, a malformed,
 * unknown or repeated parameter refused saying which and what was expected, paging bounds, the
 * representation from ?format= and Accept; and the bearer token's header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "web_query.h"
#include "web_route.h"
#include "web_trust.h"

#define ROWS                                                                                       \
    (WQ_PERIOD | WQ_REVISION | WQ_LEVEL | WQ_AREA | WQ_METRIC | WQ_BREAKDOWN | WQ_LIMIT | WQ_FORMAT)

static int parse1(const char *k, const char *v, unsigned allowed, web_query_t *q, char *err)
{
    web_kv_t kv[] = {{k, v}};
    return web_query_parse(kv, 1, allowed, q, err, 256);
}

static void test_values_parsed(void **state)
{
    (void)state;
    web_kv_t kv[] = {{"period", "2026Q1"},
                     {"revision", "3"},
                     {"level", "trust"},
                     {"area", "RX1"},
                     {"metric", "mortality_30d"},
                     {"breakdown", "all"},
                     {"limit", "50"},
                     {"after", "120"},
                     {"format", "csv"}};
    web_query_t q;
    char err[256];
    assert_int_equal(web_query_parse(kv, 9, ROWS, &q, err, sizeof err), 0);
    assert_string_equal(q.period, "2026Q1");
    assert_int_equal(q.revision, 3);
    assert_string_equal(q.level, "trust");
    assert_string_equal(q.area, "RX1");
    assert_string_equal(q.metric, "mortality_30d");
    assert_string_equal(q.breakdown, "all");
    assert_int_equal(q.limit, 50);
    assert_int_equal(q.after, 120);
    assert_true(q.format_given);
    assert_int_equal(q.format, WEB_FORMAT_CSV);
    assert_int_equal(web_query_parse(NULL, 0, ROWS, &q, err, sizeof err), 0);
    assert_int_equal(q.limit, WEB_QUERY_LIMIT_DEFAULT);
    assert_int_equal(q.after, 0);
    /* encoded values are decoded once */
    assert_int_equal(parse1("area", "R%58%31", ROWS, &q, err), 0);
    assert_string_equal(q.area, "RX1");
}

static void test_malformed_refused(void **state)
{
    (void)state;
    static const struct {
        const char *k, *v, *says;
    } bad[] = {
        {"level", "county", "one of england, region, trust, site"},
        {"level", "", "invalid value"},
        {"area", "RX1'; DROP TABLE x;--", "an area code"},
        {"area", "RX%00", "encoded NUL"},
        {"metric", "../../etc", "a metric id"},
        {"metric", "%zz", "malformed percent escape"},
        {"period", "2026Q1 OR 1=1", "a period"},
        {"revision", "0", "a revision number"},
        {"revision", "-1", "a revision number"},
        {"revision", "1e3", "a revision number"},
        {"limit", "0", "from 1 to 10000"},
        {"limit", "10001", "from 1 to 10000"},
        {"limit", "99999999999999999999", "from 1 to 10000"},
        {"after", "x", "a cursor"},
        {"format", "xml", "json or csv"},
        {"nope", "1", "unknown query parameter \"nope\""},
        {"audit", "nhfd", "unknown query parameter \"audit\""}, /* not a read route's */
        {"p%00", "1", "malformed query parameter name"},
    };
    web_query_t q;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse1(bad[i].k, bad[i].v, ROWS, &q, err) != -1)
            fail_msg("%s=%s accepted", bad[i].k, bad[i].v);
        if (!strstr(err, bad[i].says))
            fail_msg("%s=%s: \"%s\" does not say \"%s\"", bad[i].k, bad[i].v, err, bad[i].says);
    }
    web_kv_t twice[] = {{"metric", "a"}, {"metric", "b"}};
    assert_int_equal(web_query_parse(twice, 2, ROWS, &q, err, sizeof err), -1);
    assert_non_null(strstr(err, "given twice"));
    /* what a message shows of a value is printable and short */
    assert_int_equal(parse1("area", "%1b%5b31m", ROWS, &q, err), -1);
    assert_null(strchr(err, '\x1b'));
}

static void test_format_from_accept(void **state)
{
    (void)state;
    web_query_t q = {0};
    web_format_t f;
    char err[256];
    static const struct {
        const char *accept;
        int rc;
        web_format_t want;
    } cases[] = {
        {NULL, 0, WEB_FORMAT_JSON},
        {"", 0, WEB_FORMAT_JSON},
        {"*/*", 0, WEB_FORMAT_JSON},
        {"application/json", 0, WEB_FORMAT_JSON},
        {"text/csv", 0, WEB_FORMAT_CSV},
        {"text/csv;q=0.9, application/json", 0, WEB_FORMAT_CSV},
        {"text/csv;q=0, application/json", 0, WEB_FORMAT_JSON},
        {"text/html, text/*", 0, WEB_FORMAT_CSV},
        {"text/html", -1, WEB_FORMAT_JSON},
        {"image/png, application/xml", -1, WEB_FORMAT_JSON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = web_query_format(&q, cases[i].accept, true, &f, err, sizeof err);
        if (rc != cases[i].rc || (rc == 0 && f != cases[i].want))
            fail_msg("Accept \"%s\": rc %d format %d", cases[i].accept ? cases[i].accept : "(none)",
                     rc, f);
    }
    assert_int_equal(web_query_format(&q, "text/csv", false, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "application/json"));
    q.format_given = true;
    q.format = WEB_FORMAT_CSV;
    assert_int_equal(web_query_format(&q, "application/json", true, &f, err, sizeof err), 0);
    assert_int_equal(f, WEB_FORMAT_CSV);
}

static void test_routes(void **state)
{
    (void)state;
    web_route_match_t m;
    assert_int_equal(web_route_find("GET", "/api/v1/audits/nhfd/rows", &m), 0);
    assert_int_equal(m.route->id, ROUTE_ROWS);
    assert_string_equal(m.param, "nhfd");
    assert_int_equal(web_route_find("HEAD", "/api/v1/audits", &m), 0);
    assert_int_equal(web_route_find("POST", "/api/v1/submissions", &m), 0);
    assert_int_equal(m.route->id, ROUTE_SUBMIT);
    assert_int_equal(web_route_find("GET", "/api/v1/submissions/12/feedback", &m), 0);
    assert_string_equal(m.param, "12");
    assert_int_equal(web_route_find("DELETE", "/api/v1/audits/nhfd", &m), -1);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(web_route_find("GET", "/api/v1/submissions", &m), -1);
    assert_string_equal(m.allow, "POST");
    assert_int_equal(web_route_find("GET", "/api/v1/audits//rows", &m), -1);
    assert_string_equal(m.allow, "");
    assert_int_equal(web_route_find("GET", "/api/v1/audits/nhfd/rows/x", &m), -1);
    assert_int_equal(web_route_find("GET", "/api/v2/audits", &m), -1);
}

static void test_bearer(void **state)
{
    (void)state;
    char tok[300], err[256];
    assert_int_equal(web_trust_bearer("Bearer abc.DEF-123_~+/=", tok, sizeof tok, err, sizeof err),
                     0);
    assert_string_equal(tok, "abc.DEF-123_~+/=");
    assert_int_equal(web_trust_bearer("bearer  xyz", tok, sizeof tok, err, sizeof err), 0);
    assert_string_equal(tok, "xyz");
    assert_int_equal(web_trust_bearer(NULL, tok, sizeof tok, err, sizeof err), -1);
    assert_non_null(strstr(err, "no Authorization header"));
    assert_int_equal(web_trust_bearer("Basic dXNlcjpwYXNz", tok, sizeof tok, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a bearer token"));
    assert_int_equal(web_trust_bearer("Bearer ", tok, sizeof tok, err, sizeof err), -1);
    assert_int_equal(web_trust_bearer("Bearer a\"b", tok, sizeof tok, err, sizeof err), -1);
    assert_non_null(strstr(err, "malformed bearer token"));
    char longt[400] = "Bearer ";
    memset(longt + 7, 'a', 300);
    longt[307] = '\0';
    assert_int_equal(web_trust_bearer(longt, tok, sizeof tok, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_parsed),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_format_from_accept),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_bearer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
