/* test_str_map.c - the one string map: a key put once is found again with the index it got, keys
 * are copied, hundreds of thousands of keys stay reachable as the map grows, and going over the
 * keys gives the order they were put in, whatever the map's random hash key, so that what a user
 * writes by going over a map is the same in every run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str_map.h"

static void a_key_keeps_its_index(void **state)
{
    (void)state;
    str_map_t *m = str_map_new(0);
    assert_non_null(m);
    size_t i = 99;
    assert_int_equal(str_map_get(m, "smith"), STR_MAP_MISSING);
    assert_int_equal(str_map_put(m, "smith", &i), 1);
    assert_int_equal(i, 0);
    assert_int_equal(str_map_put(m, "jones", &i), 1);
    assert_int_equal(i, 1);
    assert_int_equal(str_map_put(m, "", NULL), 1); /* the empty string is a key like any */
    assert_int_equal(str_map_put(m, "smith", &i), 0);
    assert_int_equal(i, 0);
    assert_int_equal(str_map_get(m, "jones"), 1);
    assert_int_equal(str_map_get(m, ""), 2);
    assert_int_equal(str_map_get(m, "smit"), STR_MAP_MISSING);
    assert_int_equal(str_map_get(m, "smithe"), STR_MAP_MISSING);
    assert_int_equal(str_map_size(m), 3);
    assert_string_equal(str_map_key(m, 1), "jones");
    str_map_destroy(&m);
    assert_null(m);
    str_map_destroy(&m); /* harmless twice */
}

static void keys_are_copied(void **state)
{
    (void)state;
    str_map_t *m = str_map_new(0);
    assert_non_null(m);
    char buf[16] = "RX1";
    assert_int_equal(str_map_put(m, buf, NULL), 1);
    strcpy(buf, "RX2");
    assert_int_equal(str_map_put(m, buf, NULL), 1);
    assert_int_equal(str_map_get(m, "RX1"), 0);
    assert_int_equal(str_map_get(m, "RX2"), 1);
    assert_string_equal(str_map_key(m, 0), "RX1");
    /* a key longer than a block of copies */
    size_t n = 200000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    assert_int_equal(str_map_put(m, big, NULL), 1);
    big[n - 1] = 'b';
    assert_int_equal(str_map_put(m, big, NULL), 1);
    assert_int_equal(str_map_get(m, big), 3);
    big[n - 1] = 'a';
    assert_int_equal(str_map_get(m, big), 2);
    assert_memory_equal(str_map_key(m, 2), big, n + 1);
    free(big);
    str_map_destroy(&m);
}

static void many_keys_stay_reachable_as_it_grows(void **state)
{
    (void)state;
    enum { N = 300000 };
    size_t hints[] = {0, N};
    for (size_t h = 0; h < 2; h++) {
        str_map_t *m = str_map_new(hints[h]);
        assert_non_null(m);
        char k[32];
        for (size_t i = 0; i < N; i++) {
            snprintf(k, sizeof k, "%zu", i * 7919 % 1000003); /* distinct: 7919 is prime */
            size_t at;
            assert_int_equal(str_map_put(m, k, &at), 1);
            assert_int_equal(at, i);
        }
        assert_int_equal(str_map_size(m), N);
        for (size_t i = 0; i < N; i++) {
            snprintf(k, sizeof k, "%zu", i * 7919 % 1000003);
            assert_int_equal(str_map_get(m, k), i);
            assert_string_equal(str_map_key(m, i), k);
            size_t at;
            assert_int_equal(str_map_put(m, k, &at), 0);
            assert_int_equal(at, i);
            snprintf(k, sizeof k, "x%zu", i);
            assert_int_equal(str_map_get(m, k), STR_MAP_MISSING);
        }
        str_map_destroy(&m);
    }
}

/* What a user writes by going over the keys of a map filled from names. */
static char *listing(const char *const *names, size_t n)
{
    str_map_t *m = str_map_new(0);
    assert_non_null(m);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(str_map_put(m, names[i], NULL), -1);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    for (size_t i = 0; i < str_map_size(m); i++)
        fprintf(f, "%s\n", str_map_key(m, i));
    fclose(f);
    str_map_destroy(&m);
    return out;
}

static void going_over_the_keys_follows_the_order_they_came_in(void **state)
{
    (void)state;
    /* every map draws its own hash key, so two maps place these keys differently */
    enum { N = 5000 };
    static char names[N][16];
    const char *p[2 * N];
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "name%zu", (i * 613) % N);
        p[i] = p[N + i] = names[i]; /* each twice: a key put again keeps its first place */
    }
    char *a = listing(p, 2 * N), *b = listing(p, 2 * N), *c = listing(p, N);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    const char *first = "name0\nname613\nname1226\n";
    assert_memory_equal(a, first, strlen(first));
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_key_keeps_its_index),
        cmocka_unit_test(keys_are_copied),
        cmocka_unit_test(many_keys_stay_reachable_as_it_grows),
        cmocka_unit_test(going_over_the_keys_follows_the_order_they_came_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
