#!/usr/bin/env bash
# An attacker on the network, against a running deployment as deployed (every daemon with its
# stage key, ingest with the trusts' keys), repeating the attacks of the security issue; each
# fails with nothing changed in any table or release:
#   (a) a forged nudge (version 99 of real records) and a message that is not a nudge, to each
#       stage's inbox, from a plain socket and from a socket holding a stranger's key: no handshake,
#       nothing sent, nothing in the stage's log but the refusal;
#   (b) the same with the key of a stage that is not the inbox's upstream (and a trust's key): the
#       ZAP handler refuses it and logs the key. A control shows the check would see a message that
#       got in: the real upstream's key gets a non-nudge message in (logged as ignored), and a
#       forged nudge sent with it changes nothing either (nudges carry keys only), and a 256 MB
#       frame sent with it is dropped at its header (ZMQ_MAXMSGSIZE): no stage's peak memory grows;
#   (c) as every stage role, INSERT, UPDATE, DELETE and upsert of another stage's row of
#       ops.instance fail and leave it as it was; a fake row of one's own stage (ncap_linkage
#       registering listeners that lack linkage's key, plain and CurveZMQ) receives no message
#       while the real linkage takes every new record and ingest logs the failed handshakes; fake
#       ingest rows (ncap_ingest) do not steer ncap submit: it goes on to the real ingest, sends
#       the fake ones nothing, and pointed at one says it is not ingest;
#   (d) submission and feedback without a key, with an unknown key and as another trust are
#       refused with a clear error.
# Every table of the five stage schemas (row count and a checksum of its content; not the
# stages' watermark and tally, nor linkage.key_in_use, which the sweep timer moves by itself) and
# every release file are compared before and after (a), (b) and (d). Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

forge=$CTX_BUILD/ncap_forge
[ -x "$forge" ] || fail "no ${forge#"$NCAP_ROOT"/}: build the tree (tests/run does)"
stages=$CTX_KEYS/stages
upstream_of() {
  case $1 in
    linkage) echo ingest ;; validation) echo linkage ;; metric) echo validation ;; publish) echo metric ;;
  esac
}

