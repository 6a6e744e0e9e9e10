/* funnel_file.c - a units file read whole, then parsed */
#include "funnel_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_read.h"

int funnel_file_type(const char *name, funnel_type_t *type)
{
    if (strcmp(name, "proportion") == 0)
        *type = FUNNEL_PROPORTION;
    else if (strcmp(name, "ratio") == 0)
        *type = FUNNEL_RATIO;
    else
        return -1;
    return 0;
}

funnel_input_t *funnel_file_read(const char *command, const char *path, funnel_type_t type)
{
    size_t len;
    char *data = NULL;
    if (file_read_all(path, &data, &len) != 0)
        data = NULL;
    if (!data) {
        fprintf(stderr, "ncap %s: could not read file \"%s\": %s\n", command, path,
                strerror(errno));
        return NULL;
    }
    char err[512];
    funnel_input_t *in = funnel_input_parse(data, len, type, err, sizeof err);
    free(data);
    if (!in)
        fprintf(stderr, "ncap %s: could not read file \"%s\": %s\n", command, path, err);
    return in;
}
