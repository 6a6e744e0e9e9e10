/* validate_text.h - `ncap validate` run in-process with the source tree's audit definitions, as a
 * data clerk runs it, for the tests of the validator and of each audit's definition. Include after
 * <cmocka.h>. */
#ifndef NCAP_TEST_VALIDATE_TEXT_H
#define NCAP_TEST_VALIDATE_TEXT_H

#include <stdarg.h>
#include <unistd.h>

#include "cmd_run.h"
#include "commands.h"

#define AUDIT_DIR NCAP_SOURCE_DIR "/deploy/audits"

/* Runs `ncap validate` with the given arguments (NULL-terminated), stdout and stderr captured. */
static result_t validate_run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    result_t r = run_command(cmd_validate, "validate", arg, ap);
    va_end(ap);
    return r;
}

/* Validates text as a file of audit (e.g. "nhfd") with the source tree's definition. */
static result_t validate_text(const char *audit, const char *text)
{
    char path[64];
    temp_file(path, text);
    result_t r = validate_run("--audit", audit, "--audit-dir", AUDIT_DIR, path, NULL);
    unlink(path);
    return r;
}

#endif
