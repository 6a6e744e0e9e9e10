#!/usr/bin/env bash
# CurveZMQ keys, end to end, as deployed (tests/e2e/lib.sh: every daemon with its stage key, ingest
# with every simulated trust's public key). Each trust submits with its own key and reads its own
# feedback; a trust asking to submit or read as another trust is refused; a stranger's key and a
# plain client are refused with a clear error at once; a client asked to speak for a trust it
# holds no key for says so. A daemon without keys and without --insecure-plain refuses to start,
# saying what to pass, as does one given both or a secret key others may read. With
# --insecure-plain everywhere the pipeline runs, each daemon warning loudly, and ingest believes
# the stated trust. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_sim "$E2E_DIR/sim" 300 2 21
mapfile -t files < <(ls "$E2E_DIR"/sim/*.csv)
[ "${#files[@]}" -eq 2 ] || fail "expected 2 trust files, got ${#files[@]}"
a=$(basename "${files[0]}" .csv)
b=$(basename "${files[1]}" .csv)
trusts=$CTX_KEYS/trusts
[ -f "$trusts/$a.key" ] && [ -f "$trusts/$b.pub" ] || fail "no keys for the simulated trusts in $trusts"

# --- key files -------------------------------------------------------------------------------
e2e_ncap keys new "$E2E_DIR/stranger" >/dev/null
[ "$(stat -c %a "$E2E_DIR/stranger.key")" = 600 ] || fail "a secret key file is readable by others"
e2e_ncap keys new "$E2E_DIR/stranger" >/dev/null 2>&1 && fail "ncap keys overwrote an existing key"
before=$(cat "$CTX_KEYS/stages/linkage.key")
out=$(e2e_ncap keys stages "$CTX_KEYS/stages") || fail "ncap keys stages failed: $out"
[ "$(cat "$CTX_KEYS/stages/linkage.key")" = "$before" ] || fail "ncap keys stages replaced a key"
grep -q "0 key pairs written, 6 kept" <<<"$out" || fail "ncap keys stages: $out"
e2e_say "keys: secret files 600, never overwritten ($out)"

# --- a daemon without a choice of keys refuses to start ----------------------------------------
e2e_deploy main
linkd() { # linkd ENV...: ncap-linkd with only ENV's keys settings; prints its stderr, returns its status
  # shellcheck disable=SC2069 # its standard error only
  env -u NCAP_KEYS_DIR -u NCAP_INSECURE_PLAIN "$@" NCAP_PG="$(ncap_admin_pg)" \
    NCAP_PSEUDONYM_KEY_FILE="$CTX_KEY" timeout 20 "$CTX_BUILD/ncap-linkd" 2>&1 >/dev/null
}
status=0
out=$(linkd) || status=$?
[ "$status" -eq 2 ] || fail "ncap-linkd without keys exited $status, expected 2: $out"
grep -q "no keys: pass --keys DIR" <<<"$out" && grep -q -- "--insecure-plain" <<<"$out" ||
  fail "ncap-linkd without keys does not say what to pass: $out"
status=0
out=$(linkd NCAP_KEYS_DIR="$CTX_KEYS/stages" NCAP_INSECURE_PLAIN=1) || status=$?
[ "$status" -eq 2 ] && grep -q "choose one" <<<"$out" || fail "keys and plain together: $status $out"
cp -r "$CTX_KEYS/stages" "$E2E_DIR/open-stages"
chmod 644 "$E2E_DIR/open-stages/linkage.key"
status=0
out=$(linkd NCAP_KEYS_DIR="$E2E_DIR/open-stages") || status=$?
[ "$status" -eq 2 ] && grep -q "linkage.key.\{1,2\} has mode 0644" <<<"$out" ||
  fail "a secret key readable by others was not refused: $status $out"
status=0
out=$(env -u NCAP_TRUST_KEYS NCAP_KEYS_DIR="$CTX_KEYS/stages" NCAP_PG="$(ncap_admin_pg)" \
  timeout 20 "$CTX_BUILD/ncap-ingestd" 2>&1 >/dev/null) || status=$?
[ "$status" -eq 2 ] && grep -q "not --trust-keys DIR" <<<"$out" ||
  fail "ingest with stage keys but no trust keys: $status $out"
e2e_say "daemons refuse to start without keys, with keys and --insecure-plain, with an open secret key"

# --- trusts, each with its own key -------------------------------------------------------------
e2e_start_pipeline
e2e_wait_registered ingest 1
grep -q '"msg":"CurveZMQ on: trusts authenticated by their keys","trusts":"500"' \
  "$CTX_RUN/logs/ingest-1.log" || fail "ingest did not load the 500 trusts' keys"

# e2e_ncap_plain CMD...: CMD with the deployment's database and no key of its own
e2e_ncap_plain() { env NCAP_PG="$(ncap_admin_pg)" NCAP_AUDIT_DIR="$NCAP_ROOT/deploy/audits" "$@"; }
as() { # as KEYFILE ncap ARGS...: ncap as the client holding KEYFILE only
  local key=$1
  shift
  e2e_ncap_plain env NCAP_CURVE_SERVER_KEY="$CTX_KEYS/stages/ingest.pub" \
    NCAP_CURVE_CLIENT_SECRET_FILE="$key" "$CTX_BUILD/ncap" "$@"
}

out=$(e2e_ncap submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$a" "${files[0]}" 2>&1) ||
  fail "trust $a could not submit with its own key: $out"
sid=$(sed -n 's/^submission \([0-9]*\):.*/\1/p' <<<"$out")
[ -n "$sid" ] || fail "no submission id in \"$out\""
e2e_say "trust $a submitted with its own key from NCAP_CLIENT_KEYS (submission $sid)"

status=0
out=$(as "$trusts/$a.key" submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$b" \
  "${files[1]}" 2>&1) || status=$?
[ "$status" -ne 0 ] || fail "trust $a submitted as trust $b"
grep -q "not authenticated as trust \"$b\"" <<<"$out" || fail "unexpected refusal: $out"
e2e_say "trust $a submitting as $b: refused ($out)"

status=0
out=$(as "$E2E_DIR/stranger.key" submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$a" \
  "${files[0]}" 2>&1) || status=$?
[ "$status" -ne 0 ] && grep -q "refused this client's key, speaking for trust \"$a\"" <<<"$out" ||
  fail "a client with an unknown key: $status $out"
e2e_say "unknown key: $out"
status=0
out=$(e2e_ncap_plain "$CTX_BUILD/ncap" submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$a" \
  "${files[0]}" 2>&1) || status=$?
[ "$status" -ne 0 ] && grep -q "refused a plain connection: it requires CurveZMQ" <<<"$out" || fail "a plain client: $status $out"
e2e_say "plain client: $out"
mkdir -p "$E2E_DIR/only-a"
cp "$trusts/$a.key" "$E2E_DIR/only-a/"
status=0
out=$(e2e_ncap_plain env NCAP_CURVE_SERVER_KEY="$CTX_KEYS/stages/ingest.pub" \
  NCAP_CLIENT_KEYS="$E2E_DIR/only-a" "$CTX_BUILD/ncap" submit --quiet --audit "$E2E_AUDIT" \
  --trust "$b" "${files[1]}" 2>&1) || status=$?
[ "$status" -ne 0 ] && grep -q "no key for trust \"$b\" in NCAP_CLIENT_KEYS \"$E2E_DIR/only-a\"" <<<"$out" ||
  fail "a client without the trust's key: $status $out"
e2e_say "no key for the trust: $out"

e2e_drain
e2e_ncap feedback "$sid" --trust "$a" --csv >"$CTX_RUN/feedback.csv" 2>&1 ||
  [ $? -eq 1 ] || fail "trust $a could not read its feedback: $(cat "$CTX_RUN/feedback.csv")"
head -1 "$CTX_RUN/feedback.csv" | grep -q '^submission_id,row,' || fail "no feedback CSV header"
status=0
out=$(as "$trusts/$b.key" feedback "$sid" --trust "$a" 2>&1) || status=$?
[ "$status" -eq 2 ] || fail "trust $b read trust $a's feedback: $out"
status=0
out=$(e2e_ncap feedback "$sid" --trust "$b" 2>&1) || status=$?
[ "$status" -eq 2 ] && grep -q "no submission $sid for trust $b" <<<"$out" ||
  fail "trust $b asking for $a's submission: $out"
e2e_say "feedback: $a reads its own; $b is refused as $a and finds nothing as itself"
e2e_stop_all

# --- plain, only when asked ------------------------------------------------------------------
CTX_KEYS=
e2e_deploy plain
e2e_start_pipeline
e2e_wait_registered ingest 1
for stage in "${NCAP_STAGES[@]}"; do
  grep -q '"msg":"INSECURE: running without CurveZMQ' "$CTX_RUN/logs/$stage-1.log" ||
    fail "$stage ran plain without a loud warning"
done
e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$b" "${files[1]}" >/dev/null 2>&1 ||
  fail "a plain client could not submit to a plain ingest"
e2e_drain
e2e_expect_drained "$(($(wc -l <"${files[1]}") - 1))"
e2e_stop_all
e2e_say "--insecure-plain: every daemon warns, ingest believes the stated trust, the pipeline runs"
e2e_say "PASS"
