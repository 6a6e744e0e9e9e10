/* release_files.c - CSV and JSON files of releases */
#include "release_files.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "release.h"

static int mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    int rc = (w == len && fflush(f) == 0 && fsync(fileno(f)) == 0) ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static json_t *figure(int has, double v)
{
    return has ? json_real(v) : json_null();
}

int release_files_export(PGconn *db, audit_cache_t *audits, const char *out_dir,
                         long long release_id, char *err, size_t errlen)
{
    char rid[32];
    snprintf(rid, sizeof rid, "%lld", release_id);
    const char *p[] = {rid};
    PGresult *rel =
        db_query(db,
                 "SELECT audit, period, revision, status, records,"
                 " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                 " FROM publish.release WHERE release_id = $1::bigint",
                 1, p, err, errlen);
    if (!rel)
        return -1;
    if (PQntuples(rel) != 1) {
        snprintf(err, errlen, "release %s not found", rid);
        PQclear(rel);
        return -1;
    }
    PGresult *out = db_query(db,
                             "SELECT unit_level, unit, metric_id, numerator, denominator, value,"
                             " lower95, upper95 FROM publish.output WHERE release_id = $1::bigint"
                             " ORDER BY unit_level = 'national', unit, metric_id",
                             1, p, err, errlen);
    if (!out) {
        PQclear(rel);
        return -1;
    }
    const char *audit = PQgetvalue(rel, 0, 0), *period = PQgetvalue(rel, 0, 1);
    int revision = atoi(PQgetvalue(rel, 0, 2));
    int n = PQntuples(out);
    release_row_t *rows = calloc((size_t)n + 1, sizeof *rows);
    for (int i = 0; rows && i < n; i++) {
        snprintf(rows[i].unit_level, sizeof rows[i].unit_level, "%s", PQgetvalue(out, i, 0));
        snprintf(rows[i].unit, sizeof rows[i].unit, "%s", PQgetvalue(out, i, 1));
        snprintf(rows[i].metric, sizeof rows[i].metric, "%s", PQgetvalue(out, i, 2));
        rows[i].numerator = strtoll(PQgetvalue(out, i, 3), NULL, 10);
        rows[i].denominator = strtoll(PQgetvalue(out, i, 4), NULL, 10);
        rows[i].has_value = !PQgetisnull(out, i, 5);
        rows[i].value = atof(PQgetvalue(out, i, 5));
        rows[i].lower95 = atof(PQgetvalue(out, i, 6));
        rows[i].upper95 = atof(PQgetvalue(out, i, 7));
    }
    int rc = -1;
    char *csv = NULL, *json = NULL;
    size_t csv_len = 0;
    FILE *mem = rows ? open_memstream(&csv, &csv_len) : NULL;
    if (mem) {
        release_write_csv(mem, audit, period, rows, n);
        fclose(mem);
    }
    char aerr[256];
    const audit_def_t *def = audit_cache_get(audits, audit, aerr, sizeof aerr);
    json_t *o = json_object();
    json_object_set_new(o, "audit", json_string(audit));
    json_object_set_new(o, "audit_name", json_string(def ? def->name : audit));
    json_object_set_new(o, "dataset_version", json_string(def ? def->dataset_version : ""));
    json_object_set_new(o, "period", json_string(period));
    json_object_set_new(o, "revision", json_integer(revision));
    json_object_set_new(o, "status", json_string(PQgetvalue(rel, 0, 3)));
    json_object_set_new(o, "records", json_integer(atoi(PQgetvalue(rel, 0, 4))));
    json_object_set_new(o, "created_at", json_string(PQgetvalue(rel, 0, 5)));
    json_object_set_new(o, "interval", json_string("Wilson score, 95%"));
    json_t *metrics = json_array();
    for (size_t i = 0; def && i < def->n_metrics; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "id", json_string(def->metrics[i].id));
        json_object_set_new(m, "label", json_string(def->metrics[i].label));
        json_object_set_new(m, "numerator", json_string(def->metrics[i].numerator_src));
        json_object_set_new(m, "denominator", json_string(def->metrics[i].denominator_src));
        json_array_append_new(metrics, m);
    }
    json_object_set_new(o, "metrics", metrics);
    json_t *arr = json_array();
    for (int i = 0; rows && i < n; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "unit_level", json_string(rows[i].unit_level));
        json_object_set_new(r, "unit", json_string(rows[i].unit));
        json_object_set_new(r, "metric", json_string(rows[i].metric));
        json_object_set_new(r, "numerator", json_integer(rows[i].numerator));
        json_object_set_new(r, "denominator", json_integer(rows[i].denominator));
        json_object_set_new(r, "value", figure(rows[i].has_value, rows[i].value));
        json_object_set_new(r, "lower95", figure(rows[i].has_value, rows[i].lower95));
        json_object_set_new(r, "upper95", figure(rows[i].has_value, rows[i].upper95));
        json_array_append_new(arr, r);
    }
    json_object_set_new(o, "rows", arr);
    json = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);

    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s/%s/r%04d", out_dir, audit, period, revision);
    if (csv && json && mkdirs(dir) == 0) {
        snprintf(path, sizeof path, "%s/release.csv", dir);
        int ok = write_file(path, csv, csv_len) == 0;
        snprintf(path, sizeof path, "%s/release.json", dir);
        ok = ok && write_file(path, json, strlen(json)) == 0;
        snprintf(path, sizeof path, "%s/%s/%s/latest.csv", out_dir, audit, period);
        ok = ok && write_file(path, csv, csv_len) == 0;
        snprintf(path, sizeof path, "%s/%s/%s/latest.json", out_dir, audit, period);
        ok = ok && write_file(path, json, strlen(json)) == 0;
        rc = ok ? 0 : -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "could not write release files under \"%s\": %s", dir,
                 strerror(errno));
    free(csv);
    free(json);
    free(rows);
    PQclear(out);
    PQclear(rel);
    return rc;
}

int release_files_export_missing(PGconn *db, audit_cache_t *audits, const char *out_dir, char *err,
                                 size_t errlen)
{
    PGresult *r = db_query(db,
                           "SELECT DISTINCT ON (audit, period) release_id, audit, period, revision"
                           " FROM publish.release ORDER BY audit, period, revision DESC",
                           0, NULL, err, errlen);
    if (!r)
        return -1;
    int exported = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s/%s/r%04d/release.json", out_dir, PQgetvalue(r, i, 1),
                 PQgetvalue(r, i, 2), atoi(PQgetvalue(r, i, 3)));
        if (access(path, F_OK) == 0)
            continue;
        if (release_files_export(db, audits, out_dir, strtoll(PQgetvalue(r, i, 0), NULL, 10), err,
                                 errlen) != 0) {
            PQclear(r);
            return -1;
        }
        exported++;
    }
    PQclear(r);
    return exported;
}
