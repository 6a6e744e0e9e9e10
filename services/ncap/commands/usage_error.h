/* usage_error.h - how every ncap subcommand reports a usage error */
#ifndef NCAP_USAGE_ERROR_H
#define NCAP_USAGE_ERROR_H

/* Prints "ncap COMMAND: MESSAGE" and a pointer to --help on stderr; returns 2 (usage error). */
int usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "ncap COMMAND: MESSAGE" on stderr (an input or I/O error, no pointer to --help); returns
 * 2, the exit status of a command that could not do its work. */
int command_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error that getopt_long's return c stands for, in a loop with opterr 0 and ':' leading
 * the optstring: ':' an option without its value, anything else an unknown option, named by
 * argv[optind - 1]. Returns 2. */
int usage_error_option(const char *command, int c, char *const argv[]);

#endif
