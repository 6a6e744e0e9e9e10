/* trust_file.h - what `ncap validate` and `ncap risk` start from: an audit's definition and a
 * trust's file read whole, each failure said on stderr as "ncap CMD: why". */
#ifndef NCAP_TRUST_FILE_H
#define NCAP_TRUST_FILE_H

#include <stddef.h>

#include "audit_def.h"

typedef struct {
    audit_def_t *def;
    char *data;
    size_t len;
} trust_file_t;

/* Loads DIR/AUDIT.yaml and reads the file at path into out. Returns 0, or 2 (the command's exit
 * status) having said why on stderr, out then empty. */
int trust_file_open(const char *cmd, const char *dir, const char *audit, const char *path,
                    trust_file_t *out);
void trust_file_close(trust_file_t *f);

#endif