e2e_sim "$E2E_DIR/sim" 600 3 31
e2e_sim "$E2E_DIR/sim2" 300 3 32
mapfile -t files < <(ls "$E2E_DIR"/sim/*.csv)
a=$(basename "${files[0]}" .csv)
b=$(basename "${files[1]}" .csv)
e2e_ncap keys new "$E2E_DIR/stranger" >/dev/null

e2e_deploy main
e2e_start_pipeline
for stage in "${NCAP_STAGES[@]}"; do e2e_wait_registered "$stage" 1; done
e2e_submit_each "$E2E_DIR/sim"
sid_a=${E2E_SID[$a]}
sid_b=${E2E_SID[$b]}
e2e_drain

psql_as() { # psql_as ROLE SQL: runs SQL as ROLE, unaligned tuples; its status is psql's
  psql -X -q -v ON_ERROR_STOP=1 -tA -h "$CTX_PGHOST" -p "$NCAP_PGPORT" -U "$1" -d "$CTX_DB" -c "$2"
}
psql_admin() { psql_as "$NCAP_PG_SUPERUSER" "$1"; }

# snapshot NAME: every table of the stage schemas (rows, md5 of its rows in order) into
# CTX_RUN/NAME.tables, and the release files into CTX_RUN/NAME.releases/.
snapshot() {
  psql -X -q -v ON_ERROR_STOP=1 -tA -h "$CTX_PGHOST" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" \
    -d "$CTX_DB" >"$CTX_RUN/$1.tables" <<'SQL' || fail "could not take a snapshot of the tables"
SELECT format('SELECT %L || '' '' || count(*) || '' '' || coalesce(md5(string_agg(t::text, ''|'' '
              'ORDER BY t::text)), ''-'') FROM %I.%I t', n.nspname || '.' || c.relname,
              n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('ingest', 'linkage', 'validation', 'metric', 'publish')
  -- a stage's watermark and tally are bookkeeping its sweep timer moves and folds on its own
  -- (migration 0018), whatever arrives: the data they stand for is in the other tables; so is
  -- the key id each linkage process says every few seconds that it runs (0024)
  AND c.relname NOT IN ('watermark', 'tally', 'key_in_use')
ORDER BY n.nspname, c.relname
\gexec
SQL
  e2e_keep_releases "$CTX_RUN/$1.releases"
}
# expect_unchanged BEFORE AFTER WHAT
expect_unchanged() {
  diff "$CTX_RUN/$1.tables" "$CTX_RUN/$2.tables" >&2 || fail "$3 changed a table (above)"
  diff -r "$CTX_RUN/$1.releases" "$CTX_RUN/$2.releases" >&2 || fail "$3 changed a release (above)"
  e2e_say "$3: all $(wc -l <"$CTX_RUN/$2.tables") tables (rows and checksums) and $(find "$CTX_RUN/$2.releases" -type f | wc -l) release files unchanged"
}
ignored() { # ignored STAGE: lines of STAGE's log saying a message that was not a nudge came in
  grep -c '"msg":"ignored a message that is not an ncap.v1.Nudge"' "$CTX_RUN/logs/$1-1.log" || true
}
refusals() { # refusals STAGE: lines of STAGE's log refusing a client's key
  grep -c '"msg":"refused a CurveZMQ client whose key is not admitted here"' "$CTX_RUN/logs/$1-1.log" || true
}

snapshot before
[ "$(find "$CTX_RUN/before.releases" -type f | wc -l)" -gt 0 ] || fail "no release to compare"
# real records, to forge nudges for: version 99 of each
mapfile -t forged < <(psql_admin "SELECT record_id || ':99:0' FROM ingest.record ORDER BY record_id LIMIT 20")
forged_keys=()
for k in "${forged[@]}"; do forged_keys+=(--key "$k"); done

# --- (a) and (b): forged messages to every stage inbox ------------------------------------------
# attempt STAGE ENDPOINT WHO [KEY]: one forged nudge and one non-nudge to STAGE's inbox, as WHO
# (plain when no KEY); neither may be sent.
attempt() {
  local stage=$1 ep=$2 who=$3 key=${4:-} out kind
  local curve=()
  [ -z "$key" ] || curve=(--server-key "$stages/$stage.pub" --secret "$key")
  for kind in nudge garbage; do
    local what=("${forged_keys[@]}")
    [ "$kind" = nudge ] || what=(--garbage)
    out=$("$forge" send "$ep" "${curve[@]}" "${what[@]}") && fail "a $kind from $who reached $stage: $out"
    grep -q '^not sent$' <<<"$out" || fail "ncap_forge to $stage as $who: $out"
  done
  e2e_say "$stage, $who: $(head -1 <<<"$out"), nothing sent"
}
declare -A before_refusals=()
for stage in linkage validation metric publish; do
  ep=$(psql_admin "SELECT endpoint FROM ops.instance WHERE stage = '$stage'")
  [ -n "$ep" ] || fail "no $stage instance registered"
  before_refusals[$stage]=$(refusals "$stage")
  attempt "$stage" "$ep" "a plain socket"
  attempt "$stage" "$ep" "a stranger's key" "$E2E_DIR/stranger.key"
  for other in "${NCAP_STAGES[@]}"; do
    [ "$other" != "$(upstream_of "$stage")" ] || continue
    attempt "$stage" "$ep" "$other's key" "$stages/$other.key"
  done
  attempt "$stage" "$ep" "trust $a's key" "$CTX_KEYS/trusts/$a.key"
done
sleep 2 # what got in would have been read by now
for stage in linkage validation metric publish; do
  [ "$(ignored "$stage")" = 0 ] || fail "a forged message reached $stage: $(grep ignored "$CTX_RUN/logs/$stage-1.log")"
  [ "$(refusals "$stage")" -gt "${before_refusals[$stage]}" ] || fail "$stage did not log the keys it refused"
done
e2e_say "no stage read a forged message; each logged the keys it refused"
snapshot after_forged
expect_unchanged before after_forged "forged messages from plain sockets, strangers and other stages"

# Control: a message sent with the upstream's own key does get in (the check above would have
# seen one), and a forged nudge sent with it changes nothing either: nudges carry keys only.
for stage in linkage validation metric publish; do
  ep=$(psql_admin "SELECT endpoint FROM ops.instance WHERE stage = '$stage'")
  up=$(upstream_of "$stage")
  for what in --garbage "${forged_keys[*]}"; do
    # shellcheck disable=SC2086 # the keys are words
    out=$("$forge" send "$ep" --server-key "$stages/$stage.pub" --secret "$stages/$up.key" $what) ||
      fail "the control could not send to $stage with $up's key: $out"
  done
done
check_ignored() {
  local stage
  for stage in linkage validation metric publish; do [ "$(ignored "$stage")" -ge 1 ] || return 1; done
}
ncap_wait_until 10 check_ignored || fail "the control's non-nudge messages were not seen by every stage"
sleep 3
e2e_drain
snapshot after_control
expect_unchanged before after_control "forged nudges with the upstream's own key (control)"

# A frame far past the inbox's ZMQ_MAXMSGSIZE (a 400 MB one once reached metric before its own size
# check), sent with the upstream's own key: the connection is dropped at the frame's header, the
# stage neither allocates it nor stops.
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$(<"$CTX_RUN/pids/$1-1.pid")/status"; }
for stage in linkage validation metric publish; do
  ep=$(psql_admin "SELECT endpoint FROM ops.instance WHERE stage = '$stage'")
  up=$(upstream_of "$stage")
  hwm_before=$(hwm_kb "$stage")
  "$forge" send "$ep" --server-key "$stages/$stage.pub" --secret "$stages/$up.key" \
    --bytes $((256 * 1024 * 1024)) >/dev/null || true
  hwm_after=$(hwm_kb "$stage")
  ncap_pid_alive "$CTX_RUN/pids/$stage-1.pid" || fail "$stage stopped after a 256 MB frame"
  [ $((hwm_after - hwm_before)) -lt $((64 * 1024)) ] ||
    fail "$stage's peak memory grew by $(((hwm_after - hwm_before) / 1024)) MB on a 256 MB frame"
  e2e_say "$stage: a 256 MB frame from its upstream's key dropped; peak memory ${hwm_before} kB -> ${hwm_after} kB"
done

# --- (c) the registry --------------------------------------------------------------------------
registry() { psql_admin "SELECT instance_id, stage, endpoint FROM ops.instance ORDER BY 1"; }
rows_before=$(registry)
for stage in "${NCAP_STAGES[@]}"; do
  role=$(ncap_stage_role "$stage")
  for other in "${NCAP_STAGES[@]}"; do
    [ "$other" != "$stage" ] || continue
    id=$(psql_admin "SELECT instance_id FROM ops.instance WHERE stage = '$other'")
    psql_as "$role" "INSERT INTO ops.instance (instance_id, stage, host, pid, endpoint)
      VALUES ('evil-$role-$other', '$other', 'evil', 1, 'tcp://127.0.0.1:9')" >/dev/null 2>&1 &&
      fail "$role registered an instance of $other"
    psql_as "$role" "INSERT INTO ops.instance (instance_id, stage, host, pid, endpoint)
      VALUES ('$id', '$stage', 'evil', 1, 'tcp://127.0.0.1:9') ON CONFLICT (instance_id)
      DO UPDATE SET endpoint = EXCLUDED.endpoint" >/dev/null 2>&1 &&
      fail "$role took over $other's row by an upsert"
    n=$(psql_as "$role" "WITH u AS (UPDATE ops.instance SET endpoint = 'tcp://127.0.0.1:9'
      WHERE stage = '$other' RETURNING 1) SELECT count(*) FROM u" 2>&1) || true
    [ "$n" = 0 ] || fail "$role updated $other's row: $n"
    n=$(psql_as "$role" "WITH d AS (DELETE FROM ops.instance WHERE stage = '$other' RETURNING 1)
      SELECT count(*) FROM d" 2>&1) || true
    [ "$n" = 0 ] || fail "$role deleted $other's row: $n"
  done
  n=$(psql_as "$role" "SELECT count(*) FROM ops.instance")
  [ "$n" -ge 5 ] || fail "$role no longer sees the registry ($n rows)"
done
[ "$(registry)" = "$rows_before" ] || fail "the registry changed: $(registry)"
e2e_say "(c) no stage role could insert, upsert, update or delete another stage's instance; all still read it"

# A fake linkage instance as ncap_linkage: two listeners without linkage's secret key (one plain,
# one with a key of its own), registered and kept alive while new records go through.
listen() { # listen NAME TYPE [--secret KEY]: a listener in the background; its endpoint in $NAME.ep
  "$forge" listen "$2" --endpoint-file "$CTX_RUN/$1.ep" --seconds 600 "${@:3}" >"$CTX_RUN/$1.out" 2>&1 &
  echo $! >"$CTX_RUN/pids/$1.pid" # stopped by e2e_cleanup if the test fails
  ncap_wait_until 10 test -s "$CTX_RUN/$1.ep" || fail "listener $1 did not start"
}
# stop_listener NAME: the number of messages it received. Called as got=$(stop_listener ...), in a
# subshell where `wait` cannot wait for the listener (not its child), so it waits for the line the
# listener prints as it stops (reading before it was there made CI fail by timing).
stop_listener() {
  local pid
  pid=$(<"$CTX_RUN/pids/$1.pid")
  kill -TERM "$pid" 2>/dev/null || true
  ncap_wait_until 30 grep -q '^received [0-9]* messages$' "$CTX_RUN/$1.out" ||
    { echo "listener $1 did not report on stopping: $(cat "$CTX_RUN/$1.out")" >&2; return 1; }
  rm -f "$CTX_RUN/pids/$1.pid"
  sed -n 's/^received \([0-9]*\) messages$/\1/p' "$CTX_RUN/$1.out"
}
e2e_ncap keys new "$E2E_DIR/impostor" >/dev/null
listen fake_linkage_plain pull
listen fake_linkage_curve pull --secret "$E2E_DIR/impostor.key"
for name in fake_linkage_plain fake_linkage_curve; do
  psql_as ncap_linkage "INSERT INTO ops.instance (instance_id, stage, host, pid, endpoint)
    VALUES ('$name', 'linkage', 'evil', 1, '$(<"$CTX_RUN/$name.ep")')" >/dev/null ||
    fail "ncap_linkage could not register an instance of its own stage"
done
(while :; do
  psql_as ncap_linkage "UPDATE ops.instance SET heartbeat_at = now() WHERE host = 'evil'" >/dev/null 2>&1
  sleep 1
done) &
heartbeat_pid=$!
trap 'kill "$heartbeat_pid" 2>/dev/null || true; e2e_cleanup' EXIT
ncap_wait_until 30 e2e_stage_is linkage instances 3 || fail "the fake linkage rows are not live"
held=$(e2e_field ingest processed)
e2e_submit_each "$E2E_DIR/sim2"
e2e_drain
e2e_status
now=$(e2e_field ingest processed)
[ "$now" -gt "$held" ] || fail "the second files added no record version"
for stage in linkage validation metric publish; do e2e_expect "$stage" processed "$now"; done
kill "$heartbeat_pid"
wait "$heartbeat_pid" 2>/dev/null || true
for name in fake_linkage_plain fake_linkage_curve; do
  got=$(stop_listener "$name")
  [ "$got" = 0 ] || fail "the fake linkage instance $name received $got messages"
  grep -q "\"msg\":\"a registered instance failed the handshake.*\"endpoint\":\"$(<"$CTX_RUN/$name.ep")\"" \
    "$CTX_RUN/logs/ingest-1.log" || fail "ingest did not log the failed handshake with $name"
done
psql_as ncap_linkage "DELETE FROM ops.instance WHERE host = 'evil'" >/dev/null ||
  fail "ncap_linkage could not remove its own fake rows"
e2e_say "(c) fake linkage instances (plain, another key) received nothing; the real one took all $((now - held)) new versions"

# Fake ingest instances as ncap_ingest: ncap submit goes on to the real one.
listen fake_ingest_plain router
listen fake_ingest_curve router --secret "$E2E_DIR/impostor.key"
for name in fake_ingest_plain fake_ingest_curve; do
  psql_as ncap_ingest "INSERT INTO ops.instance (instance_id, stage, host, pid, endpoint, heartbeat_at)
    VALUES ('$name', 'ingest', 'evil', 1, '$(<"$CTX_RUN/$name.ep")', now() + interval '1 hour')" >/dev/null ||
    fail "ncap_ingest could not register an instance of its own stage"
done
for k in 1 2 3 4; do
  out=$(e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$a" "${files[0]}" 2>&1) ||
    fail "ncap submit was steered away from ingest by a fake row: $out"
done
status=0
said=$(e2e_ncap submit --quiet --endpoint "$(<"$CTX_RUN/fake_ingest_curve.ep")" --audit "$E2E_AUDIT" \
  --trust "$a" "${files[0]}" 2>&1) || status=$?
[ "$status" -eq 1 ] && grep -q "did not prove ingest's key" <<<"$said" ||
  fail "ncap submit to a fake ingest: $status $said"
status=0
out=$(e2e_ncap feedback "$sid_a" --endpoint "$(<"$CTX_RUN/fake_ingest_plain.ep")" --trust "$a" 2>&1) ||
  status=$?
[ "$status" -eq 2 ] && grep -q "nothing was sent" <<<"$out" ||
  fail "ncap feedback to a plain fake ingest: $status $out"
for name in fake_ingest_plain fake_ingest_curve; do
  got=$(stop_listener "$name")
  [ "$got" = 0 ] || fail "the fake ingest instance $name received $got messages"
done
psql_as ncap_ingest "DELETE FROM ops.instance WHERE host = 'evil'" >/dev/null
e2e_say "(c) fake ingest rows received nothing; ncap submit went on to the real ingest, and pointed at one said: $said"

# --- (d) submissions and feedback without the trust's key --------------------------------------
e2e_drain
snapshot before_clients
plain() { env NCAP_PG="$(ncap_admin_pg)" NCAP_AUDIT_DIR="$NCAP_ROOT/deploy/audits" "$@"; }
keyed() { # keyed KEYFILE ncap ARGS...: a client holding KEYFILE only
  local key=$1
  shift
  plain env NCAP_CURVE_SERVER_KEY="$stages/ingest.pub" NCAP_CURVE_CLIENT_SECRET_FILE="$key" "$CTX_BUILD/ncap" "$@"
}
refused() { # refused WHAT EXPECTED_TEXT CMD...
  local what=$1 text=$2 status=0 out
  shift 2
  out=$("$@" 2>&1) || status=$?
  [ "$status" -ne 0 ] || fail "$what was accepted: $out"
  grep -q "$text" <<<"$out" || fail "$what: unexpected error: $out"
  e2e_say "(d) $what: refused: ${out:0:160}"
}
submit_b=(submit --quiet --timeout 20 --audit "$E2E_AUDIT" --trust "$b" "${files[1]}")
refused "a submission without a key" "refused a plain connection: it requires CurveZMQ" plain "$CTX_BUILD/ncap" "${submit_b[@]}"
refused "a submission with an unknown key" "refused this client's key, speaking for trust \"$b\"" \
  keyed "$E2E_DIR/stranger.key" "${submit_b[@]}"
refused "a submission as $b with $a's key" "not authenticated as trust \"$b\"" \
  keyed "$CTX_KEYS/trusts/$a.key" "${submit_b[@]}"
refused "feedback without a key" "refused a plain connection: it requires CurveZMQ" plain "$CTX_BUILD/ncap" feedback "$sid_b" --trust "$b"
refused "feedback with an unknown key" "refused this client's key, speaking for trust \"$b\"" \
  keyed "$E2E_DIR/stranger.key" feedback "$sid_b" --trust "$b"
refused "feedback on $b's submission as $b with $a's key" "not authenticated as trust \"$b\"" \
  keyed "$CTX_KEYS/trusts/$a.key" feedback "$sid_b" --trust "$b"
refused "feedback on $b's submission as $a" "no submission $sid_b for trust $a" \
  keyed "$CTX_KEYS/trusts/$a.key" feedback "$sid_b" --trust "$a"
sleep 2
snapshot after_clients
expect_unchanged before_clients after_clients "(d) submissions and feedback without the trust's key"

e2e_stop_all
e2e_say "PASS"
