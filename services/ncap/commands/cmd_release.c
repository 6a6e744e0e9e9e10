/* cmd_release.c - `ncap release build`: the release a deployment would publish, built offline from
 * trust files with the daemons' own code (services/ncap/offline/release_build.h) and the publish
 * daemon's benchmarking (services/publish/benchmark.h); `ncap release now`: a round of the
 * running deployment's releases at once (a row of publish.release_request, migration 0019). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "array_grow.h"
#include "ascertainment.h"
#include "audit_def.h"
#include "benchmark.h"
#include "command_db.h"
#include "commands.h"
#include "csv.h"
#include "db.h"
#include "file_read.h"
#include "link_memory.h"
#include "ods_code.h"
#include "ods_etr.h"
#include "outlier_gate.h"
#include "release_build.h"
#include "release_files.h"
#include "release_diff.h"
#include "release_finalise.h"
#include "refdata_expected.h"
#include "release_input.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fputs(
        "usage: ncap release build --audit A --out DIR [--deaths FILE [--covers-to DATE]]\n"
        "                          [--optouts FILE] [--ods FILE] [--imd FILE]\n"
        "                          [--actions FILE] [--expected FILE] [--audit-dir DIR]\n"
        "                          FILE...\n"
        "\n"
        "Builds, from trusts' files, the release a deployment would publish for them: the same\n"
        "files, figure for figure, that ncap-publishd writes once the pipeline has taken every\n"
        "file in. Each FILE is one submission of the trust its name gives (DIR/<ODS>.csv, as\n"
        "`ncap sim --out` writes them), taken in the order given; a later file of the same trust\n"
        "replaces the records it sends again, as a resubmission does. Every record goes through\n"
        "the daemons' own code: ingest's checks of the file, linkage (patients, the register of\n"
        "deaths, deprivation, the national data opt-out), validation, the metrics and their\n"
        "breakdowns, then the benchmarking of the publish stage. Try a change to a definition on\n"
        "last year's files with it, without a deployment.\n"
        "\n"
        "Writes, for each period a record falls in:\n"
        "  DIR/<audit>/<period>/latest.csv      every level, breakdown and comparison\n"
        "  DIR/<audit>/<period>/latest.json     the same rows, the metrics and the provenance\n"
        "  DIR/<audit>/<period>/fingertips.csv  the figures in OHID Fingertips' layout\n"
        "  DIR/<audit>/<period>/spc.csv, spc_summary.csv  the run charts\n"
        "  DIR/<audit>/<period>/ascertainment.csv  with --expected, for a period with expected\n"
        "                                       cases: each trust's records over them\n"
        "\n"
        "  --audit A        the audit, e.g. nhfd (its definition is A.yaml, see --audit-dir)\n"
        "  --out DIR        where the release files go (created)\n"
        "  --deaths FILE    the register of deaths    } the files `ncap refdata load`\n"
        "  --optouts FILE   the national data opt-out } takes, checked the same way: a bad\n"
        "  --imd FILE       deprivation by LSOA       } row is reported with its line (the\n"
        "  --ods FILE       NHS trusts (ODS etr)      } first 20 of a file) and skipped; a wrong\n"
        "                                               header, or no trust in --ods, is an error\n"
        "  --covers-to DATE the last day the --deaths register covers, as `ncap refdata load\n"
        "                   deaths --covers-to` records it (default: its latest date of death):\n"
        "                   a metric's follow-up past it is not complete, and the record held\n"
        "  --actions FILE   changes trusts made, as `ncap action add` records them: CSV with the\n"
        "                   header trust,metric,date (YYYY-MM-DD); each starts a new period of\n"
        "                   the trust's run chart of the metric, as in a deployment\n"
        "  --expected FILE  the cases each trust was expected to submit, as `ncap refdata load\n"
        "                   expected` takes them (trust,period,expected; bad rows skipped)\n"
        "                   (no delays.csv: an offline build has no receipt or publication to\n"
        "                   time)\n"
        "  --audit-dir DIR  where definitions are ($NCAP_AUDIT_DIR, else the\n"
        "                   installed ones: " NCAP_DEFAULT_AUDIT_DIR ")\n"
        "  --help           show this help\n"
        "\n"
        "Without --deaths no record has a date of death (and no follow-up is complete: a\n"
        "deployment without a register holds them too), without --imd none a deprivation\n"
        "decile, without --ods every trust is named by its code in region \"unknown\". Linkage\n"
        "scores with its documented default parameters (a deployment's `ncap link-train` is not\n"
        "seen). Progress and a summary go to standard error.\n"
        "\n"
        "Exit status: 0 written (bad reference rows skipped), 1 a file ingest would refuse as a\n"
        "whole, a reference file with a wrong header or an --ods file without a trust, 2 usage,\n"
        "a file that cannot be read or written, or definition trouble.\n",
        out);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ncap release: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void note(void *ctx, const char *message)
{
    (void)ctx;
    say("%s", message);
}

/* ---------------------------------------------------------------- reference data */

