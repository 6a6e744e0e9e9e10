/* usage_error.h - how every ncap subcommand reports a usage error */
#ifndef NCAP_USAGE_ERROR_H
#define NCAP_USAGE_ERROR_H

/* Prints "ncap COMMAND: MESSAGE" and a pointer to --help on stderr; returns 2 (usage error). */
int usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
