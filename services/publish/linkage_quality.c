/* linkage_quality.c - linkage_quality.csv and .json from linkage's counts */
#include "linkage_quality.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmark.h"
#include "csv.h"
#include "db.h"
#include "disclosure.h"
#include "period_export.h"

enum { L_ENGLAND, L_TRUST, L_SITE };
static const char *const level_name[] = {"england", "trust", "site"};
/* The breakdowns in their order, "all" first. */
static const char *const breakdowns[] = {"all", "imd_quintile", "ethnicity", "sex", "age"};
#define N_BREAKDOWNS (sizeof breakdowns / sizeof *breakdowns)

typedef struct {
    int level;
    const char *code, *site; /* site: the cells' site ("" for none) */
    size_t parent;           /* SIZE_MAX for England */
} area_t;

typedef struct {
    size_t breakdown; /* index into breakdowns */
    const char *category;
} slot_t;

static size_t breakdown_index(const char *b)
{
    for (size_t i = 0; i < N_BREAKDOWNS; i++)
        if (strcmp(b, breakdowns[i]) == 0)
            return i;
    return SIZE_MAX;
}

static int cmp_cell(const void *a, const void *b)
{
    const lq_cell_t *x = *(const lq_cell_t *const *)a, *y = *(const lq_cell_t *const *)b;
    int c = strcmp(x->trust, y->trust);
    return c ? c : strcmp(x->site, y->site);
}

static int cmp_slot(const void *a, const void *b)
{
    const slot_t *x = a, *y = b;
    if (x->breakdown != y->breakdown)
        return x->breakdown < y->breakdown ? -1 : 1;
    bool ux = strcmp(x->category, "unknown") == 0, uy = strcmp(y->category, "unknown") == 0;
    if (ux != uy)
        return ux ? 1 : -1;
    return strcmp(x->category, y->category);
}

/* The state of one build. */
typedef struct {
    area_t *areas;
    size_t n_areas;
    slot_t *slots;
    size_t n_slots;
    long long *sums;          /* [area][slot][LQ_N] */
    disclosure_cell_t *cells; /* [measure: records, then the LQ_SHARES][area][slot] */
    disclosure_group_t *groups;
    size_t n_groups, cap_groups;
    size_t *kids;
    size_t n_kids, cap_kids;
} build_t;

static long long *sum_at(const build_t *b, size_t a, size_t k)
{
    return &b->sums[(a * b->n_slots + k) * LQ_N];
}

/* The disclosure cell of measure m (0 records, 1 + i the i-th share) of area a, slot k. */
static size_t cell_at(const build_t *b, size_t m, size_t a, size_t k)
{
    return (m * b->n_areas + a) * b->n_slots + k;
}

/* Whether area a's slot k is in the report. */
static bool published(const build_t *b, size_t a, size_t k)
{
    const long long *s = sum_at(b, a, k);
    if (s[LQ_RECORDS] <= 0)
        return false;
    if (k == 0 || b->areas[a].level == L_ENGLAND)
        return true;
    return b->areas[a].level == L_TRUST && s[LQ_RECORDS] >= BENCHMARK_TRUST_BREAKDOWN_MIN;
}

/* A group of parent over children[0..n) (kept as offsets until the end). */
static int add_group(build_t *b, size_t parent, const size_t *children, size_t n)
{
    if (n == 0)
        return 0;
    if (b->n_groups == b->cap_groups) {
        size_t cap = b->cap_groups ? 2 * b->cap_groups : 256;
        disclosure_group_t *g = realloc(b->groups, cap * sizeof *g);
        if (!g)
            return -1;
        b->groups = g;
        b->cap_groups = cap;
    }
    while (b->n_kids + n > b->cap_kids) {
        size_t cap = b->cap_kids ? 2 * b->cap_kids : 1024;
        size_t *k = realloc(b->kids, cap * sizeof *k);
        if (!k)
            return -1;
        b->kids = k;
        b->cap_kids = cap;
    }
    memcpy(b->kids + b->n_kids, children, n * sizeof *children);
    b->groups[b->n_groups++] =
        (disclosure_group_t){parent, (const size_t *)(uintptr_t)b->n_kids, n};
    b->n_kids += n;
    return 0;
}