/* Bad rows of a reference file said at most this often each; the rest only counted. */
#define BAD_ROWS_SAID 20

typedef struct {
    const char *path;
    const char *kind;
    size_t said;
} bad_row_ctx_t;

/* One bad row of a reference file, said with its line, unless BAD_ROWS_SAID were already. */
static void say_bad_row(bad_row_ctx_t *c, size_t line, const char *reason)
{
    if (c->said++ < BAD_ROWS_SAID)
        say("%s:%zu: %s (row skipped, as `ncap refdata load %s` skips it)", c->path, line, reason,
            c->kind);
    else if (c->said == BAD_ROWS_SAID + 1)
        say("%s: more bad rows skipped, not listed (the count follows)", c->path);
}

static void bad_row(void *ctx, size_t line, const refdata_problem_t *problem)
{
    say_bad_row(ctx, line, problem->reason);
}

/* Loads one reference file into lm. Returns 0, 1 (a wrong header) or 2 (unreadable). */
static int load_refdata(link_memory_t *lm, refdata_kind_t kind, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len) != 0) {
        say("could not read \"%s\": %s", path, strerror(errno));
        return 2;
    }
    char err[1024];
    bad_row_ctx_t ctx = {path, refdata_kind_name(kind), 0};
    link_memory_load_counts_t c;
    int rc = link_memory_load(lm, kind, data, len, bad_row, &ctx, &c, err, sizeof err);
    free(data);
    if (rc != 0) {
        say("%s:1: %s", path, err);
        return 1;
    }
    say("%s: %lld %s rows, %lld taken, %lld duplicates, %lld skipped", path, c.read,
        refdata_kind_name(kind), c.added, c.duplicates, c.skipped);
    return 0;
}

/* The trusts of an ODS etr extract, as `ncap refdata load ods` keeps them in
 * publish.organisation: a code's first row, the region "unknown" where none is given. */
typedef struct {
    ods_etr_row_t *rows;
    benchmark_org_t *orgs;
    size_t n;
} orgs_t;

static void orgs_free(orgs_t *o)
{
    free(o->rows);
    free(o->orgs);
    *o = (orgs_t){0};
}

/* Returns 0, 1 (no trust in the file) or 2 (unreadable, out of memory). */
static int load_ods(orgs_t *o, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (file_read_all(path, &data, &len) != 0) {
        say("could not read \"%s\": %s", path, strerror(errno));
        return 2;
    }
    ods_etr_reader_t *rd = ods_etr_reader_new(data, len);
    bad_row_ctx_t said = {path, "ods", 0};
    size_t cap = 0, read = 0, skipped = 0;
    int rc = rd ? 0 : 2, got;
    ods_etr_row_t row;
    ods_etr_problem_t problem;
    while (rc == 0 && (got = ods_etr_reader_next(rd, &row, &problem)) != 0) {
        read++;
        if (got < 0) {
            skipped++;
            say_bad_row(&said, ods_etr_reader_line(rd), problem.reason);
            continue;
        }
        bool seen = false;
        for (size_t i = 0; i < o->n && !seen; i++)
            seen = strcmp(o->rows[i].code, row.code) == 0;
        if (seen)
            continue;
        if (array_grow((void **)&o->rows, &cap, o->n + 1, sizeof *o->rows) != 0) {
            rc = 2;
            break;
        }
        o->rows[o->n++] = row;
    }
    ods_etr_reader_destroy(&rd);
    free(data);
    if (rc == 0 && !(o->orgs = calloc(o->n + 1, sizeof *o->orgs)))
        rc = 2;
    if (rc != 0) {
        say("out of memory");
        return rc;
    }
    if (o->n == 0) {
        say("%s: no trust in the file (%zu rows, none good): expected the ODS etr layout, a trust "
            "a line: code, name, national grouping, ...",
            path, read);
        return 1;
    }
    for (size_t i = 0; i < o->n; i++)
        o->orgs[i] =
            release_input_org(o->rows[i].code, o->rows[i].name, ods_etr_region(&o->rows[i]));
    say("%s: %zu trusts (%zu rows skipped)", path, o->n, skipped);
    return 0;
}

