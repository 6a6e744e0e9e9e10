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

#include <sodium.h>

#include "db.h"
#include "final_late.h"
#include "strbuf.h"

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

const char *const RELEASE_FILE_NAMES[RELEASE_N_FILES] = {
    "latest.csv",      "latest.json", "fingertips.csv",   "spc.csv",
    "spc_summary.csv", "delays.csv",  "ascertainment.csv"};

/* The name each file has in the release's own folder r<revision>/. */
static const char *const REVISION_NAMES[RELEASE_N_FILES] = {
    "release.csv",     "release.json", "fingertips.csv",   "spc.csv",
    "spc_summary.csv", "delays.csv",   "ascertainment.csv"};

/* Writes the files of one release into dir, under their revision names (release.csv, ...), each
 * atomically as write_file does, but every file written before any is flushed, then each flushed,
 * then each renamed into place: the first fsync commits the file system's journal with the data of
 * them all, so the others find little left to do (one journal commit a release, not one a file).
 * Returns 0, or -1 with errno (the temporary files removed). */
static int write_dir(const char *dir, const char *const content[RELEASE_N_FILES],
                     const size_t len[RELEASE_N_FILES])
{
    char tmp[RELEASE_N_FILES][1300], path[1200];
    FILE *f[RELEASE_N_FILES] = {NULL};
    int rc = mkdirs(dir);
    for (size_t k = 0; rc == 0 && k < RELEASE_N_FILES; k++) {
        if (!content[k])
            continue;
        snprintf(tmp[k], sizeof tmp[k], "%s/%s.tmp.%d", dir, REVISION_NAMES[k], (int)getpid());
        if (!(f[k] = fopen(tmp[k], "w")) || fwrite(content[k], 1, len[k], f[k]) != len[k] ||
            fflush(f[k]) != 0)
            rc = -1;
    }
    for (size_t k = 0; rc == 0 && k < RELEASE_N_FILES; k++)
        if (f[k] && fsync(fileno(f[k])) != 0)
            rc = -1;
    int saved = errno;
    for (size_t k = 0; k < RELEASE_N_FILES; k++) {
        if (!f[k])
            continue;
        if (fclose(f[k]) != 0 && rc == 0) {
            rc = -1;
            saved = errno;
        }
        snprintf(path, sizeof path, "%s/%s", dir, REVISION_NAMES[k]);
        if (rc == 0 && rename(tmp[k], path) != 0) {
            rc = -1;
            saved = errno;
        }
        if (rc != 0)
            unlink(tmp[k]);
    }
    errno = saved;
    return rc;
}

/* Replaces path with a hard link to the file at target (same bytes, written and flushed there):
 * a link under a temporary name, renamed over path, so that a reader sees the old file or the
 * new one. Falls back to writing data (len bytes) where the file system has no hard links. */
