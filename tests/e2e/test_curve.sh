#!/usr/bin/env bash
# Trust authentication with CurveZMQ, end to end: ingest holds its own key and the public keys of
# two trusts. Each trust submits with its own key and reads its own feedback; a trust asking to
# submit or read as the other trust is refused; a client without a known key gets no answer; a
# client without CurveZMQ gets none either. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_sim "$E2E_DIR/sim" 300 2 21
mapfile -t files < <(ls "$E2E_DIR"/sim/*.csv)
[ "${#files[@]}" -eq 2 ] || fail "expected 2 trust files, got ${#files[@]}"
a=$(basename "${files[0]}" .csv)
b=$(basename "${files[1]}" .csv)

keys=$E2E_DIR/keys
mkdir -p "$keys/trusts"
e2e_ncap keys new "$keys/ingest" >/dev/null
e2e_ncap keys new "$keys/trusts/$a" >/dev/null
e2e_ncap keys new "$keys/trusts/$b" >/dev/null
e2e_ncap keys new "$keys/stranger" >/dev/null
[ "$(stat -c %a "$keys/ingest.key")" = 600 ] || fail "a secret key file is readable by others"
e2e_ncap keys new "$keys/ingest" >/dev/null 2>&1 && fail "ncap keys overwrote an existing key"

e2e_deploy main
NCAP_CURVE_SECRET_FILE=$keys/ingest.key NCAP_CURVE_TRUST_KEYS=$keys/trusts e2e_start ingest 1
for stage in linkage validation metric publish; do e2e_start "$stage" 1; done
e2e_wait_registered ingest 1

as() { # as KEYFILE ncap ARGS...: runs ncap as the client holding KEYFILE
  local key=$1
  shift
  NCAP_CURVE_SERVER_KEY=$keys/ingest.pub NCAP_CURVE_CLIENT_SECRET_FILE=$key e2e_ncap "$@"
}

out=$(as "$keys/trusts/$a.key" submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$a" \
  "${files[0]}" 2>&1) || fail "trust $a could not submit with its own key: $out"
sid=$(sed -n 's/^submission \([0-9]*\):.*/\1/p' <<<"$out")
[ -n "$sid" ] || fail "no submission id in \"$out\""
e2e_say "trust $a submitted with its own key (submission $sid)"

status=0
out=$(as "$keys/trusts/$a.key" submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$b" \
  "${files[1]}" 2>&1) || status=$?
[ "$status" -ne 0 ] || fail "trust $a submitted as trust $b"
grep -q "not authenticated as trust \"$b\"" <<<"$out" || fail "unexpected refusal: $out"
e2e_say "trust $a submitting as $b: refused ($out)"

status=0
out=$(as "$keys/stranger.key" submit --quiet --timeout 5 --audit "$E2E_AUDIT" --trust "$a" \
  "${files[0]}" 2>&1) || status=$?
[ "$status" -ne 0 ] || fail "a client with an unknown key could submit"
status=0
out=$(e2e_ncap submit --quiet --timeout 5 --audit "$E2E_AUDIT" --trust "$a" "${files[0]}" 2>&1) ||
  status=$?
[ "$status" -ne 0 ] || fail "a client without CurveZMQ could submit"
e2e_say "unknown key and plain connection: no answer"

e2e_drain
as "$keys/trusts/$a.key" feedback "$sid" --trust "$a" --csv >"$CTX_RUN/feedback.csv" 2>&1 ||
  [ $? -eq 1 ] || fail "trust $a could not read its feedback: $(cat "$CTX_RUN/feedback.csv")"
head -1 "$CTX_RUN/feedback.csv" | grep -q '^submission_id,row,' || fail "no feedback CSV header"
status=0
out=$(as "$keys/trusts/$b.key" feedback "$sid" --trust "$a" 2>&1) || status=$?
[ "$status" -eq 2 ] || fail "trust $b read trust $a's feedback: $out"
status=0
out=$(as "$keys/trusts/$b.key" feedback "$sid" --trust "$b" 2>&1) || status=$?
[ "$status" -eq 2 ] && grep -q "no submission $sid for trust $b" <<<"$out" ||
  fail "trust $b asking for $a's submission: $out"
e2e_say "feedback: $a reads its own; $b is refused as $a and finds nothing as itself"
e2e_stop_all
e2e_say "PASS"
