#!/usr/bin/env bash
# Hostile audit definitions (issue 11): each is refused with file:line:column, the time taken
# printed, and none crashes a daemon or changes a release:
#   - `ncap audit check` on a metric whose expression is 1,000,000 nested brackets, one nested
#     1,500 deep, a band() cut point of 1e300, a YAML list nested 100,000 deep and a YAML alias
#     bomb: exit 1, each with its position and what was expected; a 5 MB file: refused before it
#     is read;
#   - a running deployment where one audit's definition (nhfdq, a copy of NHFD under another name)
#     becomes the 1,000,000-bracket one after validation took its records: metric quarantines
#     exactly those records as a definition error, stays up, and publishes every NHFD record.
# Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

good=300
bad=60
hostile=$E2E_DIR/hostile
rm -rf "$hostile"
mkdir -p "$hostile"
nhfd=$NCAP_ROOT/deploy/audits/nhfd.yaml
numerator='    numerator: hours_between(arrival_datetime, surgery_datetime) <= 36'
grep -qxF "$numerator" "$nhfd" || fail "nhfd.yaml no longer has the numerator this test replaces"

# hostile_def NAME TEXT-OF-THE-NUMERATOR: NHFD named NAME with that numerator (TEXT read from stdin).
hostile_def() {
  local name=$1 file=$hostile/$1.yaml
  cat >"$file.numerator"
  awk -v replfile="$file.numerator" -v from="$numerator" -v name="$name" \
    'BEGIN { getline repl <replfile }
     $0 == "audit: nhfd" { print "audit: " name; next }
     $0 == from { print "    numerator: " repl; next }
     { print }' "$nhfd" >"$file"
  rm -f "$file.numerator"
  cmp -s "$file" "$nhfd" && fail "could not make $name.yaml"
  return 0
}

awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "("; printf "1"; for (i = 0; i < 1000000; i++) printf ")"; printf " = 1\n" }' |
  hostile_def brackets
awk 'BEGIN { for (i = 0; i < 1500; i++) printf "("; printf "1"; for (i = 0; i < 1500; i++) printf ")"; printf " = 1\n" }' |
  hostile_def deep
echo 'band(age_at_arrival, 60, 1e300) = 1' | hostile_def bandhuge
{
  head -n 3 "$nhfd" | sed 's/^audit: nhfd$/audit: nesting/'
  awk 'BEGIN { printf "x: "; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; printf "\n" }'
} >"$hostile/nesting.yaml"
{
  echo 'audit: aliases'
  echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
  prev=a
  for n in b c d e f g h i; do
    echo "$n: &$n [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
    prev=$n
  done
} >"$hostile/aliases.yaml"
{
  sed 's/^audit: nhfd$/audit: big/' "$nhfd"
  awk 'BEGIN { for (i = 0; i < 80000; i++) printf "# padding line %d of a definition far larger than any real one\n", i }'
} >"$hostile/big.yaml"
[ "$(stat -c %s "$hostile/big.yaml")" -gt 5000000 ] || fail "big.yaml is not over 5 MB"

# check NAME PATTERN: ncap audit check refuses NAME.yaml (exit 1) with a message matching PATTERN
# (an extended regular expression) at a file:line:column position.
check() {
  local name=$1 pattern=$2 out status=0 t0 t1
  t0=$(date +%s%N)
  out=$(e2e_ncap audit check "$hostile/$name.yaml" 2>&1) || status=$?
  t1=$(date +%s%N)
  [ "$status" -eq 1 ] || fail "ncap audit check $name.yaml exited $status (expected 1): $(head -c 400 <<<"$out")"
  grep -Eq "$name\.yaml:[0-9]+:[0-9]+: .*($pattern)" <<<"$out" ||
    fail "ncap audit check $name.yaml did not say where and what: $(head -c 400 <<<"$out")"
  e2e_say "$name.yaml refused in $(((t1 - t0) / 1000000)) ms: $(grep -Em1 "$pattern" <<<"$out" | cut -c1-160)"
}
check brackets 'expected at most|too deep|nest'
check deep 'deep|nest'
check bandhuge 'at most|range|too large'
check nesting 'deep|nest'
check aliases 'alias'
# Too big to read at all: refused before parsing, as a file that cannot be loaded (exit 2).
status=0
out=$(e2e_ncap audit check "$hostile/big.yaml" 2>&1) || status=$?
[ "$status" -ne 0 ] && grep -q 'expected at most 4194304' <<<"$out" ||
  fail "ncap audit check big.yaml (exit $status) did not refuse its size: $(head -c 400 <<<"$out")"
e2e_say "big.yaml refused: $out"

# A running deployment: nhfdq's metric becomes the 1,000,000-bracket expression after validation.
CTX_AUDITS=$E2E_DIR/audits
rm -rf "$CTX_AUDITS"
mkdir -p "$CTX_AUDITS"
cp "$nhfd" "$CTX_AUDITS/"
sed 's/^audit: nhfd$/audit: nhfdq/' "$nhfd" >"$CTX_AUDITS/nhfdq.yaml"

E2E_AUDIT=nhfd e2e_sim "$E2E_DIR/good" "$good" 5 52
valid=$(e2e_truth_valid "$E2E_DIR/good.truth.csv")
E2E_AUDIT=nhfd e2e_sim "$E2E_DIR/bad" "$bad" 3 53 --invalid-rate 0

e2e_deploy main
for stage in ingest linkage validation; do e2e_start "$stage"; done
e2e_wait_registered ingest 1
E2E_AUDIT=nhfdq e2e_submit_all "$E2E_DIR/bad"
ncap_wait_until 120 e2e_stage_is validation processed "$bad" ||
  fail "validation processed $(e2e_field validation processed) of the $bad nhfdq records"
sed 's/^audit: brackets$/audit: nhfdq/' "$hostile/brackets.yaml" >"$CTX_AUDITS/nhfdq.yaml"

E2E_AUDIT=nhfd e2e_submit_all "$E2E_DIR/good"
e2e_start metric
e2e_start publish
e2e_drain
e2e_status
e2e_expect metric quarantined "$bad"
e2e_expect metric processed "$good"
e2e_expect publish processed "$good"
metric_pid=$(<"$CTX_RUN/pids/metric-1.pid")
kill -0 "$metric_pid" 2>/dev/null || fail "ncap-metricd is not running after the hostile definition"
listed=$(e2e_ncap quarantine list --stage metric --csv | tail -n +2)
grep -q 'nhfdq.yaml' <<<"$listed" || fail "the quarantine does not name the definition: $(head -n 1 <<<"$listed")"
E2E_AUDIT=nhfd e2e_expect_denominators ortho_72h "$valid"
[ -z "$(find "$CTX_OUT" -path '*nhfdq*' -name latest.csv)" ] || fail "a release of nhfdq was published"
e2e_say "metric quarantined the $bad records of the hostile definition, stayed up and published NHFD"
e2e_stop_all
e2e_say "PASS"
