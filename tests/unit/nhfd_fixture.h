/* nhfd_fixture.h - cmocka group setup/teardown that load the real NHFD definition into *state,
 * for tests of the stage logic. Include after <cmocka.h>. */
#ifndef NCAP_TEST_NHFD_FIXTURE_H
#define NCAP_TEST_NHFD_FIXTURE_H

#include <stdio.h>

#include "audit_def.h"

#define NHFD_PATH NCAP_SOURCE_DIR "/deploy/audits/nhfd.yaml"

static int setup(void **state)
{
    char err[256] = "";
    audit_def_t *def = audit_def_load(NHFD_PATH, err, sizeof err);
    if (!def) {
        fprintf(stderr, "could not load %s: %s\n", NHFD_PATH, err);
        return -1;
    }
    *state = def;
    return 0;
}

static int teardown(void **state)
{
    audit_def_t *def = *state;
    audit_def_destroy(&def);
    return 0;
}

#endif
