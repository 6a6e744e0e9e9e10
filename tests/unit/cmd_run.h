/* cmd_run.h - runs an ncap subcommand in-process as a user would, capturing what it prints, for
 * the tests of the subcommands. Include after <cmocka.h>. */
#ifndef NCAP_TEST_CMD_RUN_H
#define NCAP_TEST_CMD_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int rc;
    char *out; /* what the command printed on stdout */
    char *err; /* ... and on stderr */
} result_t;

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    return s;
}

/* Runs the subcommand cmd (named name, as argv[0]) with the arguments arg, then those in ap up to
 * a NULL, with stdout and stderr captured. */
static result_t run_command(int (*cmd)(int, char **), const char *name, const char *arg, va_list ap)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)name;
    for (const char *a = arg; a; a = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = (char *)a;
    }
    argv[argc] = NULL;

    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    result_t r;
    r.rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    fseek(out, 0, SEEK_END);
    fseek(err, 0, SEEK_END);
    r.out = slurp(out);
    r.err = slurp(err);
    fclose(out);
    fclose(err);
    return r;
}

static void result_free(result_t *r)
{
    free(r->out);
    free(r->err);
}

/* A temporary file holding text; returns its path in path[64]. */
static void temp_file(char *path, const char *text)
{
    snprintf(path, 64, "/tmp/ncap_test_cmd_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

#endif