/* ---------------------------------------------------------------- the files */

/* The trust a file is named by: its base name without ".csv", an ODS trust code. Returns 0, or 2
 * after saying why not. */
static int trust_of(const char *path, char trust[8])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".csv") == 0 && len - 4 < 8) {
        snprintf(trust, 8, "%.*s", (int)(len - 4), base);
        if (ods_code_kind(trust) == ODS_CODE_TRUST)
            return 0;
    }
    return usage_error("release build",
                       "\"%s\": a trust's file is named by its ODS trust code, e.g. RR8.csv (as "
                       "`ncap sim --out` writes them)",
                       path);
}

/* The changes trusts made (--actions): rows of trust,metric,date, checked as `ncap action add`
 * checks them; the strings are the file's, kept in data. */
typedef struct {
    char *data;
    char (*cells)[3][64];
    benchmark_action_t *actions;
    size_t n, cap;
} actions_t;

static void actions_free(actions_t *a)
{
    free(a->data);
    free(a->cells);
    free(a->actions);
    *a = (actions_t){0};
}

/* Returns 0, or 2 after saying why (the file's line). */
static int load_actions(actions_t *a, const char *path, const audit_def_t *def)
{
    size_t len = 0;
    if (file_read_all(path, &a->data, &len) != 0) {
        say("could not read \"%s\": %s", path, strerror(errno));
        return 2;
    }
    csv_reader_t *r = csv_reader_new(a->data, len, true);
    int rc = r ? 0 : 2, got;
    for (size_t row = 0; rc == 0 && (got = csv_reader_next(r)) != 0; row++) {
        const char *t = got > 0 && csv_reader_nfields(r) == 3 ? csv_reader_field(r, 0) : NULL;
        const char *m = t ? csv_reader_field(r, 1) : NULL, *d = t ? csv_reader_field(r, 2) : NULL;
        if (row == 0) {
            if (!t || strcmp(t, "trust") != 0 || strcmp(m, "metric") != 0 ||
                strcmp(d, "date") != 0) {
                say("%s: line 1 must be the header trust,metric,date", path);
                rc = 2;
            }
            continue;
        }
        char start[8] = "";
        if (d)
            benchmark_action_month(d, start);
        const char *why = !t                                   ? "expected 3 fields"
                          : ods_code_kind(t) != ODS_CODE_TRUST ? "not an ODS trust code"
                          : !audit_def_metric(def, m)          ? "not one of the audit's metrics"
                          : !start[0] || strlen(m) >= 64       ? "not a date YYYY-MM-DD"
                                                               : NULL;
        if (why) {
            say("%s: line %zu: %s", path, csv_reader_line(r), why);
            rc = 2;
        } else if (array_grow((void **)&a->cells, &a->cap, a->n + 1, sizeof *a->cells) != 0) {
            say("out of memory");
            rc = 2;
        } else {
            snprintf(a->cells[a->n][0], 64, "%s", t);
            snprintf(a->cells[a->n][1], 64, "%s", m);
            snprintf(a->cells[a->n][2], 64, "%s", d);
            a->n++;
        }
    }
    csv_reader_destroy(&r);
    if (rc == 0 && !(a->actions = calloc(a->n + 1, sizeof *a->actions))) {
        say("out of memory");
        rc = 2;
    }
    for (size_t i = 0; rc == 0 && i < a->n; i++)
        a->actions[i] = (benchmark_action_t){a->cells[i][0], a->cells[i][1], a->cells[i][2]};
    return rc;
}

/* The expected cases of --expected, as `ncap refdata load expected` reads and keeps them. */
typedef struct {
    char **trusts, **periods, **expected, *strings;
    size_t n;
} expected_t;

static void expected_free(expected_t *e)
{
    free(e->trusts);
    free(e->periods);
    free(e->expected);
    free(e->strings);
    *e = (expected_t){0};
}

/* Returns 0, or 1 after saying why (a file that cannot be read or has a wrong header). */
static int load_expected(expected_t *e, const char *path)
{
    char *data = NULL, err[300];
    size_t len = 0, skipped = 0;
    if (file_read_all(path, &data, &len) != 0) {
        say("could not read \"%s\": %s", path, strerror(errno));
        return 1;
    }
    int rc = refdata_expected_parse(data, len, &e->trusts, &e->periods, &e->expected, &e->strings,
                                    &e->n, &skipped, err, sizeof err);
    free(data);
    if (rc != 0) {
        say("%s: %s", path, err);
        return 1;
    }
    say("%s: %zu expected case counts (%zu bad rows skipped)", path, e->n, skipped);
    return 0;
}

