/* ncap ci - placeholder until the statistics library lands (issue 5) */
#include <stdio.h>

#include "commands.h"

int cmd_ci(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ncap ci: not available yet\n");
    return 2;
}
