/* test_skip.h - the one way a unit test is left out for want of what it needs: PostgreSQL
 * ($NCAP_TEST_PG, which tests/run sets) or the shared public data (NCAP_SHARED_DATA, by default
 * ../shared/data beside the repository). On a developer's machine the test is skipped, saying
 * why; in CI ($CI is "true") it fails instead, because a skip there would let a run that proved
 * nothing pass. Include after <cmocka.h>. */
#ifndef NCAP_TEST_SKIP_H
#define NCAP_TEST_SKIP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* True in CI: $CI is "true", as CI services set it and tests/run --help documents. */
static inline bool ncap_test_in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

static inline void ncap_skip_or_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void ncap_skip_or_fail_at(const char *file, int line, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (ncap_test_in_ci()) {
        print_error("%s: a test may not skip in CI (CI=true)\n", why);
        _fail(file, line);
    }
    print_message("skipped: %s\n", why);
    _skip(file, line);
}

/* Leaves the current test out, skipped or (in CI) failed, for the reason printf(fmt, ...). Does
 * not return. */
#define ncap_skip_or_fail(...) ncap_skip_or_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* True when $NCAP_TEST_PG names a cluster for the tests. A group setup asks this and prepares
 * nothing when it is false (a skip there would fail the whole group); each test then calls
 * ncap_require_pg. */
static inline bool ncap_test_has_pg(void)
{
    const char *pg = getenv("NCAP_TEST_PG");
    return pg && *pg;
}

/* Leaves the current test out unless $NCAP_TEST_PG is set. */
#define ncap_require_pg()                                                                          \
    do {                                                                                           \
        if (!ncap_test_has_pg())                                                                   \
            ncap_skip_or_fail("NCAP_TEST_PG is unset: this test needs PostgreSQL (tests/run "      \
                              "starts one)");                                                      \
    } while (0)

/* Leaves the current test out unless path, a file of the shared data, can be read. */
#define ncap_require_shared_file(path)                                                             \
    do {                                                                                           \
        if (access((path), R_OK) != 0)                                                             \
            ncap_skip_or_fail("cannot read shared data \"%s\" (NCAP_SHARED_DATA when configured, " \
                              "else ../shared/data beside the repository)",                        \
                              (path));                                                             \
    } while (0)

#endif
