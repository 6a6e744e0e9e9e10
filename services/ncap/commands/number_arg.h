/* number_arg.h - numbers as the subcommands read them from their command line (and ncap spc from
 * its values): the whole text must be the number, or it is refused. */
#ifndef NCAP_NUMBER_ARG_H
#define NCAP_NUMBER_ARG_H

/* A finite number as strtod reads it (an underflow reads as 0, an overflow is refused). Returns 0
 * with *out set, or -1. */
int number_arg(const char *s, double *out);

/* A whole number 0..max in decimal digits, with no sign or spaces. Returns 0 with *out set, or
 * -1. */
int number_arg_whole(const char *s, unsigned long long max, unsigned long long *out);

/* A client's --timeout: 1-86400 seconds. Returns 0 with *out set, or the usage error's status (2)
 * after saying "ncap COMMAND: --timeout must be 1-86400 seconds, not ...". */
int number_arg_timeout(const char *command, const char *s, int *out);

#endif
