/* ncap funnel - placeholder until the statistics library lands (issue 5) */
#include <stdio.h>

#include "commands.h"

int cmd_funnel(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ncap funnel: not available yet\n");
    return 2;
}
