/* trust_file.c - an audit's definition and a trust's file, for the offline commands */
#include "trust_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_read.h"

int trust_file_open(const char *cmd, const char *dir, const char *audit, const char *path,
                    trust_file_t *out)
{
    *out = (trust_file_t){0};
    char err[512];
    if (!(out->def = audit_def_load_named(dir, audit, err, sizeof err))) {
        fprintf(stderr, "ncap %s: %s\n", cmd, err);
        return 2;
    }
    if (file_read_all(path, &out->data, &out->len) != 0) {
        fprintf(stderr, "ncap %s: could not read \"%s\": %s\n", cmd, path, strerror(errno));
        trust_file_close(out);
        return 2;
    }
    return 0;
}

void trust_file_close(trust_file_t *f)
{
    free(f->data);
    f->data = NULL;
    f->len = 0;
    audit_def_destroy(&f->def);
}
