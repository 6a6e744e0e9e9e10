/* number_text.h - how the statistics subcommands print a figure: 17 significant digits, so that
 * other tools can be compared exactly; empty for a figure that does not exist (NaN). */
#ifndef NCAP_NUMBER_TEXT_H
#define NCAP_NUMBER_TEXT_H

#include <stddef.h>

void number_text(char *buf, size_t size, double v);

#endif
