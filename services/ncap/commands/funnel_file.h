/* funnel_file.h - the units file that ncap ci and ncap funnel read (funnel_input_parse's CSV) */
#ifndef NCAP_FUNNEL_FILE_H
#define NCAP_FUNNEL_FILE_H

#include "funnel.h"

/* The type named "proportion" or "ratio" into *type. Returns 0, or -1 for another name. */
int funnel_file_type(const char *name, funnel_type_t *type);

/* Reads path and parses it as units of type. Returns the input (funnel_input_destroy frees it),
 * or NULL after "ncap COMMAND: could not read file "PATH": REASON" on stderr. */
funnel_input_t *funnel_file_read(const char *command, const char *path, funnel_type_t type);

#endif