static int link_file(const char *target, const char *path, const char *data, size_t len)
{
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    unlink(tmp); /* left by a crash */
    if (link(target, tmp) != 0)
        return write_file(path, data, len);
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

int release_files_write(const char *out_dir, const char *audit, const char *period, int revision,
                        const char *const content[RELEASE_N_FILES],
                        const size_t len[RELEASE_N_FILES], char *err, size_t errlen)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/%s/%s", out_dir, audit, period);
    if (revision > 0)
        snprintf(dir, sizeof dir, "%s/%s/%s/r%04d", out_dir, audit, period, revision);
    /* The revision's own folder first, latest.* last: a reader of latest.* sees a whole release.
     * latest.* are hard links to the revision's files (immutable: never written in place, a
     * pruned revision's folder removed by unlinking), so each release's bytes are written and
     * flushed once, not twice. */
    int rc = revision > 0 ? write_dir(dir, content, len) : mkdirs(dir);
    for (size_t k = 0; rc == 0 && k < RELEASE_N_LATEST; k++) {
        if (!content[k]) /* a release stored before it had run charts */
            continue;
        snprintf(path, sizeof path, "%s/%s/%s/%s", out_dir, audit, period, RELEASE_FILE_NAMES[k]);
        if (revision > 0) {
            char target[1300];
            snprintf(target, sizeof target, "%s/%s", dir, REVISION_NAMES[k]);
            rc = link_file(target, path, content[k], len[k]);
        } else {
            rc = write_file(path, content[k], len[k]);
        }
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
        bool latest = false; /* the ledgers beside latest.* are publish's own (period_export.h) */
        for (size_t k = 0; k < RELEASE_N_LATEST; k++)
            latest = latest || strcmp(PQgetvalue(r, i, 0), RELEASE_FILE_NAMES[k]) == 0;
        if (!latest)
            continue;
        snprintf(path, sizeof path, "%s/%s/%s/%s", out_dir, audit, period, PQgetvalue(r, i, 0));
        all = same_file(path, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
    }
    PQclear(r);
    return all;
}

int release_files_export_missing(PGconn *db, const char *out_dir, char *err, size_t errlen)
{
    PGresult *r =
        db_query(db,
                 "SELECT DISTINCT ON (audit, period) release_id, audit, period, revision"
                 " FROM publish.release r WHERE status = 'provisional' AND EXISTS (SELECT 1 FROM"
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
                           " WHERE status = 'provisional' GROUP BY audit, period",
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

void release_files_hash(const char *csv, const char *spc, const char *spc_summary,
                        long long records, char hash[65])
{
    char n[32];
    snprintf(n, sizeof n, "%lld", records);
    crypto_hash_sha256_state hs;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, (const unsigned char *)csv, strlen(csv));
    crypto_hash_sha256_update(&hs, (const unsigned char *)spc, strlen(spc));
    crypto_hash_sha256_update(&hs, (const unsigned char *)spc_summary, strlen(spc_summary));
    crypto_hash_sha256_update(&hs, (const unsigned char *)"records=", 8);
    crypto_hash_sha256_update(&hs, (const unsigned char *)n, strlen(n));
    crypto_hash_sha256_final(&hs, h);
    sodium_bin2hex(hash, 65, h, sizeof h);
}

/* ---- publish.output from latest.json ----
 *
 * A release's rows, queryable (one per line of latest.csv, every column but audit and period,
 * which are the release's), from its JSON (rows as arrays in the order of latest.csv's columns),
 * sent by COPY: each value's text as PostgreSQL's jsonb gave it to the INSERT that did this before
 * (r->>N: a string unescaped, a number, true or false as written, a null NULL, or '' in a column
 * that coalesced it). A float8 read from a number's text is the one jsonb's numeric gave (both the
 * nearest double to the same decimal), but for a negative zero, which numeric has not: written
 * as 0. The INSERT over jsonb_array_elements parsed the whole document in the backend and cast
 * every value through numeric (13.9 ms a revision of about 1,100 rows); this scans the text once.
 */

/* The values of a row of latest.json: audit, period, then publish.output's columns from level. */
#define OUTPUT_ROW_VALUES 32

/* The row values whose null publish.output has as '' (parent_code, category,
 * compared_to_england, outlier, note). */
static bool null_as_empty(int k)
{
    return k == 5 || k == 8 || k == 17 || k == 22 || k == 23;
}

typedef struct {
    const char *p, *end;
    const char *what; /* the error, once one is found */
} scan_t;

static void scan_ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int scan_fail(scan_t *s, const char *what)
{
    if (!s->what)
        s->what = what;
    return -1;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (unsigned)d;
    }
    return 0;
}

static void put_utf8(strbuf_t *b, unsigned c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | c >> 6);
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | c >> 12);
        u[1] = (char)(0x80 | (c >> 6 & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | c >> 18);
        u[1] = (char)(0x80 | (c >> 12 & 0x3F));
        u[2] = (char)(0x80 | (c >> 6 & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    strbuf_append_n(b, u, n);
}

/* The JSON string at s->p (its opening quote), unescaped and written to out (when not NULL) as
 * one field of COPY's text format. */
static int scan_string(scan_t *s, strbuf_t *out)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        const char *run = s->p;
        while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (unsigned char)*s->p >= 0x20)
            s->p++;
        if (out && s->p > run)
            strbuf_append_n(out, run, (size_t)(s->p - run));
        if (s->p >= s->end)
            break;
        char c = *s->p++;
        if (c == '"')
            return 0;
        if (c != '\\')
            return scan_fail(s, "a control character in a string");
        if (s->p >= s->end)
            break;
        char e = *s->p++;
        const char *lit = e == '"'    ? "\""
                          : e == '/'  ? "/"
                          : e == '\\' ? "\\\\"
                          : e == 'b'  ? "\b"
                          : e == 'f'  ? "\f"
                          : e == 'n'  ? "\\n"
                          : e == 'r'  ? "\\r"
                          : e == 't'  ? "\\t"
                                      : NULL;
        if (lit) {
            if (out)
                strbuf_append(out, lit);
            continue;
        }
        unsigned u, lo;
        if (e != 'u' || s->end - s->p < 4 || hex4(s->p, &u) != 0)
            return scan_fail(s, "a bad escape in a string");
        s->p += 4;
        if (u >= 0xD800 && u < 0xDC00) { /* a surrogate pair */
            if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
                hex4(s->p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                return scan_fail(s, "an unpaired surrogate in a string");
            s->p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if ((u >= 0xDC00 && u < 0xE000) || u == 0) {
            return scan_fail(s, "\\u0000 or an unpaired surrogate in a string");
        }
        if (out) {
            if (u == '\\')
                strbuf_append(out, "\\\\");
            else if (u == '\n' || u == '\r' || u == '\t')
                strbuf_append(out, u == '\n' ? "\\n" : u == '\r' ? "\\r" : "\\t");
            else
                put_utf8(out, u);
        }
    }
    return scan_fail(s, "an unterminated string");
}

/* A number, true, false or null at s->p: its text (*tok, *len). */
static int scan_word(scan_t *s, const char **tok, size_t *len)
{
    *tok = s->p;
    while (s->p < s->end &&
           (*s->p == '-' || *s->p == '+' || *s->p == '.' || (*s->p >= '0' && *s->p <= '9') ||
            (*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z')))
        s->p++;
    *len = (size_t)(s->p - *tok);
    return *len ? 0 : scan_fail(s, "a value expected");
}

/* Skips the value at s->p (depth: of the arrays and objects around it). */
static int scan_skip(scan_t *s, int depth)
{
    scan_ws(s);
    if (s->p >= s->end)
        return scan_fail(s, "a value expected");
    if (*s->p == '"')
        return scan_string(s, NULL);
    if (*s->p != '[' && *s->p != '{') {
        const char *tok;
        size_t len;
        return scan_word(s, &tok, &len);
    }
    if (depth > 64)
        return scan_fail(s, "values nested too deep");
    char close = *s->p == '[' ? ']' : '}';
    s->p++;
    scan_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            scan_ws(s);
            if (s->p >= s->end || *s->p != '"' || scan_string(s, NULL) != 0)
                return scan_fail(s, "a key expected");
            scan_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return scan_fail(s, "':' expected");
        }
        if (scan_skip(s, depth + 1) != 0)
            return -1;
        scan_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        return scan_fail(s, "',' or the end of an array or object expected");
    }
}

/* Moves s to the value of key of the object at s->p. */
static int scan_to_key(scan_t *s, const char *key)
{
    size_t klen = strlen(key);
    scan_ws(s);
    if (s->p >= s->end || *s->p++ != '{')
        return scan_fail(s, "an object expected");
    for (;;) {
        scan_ws(s);
        if (s->p >= s->end || *s->p != '"')
            return scan_fail(s, "no \"rows\"");
        const char *k = s->p + 1;
        if (scan_string(s, NULL) != 0)
            return -1;
        bool match = (size_t)(s->p - 1 - k) == klen && memcmp(k, key, klen) == 0;
        scan_ws(s);
        if (s->p >= s->end || *s->p++ != ':')
            return scan_fail(s, "':' expected");
        if (match) {
            scan_ws(s);
            return 0;
        }
        if (scan_skip(s, 1) != 0)
            return -1;
        scan_ws(s);
        if (s->p >= s->end || *s->p++ != ',')
            return scan_fail(s, "no \"rows\"");
    }
}

/* Whether the number tok (len bytes) is a negative zero (-0, -0.0, -0e5). */
static bool negative_zero(const char *tok, size_t len)
{
    if (len < 2 || tok[0] != '-')
        return false;
    for (size_t i = 1; i < len && tok[i] != 'e' && tok[i] != 'E'; i++)
        if (tok[i] >= '1' && tok[i] <= '9')
            return false;
    return true;
}

/* One value of a row (k: its index) as a COPY field of out. */
static int scan_field(scan_t *s, int k, strbuf_t *out)
{
    scan_ws(s);
    if (s->p < s->end && *s->p == '"')
        return scan_string(s, out);
    if (s->p < s->end && (*s->p == '[' || *s->p == '{'))
        return scan_fail(s, "a row's value is an array or object, expected text or a number");
    const char *tok;
    size_t len;
    if (scan_word(s, &tok, &len) != 0)
        return -1;
    if (len == 4 && memcmp(tok, "null", 4) == 0) {
        if (!null_as_empty(k))
            strbuf_append(out, "\\N");
        return 0;
    }
    if (negative_zero(tok, len)) /* numeric's 0 */
        tok++, len--;
    strbuf_append_n(out, tok, len);
    return 0;
}

/* One row of latest.json at s->p (its '['), the n-th, as a line of COPY text into out. */
static int scan_row(scan_t *s, const char *release_id, long n, strbuf_t *out, char *err,
                    size_t errlen)
{
    if (s->p >= s->end || *s->p++ != '[')
        return scan_fail(s, "a row is not an array");
    strbuf_appendf(out, "%s\t%ld", release_id, n);
    int k = 0;
    scan_ws(s);
    if (s->p < s->end && *s->p == ']')
        s->p++;
    else
        for (;; k++) {
            if (k >= 2)
                strbuf_append(out, "\t");
            /* audit and period: the release's */
            if ((k < 2 ? scan_skip(s, 2) : scan_field(s, k, out)) != 0)
                return -1;
            scan_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if (s->p >= s->end || *s->p++ != ']')
                return scan_fail(s, "',' or ']' expected in a row");
            k++;
            break;
        }
    if (k != OUTPUT_ROW_VALUES) {
        snprintf(err, errlen,
                 "latest.json's row %ld has %d values, expected %d (audit, period and the "
                 "columns of publish.output from level)",
                 n, k, OUTPUT_ROW_VALUES);
        return -2;
    }
    strbuf_append(out, "\n");
    return 0;
}

/* The COPY text of the rows of latest.json (json) of release release_id into out. Returns 0, or
 * -1 with err. */
static int output_copy_text(const char *json, const char *release_id, strbuf_t *out, char *err,
                            size_t errlen)
{
    scan_t s = {json, json + strlen(json), NULL};
    if (scan_to_key(&s, "rows") == 0 && (s.p >= s.end || *s.p++ != '['))
        scan_fail(&s, "\"rows\" is not an array");
    scan_ws(&s);
    if (!s.what && s.p < s.end && *s.p == ']')
        return 0; /* no row */
    for (long n = 1; !s.what; n++) {
        scan_ws(&s);
        int rc = scan_row(&s, release_id, n, out, err, errlen);
        if (rc == -2)
            return -1;
        if (rc != 0)
            break;
        scan_ws(&s);
        if (s.p < s.end && *s.p == ',') {
            s.p++;
            continue;
        }
        if (s.p >= s.end || *s.p != ']')
            scan_fail(&s, "',' or ']' expected after a row");
        break;
    }
    if (s.what) {
        snprintf(err, errlen, "could not read the rows of latest.json at byte %ld: %s",
                 (long)(s.p - json), s.what);
        return -1;
    }
    if (out->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int store_output(PGconn *db, const char *release_id, const char *json, char *err,
                        size_t errlen)
{
    strbuf_t b;
    strbuf_init(&b);
    int rc = output_copy_text(json, release_id, &b, err, errlen);
    if (rc == 0 && b.len > 0) {
        rc = db_copy_begin(db, "COPY publish.output FROM STDIN", err, errlen);
        if (rc == 0) {
            int ok = db_copy_put(db, b.s, b.len) == 0;
            rc = db_copy_end(db, ok, err, errlen);
        }
    }
    strbuf_free(&b);
    return rc;
}

int release_files_store(PGconn *db, const char *release_id,
                        const char *const content[RELEASE_N_FILES], char *err, size_t errlen)
{
    for (size_t k = 0; k < RELEASE_N_FILES; k++) {
        if (!content[k] && k >= RELEASE_N_FILES_REQUIRED)
            continue;
        const char *p[] = {release_id, RELEASE_FILE_NAMES[k], content[k]};
        if (db_execp(db,
                     "INSERT INTO publish.release_file (release_id, name, content) VALUES"
                     " ($1::bigint, $2, $3)",
                     3, p, err, errlen) != 0)
            return -1;
    }
    return store_output(db, release_id, content[1], err, errlen);
}

void release_files_final_dir(const char *out_dir, const char *audit, int year, char *buf,
                             size_t len)
{
    snprintf(buf, len, "%s/%s/final/%d", out_dir, audit, year);
}

int release_files_export_final(PGconn *db, const char *out_dir, const char *audit, int year,
                               char *err, size_t errlen)
{
    char y[16], dir[1024], sub[1100];
    snprintf(y, sizeof y, "%d", year);
    release_files_final_dir(out_dir, audit, year, dir, sizeof dir);
    const char *p[] = {audit, y};
    PGresult *r = db_query(db,
                           "SELECT r.period, f.name, f.content FROM publish.release r"
                           " JOIN publish.release_file f USING (release_id)"
                           " WHERE r.audit = $1 AND r.final_year = $2::int ORDER BY 1",
                           2, p, err, errlen);
    if (!r)
        return -1;
    int rc = 0, n = PQntuples(r);
    for (int i = 0; rc == 0 && i < n; i++) {
        const char *period = PQgetvalue(r, i, 0);
        if (i > 0 && strcmp(period, PQgetvalue(r, i - 1, 0)) == 0)
            continue;
        const char *content[RELEASE_N_FILES] = {NULL};
        size_t len[RELEASE_N_FILES] = {0};
        for (int j = i; j < n && strcmp(PQgetvalue(r, j, 0), period) == 0; j++)
            for (size_t k = 0; k < RELEASE_N_FILES; k++)
                if (strcmp(PQgetvalue(r, j, 1), RELEASE_FILE_NAMES[k]) == 0) {
                    content[k] = PQgetvalue(r, j, 2);
                    len[k] = (size_t)PQgetlength(r, j, 2);
                }
        snprintf(sub, sizeof sub, "%s/%s", dir, period);
        if (write_dir(sub, content, len) != 0) {
            snprintf(err, errlen, "could not write release files under \"%s\": %s", sub,
                     strerror(errno));
            rc = -1;
        }
    }
    PQclear(r);
    if (rc != 0)
        return -1;
    if (n == 0)
        return 0; /* no such final */
    /* late.csv as it stands now: the late records counted since (publish keeps it so too) */
    char *late = NULL;
    if (final_late_csv(db, audit, year, &late, err, errlen) < 0)
        return -1;
    rc = release_files_write_one(dir, "late.csv", late, strlen(late), err, errlen);
    free(late);
    return rc;
}
