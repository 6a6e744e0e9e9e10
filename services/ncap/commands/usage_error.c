/* usage_error.c - one way to say a command line was wrong */
#include "usage_error.h"

#include <getopt.h>
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

int command_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ncap %s: ", command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

int usage_error_option(const char *command, int c, char *const argv[])
{
    if (c == ':')
        return usage_error(command, "option \"%s\" needs a value", argv[optind - 1]);
    return usage_error(command, "unknown option \"%s\"", argv[optind - 1]);
}
