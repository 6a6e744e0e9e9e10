#!/usr/bin/env bash
# Every daemon's metrics listener (--metrics-listen 127.0.0.1:0, registered in ops.instance) on a
# running deployment with a PostgreSQL cluster of the test's own: /healthz and /readyz answer 200,
# other methods 405 and other paths 404; after records are submitted each daemon's /metrics counts
# what `ncap status` counts (processed, backlog, quarantined), and this instance's own counters
# (records processed, nudges in and out, batches) agree; an attacker of linkage's listener (1 MB of
# headers, a 100 KB URL, bytes that are not HTTP, 20 half-sent requests held open) is refused while
# the pipeline takes another submission and another client is served; with PostgreSQL stopped every daemon is alive but not
# ready, and ready again once it is back, having counted its reconnection. Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

probe() { python3 "$NCAP_ROOT/tests/tools/metrics_probe.py" "$@"; }

# The test's own cluster, which it stops and starts again.
e2e_own_pg
pg_base=$E2E_PG_BASE

e2e_sim "$E2E_DIR/sim" 1500 5 17
e2e_sim "$E2E_DIR/sim2" 1000 4 18
e2e_deploy metrics
e2e_load_refdata
e2e_start_pipeline
e2e_wait_registered ingest 1

# --- every daemon registers where it serves, and answers ------------------------------------
all_registered() { [ "$(ncap_metrics_urls | wc -l)" -eq 5 ]; }
ncap_wait_until 30 all_registered ||
  fail "$(ncap_metrics_urls | wc -l) of 5 daemons registered a metrics URL after 30 s: $(ncap_metrics_urls)"
