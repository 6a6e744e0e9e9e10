/* usage_error.c - one way to say a command line was wrong */
#include "usage_error.h"

#include <stdarg.h>
#include <stdio.h>

int usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ncap %s: ", command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry \"ncap %s --help\".\n", command);
    return 2;
}
