#!/usr/bin/env bash
# One trust's large file does not hold up another trust: trust A submits a large NHFD file to
# ncap-ingestd alone; once the file has arrived and is being stored, trust B submits 200 rows and
# has its receipt within 1 second while A's store goes on (the best of at most 3 such submissions,
# each sent and answered while A's is still being stored: a busy shared machine can stall any one
# process for a moment). All the while ingest's heartbeat in ops.instance stays within 5 s of now
# (older and it would be taken as dead). Every row of every file is stored, and ingest exits 0 on
# SIGTERM, also when SIGTERM comes while a file is being stored: that file is committed and its
# receipt sent first. Run through tests/run.
#
# E2E_BIG_ROWS sets A's rows: 200,000 by default (stored in 40-75 s under the sanitizers; the
# whole test 1-2 minutes on 2 shared cores); the issue's figure, 1,000,000, took 4.5 minutes.
set -euo pipefail
# ncap-test: exclusive
# (tests/run runs it with no other test beside it: B's receipt is timed while A's store loads the
# machine, and another test's load would be timed with it)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

big_rows=${E2E_BIG_ROWS:-200000}
small_rows=200
attempts=3
started=$SECONDS

# Two trusts' files from the simulator: A's repeated to big_rows, each copy's local ids made new;
# B's cut into files of small_rows rows (the first sent before A's, so that the timed ones are
# not B's first submission).
e2e_sim "$E2E_DIR/sim" 20000 2 17
mapfile -t files < <(ls "$E2E_DIR"/sim/*.csv)
a=$(basename "${files[0]}" .csv)
b=$(basename "${files[1]}" .csv)
repeat_a() { # repeat_a ROWS TAG: A's file repeated to ROWS rows, local ids suffixed TAG<copy>
  local f=$E2E_DIR/$a-$2.csv
  awk -v want="$1" -v tag="$2" 'NR == 1 { print; next }
    { row[++n] = $0 }
    END { for (k = 1; out < want; k++)
            for (i = 1; i <= n && out < want; i++) { s = row[i]; sub(/^[^,]*/, "&-" tag k, s); print s; out++ } }' \
    "${files[0]}" >"$f"
  echo "$f"
}
big=$(repeat_a "$big_rows" big)
small_file() { # small_file K: B's rows K*small_rows+1 .. (K+1)*small_rows
  local f=$E2E_DIR/$b-$1.csv
  { head -n 1 "${files[1]}"; sed -n "$(($1 * small_rows + 2)),$((($1 + 1) * small_rows + 1))p" "${files[1]}"; } >"$f"
  echo "$f"
}
e2e_say "trust $a: $big_rows rows ($(($(stat -c %s "$big") / 1048576)) MB); trust $b: files of $small_rows rows"

e2e_deploy main
e2e_start ingest
e2e_wait_registered ingest 1
log=$CTX_RUN/logs/ingest-1.log
psql_main() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