declare -A url=()
while read -r stage u; do url[$stage]=$u; done < <(ncap_metrics_urls)
for stage in "${NCAP_STAGES[@]}"; do
  [[ ${url[$stage]:-} =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "$stage registered metrics URL \"${url[$stage]:-}\""
  grep -q "\"serving metrics and health\".*\"url\":\"${url[$stage]}\"" "$CTX_RUN/logs/$stage-1.log" ||
    fail "$stage did not log the URL it serves, ${url[$stage]}"
done
e2e_say "each daemon serves its metrics where it registered: ${url[*]}"

# status URL PATH [METHOD]: the HTTP status code
status() { probe status "$1$2" "${3:-GET}"; }
ready() { [ "$(status "$1" /readyz)" = 200 ]; }
for stage in "${NCAP_STAGES[@]}"; do
  u=${url[$stage]}
  ncap_wait_until 30 ready "$u" || fail "$stage /readyz: $(probe get "$u/readyz")"
  [ "$(status "$u" /healthz)" = 200 ] || fail "$stage /healthz: $(probe get "$u/healthz")"
  [ "$(status "$u" /metrics HEAD)" = 200 ] || fail "$stage HEAD /metrics was not 200"
  [ "$(status "$u" /metrics POST)" = 405 ] || fail "$stage POST /metrics was not 405"
  [ "$(status "$u" /metrics DELETE)" = 405 ] || fail "$stage DELETE /metrics was not 405"
  [ "$(status "$u" /admin)" = 404 ] || fail "$stage /admin was not 404"
  body=$(probe get "$u/metrics")
  grep -q "^ncap_build_info{stage=\"$stage\",service=\"$(ncap_stage_bin "$stage")\",version=\"[0-9.]*\"} 1$" <<<"$body" ||
    fail "$stage /metrics has no ncap_build_info of its own: $(head -n 5 <<<"$body")"
done
e2e_say "/healthz and /readyz 200, HEAD 200, POST and DELETE 405, /admin 404 on every daemon"

# value STAGE SERIES: the value of a series in the stage's /metrics ("" when missing)
value() { probe value "${url[$1]}" "$2" || true; }

# counts_agree: each daemon's gauges equal `ncap status`; its own counters its stage's count.
counts_agree() {
  local stage
  e2e_status
  for stage in "${NCAP_STAGES[@]}"; do
    [ "$(value "$stage" "ncap_stage_processed_records{stage=\"$stage\"}")" = "$(e2e_field "$stage" processed)" ] &&
      [ "$(value "$stage" "ncap_backlog_records{stage=\"$stage\"}")" = "$(e2e_field "$stage" backlog)" ] &&
      [ "$(value "$stage" "ncap_quarantine_records{stage=\"$stage\"}")" = "$(e2e_field "$stage" quarantined)" ] ||
      return 1
    # one instance, which has done all of its stage's work: its own count is the stage's
    [ "$stage" = publish ] ||
      [ "$(value "$stage" "ncap_records_processed_total{stage=\"$stage\"}")" = "$(e2e_field "$stage" processed)" ] ||
      return 1
  done
}

# expect_counts RECORDS: after a drain, the metrics of every daemon agree with ncap status, which
# counts RECORDS processed per stage (gauges are read every few seconds: waited for, 30 s).
expect_counts() {
  if ! ncap_wait_until 30 counts_agree; then
    local stage report=
    for stage in "${NCAP_STAGES[@]}"; do
      report+=" $stage: status $(jq -c --arg s "$stage" '.stages[] | select(.name == $s)' "$CTX_RUN/status.json"),"
      report+=" metrics $(probe get "${url[$stage]}/metrics" | grep -E '^ncap_(stage_processed|backlog|quarantine|records_processed)' | tr '\n' ' ');"
    done
    fail "metrics do not agree with ncap status after 30 s:$report"
  fi
  e2e_expect_drained "$1"
  e2e_say "every daemon's /metrics counts what ncap status counts: $1 processed, backlog 0"
}

e2e_submit_all "$E2E_DIR/sim"
e2e_drain
expect_counts 1500
# what flowed: nudges out of each stage and into the next, batches committed, a release made
for pair in ingest:linkage linkage:validation validation:metric metric:publish; do
  up=${pair%%:*} down=${pair#*:}
  sent=$(value "$up" "ncap_messages_sent_total{stage=\"$up\"}")
  received=$(value "$down" "ncap_messages_received_total{stage=\"$down\"}")
  if [ "${sent:-0}" -eq 0 ] || [ "${received:-0}" -eq 0 ]; then
    fail "$up sent $sent nudges, $down received $received: expected some each"
  fi
done
for stage in "${NCAP_STAGES[@]}"; do
  n=$(value "$stage" "ncap_batch_records_count{stage=\"$stage\"}")
  [ "${n:-0}" -gt 0 ] || fail "$stage counted no batch (ncap_batch_records_count $n)"
  [ "$(value "$stage" "ncap_batch_duration_seconds_count{stage=\"$stage\"}")" = "$n" ] ||
    fail "$stage counted $n batches by size and another number by duration"
  [ "$(value "$stage" "ncap_batch_records_bucket{stage=\"$stage\",le=\"+Inf\"}")" = "$n" ] ||
    fail "$stage's +Inf bucket is not its count"
done
released=$(value publish 'ncap_release_last_timestamp_seconds{stage="publish",audit="nhfd"}')
if [ -z "$released" ] || ! awk -v t="$released" -v now="$(date +%s)" 'BEGIN { exit !(t > now - 3600 && t <= now + 60) }'; then
  fail "publish's ncap_release_last_timestamp_seconds for nhfd is \"$released\", expected about now"
fi
e2e_say "nudges counted out and in at every hop, batches in both histograms, nhfd released at $released"

# --- an attacker of linkage's listener, while the pipeline takes another submission ---------
until_file=$E2E_DIR/attack.done
rm -f "$until_file"
probe hostile "${url[linkage]}" "$until_file" >"$E2E_DIR/attack.out" 2>&1 &
attacker=$!
ncap_wait_until 60 grep -q '^slow ' "$E2E_DIR/attack.out" ||
  fail "the attacker did not get through its attempts: $(cat "$E2E_DIR/attack.out")"
e2e_say "attacker: $(tr '\n' ';' <"$E2E_DIR/attack.out")"
grep -Eq '^huge-header (431|413|400|closed)$' "$E2E_DIR/attack.out" || fail "1 MB of headers was not refused"
grep -Eq '^huge-url (414|431|400|closed)$' "$E2E_DIR/attack.out" || fail "a 100 KB URL was not refused"
grep -Eq '^garbage (400|closed)$' "$E2E_DIR/attack.out" || fail "bytes that are not HTTP were not refused"
e2e_submit_all "$E2E_DIR/sim2"
e2e_drain
e2e_status
before=$(e2e_field linkage processed)
# the attacker holds its address's share of the connections (8), not another client's
from_other=$(probe status-from 127.0.0.2 "${url[linkage]}/metrics")
[ "$from_other" = 200 ] || fail "linkage's /metrics answered $from_other to another client while attacked"
touch "$until_file"
wait "$attacker" || fail "the attacker failed: $(cat "$E2E_DIR/attack.out")"
# its connections closed, the attacker's address is served again (as soon as the listener sees them go)
metrics_ok() { [ "$(status "${url[linkage]}" /metrics)" = 200 ]; }
ncap_wait_until 15 metrics_ok || fail "linkage's /metrics does not answer after the attack"
expect_counts "$before"
[ "$before" -gt 1500 ] || fail "linkage processed $before records after the second submission, expected more than 1500"
e2e_say "linkage went on processing while its listener was attacked"

# --- PostgreSQL stopped: alive, not ready; back: ready again, a reconnection counted ---------
not_ready() { [ "$(status "$1" /readyz)" = 503 ]; }
ncap_pg_down "$pg_base"
e2e_say "PostgreSQL stopped"
for stage in "${NCAP_STAGES[@]}"; do
  u=${url[$stage]}
  ncap_wait_until 30 not_ready "$u" || fail "$stage /readyz still $(status "$u" /readyz) with PostgreSQL stopped"
  [ "$(status "$u" /healthz)" = 200 ] || fail "$stage /healthz $(status "$u" /healthz) with PostgreSQL stopped: waiting is alive"
  body=$(probe get "$u/readyz")
  grep -Eq 'not ready: (not connected to PostgreSQL|not registered in ops.instance)' <<<"$body" ||
    fail "$stage /readyz does not say why: $body"
  [ "$(value "$stage" "ncap_db_connected{stage=\"$stage\"}")$(value "$stage" "ncap_registered{stage=\"$stage\"}")" != 11 ] ||
    fail "$stage's metrics say connected and registered with PostgreSQL stopped"
done
e2e_say "every daemon: /healthz 200, /readyz 503 with PostgreSQL stopped"
ncap_pg_up "$pg_base" 2>>"$E2E_DIR/pg.log"
for stage in "${NCAP_STAGES[@]}"; do
  u=${url[$stage]}
  ncap_wait_until 60 ready "$u" || fail "$stage /readyz $(probe get "$u/readyz") 60 s after PostgreSQL came back"
  [ "$(value "$stage" "ncap_db_reconnects_total{stage=\"$stage\"}")" -ge 1 ] ||
    fail "$stage counted no reconnection"
done
e2e_say "every daemon ready again after PostgreSQL came back, a reconnection counted"
expect_counts "$before"
e2e_stop_all
e2e_say "PASS"
