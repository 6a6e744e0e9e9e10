/* site_build.c - the portal written and swapped into place */
#define _GNU_SOURCE /* renameat2 */
#include "site_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h> /* AT_FDCWD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "site_html.h"
#include "site_pages.h"
#include "site_release.h"
#include "strbuf.h"

/* A hidden folder of a build that died is removed after this long (a build that runs takes
 * seconds; another instance's may be running). */
#define SITE_STALE_SECONDS 3600

static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4400];
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) {
            rc = -1;
            continue;
        }
        rc |= remove_tree(sub);
    }
    closedir(d);
    return rc | rmdir(path);
}

/* Removes the hidden folders of builds that died (older than SITE_STALE_SECONDS). */
static void remove_stale(const char *parent)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".site.tmp-", 10) != 0)
            continue;
        char path[4400];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", parent, e->d_name) >= (int)sizeof path)
            continue;
        if (lstat(path, &st) == 0 && now - st.st_mtime > SITE_STALE_SECONDS)
            remove_tree(path);
    }
    closedir(d);
}

static int write_page(const char *dir, const char *rel, const strbuf_t *b, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0'; /* its folders inside the site */
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "could not create \"%s\": %s", path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (b->oom) {
        snprintf(err, errlen, "out of memory writing \"%s\"", rel);
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f || fwrite(b->s ? b->s : "", 1, b->len, f) != b->len || fclose(f) != 0) {
        snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The audit's page and its metrics' of a (the latest period, or an earlier one under its own
 * folder) into dir. Returns the number written or -1. */
static int write_audit(const char *dir, const site_audit_t *a, strbuf_t *b, char *err,
                       size_t errlen)
{
    char folder[300], rel[600];
    site_period_folder(folder, sizeof folder, a, a->period);
    snprintf(rel, sizeof rel, "%s/index.html", folder);
    strbuf_reset(b);
    site_page_audit(b, a);
    if (write_page(dir, rel, b, err, errlen) != 0)
        return -1;
    int pages = 1;
    for (size_t k = 0; k < a->n_metrics; k++, pages++) {
        snprintf(rel, sizeof rel, "%s/%s.html", folder, a->metrics[k].id);
        strbuf_reset(b);
        site_page_metric(b, a, &a->metrics[k]);
        if (write_page(dir, rel, b, err, errlen) != 0)
            return -1;
    }
    return pages;
}

/* The pages of a's earlier periods that have them (site_period_has_pages), each period read from
 * releases_dir and freed before the next. Returns the number written or -1. */
static int write_earlier(const char *releases_dir, const char *dir, const site_audit_t *a,
                         strbuf_t *b, char *err, size_t errlen)
{
    int pages = 0;
    for (size_t i = 0; i < a->n_periods; i++) {
        if (!site_period_has_pages(a, i))
            continue;
        site_audit_t e;
        int n = site_audit_load(releases_dir, a->audit, a->periods[i], &e, err, errlen) == 0
                    ? write_audit(dir, &e, b, err, errlen)
                    : -1;
        site_audit_free(&e);
        if (n < 0)
            return -1;
        pages += n;
    }
    return pages;
}

/* Every page into dir. Returns the number written or -1. */
static int write_site(const char *releases_dir, const char *dir, const site_tree_t *t, char *err,
                      size_t errlen)
{
    size_t n_orgs = 0;
    site_org_t *orgs = site_orgs(t, &n_orgs);
    if (!orgs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    strbuf_t b;
    strbuf_init(&b);
    int pages = 0, rc = 0;
    char rel[512];
    strbuf_append(&b, SITE_CSS);
    rc = write_page(dir, "site.css", &b, err, errlen);
    strbuf_reset(&b);
    site_page_home(&b, t, orgs, n_orgs);
    if (rc == 0 && (rc = write_page(dir, "index.html", &b, err, errlen)) == 0)
        pages++;
    for (size_t i = 0; rc == 0 && i < t->n_audits; i++) {
        int n = write_audit(dir, &t->audits[i], &b, err, errlen), m = 0;
        if (n < 0 || (m = write_earlier(releases_dir, dir, &t->audits[i], &b, err, errlen)) < 0)
            rc = -1;
        else
            pages += n + m;
    }
    for (size_t i = 0; rc == 0 && i < n_orgs; i++) {
        if (!site_safe_name(orgs[i].code))
            continue; /* a code that cannot be a file name: in the tables, without a page */
        bool trust = strcmp(orgs[i].level, "trust") == 0;
        snprintf(rel, sizeof rel, "%s/%s.html", trust ? "trust" : "hospital", orgs[i].code);
        strbuf_reset(&b);
        site_page_org(&b, t, &orgs[i], orgs, n_orgs);
        rc = write_page(dir, rel, &b, err, errlen);
        pages++;
    }
    strbuf_free(&b);
    free(orgs);
    return rc == 0 ? pages : -1;
}

int site_build(const char *releases_dir, const char *out_dir, char *err, size_t errlen)
{
    char out[4096], parent[4096], tmp[4200];
    errno = 0;
    snprintf(out, sizeof out, "%s", out_dir ? out_dir : "");
    if (!out_dir)
        snprintf(out, sizeof out, "%s/site", releases_dir);
    snprintf(parent, sizeof parent, "%s", out);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
    struct stat st;
    if (stat(releases_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "no releases folder \"%s\": %s", releases_dir,
                 errno ? strerror(errno) : "not a folder");
        return -1;
    }
    site_tree_t tree;
    if (site_tree_load(releases_dir, &tree, err, errlen) != 0)
        return -1;
    remove_stale(parent);
    snprintf(tmp, sizeof tmp, "%s/.site.tmp-XXXXXX", parent);
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "could not create a folder in \"%s\": %s", parent, strerror(errno));
        site_tree_free(&tree);
        return -1;
    }
    chmod(tmp, 0755); /* mkdtemp makes it 0700; the site is public */
    int pages = write_site(releases_dir, tmp, &tree, err, errlen);
    site_tree_free(&tree);
    /* Not flushed to disk: a kill leaves the pages in the kernel's cache, and after a power loss
     * publish writes the site again at start (syncfs would flush the whole file system's). */
    if (pages >= 0) {
        /* the new site in place of the old in one step; the first time, a plain rename */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) != 0 &&
            (errno != ENOENT || rename(tmp, out) != 0)) {
            snprintf(err, errlen, "could not put the site in place at \"%s\": %s", out,
                     strerror(errno));
            pages = -1;
        }
    }
    remove_tree(tmp); /* the old site after an exchange; the unfinished one after a failure */
    return pages;
}
