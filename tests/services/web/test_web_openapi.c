/* test_web_openapi.c - services/web/openapi.yaml and the server's route table agree: every route
 * the server answers (web_route.h) is documented under its method, and every documented path and
 * method is a route. The file is read as the YAML it is laid out as: paths at two spaces under
 * "paths:", their methods at four. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web_route.h"

#define MAX_OPS 64

typedef struct {
    char method[8], path[128];
    bool matched;
} op_t;

/* The (method, path) pairs of the file's paths: section. */
static size_t read_ops(op_t *ops)
{
    FILE *f = fopen(NCAP_SOURCE_DIR "/services/web/openapi.yaml", "r");
    assert_non_null(f);
    char line[512], path[128] = "";
    bool in_paths = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!isspace((unsigned char)line[0]) && line[0] != '#')
            in_paths = strncmp(line, "paths:", 6) == 0;
        if (!in_paths)
            continue;
        if (strncmp(line, "  /", 3) == 0) {
            char *colon = strrchr(line, ':');
            assert_non_null(colon);
            *colon = '\0';
            snprintf(path, sizeof path, "%.120s", line + 2);
        } else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ' && path[0]) {
            static const char *const methods[] = {"get", "post", "put", "delete", "patch", "head"};
            for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
                size_t k = strlen(methods[m]);
                if (strncmp(line + 4, methods[m], k) == 0 && line[4 + k] == ':') {
                    assert_true(n < MAX_OPS);
                    for (size_t c = 0; c <= k; c++)
                        ops[n].method[c] = (char)toupper((unsigned char)methods[m][c]);
                    snprintf(ops[n].path, sizeof ops[n].path, "%s", path);
                    n++;
                }
            }
        }
    }
    fclose(f);
    return n;
}

static void test_routes_and_openapi_agree(void **state)
{
    (void)state;
    op_t ops[MAX_OPS];
    size_t n = read_ops(ops);
    int wrong = 0;
    for (size_t r = 0; r < web_n_routes; r++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            if (strcmp(ops[i].method, web_routes[r].method) == 0 &&
                strcmp(ops[i].path, web_routes[r].pattern) == 0) {
                ops[i].matched = found = true;
            }
        if (!found) {
            print_error("route %s %s is not in openapi.yaml\n", web_routes[r].method,
                        web_routes[r].pattern);
            wrong++;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!ops[i].matched) {
            print_error("openapi.yaml documents %s %s, which the server does not route\n",
                        ops[i].method, ops[i].path);
            wrong++;
        }
    if (wrong)
        fail_msg("%d difference(s) between openapi.yaml and web_route.c", wrong);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_routes_and_openapi_agree)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
