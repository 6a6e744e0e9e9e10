/* site_release.c - the release folder tree read for the portal */
#include "site_release.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

static const char *const RCOL_NAMES[RC_N] = {
    "level",         "area_code",           "area_name",   "parent_code", "metric",  "breakdown",
    "category",      "numerator",           "denominator", "value",       "lower95", "upper95",
    "england_value", "compared_to_england", "outlier",     "note",        "expected"};
static const char *const PCOL_NAMES[PC_N] = {"metric", "level", "area_code", "month", "denominator",
                                             "value",  "mean",  "lpl",       "upl",   "point_type"};
static const char *const SCOL_NAMES[SC_COUNT] = {"metric", "level",     "area_code",
                                                 "n",      "variation", "assurance"};

bool site_safe_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return n > 0 && n <= 64;
}

/* A path from a format; too long a path is left empty, so that it names nothing. */
static void site_path(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void site_path(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int got = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (got < 0 || (size_t)got >= n)
        buf[0] = '\0';
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's entries for which keep(dir, name) holds, sorted. Returns 0 or -1. */
static int list_dir(const char *dir, int (*keep)(const char *, const char *), char ***out,
                    size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !keep(dir, e->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(*out, cap * sizeof *g);
            if (!g) {
                rc = -1;
                break;
            }
            *out = g;
        }
        if (!((*out)[*n] = strdup(e->d_name)))
            rc = -1;
        else
            (*n)++;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, cmp_str);
    return rc;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int has_latest(const char *dir, const char *name)
{
    char path[2048];
    site_path(path, sizeof path, "%s/%s/latest.json", dir, name);
    return strcmp(name, "final") != 0 && site_safe_name(name) && file_exists(path);
}

static int is_audit(const char *dir, const char *name)
{
    char path[2048];
    site_path(path, sizeof path, "%s/%s", dir, name);
    if (strcmp(name, "site") == 0 || !site_safe_name(name) || !is_dir(path))
        return 0;
    char **p;
    size_t n;
    if (list_dir(path, has_latest, &p, &n) != 0)
        return 0;
    free_list(p, n);
    return n > 0;
}

static int is_subdir(const char *dir, const char *name)
{
    char path[2048];
    site_path(path, sizeof path, "%s/%s", dir, name);
    return site_safe_name(name) && is_dir(path);
}

/* The finals of an audit: final/<year>/<period>/release.json, as "year/period". */
static int load_finals(const char *audit_dir, site_audit_t *a)
{
    char fdir[2048];
    site_path(fdir, sizeof fdir, "%s/final", audit_dir);
    char **years;
    size_t ny;
    if (list_dir(fdir, is_subdir, &years, &ny) != 0)
        return -1;
    int rc = 0;
    for (size_t y = 0; rc == 0 && y < ny; y++) {
        char ydir[2300];
        site_path(ydir, sizeof ydir, "%s/%s", fdir, years[y]);
        char **ps;
        size_t np;
        if (list_dir(ydir, is_subdir, &ps, &np) != 0) {
            rc = -1;
            break;
        }
        for (size_t p = 0; rc == 0 && p < np; p++) {
            char path[2600];
            site_path(path, sizeof path, "%s/%s/release.json", ydir, ps[p]);
            if (!file_exists(path))
                continue;
            char **g = realloc(a->finals, (a->n_finals + 1) * sizeof *g);
            if (!g) {
                rc = -1;
                break;
            }
            a->finals = g;
            char name[300];
            site_path(name, sizeof name, "%s/%s", years[y], ps[p]);
            if (!(a->finals[a->n_finals] = strdup(name)))
                rc = -1;
            else
                a->n_finals++;
        }
        free_list(ps, np);
    }
    free_list(years, ny);
    return rc;
}

static char *json_str_dup(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return strdup(s ? s : dflt);
}

static int load_metrics(json_t *root, site_audit_t *a, char *err, size_t errlen)
{
    json_t *ms = json_object_get(root, "metrics");
    if (!json_is_array(ms)) {
        snprintf(err, errlen, "no \"metrics\" array");
        return -1;
    }
    a->n_metrics = json_array_size(ms);
    a->metrics = calloc(a->n_metrics ? a->n_metrics : 1, sizeof *a->metrics);
    if (!a->metrics)
        return -1;
    for (size_t i = 0; i < a->n_metrics; i++) {
        json_t *m = json_array_get(ms, i);
        site_metric_t *sm = &a->metrics[i];
        const char *id = json_string_value(json_object_get(m, "id"));
        if (!id || !site_safe_name(id)) {
            snprintf(err, errlen, "metric %zu has no id of letters, digits and _", i + 1);
            return -1;
        }
        sm->id = strdup(id);
        sm->label = json_str_dup(m, "label", id);
        if (!sm->id || !sm->label)
            return -1;
        const char *kind = json_string_value(json_object_get(m, "kind"));
        sm->kind = !kind                         ? SITE_KIND_PROPORTION
                   : strcmp(kind, "ratio") == 0  ? SITE_KIND_RATIO
                   : strcmp(kind, "median") == 0 ? SITE_KIND_MEDIAN
                   : strcmp(kind, "mean") == 0   ? SITE_KIND_MEAN
                                                 : SITE_KIND_PROPORTION;
        const char *pol = json_string_value(json_object_get(m, "polarity"));
        sm->polarity = !pol                                   ? SITE_POLARITY_NONE
                       : strcmp(pol, "higher_is_better") == 0 ? SITE_POLARITY_HIGHER
                       : strcmp(pol, "lower_is_better") == 0  ? SITE_POLARITY_LOWER
                                                              : SITE_POLARITY_NONE;
        const char *od = json_string_value(json_object_get(m, "overdispersion"));
        sm->overdispersion = !od                                 ? FUNNEL_OD_NONE
                             : strcmp(od, "multiplicative") == 0 ? FUNNEL_OD_MULTIPLICATIVE
                             : strcmp(od, "additive") == 0       ? FUNNEL_OD_ADDITIVE
                                                                 : FUNNEL_OD_NONE;
        json_t *f = json_object_get(m, "funnel");
        if (json_is_object(f) && json_is_number(json_object_get(f, "target"))) {
            sm->has_funnel = true;
            sm->target = json_number_value(json_object_get(f, "target"));
            json_t *phi = json_object_get(f, "phi"), *tau2 = json_object_get(f, "tau2");
            sm->phi = json_is_number(phi) ? json_number_value(phi) : 1.0;
            sm->tau2 = json_is_number(tau2) ? json_number_value(tau2) : 0.0;
            sm->adjusted = json_is_true(json_object_get(f, "adjusted"));
        }
    }
    return 0;
}

static int load_json(const char *path, site_audit_t *a, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "could not read \"%s\": line %d: %s", path, je.line, je.text);
        return -1;
    }
    json_t *p = json_object_get(root, "provenance");
    a->audit_name = json_str_dup(p, "audit_name", a->audit);
    a->speciality = json_str_dup(p, "speciality", "Other");
    a->status = json_str_dup(p, "status", "unknown");
    a->created_at = json_str_dup(p, "created_at", "");
    a->dataset_version = json_str_dup(p, "dataset_version", "");
    a->built_by = json_str_dup(p, "built_by", "");
    a->revision = json_integer_value(json_object_get(p, "revision"));
    a->records = json_integer_value(json_object_get(p, "records"));
    a->min_count =
        (int)json_integer_value(json_object_get(json_object_get(root, "methods"), "min_count"));
    char why[512] = "out of memory";
    int rc = a->audit_name && a->speciality && a->status && a->created_at && a->dataset_version &&
                     a->built_by
                 ? load_metrics(root, a, why, sizeof why)
                 : -1;
    json_decref(root);
    if (rc != 0)
        snprintf(err, errlen, "could not read \"%s\": %s", path, why);
    return rc;
}

