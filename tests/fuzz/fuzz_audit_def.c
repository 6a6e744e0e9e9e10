/* fuzz_audit_def.c - the definition loader (common/audit/audit_def.c: YAML through libyaml, the
 * structure, names, limits, and every expression parsed, type-checked and bound) on any text, as
 * `ncap audit check FILE` and every daemon load deploy/audits/<audit>.yaml. The text is handed
 * over as a file (a memfd, read through /proc/self/fd: no disk).
 *
 * Checked: a definition comes back exactly when no problem is listed; at most AUDIT_MAX_PROBLEMS
 * are listed, each "FILE:LINE[:COLUMN]: message"; audit_def_load agrees and its message is the
 * first problem. A definition that loads is then used as the stages use one, on records of a few
 * kinds of values: its derived fields computed (record_view_derive), its rules (validate_view)
 * and its metrics (contribution_compute) evaluated. */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "contribution.h"
#include "harness.h"
#include "record_view.h"
#include "validate_record.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fd = memfd_create("fuzz_audit_def.yaml", 0);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

/* Values a record of any definition may hold: text, numbers, dates, times, codes, bad ones. */
static const char *const samples[] = {
    "",     "1",           "0",  "Y",          "2025-04-01", "2025-04-01T10:30",
    "-7.5", "99999999999", "ZZ", "01/02/1930", "N",          "2"};
#define N_SAMPLES (sizeof samples / sizeof samples[0])

static void use(const audit_def_t *def)
{
    record_view_t *view = record_view_new(def);
    ncap_record_t *rec = ncap_record_new();
    contribution_t *c = calloc(def->n_metrics + 1, sizeof *c);
    if (!view || !rec || !c)
        abort();
    size_t n_slots = audit_def_n_slots(def);
    for (size_t kind = 0; kind < N_SAMPLES; kind++) {
        record_view_reset(view);
        ncap_record_clear(rec);
        for (size_t s = 0; s < n_slots; s++) {
            const char *text = samples[(kind + s) % N_SAMPLES];
            if (!audit_def_slot_field(def, (int)s))
                continue; /* derived: computed below */
            record_view_set(view, (int)s, text);
            if (ncap_record_set(rec, audit_def_slot_name(def, (int)s), text) != 0)
                abort();
        }
        record_view_derive(view);
        validation_result_t res = {.valid = 1};
        if (validate_view(view, &res) != 0)
            abort();
        validation_result_free(&res);
        char period[8], month[8], err[512];
        int nc = contribution_compute(def, rec, period, month, c, err, sizeof err);
        HARNESS_CHECK(nc <= (int)def->n_metrics, "%d contributions of %zu metrics", nc,
                      def->n_metrics);
    }
    free(c);
    ncap_record_destroy(&rec);
    record_view_destroy(&view);
}

static void check_line(const char *line)
{
    size_t n = strlen(path);
    HARNESS_CHECK(strncmp(line, path, n) == 0 && line[n] == ':' && line[n + 1] >= '1' &&
                      line[n + 1] <= '9',
                  "problem line \"%s\" does not start with FILE:LINE", line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    audit_problems_t problems;
    audit_def_t *def = audit_def_load_problems(path, &problems);
    HARNESS_CHECK(!problems.unreadable, "the memfd could not be read: %s",
                  problems.n ? problems.lines[0] : "");
    HARNESS_CHECK((def != NULL) == (problems.n == 0 && problems.n_more == 0),
                  "a definition %s with %zu problems listed and %zu more",
                  def ? "loaded" : "refused", problems.n, problems.n_more);
    HARNESS_CHECK(problems.n <= AUDIT_MAX_PROBLEMS, "%zu problems listed", problems.n);
    for (size_t i = 0; i < problems.n; i++)
        check_line(problems.lines[i]);

    char err[1024];
    audit_def_t *again = audit_def_load(path, err, sizeof err);
    HARNESS_CHECK((again != NULL) == (def != NULL), "audit_def_load disagrees");
    if (!def)
        HARNESS_CHECK(problems.n == 0 || strncmp(err, problems.lines[0],
                                                 strnlen(problems.lines[0], sizeof err - 1)) == 0,
                      "audit_def_load says \"%s\", the first problem is \"%s\"", err,
                      problems.lines[0]);
    audit_def_destroy(&again);
    audit_problems_free(&problems);
    if (def)
        use(def);
    audit_def_destroy(&def);
    return 0;
}