receipts=() # every receipt, each checked at the end against ingest.raw_record
out=$(e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$b" "$(small_file 0)" 2>&1) ||
  fail "first submission of $b was not accepted: $out"
receipts+=("$small_rows:$out")
# B's timed client is the deployed build of ncap (tests/run builds it beside the sanitizer build)
# and asks ingest's endpoint directly, as a trust's system configured with it would: what is timed
# is ingest, not a sanitizer's start-up and leak check or a registry lookup (together 0.5-1 s on a
# busy 2-core machine).
client=$NCAP_ROOT/build/ncap
[ -x "$client" ] || fail "no $client: run the test through tests/run, which builds it"
endpoint=$(psql_main "SELECT endpoint FROM ops.instance WHERE stage = 'ingest'")

big_out=$CTX_RUN/big.out
t_big=$SECONDS
e2e_ncap submit --quiet --timeout 3600 --audit "$E2E_AUDIT" --trust "$a" "$big" >"$big_out" 2>&1 &
big_pid=$!
trap 'kill "$big_pid" 2>/dev/null || true; e2e_cleanup' EXIT
big_running() { kill -0 "$big_pid" 2>/dev/null; }

# The whole file has arrived once ingest logs that it is storing it.
storing() { grep -q "\"msg\":\"storing submission\",\"trust\":\"$a\"" "$log"; }
ncap_wait_until 600 storing || fail "ingest did not begin storing $a's file within 600 s"
big_running || fail "$a's submission ended before ingest stored it: $(cat "$big_out")"
e2e_say "$a's file arrived after $((SECONDS - t_big)) s and is being stored"

best=
for k in $(seq 1 "$attempts"); do
  f=$(small_file "$k")
  t0=$(date +%s%N)
  out=$(e2e_with_keys "$client" submit --quiet --timeout 60 --endpoint "$endpoint" --audit "$E2E_AUDIT" \
    --trust "$b" "$f" 2>&1) || fail "submission of $b was not accepted: $out"
  t1=$(date +%s%N)
  big_running ||
    fail "$a's store finished before $b's receipt came back: the test shows nothing (set E2E_BIG_ROWS higher)"
  ms=$(((t1 - t0) / 1000000))
  receipts+=("$small_rows:$out")
  e2e_say "$b's receipt came back in $ms ms while $a's file was being stored: $out"
  [ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
  [ "$ms" -gt 1000 ] || break
done
[ "$best" -le 1000 ] ||
  fail "$b's receipts took at best $best ms while $a's file was being stored, expected at most 1000"

# Heartbeats while A's file is stored, sampled every half second until its receipt.
oldest=0 samples=0
while big_running; do
  age=$(psql_main "SELECT coalesce(floor(extract(epoch FROM now() - max(heartbeat_at)))::int, 999)
                   FROM ops.instance WHERE stage = 'ingest'")
  [ "$age" -gt "$oldest" ] && oldest=$age
  [ "$age" -lt 5 ] || fail "ingest's heartbeat is $age s old while $a's file is being stored"
  samples=$((samples + 1))
  sleep 0.5
done
status=0
wait "$big_pid" || status=$?
[ "$status" -eq 0 ] || fail "submission of $a was not accepted: $(cat "$big_out")"
receipts+=("$big_rows:$(cat "$big_out")")
e2e_say "$a's receipt after $((SECONDS - t_big)) s: $(cat "$big_out")"
e2e_say "heartbeat at most $oldest s old over $samples samples while $a's file was stored"

# Every row of every file is stored, under the submission its receipt names.
for r in "${receipts[@]}"; do
  rows=${r%%:*} receipt=${r#*:}
  sid=$(sed -n 's/^submission \([0-9]*\): .*/\1/p' <<<"$receipt")
  [ -n "$sid" ] || fail "no submission id in \"$receipt\""
  grep -q "^submission $sid: $rows rows, $rows accepted, 0 unchanged, 0 rejected$" <<<"$receipt" ||
    fail "receipt \"$receipt\", expected $rows rows all accepted"
  stored=$(psql_main "SELECT count(*) FROM ingest.raw_record WHERE submission_id = $sid")
  [ "$stored" = "$rows" ] || fail "submission $sid has $stored rows in ingest.raw_record, expected $rows"
done
e2e_say "every row of the ${#receipts[@]} files is in ingest.raw_record"

# SIGTERM while A's next file is being stored: it is committed, its receipt sent, then ingest
# exits 0.
mid_rows=50000
mid=$(repeat_a "$mid_rows" mid)
mid_out=$CTX_RUN/mid.out
e2e_ncap submit --quiet --timeout 600 --audit "$E2E_AUDIT" --trust "$a" "$mid" >"$mid_out" 2>&1 &
mid_pid=$!
trap 'kill "$mid_pid" 2>/dev/null || true; e2e_cleanup' EXIT
storing_mid() { grep -q "\"msg\":\"storing submission\",\"trust\":\"$a\",\"audit\":\"$E2E_AUDIT\",\"file\":\"$(basename "$mid")\"" "$log"; }
ncap_wait_until 600 storing_mid || fail "ingest did not begin storing $(basename "$mid") within 600 s"
ingest_pid=$(e2e_pid ingest)
kill -TERM "$ingest_pid"
status=0
wait "$mid_pid" || status=$?
[ "$status" -eq 0 ] || fail "the file being stored at SIGTERM got no receipt: $(cat "$mid_out")"
status=0
wait "$ingest_pid" || status=$?
rm -f "$CTX_RUN/pids/ingest-1.pid"
[ "$status" -eq 0 ] || fail "ingest exited with status $status after SIGTERM"
e2e_check_sanitizers
sid=$(sed -n 's/^submission \([0-9]*\): .*/\1/p' "$mid_out")
grep -A 1000 '"msg":"stopping' "$log" | grep -q "\"msg\":\"submission stored\",\"submission\":\"$sid\"" ||
  fail "submission ${sid:-?} was not stored after SIGTERM but before (see $log)"
stored=$(psql_main "SELECT count(*) FROM ingest.raw_record WHERE submission_id = ${sid:-0}")
[ "$stored" = "$mid_rows" ] || fail "submission ${sid:-?} has $stored rows stored, expected $mid_rows"
e2e_say "SIGTERM while $a's next file was stored: $(cat "$mid_out"), then ingest exited 0"

e2e_stop_all
e2e_say "PASS in $((SECONDS - started)) s"