static int by_trust(const void *a, const void *b)
{
    return strcmp(((const ascertainment_row_t *)a)->trust, ((const ascertainment_row_t *)b)->trust);
}

/* period p's ascertainment.csv beside its release, as publish writes it (ascertainment.h): a row
 * per trust with expected cases in the period. None without such a trust. Returns 0, or 2 after
 * saying why. */
static int write_ascertainment(const release_build_t *rb, size_t p, const audit_def_t *def,
                               const expected_t *e, const char *out)
{
    const char *period = release_build_period(rb, p);
    ascertainment_row_t *rows = calloc(e->n + 1, sizeof *rows);
    if (!rows) {
        say("out of memory");
        return 2;
    }
    size_t n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->periods[i], period) == 0)
            rows[n++] = (ascertainment_row_t){e->trusts[i],
                                              release_build_trust_records(rb, p, e->trusts[i]),
                                              strtoll(e->expected[i], NULL, 10)};
    int rc = 0;
    if (n > 0) {
        qsort(rows, n, sizeof *rows, by_trust);
        char *text =
            ascertainment_text(def->audit, period, rows, n, def->has_ascertainment_threshold,
                               def->ascertainment_threshold);
        char dir[1024], err[1400];
        snprintf(dir, sizeof dir, "%s/%s/%s", out, def->audit, period);
        if (!text) {
            say("out of memory");
            rc = 2;
        } else if (release_files_write_one(dir, "ascertainment.csv", text, strlen(text), err,
                                           sizeof err) != 0) {
            say("%s", err);
            rc = 2;
        }
        free(text);
    }
    free(rows);
    return rc;
}

/* One period's release into out/<audit>/<period>/. Returns 0, or 2 after saying why. */
static int write_period(const release_build_t *rb, size_t p, const audit_def_t *def,
                        const benchmark_metric_t *metrics, const orgs_t *orgs,
                        const actions_t *actions, const char *out)
{
    const char *period = release_build_period(rb, p);
    release_sums_t sums;
    if (release_build_sums(rb, p, &sums) != 0) {
        say("out of memory");
        return 2;
    }
    benchmark_input_t in = release_input_of(def, period, metrics, NULL, 0, orgs->orgs, orgs->n);
    release_sums_input(&sums, &in);
    in.actions = actions->actions;
    in.n_actions = actions->n;
    benchmark_release_t r = {0};
    char err[1024];
    if (benchmark_build(&in, &r, err, sizeof err) != 0) {
        say("could not build the release of %s: %s", period, err);
        release_sums_free(&sums);
        return 2;
    }
    /* as a fresh deployment would: no outlier case published yet (outlier_gate.h) */
    outlier_gate_release(def, &r, NULL, 0);
    char *csv = benchmark_csv_text(&in, &r), *tips = benchmark_fingertips_text(&in, &r), *json;
    char now[32];
    time_t t = time(NULL);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_t *prov = release_input_provenance(def, 0, "offline", release_build_period_records(rb, p),
                                            now, "ncap release build " NCAP_VERSION);
    json = prov ? benchmark_json(&in, &r, prov) : NULL;
    json_decref(prov);
    char *spc = NULL, *spc_summary = NULL;
    int rc = 0;
    if (!csv || !tips || !json) {
        say("out of memory");
        rc = 2;
    } else if (benchmark_spc_text(&in, &spc, &spc_summary, err, sizeof err) != 0) {
        say("could not build the run charts of %s: %s", period, err);
        rc = 2;
    } else {
        const char *content[RELEASE_N_FILES] = {csv, json, tips, spc, spc_summary};
        const size_t len[RELEASE_N_FILES] = {strlen(csv), strlen(json), strlen(tips), strlen(spc),
                                             strlen(spc_summary)};
        if (release_files_write(out, def->audit, period, 0, content, len, err, sizeof err) != 0) {
            say("%s", err);
            rc = 2;
        }
    }
    if (rc == 0)
        say("%s/%s/%s: %zu rows from %zu cells of %lld valid records", out, def->audit, period,
            r.n_rows, sums.n_cells, sums.records);
    free(csv);
    free(tips);
    free(json);
    free(spc);
    free(spc_summary);
    benchmark_release_free(&r);
    release_sums_free(&sums);
    return rc;
}