/* The groups of every sum the report shows (linkage_quality.h). */
static int make_groups(build_t *b)
{
    size_t *ch = calloc(b->n_areas + b->n_slots + 4, sizeof *ch);
    if (!ch)
        return -1;
    int rc = 0;
    for (size_t m = 1; rc == 0 && m <= LQ_SHARES; m++) {
        for (size_t a = 0; rc == 0 && a < b->n_areas; a++) {
            if (b->areas[a].level == L_SITE)
                continue;
            /* over the areas below: England's trusts (every slot), a trust's sites (all) */
            for (size_t k = 0; rc == 0 && k < (b->areas[a].level == L_TRUST ? 1 : b->n_slots);
                 k++) {
                size_t n = 0;
                for (size_t c = 0; c < b->n_areas; c++)
                    if (b->areas[c].parent == a)
                        ch[n++] = cell_at(b, m, c, k);
                rc = add_group(b, cell_at(b, m, a, k), ch, n);
            }
            /* the all row over each breakdown's categories */
            for (size_t d = 1; rc == 0 && d < N_BREAKDOWNS; d++) {
                size_t n = 0;
                for (size_t k = 1; k < b->n_slots; k++)
                    if (b->slots[k].breakdown == d)
                        ch[n++] = cell_at(b, m, a, k);
                rc = add_group(b, cell_at(b, m, a, 0), ch, n);
            }
        }
    }
    /* the methods of a row sum to its records */
    for (size_t a = 0; rc == 0 && a < b->n_areas; a++)
        for (size_t k = 0; rc == 0 && k < b->n_slots; k++) {
            if (b->areas[a].level == L_SITE && k > 0)
                continue;
            for (size_t m = 0; m < 3; m++)
                ch[m] = cell_at(b, 1 + m, a, k);
            rc = add_group(b, cell_at(b, 0, a, k), ch, 3);
        }
    free(ch);
    if (rc == 0)
        for (size_t g = 0; g < b->n_groups; g++)
            b->groups[g].children = b->kids + (uintptr_t)b->groups[g].children;
    return rc;
}

/* Areas (England, the trusts, their sites) and slots from the cells; returns 0 or -1. */
static int make_areas(build_t *b, const lq_cell_t *cells, size_t n, const lq_cell_t **order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = &cells[i];
    qsort(order, n, sizeof *order, cmp_cell);
    b->areas = calloc(2 * n + 2, sizeof *b->areas);
    b->slots = calloc(n + 2, sizeof *b->slots);
    if (!b->areas || !b->slots)
        return -1;
    b->areas[b->n_areas++] = (area_t){L_ENGLAND, BENCHMARK_ENGLAND_CODE, "", SIZE_MAX};
    size_t trust = 0;
    for (size_t i = 0; i < n; i++) {
        const lq_cell_t *c = order[i];
        if (i == 0 || strcmp(c->trust, order[i - 1]->trust) != 0) {
            trust = b->n_areas;
            b->areas[b->n_areas++] = (area_t){L_TRUST, c->trust, "", 0};
        }
        if (i == 0 || cmp_cell(&order[i], &order[i - 1]) != 0)
            b->areas[b->n_areas++] =
                (area_t){L_SITE, c->site[0] ? c->site : "unknown", c->site, trust};
    }
    b->slots[b->n_slots++] = (slot_t){0, ""};
    for (size_t i = 0; i < n; i++) {
        size_t d = breakdown_index(cells[i].breakdown);
        if (d == 0 || d == SIZE_MAX)
            continue;
        bool seen = false;
        for (size_t k = 1; k < b->n_slots && !seen; k++)
            seen =
                b->slots[k].breakdown == d && strcmp(b->slots[k].category, cells[i].category) == 0;
        if (!seen)
            b->slots[b->n_slots++] = (slot_t){d, cells[i].category};
    }
    qsort(b->slots + 1, b->n_slots - 1, sizeof *b->slots, cmp_slot);
    return 0;
}

