#!/usr/bin/env bash
# The trusts' HTTP API's way into ingest (services/web/gateway/), end to end without HTTP: the web
# daemon's key (stage key web) and each trust's bearer token (ncap keys token), driven through
# tests/tools/gateway_call. 600 simulated records of 3 trusts go in once through `ncap submit`
# (deployment "zmq") and once through the gateway (deployment "gw"): the same receipts, and
# latest.csv byte-identical. Then: a trust's token reads its own feedback, results and outlier
# cases (and answers its case), and another trust's submission or case is answered as one that
# does not exist (404); a token naming another trust is refused (403), by the gateway's submit and
# by ingest for every request; no token, a token never made and a revoked one (its file deleted,
# seen without a restart) get 401; the web key without a token can do nothing, and a trust's own
# key may not carry a token; a file refused as a whole is 422, an unknown audit 400, a trust past
# its submission rate 429 (per trust); 8 calls at once each get their answer; no token reaches a
# log. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_sim "$E2E_DIR/sim" 600 3 5 --problems 2
mapfile -t trusts < <(basename -a "$E2E_DIR"/sim/*.csv | sed 's/\.csv$//')
a=${trusts[0]} b=${trusts[1]} c=${trusts[2]}
tokens=$CTX_KEYS/trusts # ingest's --trust-keys: the tokens' hashes go beside the trusts' keys
rm -f "$tokens"/*.token

# --- the reference: every file through ncap submit ---
e2e_deploy zmq
e2e_start_pipeline
e2e_wait_registered ingest 1
declare -A receipt=() problems=()
for t in "${trusts[@]}"; do
  out=$(e2e_ncap submit --audit "$E2E_AUDIT" --trust "$t" "$E2E_DIR/sim/$t.csv" 2>&1) ||
    fail "ncap submit of $t: $out"
  receipt[$t]=$(sed -n 's/^submission [0-9]*: \(.*\)$/\1/p' <<<"$out")
  problems[$t]=$(grep -c '^row ' <<<"$out" || true)
done
[ "$(IFS=+; echo $((${problems[*]})))" -gt 0 ] || fail "ncap submit reported no row problem in any file"
e2e_drain
e2e_keep_releases "$E2E_DIR/reference"
[ -n "$(ls -A "$E2E_DIR/reference")" ] || fail "the reference run published nothing"
e2e_stop_all

# --- the same files through the gateway ---
e2e_deploy gw
gw() { NCAP_PG="$(ncap_admin_pg)" "$CTX_BUILD/gateway_call" --keys "$CTX_KEYS/stages" "$@"; }
token_of() { "$CTX_BUILD/ncap" keys token --trust "$1" "${@:2}" "$tokens" 2>>"$CTX_RUN/logs/tokens.log"; }
declare -A tok=()
tok[$a]=$(token_of "$a") && tok[$b]=$(token_of "$b") || fail "ncap keys token failed: $(cat "$CTX_RUN/logs/tokens.log")"
[[ ${tok[$a]} =~ ^ncap_${a}_[A-Za-z0-9_-]{43}$ ]] || fail "token of $a is \"${tok[$a]}\", expected ncap_${a}_ and 43 base64url characters"
grep -rqF -- "${tok[$a]#ncap_"$a"_}" "$tokens" && fail "the token itself is stored in $tokens"
# a submission rate the test reaches: 3 files of one trust an hour
NCAP_SUBMISSION_RATE=3/3600 e2e_start ingest 1
for stage in linkage validation metric publish; do e2e_start "$stage" 1; done
e2e_wait_registered ingest 1
grep -q '"web gateway admitted' "$CTX_RUN/logs/ingest-1.log" || fail "ingest did not admit the web gateway's key"
# c's token made while ingest runs: taken without a restart
tok[$c]=$(token_of "$c") || fail "ncap keys token --trust $c failed"

# call VAR ARGS...: the gateway's answer; status in VAR_status, body in VAR_body
call() {
  local var=$1 out
  shift
  out=$(gw "$@") || fail "gateway_call $* failed"
  printf -v "${var}_status" '%s' "$(sed -n 1p <<<"$out")"
  printf -v "${var}_body" '%s' "$(sed -n 2p <<<"$out")"
}
# expect VAR STATUS WHAT
expect() {
  local st="${1}_status" body="${1}_body"
  [ "${!st}" = "$2" ] || fail "$3: status ${!st}, expected $2: ${!body:0:400}"
}

declare -A sid=()
for t in "${trusts[@]}"; do
  call r --token "${tok[$t]}" submit "$E2E_AUDIT" "$t" "$E2E_DIR/sim/$t.csv"
  expect r 201 "submission of $t through the gateway"
  got=$(jq -r '"\(.rows) rows, \(.accepted) accepted, \(.unchanged) unchanged, \(.rejected) rejected"' <<<"$r_body")
  [ "$got" = "${receipt[$t]}" ] || fail "gateway receipt of $t \"$got\", ncap submit's \"${receipt[$t]}\""
  [ "$(jq '.problems | length' <<<"$r_body")" = "${problems[$t]}" ] ||
    fail "gateway receipt of $t lists $(jq '.problems | length' <<<"$r_body") row problems, ncap submit ${problems[$t]}"
  sid[$t]=$(jq -r .submission_id <<<"$r_body")
done
e2e_say "3 files through the gateway: the receipts ncap submit gave (${receipt[$a]}, ...)"
e2e_drain
e2e_expect_same_releases "$E2E_DIR/reference"

# --- each trust reads its own, and nothing of another's ---
call f --token "${tok[$a]}" feedback "${sid[$a]}"
expect f 200 "feedback of $a with its token"
jq -e --arg t "$a" '.summary.trust == $t and (.problems | length) > 0' <<<"$f_body" >/dev/null ||
  fail "feedback of $a: ${f_body:0:300}"
e2e_ncap feedback "${sid[$a]}" --trust "$a" --csv >"$CTX_RUN/feedback.csv" 2>/dev/null || true # 1: errors
want=$(($(wc -l <"$CTX_RUN/feedback.csv") - 1))
[ "$(jq '.problems | length' <<<"$f_body")" = "$want" ] ||
  fail "feedback of $a through the gateway has $(jq '.problems | length' <<<"$f_body") problems, ncap feedback $want"
call f --token "${tok[$a]}" feedback "${sid[$b]}"
expect f 404 "feedback on $b's submission with $a's token"
call n --token "${tok[$a]}" feedback 999999
expect n 404 "feedback on a submission that does not exist"
[ "$(jq -r .detail <<<"$f_body")" = "no submission ${sid[$b]} for trust $a" ] ||
  fail "another trust's submission is not answered as one that does not exist: $f_body"
e2e_say "feedback: $a's own ($want problems, as ncap feedback); $b's answered as one that does not exist (404)"

call res --token "${tok[$a]}" results "$E2E_AUDIT"
expect res 200 "results of $a"
want=$(($(e2e_ncap results --trust "$a" --audit "$E2E_AUDIT" --csv | wc -l) - 1))
got=$(jq --arg t "$a" '(.records | length) + (.figures | length)' <<<"$res_body")
[ "$got" = "$want" ] || fail "results of $a through the gateway: $got lines, ncap results --csv $want"
jq -e --arg t "$a" '.trust == $t and (.records | length) > 0' <<<"$res_body" >/dev/null ||
  fail "results of $a: ${res_body:0:300}"
e2e_say "results: $a's own, the $want lines of ncap results"

# outlier cases: one for a and one for b, as publish notifies them
psql_gw() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }
psql_gw "INSERT INTO publish.outlier_case
  (audit, period, metric_id, level, area_code, trust, state, state_by, notified_at, flag)
  VALUES ('$E2E_AUDIT', '2019Q1', 'ortho_72h', 'trust', '$a', '$a', 'trust_notified', 'release', now(), 'alarm_low'),
         ('$E2E_AUDIT', '2019Q1', 'ortho_72h', 'trust', '$b', '$b', 'trust_notified', 'release', now(), 'alarm_low')" >/dev/null
call o --token "${tok[$a]}" outliers "$E2E_AUDIT"
expect o 200 "outlier cases of $a"
jq -e --arg t "$a" '.cases | length == 1 and .[0].area_code == $t' <<<"$o_body" >/dev/null ||
  fail "outlier cases of $a: $o_body"
call o --token "${tok[$a]}" outliers nela
jq -e '.cases | length == 0' <<<"$o_body" >/dev/null || fail "outlier cases of $a in nela: $o_body"
case_a=$(psql_gw "SELECT case_id FROM publish.outlier_case WHERE trust = '$a'")
case_b=$(psql_gw "SELECT case_id FROM publish.outlier_case WHERE trust = '$b'")
call o --token "${tok[$a]}" case "$case_a"
expect o 200 "outlier case $case_a of $a"
jq -e --argjson id "$case_a" '.cases[0].case_id == $id and (.local_ids | type) == "array"' <<<"$o_body" >/dev/null ||
  fail "outlier case $case_a of $a: $o_body"
call o --token "${tok[$a]}" case "$case_b"
expect o 404 "$b's outlier case with $a's token"
[ "$(jq -r .detail <<<"$o_body")" = "no outlier case $case_b for trust $a" ] || fail "$b's case with $a's token: $o_body"
call o --token "${tok[$a]}" respond "$case_b" "not ours to answer"
expect o 404 "a response to $b's case with $a's token"
call o --token "${tok[$a]}" respond "$case_a" "We are reviewing the cases with the orthogeriatric team."
expect o 200 "$a's response to its case"
jq -e '.cases[0].state == "trust_responded" and .cases[0].responses == 1' <<<"$o_body" >/dev/null ||
  fail "$a's case after its response: $o_body"
[ "$(psql_gw "SELECT state FROM publish.outlier_case WHERE case_id = $case_b")" = trust_notified ] ||
  fail "$b's case moved"
e2e_say "outlier cases: $a sees and answers its own case; $b's is answered as one that does not exist (404) and stays as it was"

# --- a token names one trust only ---
call r --token "${tok[$a]}" submit "$E2E_AUDIT" "$b" "$E2E_DIR/sim/$b.csv"
expect r 403 "submission for $b with $a's token"
raw() { NCAP_PG="$(ncap_admin_pg)" "$CTX_BUILD/gateway_call" --raw --keys "$CTX_KEYS/stages" "$@"; }
expect_raw() { # expect_raw WANT ARGS...: ingest's answer to a raw request
  local want=$1 out
  shift
  out=$(raw "$@") || fail "gateway_call --raw $* failed"
  [[ $out == "$want"* ]] || fail "raw $*: \"$out\", expected \"$want...\""
}
for req in "feedback $b ${sid[$b]}" "results $b $E2E_AUDIT" "outliers $b" "submit $E2E_AUDIT $b $E2E_DIR/sim/$b.csv"; do
  # shellcheck disable=SC2086 # the request's words
  expect_raw "refused 403: request refused: the bearer token is trust $a's, not trust $b's" --token "${tok[$a]}" $req
done
e2e_say "$a's token naming $b: refused (403) for submissions, feedback, results and outlier cases"

# --- no token, a token never made, a revoked one ---
call r feedback "${sid[$a]}"
expect r 401 "feedback without a token"
call r --token "nonsense" feedback "${sid[$a]}"
expect r 401 "feedback with a malformed token"
never=ncap_${a}_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | cut -c1-43)
call r --token "$never" feedback "${sid[$a]}"
expect r 401 "feedback with a token never made"
call r --token "${tok[$c]}" feedback "${sid[$c]}"
expect r 200 "feedback of $c with the token made while ingest ran"
rm "$tokens/$c.token"
call r --token "${tok[$c]}" feedback "${sid[$c]}"
expect r 401 "feedback of $c with its revoked token"
jq -e '.detail | test("never made, or revoked")' <<<"$r_body" >/dev/null || fail "revoked token: $r_body"
e2e_say "no token, a malformed one, one never made and one revoked (without a restart): 401"

# --- the web key without a token can do nothing; a trust's key may carry no token ---
for req in "feedback $a ${sid[$a]}" "results $a $E2E_AUDIT" "outliers $a" "submit $E2E_AUDIT $a $E2E_DIR/sim/$a.csv"; do
  # shellcheck disable=SC2086
  expect_raw "refused 401: request refused: the web gateway sent no trust's bearer token" $req
done
expect_raw "refused 403: request refused: a bearer token is taken only from the web gateway" \
  --secret "$CTX_KEYS/trusts/$a.key" --token "${tok[$a]}" feedback "$a" "${sid[$a]}"
expect_raw "ok" --secret "$CTX_KEYS/trusts/$a.key" feedback "$a" "${sid[$a]}"
e2e_say "the web key without a token: refused (401) for everything; a trust's own key with a token: refused (403), without: served"

# --- files and audits ingest refuses ---
printf 'foo,bar\n1,2\n' >"$E2E_DIR/not_nhfd.csv"
call r --token "${tok[$a]}" submit "$E2E_AUDIT" "$a" "$E2E_DIR/not_nhfd.csv"
expect r 422 "a file without the audit's columns"
jq -e '.detail | startswith("file refused:")' <<<"$r_body" >/dev/null || fail "422 without ingest's reason: $r_body"
refused=$(jq -r .detail <<<"$r_body")
call r --token "${tok[$a]}" submit no_such_audit "$a" "$E2E_DIR/sim/$a.csv"
expect r 400 "an unknown audit"
e2e_say "a file refused as a whole: 422 (${refused:0:60}...); an unknown audit: 400"

# the submission rate is the trust's, through the gateway as through ncap submit: a's file and the
# refused one took 2 of its 3
call r --token "${tok[$a]}" submit "$E2E_AUDIT" "$a" "$E2E_DIR/sim/$a.csv"
expect r 201 "$a's third file within its rate"
jq -e '.accepted == 0 and .unchanged > 0' <<<"$r_body" >/dev/null || fail "$a's file again: $r_body"
call r --token "${tok[$a]}" submit "$E2E_AUDIT" "$a" "$E2E_DIR/sim/$a.csv"
expect r 429 "$a's fourth file"
held=$(jq -r .detail <<<"$r_body")
[[ $held == "too many submissions from trust $a: 3 in the last 3600 s"* ]] || fail "429 without ingest's reason: $r_body"
call r --token "${tok[$b]}" submit "$E2E_AUDIT" "$b" "$E2E_DIR/sim/$b.csv"
expect r 201 "$b's second file while $a is held back"
e2e_say "the rate is per trust: $a's fourth file in the hour 429 (${held:0:50}...), $b's taken"

# --- calls at once, each answered ---
out=$(gw --token "${tok[$a]}" --threads 8 feedback "${sid[$a]}") || fail "8 calls at once failed"
[ "$(grep -c '^200$' <<<"$out")" = 8 ] || fail "8 calls at once: $(grep -v '^{' <<<"$out" | sort | uniq -c)"
[ "$(grep '^{' <<<"$out" | sort -u | wc -l)" = 1 ] || fail "8 calls at once gave different bodies"
e2e_say "8 calls at once: 8 identical answers"

# --- the logs: refusals logged, no token anywhere ---
grep -q '"gateway request refused"' "$CTX_RUN/logs/ingest-1.log" || fail "ingest logged no refused gateway request"
for t in "${trusts[@]}"; do
  ! grep -rqF -- "${tok[$t]#ncap_}" "$CTX_RUN/logs" || fail "a log holds $t's token"
done
e2e_stop_all
e2e_say "ok"