/* ---------------------------------------------------------------- build */

typedef struct {
    const char *audit, *out, *dir;
    const char *refdata[3]; /* deaths, optouts, imd */
    const char *ods;
    const char *actions;
    const char *expected;
    char covers_to[11]; /* --covers-to, YYYY-MM-DD, or "" */
} build_opts_t;

static int build_release(const build_opts_t *o, char **paths, size_t n)
{
    release_source_t *files = calloc(n + 1, sizeof *files);
    char(*trusts)[8] = calloc(n + 1, sizeof *trusts);
    if (!files || !trusts) {
        free(files);
        free(trusts);
        say("out of memory");
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = trust_of(paths[i], trusts[i]);
        files[i] = (release_source_t){paths[i], trusts[i]};
    }
    char err[1024];
    audit_def_t *def = NULL;
    if (rc == 0 && !(def = audit_def_load_named(o->dir, o->audit, err, sizeof err))) {
        say("%s", err);
        rc = 2;
    }
    link_params_t params;
    link_params_default(&params);
    link_memory_t *lm = rc == 0 ? link_memory_new(&params) : NULL;
    if (rc == 0 && !lm) {
        say("out of memory");
        rc = 2;
    }
    static const refdata_kind_t kinds[3] = {REFDATA_DEATHS, REFDATA_OPTOUTS, REFDATA_IMD};
    for (size_t k = 0; rc == 0 && k < 3; k++)
        if (o->refdata[k])
            rc = load_refdata(lm, kinds[k], o->refdata[k]);
    if (rc == 0 && o->refdata[0]) {
        /* the register's coverage, as `ncap refdata load deaths` records it */
        const char *covers_to = o->covers_to[0] ? o->covers_to : link_memory_latest_death(lm);
        link_memory_set_coverage(lm, covers_to);
        say("%s: the register of deaths covers deaths to %s", o->refdata[0],
            covers_to[0] ? covers_to : "no day (no death in it)");
    }
    orgs_t orgs = {0};
    if (rc == 0 && o->ods)
        rc = load_ods(&orgs, o->ods);
    actions_t actions = {0};
    if (rc == 0 && o->actions)
        rc = load_actions(&actions, o->actions, def);
    expected_t expected = {0};
    if (rc == 0 && o->expected)
        rc = load_expected(&expected, o->expected);
    release_build_t *rb = rc == 0 ? release_build_new(def, lm, note, NULL) : NULL;
    if (rc == 0 && !rb) {
        say("out of memory");
        rc = 2;
    }
    if (rc == 0 && release_build_run(rb, files, n, NULL, err, sizeof err) != 0) {
        say("%s", err);
        rc = strstr(err, "would be refused by ingest") ? 1 : 2;
    }
    benchmark_metric_t *metrics = rc == 0 ? release_input_metrics(def) : NULL;
    if (rc == 0 && !metrics) {
        say("out of memory");
        rc = 2;
    }
    for (size_t p = 0; rc == 0 && p < release_build_n_periods(rb); p++) {
        rc = write_period(rb, p, def, metrics, &orgs, &actions, o->out);
        if (rc == 0)
            rc = write_ascertainment(rb, p, def, &expected, o->out);
    }
    if (rc == 0) {
        release_totals_t t;
        release_build_totals(rb, &t);
        say("%lld records (%lld valid, %lld without a period, %lld left out as the metric stage "
            "would quarantine them) of %lld patients, %lld linked to a death; %zu periods",
            t.records, t.valid, t.no_period, t.quarantined, t.patients, t.with_death,
            release_build_n_periods(rb));
    }
    free(metrics);
    orgs_free(&orgs);
    actions_free(&actions);
    expected_free(&expected);
    release_build_destroy(&rb);
    link_memory_destroy(&lm);
    audit_def_destroy(&def);
    free(files);
    free(trusts);
    return rc;
}