/* The site area of cell c (areas are sorted as order is). */
static size_t site_of(const build_t *b, const lq_cell_t *c)
{
    size_t lo = 1, hi = b->n_areas;
    while (lo < hi) { /* first area not before (trust, site) */
        size_t mid = (lo + hi) / 2;
        const area_t *x = &b->areas[mid];
        const char *t = x->level == L_TRUST ? x->code : b->areas[x->parent].code;
        int r = strcmp(t, c->trust);
        if (r == 0)
            r = x->level == L_TRUST ? -1 : strcmp(x->site, c->site);
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t slot_of(const build_t *b, const lq_cell_t *c)
{
    size_t d = breakdown_index(c->breakdown);
    if (d == 0)
        return 0;
    for (size_t k = 1; k < b->n_slots; k++)
        if (b->slots[k].breakdown == d && strcmp(b->slots[k].category, c->category) == 0)
            return k;
    return SIZE_MAX;
}

static void build_free(build_t *b)
{
    free(b->areas);
    free(b->slots);
    free(b->sums);
    free(b->cells);
    free(b->groups);
    free(b->kids);
}

int linkage_quality_build(const lq_cell_t *cells, size_t n, long long min_count, lq_report_t *out)
{
    *out = (lq_report_t){0};
    build_t b = {0};
    const lq_cell_t **order = calloc(n + 1, sizeof *order);
    int rc = -1;
    if (!order || make_areas(&b, cells, n, order) != 0)
        goto done;
    size_t na = b.n_areas, nk = b.n_slots;
    b.sums = calloc(na * nk * LQ_N + 1, sizeof *b.sums);
    b.cells = calloc((1 + LQ_SHARES) * na * nk + 1, sizeof *b.cells);
    if (!b.sums || !b.cells)
        goto done;
    for (size_t i = 0; i < n; i++) {
        size_t k = slot_of(&b, &cells[i]);
        if (k == SIZE_MAX)
            continue; /* a breakdown this build does not know: the view's CHECK allows none */
        for (size_t a = site_of(&b, &cells[i]); a != SIZE_MAX; a = b.areas[a].parent)
            for (int j = 0; j < LQ_N; j++)
                sum_at(&b, a, k)[j] += cells[i].n[j];
    }
    for (size_t a = 0; a < na; a++)
        for (size_t k = 0; k < nk; k++) {
            const long long *s = sum_at(&b, a, k);
            bool pub = published(&b, a, k);
            /* a row's records are always shown: known to the attacker (denominator 0) */
            b.cells[cell_at(&b, 0, a, k)] = (disclosure_cell_t){0, 0, pub, 0, true};
            for (size_t m = 1; m <= LQ_SHARES; m++)
                b.cells[cell_at(&b, m, a, k)] =
                    (disclosure_cell_t){s[m], s[LQ_RECORDS], pub, DISCLOSURE_SHOWN, false};
        }
    if (make_groups(&b) != 0)
        goto done;
    disclosure_apply(b.cells, (1 + LQ_SHARES) * na * nk, b.groups, b.n_groups, min_count);
    out->rows = calloc(na * nk + 1, sizeof *out->rows);
    if (!out->rows)
        goto done;
    /* England, the trusts, then the sites by trust (areas are England, trust, its sites, ...) */
    for (int level = L_ENGLAND; level <= L_SITE; level++)
        for (size_t a = 0; a < na; a++) {
            const area_t *x = &b.areas[a];
            if (x->level != level)
                continue;
            for (size_t k = 0; k < nk; k++) {
                if (!published(&b, a, k))
                    continue;
                lq_row_t *r = &out->rows[out->n_rows++];
                const long long *s = sum_at(&b, a, k);
                *r = (lq_row_t){level_name[level],
                                x->code,
                                x->parent == SIZE_MAX ? "" : b.areas[x->parent].code,
                                breakdowns[b.slots[k].breakdown],
                                b.slots[k].category,
                                s[LQ_RECORDS],
                                {0},
                                {0}};
                for (size_t m = 1; m <= LQ_SHARES; m++) {
                    r->n[m - 1] = s[m];
                    r->shown[m - 1] = b.cells[cell_at(&b, m, a, k)].state == DISCLOSURE_SHOWN;
                }
            }
        }
    rc = 0;
done:
    free(order);
    build_free(&b);
    if (rc != 0)
        linkage_quality_free(out);
    return rc;
}

void linkage_quality_free(lq_report_t *r)
{
    free(r->rows);
    *r = (lq_report_t){0};
}

int linkage_quality_read(PGconn *db, const char *audit, const char *period, PGresult **res,
                         lq_cell_t **cells, size_t *n, char *err, size_t errlen)
{
    *cells = NULL;
    *n = 0;
    const char *p[] = {audit, period};
    /* O(cells of the period), by linkage.quality_count's primary key */
    *res = db_query(db,
                    "SELECT trust, site, breakdown, category, records, nhs_number, probabilistic,"
                    " singleton, death_matched, withheld_opt_out FROM publish.linkage_quality"
                    " WHERE audit = $1 AND period = $2",
                    2, p, err, errlen);
    if (!*res)
        return -1;
    size_t rows = (size_t)PQntuples(*res);
    if (!(*cells = calloc(rows + 1, sizeof **cells))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < rows; i++) {
        lq_cell_t *c = &(*cells)[i];
        int r = (int)i;
        *c = (lq_cell_t){PQgetvalue(*res, r, 0),
                         PQgetvalue(*res, r, 1),
                         PQgetvalue(*res, r, 2),
                         PQgetvalue(*res, r, 3),
                         {0}};
        for (int j = 0; j < LQ_N; j++)
            c->n[j] = strtoll(PQgetvalue(*res, r, 4 + j), NULL, 10);
    }
    *n = rows;
    return 0;
}

/* Row r's fields as the CSV prints them (text: room for the counts and shares). */
static void row_fields(const char *audit, const char *period, const lq_row_t *r,
                       char text[1 + 2 * LQ_SHARES][32], const char *f[17])
{
    bool hidden = false;
    snprintf(text[0], sizeof text[0], "%lld", r->records);
    for (int i = 0; i < LQ_SHARES; i++) {
        text[1 + i][0] = text[1 + LQ_SHARES + i][0] = '\0';
        if (!r->shown[i]) {
            hidden = true;
            continue;
        }
        snprintf(text[1 + i], sizeof text[1 + i], "%lld", r->n[i]);
        snprintf(text[1 + LQ_SHARES + i], sizeof text[1 + LQ_SHARES + i], "%.6f",
                 r->records > 0 ? (double)r->n[i] / (double)r->records : 0.0);
    }
    const char *head[] = {audit,          period,       r->level,   r->area_code,
                          r->parent_code, r->breakdown, r->category};
    for (int i = 0; i < 7; i++)
        f[i] = head[i];
    for (int i = 0; i < 1 + 2 * LQ_SHARES; i++)
        f[7 + i] = text[i];
    f[16] = hidden ? BENCHMARK_NOTE_SUPPRESSED : "";
}

bool linkage_quality_row_wanted(const lq_row_t *r, const char *trust)
{
    return !trust || strcmp(r->level, "england") == 0 || strcmp(r->area_code, trust) == 0 ||
           (strcmp(r->level, "site") == 0 && strcmp(r->parent_code, trust) == 0);
}

char *linkage_quality_csv(const char *audit, const char *period, const lq_report_t *r,
                          const char *trust)
{
    char *buf, err[64];
    size_t len = 0;
    FILE *f = period_text_open(&buf, &len, LINKAGE_QUALITY_HEADER);
    for (size_t i = 0; f && i < r->n_rows; i++) {
        if (!linkage_quality_row_wanted(&r->rows[i], trust))
            continue;
        char text[1 + 2 * LQ_SHARES][32];
        const char *fields[17];
        row_fields(audit, period, &r->rows[i], text, fields);
        csv_write_row(f, fields, 17);
    }
    return period_text_close(f, &buf, err, sizeof err);
}

char *linkage_quality_json(const char *audit, const char *period, long long min_count,
                           const lq_report_t *r)
{
    json_t *root = json_object(), *cols = json_array(), *rows = json_array();
    char *out = NULL;
    if (!root || !cols || !rows)
        goto done;
    char head[] = LINKAGE_QUALITY_HEADER;
    for (char *save = NULL, *t = strtok_r(head, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(cols, json_string(t));
    for (size_t i = 0; i < r->n_rows; i++) {
        char text[1 + 2 * LQ_SHARES][32];
        const char *f[17];
        row_fields(audit, period, &r->rows[i], text, f);
        json_t *a = json_array();
        for (int c = 0; a && c < 17; c++) {
            if (c == 7 || (c >= 8 && c < 12 && f[c][0]))
                json_array_append_new(a, json_integer(strtoll(f[c], NULL, 10)));
            else if (c >= 12 && c < 16 && f[c][0])
                json_array_append_new(a, json_real(strtod(f[c], NULL)));
            else if (c >= 8 && c < 16)
                json_array_append_new(a, json_null());
            else
                json_array_append_new(a, json_string(f[c]));
        }
        json_array_append_new(rows, a);
    }
    json_object_set_new(root, "audit", json_string(audit));
    json_object_set_new(root, "period", json_string(period));
    json_object_set_new(root, "min_count", json_integer(min_count));
    json_object_set_new(
        root, "method",
        json_string("per record version linkage passed on, by its patient's records in the "
                    "audit: left as a singleton (no other record of the patient), linked by NHS "
                    "number (another record of the patient has the same valid NHS number and "
                    "date of birth), or by probabilistic match (any other linked record); and "
                    "whether its patient is matched to the register of deaths. A count from 1 to "
                    "min_count - 1, or whose records less the count is, is suppressed (null), "
                    "with as many others as it takes for none to be worked out by subtraction"));
    json_object_set(root, "columns", cols);
    json_object_set(root, "rows", rows);
    out = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
done:
    json_decref(root);
    json_decref(cols);
    json_decref(rows);
    return out;
}

/* Both files of every period with a release and linkage counts, with the hashes last written. */
static const char periods_sql[] =
    "SELECT r.audit, r.period, coalesce(c.content_hash, ''), coalesce(j.content_hash, '')"
    " FROM (SELECT DISTINCT audit, period FROM publish.release) r"
    " LEFT JOIN publish.linkage_quality_export c USING (audit, period)"
    " LEFT JOIN publish.linkage_quality_json_export j USING (audit, period)"
    " WHERE EXISTS (SELECT 1 FROM publish.linkage_quality q WHERE q.audit = r.audit"
    " AND q.period = r.period) ORDER BY 1, 2";

/* The CSV and the JSON of one audit period (malloc'd, into csv and json), from one read of its
 * counts and one report. Returns 0, or -1 with err. */
static int period_texts(PGconn *db, const audit_def_t *def, const char *audit, const char *period,
                        char **csv, char **json, char *err, size_t errlen)
{
    PGresult *res = NULL;
    lq_cell_t *cells = NULL;
    size_t n = 0;
    lq_report_t rep = {0};
    int rc = -1;
    if (linkage_quality_read(db, audit, period, &res, &cells, &n, err, errlen) != 0)
        goto done;
    if (linkage_quality_build(cells, n, def->disclosure_min_count, &rep) != 0 ||
        !(*csv = linkage_quality_csv(audit, period, &rep, NULL)) ||
        !(*json = linkage_quality_json(audit, period, def->disclosure_min_count, &rep))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    linkage_quality_free(&rep);
    free(cells);
    PQclear(res);
    return rc;
}

int linkage_quality_export(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                           size_t errlen)
{
    PGresult *periods = db_query(db, periods_sql, 0, NULL, err, errlen);
    if (!periods)
        return -1;
    int written = 0;
    for (int i = 0; written >= 0 && i < PQntuples(periods); i++) {
        const char *audit = PQgetvalue(periods, i, 0), *period = PQgetvalue(periods, i, 1);
        char derr[400], *csv = NULL, *json = NULL;
        const audit_def_t *def = audit_cache_get(audits, audit, derr, sizeof derr);
        if (!def)
            continue; /* an audit no longer defined: its releases are not rebuilt either */
        int a = -1, b = -1;
        if (period_texts(db, def, audit, period, &csv, &json, err, errlen) == 0 &&
            (a = period_export_body(db, "publish.linkage_quality_export", out_dir, audit, period,
                                    "linkage_quality.csv", csv, PQgetvalue(periods, i, 2), err,
                                    errlen)) >= 0)
            b = period_export_body(db, "publish.linkage_quality_json_export", out_dir, audit,
                                   period, "linkage_quality.json", json,
                                   PQgetvalue(periods, i, 3), err, errlen);
        written = a < 0 || b < 0 ? -1 : written + a + b;
        free(csv);
        free(json);
    }
    PQclear(periods);
    return written;
}
