/* release_files.c - CSV and JSON files of releases */
#include "release_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

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
    char tmp[1300];
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

/* The name each file has in the release's own folder r<revision>/. */
static const char *const REVISION_NAMES[RELEASE_N_FILES] = {
    "release.csv", "release.json", "fingertips.csv", "spc.csv", "spc_summary.csv"};

const char *const RELEASE_FILE_NAMES[RELEASE_N_FILES] = {
    "latest.csv", "latest.json", "fingertips.csv", "spc.csv", "spc_summary.csv"};

int release_files_write(const char *out_dir, const char *audit, const char *period, int revision,
                        const char *const content[RELEASE_N_FILES],
                        const size_t len[RELEASE_N_FILES], char *err, size_t errlen)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, audit, period);
    if (revision > 0)
        snprintf(dir, sizeof dir, "%s/%s/%s/r%04d", out_dir, audit, period, revision);
    int rc = mkdirs(dir);
    /* The revision's own folder first, latest.* last: a reader of latest.* sees a whole release. */
    for (int pass = revision > 0 ? 0 : 1; rc == 0 && pass < 2; pass++)
        for (size_t k = 0; rc == 0 && k < RELEASE_N_FILES; k++) {
            if (!content[k]) /* a release stored before it had run charts */
                continue;
            if (pass == 0)
                snprintf(path, sizeof path, "%s/%s", dir, REVISION_NAMES[k]);
            else
                snprintf(path, sizeof path, "%s/%s/%s/%s", out_dir, audit, period,
                         RELEASE_FILE_NAMES[k]);
            rc = write_file(path, content[k], len[k]);
        }
    if (rc != 0)
        snprintf(err, errlen, "could not write release files under \"%s\": %s", dir,
                 strerror(errno));
    return rc;
}

int release_files_write_one(const char *dir, const char *name, const char *data, size_t len,
                            char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mkdirs(dir) == 0 && write_file(path, data, len) == 0)
        return 0;
    snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
    return -1;
}

int release_files_export(PGconn *db, const char *out_dir, long long release_id, char *err,
                         size_t errlen)
{
    char rid[32];
    snprintf(rid, sizeof rid, "%lld", release_id);
    const char *p[] = {rid};
    PGresult *r = db_query(db,
                           "SELECT r.audit, r.period, r.revision, f.name, f.content FROM"
                           " publish.release r JOIN publish.release_file f USING (release_id)"
                           " WHERE release_id = $1::bigint",
                           1, p, err, errlen);
    if (!r)
        return -1;
    const char *content[RELEASE_N_FILES] = {NULL};
    size_t len[RELEASE_N_FILES] = {0};
    for (int i = 0; i < PQntuples(r); i++)
        for (size_t k = 0; k < RELEASE_N_FILES; k++)
            if (strcmp(PQgetvalue(r, i, 3), RELEASE_FILE_NAMES[k]) == 0) {
                content[k] = PQgetvalue(r, i, 4);
                len[k] = (size_t)PQgetlength(r, i, 4);
            }
    for (size_t k = 0; k < RELEASE_N_FILES_REQUIRED; k++)
        if (!content[k]) {
            snprintf(err, errlen, "release %s has no file %s", rid, RELEASE_FILE_NAMES[k]);
            PQclear(r);
            return -1;
        }
    int rc = release_files_write(out_dir, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                                 atoi(PQgetvalue(r, 0, 2)), content, len, err, errlen);
    PQclear(r);
    return rc;
}

/* Whether the file at path holds exactly len bytes of data. */
static bool same_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool same = true;
    char buf[65536];
    size_t off = 0, got;
    while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        same = off + got <= len && memcmp(buf, data + off, got) == 0;
        off += got;
    }
    fclose(f);
    return same && off == len;
}

/* Whether release release_id's files are all written: its folder's release.json, and latest.*
 * holding its bytes (a crash between the two leaves latest.* at the revision before). */
static int written(PGconn *db, const char *out_dir, const char *rid, const char *audit,
                   const char *period, int revision, char *err, size_t errlen)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s/%s/r%04d/release.json", out_dir, audit, period, revision);
    if (access(path, F_OK) != 0)
        return 0;
    const char *p[] = {rid};
    PGresult *r = db_query(db,
                           "SELECT name, content FROM publish.release_file"
                           " WHERE release_id = $1::bigint",
                           1, p, err, errlen);
    if (!r)
        return -1;
    int all = 1;
    for (int i = 0; all && i < PQntuples(r); i++) {
        snprintf(path, sizeof path, "%s/%s/%s/%s", out_dir, audit, period, PQgetvalue(r, i, 0));
        all = same_file(path, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
    }
    PQclear(r);
    return all;
}

int release_files_export_missing(PGconn *db, const char *out_dir, char *err, size_t errlen)
{
    PGresult *r = db_query(db,
                           "SELECT DISTINCT ON (audit, period) release_id, audit, period, revision"
                           " FROM publish.release r WHERE EXISTS (SELECT 1 FROM"
                           " publish.release_file f WHERE f.release_id = r.release_id)"
                           " ORDER BY audit, period, revision DESC",
                           0, NULL, err, errlen);
    if (!r)
        return -1;
    int exported = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int done = written(db, out_dir, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                           PQgetvalue(r, i, 2), atoi(PQgetvalue(r, i, 3)), err, errlen);
        if (done == 1)
            continue;
        if (done < 0 || release_files_export(db, out_dir, strtoll(PQgetvalue(r, i, 0), NULL, 10),
                                             err, errlen) != 0) {
            PQclear(r);
            return -1;
        }
        exported++;
    }
    PQclear(r);
    return exported;
}

int release_files_remove(const char *out_dir, const char *audit, const char *period, int revision,
                         char *err, size_t errlen)
{
    char dir[1024], path[1300];
    snprintf(dir, sizeof dir, "%s/%s/%s/r%04d", out_dir, audit, period, revision);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "could not open \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "could not remove \"%s\": %s", path, strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    if (rc == 0 && rmdir(dir) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "could not remove \"%s\": %s", dir, strerror(errno));
        rc = -1;
    }
    return rc;
}

int release_files_remove_pruned(PGconn *db, const char *out_dir, char *err, size_t errlen)
{
    PGresult *r = db_query(db,
                           "SELECT audit, period, min(revision) FROM publish.release"
                           " GROUP BY audit, period",
                           0, NULL, err, errlen);
    if (!r)
        return -1;
    int removed = 0, rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        const char *audit = PQgetvalue(r, i, 0), *period = PQgetvalue(r, i, 1);
        int oldest = atoi(PQgetvalue(r, i, 2));
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, audit, period);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)) != NULL) {
            int rev;
            char tail;
            if (e->d_name[0] != 'r' || strlen(e->d_name) != 5 ||
                sscanf(e->d_name, "r%4d%c", &rev, &tail) != 1 || rev >= oldest)
                continue;
            rc = release_files_remove(out_dir, audit, period, rev, err, errlen);
            removed += rc == 0;
        }
        closedir(d);
    }
    PQclear(r);
    return rc == 0 ? removed : -1;
}