static int build(int argc, char **argv)
{
    enum {
        O_AUDIT = 1000,
        O_OUT,
        O_DEATHS,
        O_COVERS_TO,
        O_OPTOUTS,
        O_IMD,
        O_ODS,
        O_ACTIONS,
        O_EXPECTED,
        O_AUDIT_DIR,
        O_HELP
    };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"out", required_argument, NULL, O_OUT},
        {"deaths", required_argument, NULL, O_DEATHS},
        {"covers-to", required_argument, NULL, O_COVERS_TO},
        {"optouts", required_argument, NULL, O_OPTOUTS},
        {"imd", required_argument, NULL, O_IMD},
        {"ods", required_argument, NULL, O_ODS},
        {"actions", required_argument, NULL, O_ACTIONS},
        {"expected", required_argument, NULL, O_EXPECTED},
        {"audit-dir", required_argument, NULL, O_AUDIT_DIR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    build_opts_t o = {.dir = getenv("NCAP_AUDIT_DIR")};
    if (!o.dir || !*o.dir)
        o.dir = NCAP_DEFAULT_AUDIT_DIR;
    optind = 0; /* glibc: start afresh, whatever parsed argv before */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            o.audit = optarg;
            break;
        case O_OUT:
            o.out = optarg;
            break;
        case O_DEATHS:
            o.refdata[0] = optarg;
            break;
        case O_COVERS_TO:
            if (refdata_date_normalise(optarg, o.covers_to) != 0)
                return usage_error("release build",
                                   "invalid value \"%s\" for --covers-to, expected a date "
                                   "(YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)",
                                   optarg);
            break;
        case O_OPTOUTS:
            o.refdata[1] = optarg;
            break;
        case O_IMD:
            o.refdata[2] = optarg;
            break;
        case O_ODS:
            o.ods = optarg;
            break;
        case O_ACTIONS:
            o.actions = optarg;
            break;
        case O_EXPECTED:
            o.expected = optarg;
            break;
        case O_AUDIT_DIR:
            o.dir = optarg;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' or '?' */
            return usage_error_option("release build", c, argv);
        }
    }
    if (!o.audit)
        return usage_error("release build", "missing --audit");
    if (!o.out)
        return usage_error("release build", "missing --out");
    if (optind == argc)
        return usage_error("release build", "missing FILE: give one file per trust");
    if (o.covers_to[0] && !o.refdata[0])
        return usage_error("release build", "--covers-to needs --deaths: it is the register's");
    return build_release(&o, argv + optind, (size_t)(argc - optind));
}

/* ---------------------------------------------------------------- now */

static void usage_now(FILE *out)
{
    fputs("usage: ncap release now [--audit A]\n"
          "\n"
          "Asks the running ncap-publishd for a round of releases at once, whatever its\n"
          "--interval: every audit period with changes not yet in a release (of audit A only,\n"
          "with --audit) gets its new provisional revision within about a second. A period\n"
          "without such changes gets none. Connects through $NCAP_PG as the administrator;\n"
          "`ncap wait` then waits until the releases are written.\n"
          "\n"
          "Exit status: 0 asked, 1 PostgreSQL could not be reached or refused, 2 usage.\n",
          out);
}

static int now(int argc, char **argv)
{
    enum { O_AUDIT = 1, O_HELP };
    static const struct option longopts[] = {
        {"audit", required_argument, NULL, O_AUDIT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *audit = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_AUDIT:
            audit = optarg;
            break;
        case O_HELP:
        case 'h':
            usage_now(stdout);
            return 0;
        default: /* ':' or '?' */
            return usage_error_option("release now", c, argv);
        }
    }
    if (optind < argc)
        return usage_error("release now", "unexpected argument \"%s\"", argv[optind]);
    if (audit && !*audit)
        return usage_error("release now", "--audit needs an audit, e.g. --audit nhfd");
    PGconn *db = command_db_connect("release now");
    if (!db)
        return 1;
    char err[1024];
    const char *p[] = {audit};
    int rc = db_execp(db, "INSERT INTO publish.release_request (audit) VALUES ($1)", 1, p, err,
                      sizeof err);
    if (rc != 0)
        fprintf(stderr, "ncap release now: could not ask publish: %s\n", err);
    else
        printf("asked ncap-publishd for a round of %s%s at once\n", audit ? "audit " : "",
               audit ? audit : "every audit");
    PQfinish(db);
    return rc == 0 ? 0 : 1;
}

int cmd_release(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("release", "expected \"build\", \"now\", \"finalise\" or \"diff\"");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        fputc('\n', stdout);
        usage_now(stdout);
        return 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return build(argc - 1, argv + 1);
    if (strcmp(argv[1], "now") == 0)
        return now(argc - 1, argv + 1);
    if (strcmp(argv[1], "finalise") == 0)
        return release_finalise(argc - 1, argv + 1);
    if (strcmp(argv[1], "diff") == 0)
        return release_diff(argc - 1, argv + 1);
    return usage_error("release",
                       "unknown action \"%s\", expected \"build\", \"now\", \"finalise\" or "
                       "\"diff\"",
                       argv[1]);
}
