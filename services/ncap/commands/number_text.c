/* number_text.c - figures as printed by ncap ci, funnel and spc */
#include "number_text.h"

#include <math.h>
#include <stdio.h>

void number_text(char *buf, size_t size, double v)
{
    if (isnan(v))
        buf[0] = '\0';
    else
        snprintf(buf, size, "%.17g", v);
}
