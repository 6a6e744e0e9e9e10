/* audit_cache.c - audit definitions by name */
#include "audit_cache.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct audit_cache_t {
    char *dir;
    audit_def_t **defs;
    size_t n;
};

audit_cache_t *audit_cache_new(const char *dir)
{
    audit_cache_t *self = calloc(1, sizeof *self);
    if (self && !(self->dir = strdup(dir))) {
        free(self);
        return NULL;
    }
    return self;
}

void audit_cache_destroy(audit_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_cache_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        audit_def_destroy(&self->defs[i]);
    free(self->defs);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

const audit_def_t *audit_cache_get(audit_cache_t *self, const char *audit, char *err, size_t errlen)
{
    assert(self);
    if (!valid_name(audit)) {
        snprintf(err, errlen,
                 "unknown audit \"%.40s\": audit names are lower-case letters, digits "
                 "and underscores",
                 audit);
        return NULL;
    }
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->defs[i]->audit, audit) == 0)
            return self->defs[i];
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.yaml", self->dir, audit);
    if (access(path, F_OK) != 0) {
        /* No path: the message may go to a trust, who has no business knowing the server's. */
        snprintf(err, errlen,
                 "unknown audit \"%s\": there is no %s.yaml among the audit definitions", audit,
                 audit);
        return NULL;
    }
    audit_def_t *def = audit_def_load_named(self->dir, audit, err, errlen);
    if (!def)
        return NULL;
    audit_def_t **defs = realloc(self->defs, (self->n + 1) * sizeof *defs);
    if (!defs) {
        audit_def_destroy(&def);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->defs = defs;
    self->defs[self->n++] = def;
    return def;
}
