#!/usr/bin/env bash
# A skip never passes CI: a unit test that needs PostgreSQL, run without NCAP_TEST_PG, is skipped
# (exit 0, saying why) on a developer's machine and fails (non-zero) when CI=true, as every unit
# test does through tests/fixtures/test_skip.h. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

unit=$CTX_BUILD/test_migrate
[ -x "$unit" ] || fail "no unit test binary ${unit#"$NCAP_ROOT"/}"

status=0
out=$(env -u NCAP_TEST_PG -u CI "$unit" 2>&1) || status=$?
[ "$status" -eq 0 ] || fail "without NCAP_TEST_PG and outside CI test_migrate exited $status, expected 0 (skipped): $out"
grep -q 'skipped: NCAP_TEST_PG is unset' <<<"$out" || fail "the skip does not say why: $out"
e2e_say "outside CI, without PostgreSQL: skipped, saying why"

status=0
out=$(env -u NCAP_TEST_PG CI=true "$unit" 2>&1) || status=$?
[ "$status" -ne 0 ] || fail "with CI=true and no NCAP_TEST_PG test_migrate passed: a skip passed CI: $out"
grep -q 'a test may not skip in CI' <<<"$out" || fail "the CI failure does not say why: $out"
e2e_say "with CI=true, without PostgreSQL: failed (exit $status)"
