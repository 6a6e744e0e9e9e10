/* bench_record.c - what a field lookup costs in a record of a normal size and in one of 100,000
 * fields (issue 11: a payload of 100,000 fields took 16 s in each stage, as every field set or
 * looked up went over the fields before it). Each stage reads a payload as the runtime does
 * (stage_record.h): the JSON into a record (message_record_from_json), the record checked against
 * its definition (audit_def_check_record, which refuses the big one), and a record view filled
 * from it (record_view_set_record). Prints nanoseconds per field for each size; asserts nothing.
 * With a lookup in O(1) the two sizes cost about the same per field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_def.h"
#include "message.h"
#include "record.h"
#include "record_view.h"

#define BIG 100000
#define ROUNDS_NORMAL 20000 /* records of the normal size, to time more than a clock tick */

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A payload of def's fields, plus extra fields the definition does not have. */
static ncap_record_t *make_record(const audit_def_t *def, size_t extra)
{
    ncap_record_t *rec = ncap_record_new();
    char name[32];
    for (size_t i = 0; rec && i < def->n_fields; i++)
        if (ncap_record_set(rec, def->fields[i].name, "1") != 0)
            ncap_record_destroy(&rec);
    for (size_t i = 0; rec && i < extra; i++) {
        snprintf(name, sizeof name, "extra_%zu", i);
        if (ncap_record_set(rec, name, "x") != 0)
            ncap_record_destroy(&rec);
    }
    return rec;
}

/* Times rounds of each step on rec (json its payload) and prints ns per field. */
static int run(const char *what, const audit_def_t *def, const ncap_record_t *rec, int rounds)
{
    char *json = message_record_to_json(rec);
    ncap_record_t *parsed = ncap_record_new();
    record_view_t *view = record_view_new(def);
    if (!json || !parsed || !view) {
        fprintf(stderr, "bench_record: out of memory\n");
        return 1;
    }
    double t_parse = 0, t_get = 0, t_check = 0, t_view = 0;
    size_t found = 0;
    int refused = 0;
    char err[256] = "";
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_now();
        if (message_record_from_json(json, parsed) != 0) {
            fprintf(stderr, "bench_record: the payload did not parse\n");
            return 1;
        }
        double t1 = cpu_now();
        for (size_t i = 0; i < rec->n; i++)
            found += ncap_record_get(parsed, rec->fields[i].name) != NULL;
        double t2 = cpu_now();
        refused = audit_def_check_record(def, parsed, err, sizeof err) != 0;
        double t3 = cpu_now();
        record_view_set_record(view, parsed);
        double t4 = cpu_now();
        t_parse += t1 - t0;
        t_get += t2 - t1;
        t_check += t3 - t2;
        t_view += t4 - t3;
    }
    double per = 1e9 / ((double)rec->n * rounds);
    printf("%-28s %7zu fields: parse %6.1f ns/field, get %5.1f, check %5.1f, view %5.1f "
           "(%zu found)%s%s\n",
           what, rec->n, t_parse * per, t_get * per, t_check * per, t_view * per, found,
           refused ? "; refused: " : "", refused ? err : "");
    free(json);
    ncap_record_destroy(&parsed);
    record_view_destroy(&view);
    return 0;
}

int main(void)
{
    char err[512];
    audit_def_t *def =
        audit_def_load_named(NCAP_SOURCE_DIR "/deploy/audits", "nhfd", err, sizeof err);
    if (!def) {
        fprintf(stderr, "bench_record: %s\n", err);
        return 1;
    }
    ncap_record_t *normal = make_record(def, 0);
    ncap_record_t *big = make_record(def, BIG - def->n_fields);
    if (!normal || !big) {
        fprintf(stderr, "bench_record: out of memory\n");
        return 1;
    }
    /* building the record itself: set for every field */
    double t0 = cpu_now();
    ncap_record_t *again = make_record(def, BIG - def->n_fields);
    double t_build = cpu_now() - t0;
    printf("ncap_record_set, %d fields: %.3f s in all, %.1f ns/field\n", BIG, t_build,
           t_build * 1e9 / BIG);
    int rc = run("a normal NHFD record", def, normal, ROUNDS_NORMAL) ||
             run("a record of 100,000 fields", def, big, 3);
    ncap_record_destroy(&again);
    ncap_record_destroy(&normal);
    ncap_record_destroy(&big);
    audit_def_destroy(&def);
    return rc;
}