/* Resolves names[] in t's header into cols[]; every one must be there. */
static int resolve(const site_csv_t *t, const char *const *names, int *cols, size_t n,
                   const char *path, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if ((cols[i] = site_csv_col(t, names[i])) < 0) {
            snprintf(err, errlen, "\"%s\" has no column \"%s\"", path, names[i]);
            return -1;
        }
    return 0;
}

int site_audit_load(const char *releases_dir, const char *name, const char *period, site_audit_t *a,
                    char *err, size_t errlen)
{
    char dir[2048], path[2400];
    memset(a, 0, sizeof *a);
    site_path(dir, sizeof dir, "%s/%s", releases_dir, name);
    if (!(a->audit = strdup(name)) || list_dir(dir, has_latest, &a->periods, &a->n_periods) != 0 ||
        a->n_periods == 0 || load_finals(dir, a) != 0) {
        snprintf(err, errlen, "could not list the periods of \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    const char *latest = a->periods[a->n_periods - 1];
    if (!(a->period = strdup(period ? period : latest))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->earlier = strcmp(a->period, latest) != 0;
    site_path(path, sizeof path, "%s/%s/latest.json", dir, a->period);
    if (load_json(path, a, err, errlen) != 0)
        return -1;
    site_path(path, sizeof path, "%s/%s/latest.csv", dir, a->period);
    int got = site_csv_load(path, &a->rows, err, errlen);
    if (got == 0)
        snprintf(err, errlen, "\"%s\" is missing beside its latest.json", path);
    if (got != 1 || resolve(&a->rows, RCOL_NAMES, a->rcol, RC_N, path, err, errlen) != 0)
        return -1;

    site_path(path, sizeof path, "%s/%s/fingertips.csv", dir, a->period);
    a->has_fingertips = file_exists(path);
    site_path(path, sizeof path, "%s/%s/spc.csv", dir, a->period);
    if ((got = site_csv_load(path, &a->spc, err, errlen)) < 0 ||
        (got == 1 && resolve(&a->spc, PCOL_NAMES, a->pcol, PC_N, path, err, errlen) != 0))
        return -1;
    a->has_spc = got == 1;
    site_path(path, sizeof path, "%s/%s/spc_summary.csv", dir, a->period);
    if ((got = site_csv_load(path, &a->spc_summary, err, errlen)) < 0 ||
        (got == 1 &&
         resolve(&a->spc_summary, SCOL_NAMES, a->scol, SC_COUNT, path, err, errlen) != 0))
        return -1;
    a->has_spc = a->has_spc && got == 1;
    return 0;
}

bool site_period_has_pages(const site_audit_t *a, size_t i)
{
    return i + 1 < a->n_periods && i + 1 + SITE_EARLIER_PAGES >= a->n_periods;
}

int site_audit_set_rows(site_audit_t *a, const char *csv, size_t len, char *err, size_t errlen)
{
    site_csv_free(&a->rows);
    if (site_csv_parse(csv, len, &a->rows, err, errlen) != 0)
        return -1;
    return resolve(&a->rows, RCOL_NAMES, a->rcol, RC_N, "latest.csv", err, errlen);
}

void site_audit_free(site_audit_t *a)
{
    free(a->audit);
    free_list(a->periods, a->n_periods);
    free_list(a->finals, a->n_finals);
    free(a->period);
    free(a->audit_name);
    free(a->speciality);
    free(a->status);
    free(a->created_at);
    free(a->dataset_version);
    free(a->built_by);
    for (size_t i = 0; a->metrics && i < a->n_metrics; i++) {
        free(a->metrics[i].id);
        free(a->metrics[i].label);
    }
    free(a->metrics);
    site_csv_free(&a->rows);
    site_csv_free(&a->spc);
    site_csv_free(&a->spc_summary);
}

int site_tree_load(const char *releases_dir, site_tree_t *tree, char *err, size_t errlen)
{
    memset(tree, 0, sizeof *tree);
    char **names;
    size_t n;
    if (list_dir(releases_dir, is_audit, &names, &n) != 0) {
        snprintf(err, errlen, "could not list \"%s\": %s", releases_dir, strerror(errno));
        return -1;
    }
    tree->audits = calloc(n ? n : 1, sizeof *tree->audits);
    int rc = tree->audits ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        tree->n_audits++;
        rc = site_audit_load(releases_dir, names[i], NULL, &tree->audits[i], err, errlen);
    }
    free_list(names, n);
    if (rc != 0)
        site_tree_free(tree);
    return rc;
}

void site_tree_free(site_tree_t *tree)
{
    for (size_t i = 0; tree->audits && i < tree->n_audits; i++)
        site_audit_free(&tree->audits[i]);
    free(tree->audits);
    memset(tree, 0, sizeof *tree);
}

const char *site_row(const site_audit_t *a, size_t row, site_rcol_t col)
{
    return site_csv_get(&a->rows, row, a->rcol[col]);
}

const site_metric_t *site_metric_find(const site_audit_t *a, const char *id)
{
    for (size_t i = 0; i < a->n_metrics; i++)
        if (strcmp(a->metrics[i].id, id) == 0)
            return &a->metrics[i];
    return NULL;
}

const char *site_area_name(const site_audit_t *a, const char *level, const char *code)
{
    for (size_t r = 0; r < a->rows.nrows; r++)
        if (strcmp(site_row(a, r, RC_AREA_CODE), code) == 0 &&
            strcmp(site_row(a, r, RC_LEVEL), level) == 0)
            return site_row(a, r, RC_AREA_NAME);
    return code;
}

bool site_row_suppressed(const site_audit_t *a, size_t row)
{
    return strstr(site_row(a, row, RC_NOTE), "suppressed") != NULL;
}
