/* number_arg.c - strtod and strtoull, checked */
#include "number_arg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "usage_error.h"

int number_arg(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || (errno == ERANGE && fabs(v) > 1))
        return -1;
    *out = v;
    return 0;
}

int number_arg_whole(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int number_arg_timeout(const char *command, const char *s, int *out)
{
    unsigned long long v;
    if (number_arg_whole(s, 86400, &v) != 0 || v == 0)
        return usage_error(command, "--timeout must be 1-86400 seconds, not \"%s\"", s);
    *out = (int)v;
    return 0;
}
