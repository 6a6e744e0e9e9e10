#!/usr/bin/env bash
# deploy/monitoring/dashboard-snapshot (ncap-dashboard.json's panels drawn from Prometheus as one
# HTML page, Grafana's stand-in) against a small fake of Prometheus's HTTP API
# (tests/tools/fake_prometheus.py: canned series for the dashboard's expressions, real HTTP on
# 127.0.0.1): the page has one panel per dashboard panel, each with its chart, numbers or table
# and every series named as the dashboard's legendFormat says (stat panels too, on a copy of the
# dashboard with two of its panels made stat panels); a failing query is shown as an error inside
# its panel (the panel's other queries are drawn); nothing is loaded from outside the page; the
# window and step asked of Prometheus follow --minutes. Also: --help, Prometheus unreachable, a
# dashboard that is not JSON. No browser needed. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tool=$NCAP_ROOT/deploy/monitoring/dashboard-snapshot
dashboard=$NCAP_ROOT/deploy/monitoring/ncap-dashboard.json
tools=$NCAP_ROOT/tests/tools
# one query of a single-query panel (PostgreSQL errors) and one of a three-query panel (nudges)
failing=(--fail ncap_db_errors_total --fail ncap_messages_dropped_total)

out=$("$tool" --help) || fail "dashboard-snapshot --help failed"
grep -q -- "--prometheus URL" <<<"$out" || fail "dashboard-snapshot --help does not show its options: $out"

rm -f "$E2E_DIR/port" "$E2E_DIR/queries.log"
python3 "$tools/fake_prometheus.py" "$dashboard" "$E2E_DIR/port" "$E2E_DIR/queries.log" "${failing[@]}" \
  >"$E2E_DIR/fake.log" 2>&1 &
fake_pid=$!
stop_fake() { kill "$fake_pid" 2>/dev/null || true; }
trap 'stop_fake; e2e_cleanup' EXIT
fake_up() { [ -s "$E2E_DIR/port" ]; }
ncap_wait_until 10 fake_up || fail "the fake Prometheus did not start: $(cat "$E2E_DIR/fake.log")"
url=http://127.0.0.1:$(<"$E2E_DIR/port")
e2e_say "a fake Prometheus API on $url"

# a fixed end, so that the window asked for can be checked
end=1764900000
page=$E2E_DIR/dashboard.html
err=$("$tool" --prometheus "$url" --minutes 10 --end "$end" -o "$page" 2>&1) ||
  fail "dashboard-snapshot failed although Prometheus answered: $err"
e2e_say "$err"
grep -q "11 panels, 2 with a failed query" <<<"$err" ||
  fail "dashboard-snapshot's summary does not count 11 panels, 2 of them failing: $err"
out=$(python3 "$tools/dashboard_snapshot_check.py" "$page" "$dashboard" "${failing[@]}") ||
  fail "the page is not as the dashboard says: $out"
e2e_say "$out"

# 10 minutes: about 240 points of 5 s from end - 600 to end; the table's query at end
ranges=$(jq -r 'select(.path == "/api/v1/query_range") | "\(.start) \(.end) \(.step)"' "$E2E_DIR/queries.log" | sort -u)
[ "$ranges" = "$((end - 600)).000 $end.000 5" ] ||
  fail "query_range asked for \"$ranges\", expected start $((end - 600)), end $end, step 5"
queries=$(jq -r 'select(.path == "/api/v1/query") | .time' "$E2E_DIR/queries.log" | sort -u)
[ "$queries" = "$end.000" ] || fail "the table's instant query was at \"$queries\", expected $end"
asked=$(jq -r .query "$E2E_DIR/queries.log" | sort -u | wc -l)
want=$(jq '[.panels[].targets[]?.expr] | unique | length' "$dashboard")
[ "$asked" -eq "$want" ] || fail "$asked distinct expressions asked of Prometheus, the dashboard has $want"
e2e_say "every expression of the dashboard asked over the last 10 minutes, a point every 5 s"

# stat panels: the same dashboard with its "Instances ready" and "Time since each audit's latest
# release" panels as numbers
stats=$E2E_DIR/stats-dashboard.json
jq '.panels |= map(if .id == 4 or .id == 10 then .type = "stat" else . end)' "$dashboard" >"$stats"
err=$("$tool" --prometheus "$url" --dashboard "$stats" --minutes 10 --end "$end" -o "$E2E_DIR/stats.html" 2>&1) ||
  fail "dashboard-snapshot failed on stat panels: $err"
out=$(python3 "$tools/dashboard_snapshot_check.py" "$E2E_DIR/stats.html" "$stats" "${failing[@]}") ||
  fail "the page with stat panels is not as its dashboard says: $out"
e2e_say "stat panels: $out"

# Prometheus gone: a clear error, no page
stop_fake
wait "$fake_pid" 2>/dev/null || true
rm -f "$E2E_DIR/gone.html"
if err=$("$tool" --prometheus "$url" -o "$E2E_DIR/gone.html" 2>&1); then
  fail "dashboard-snapshot succeeded with Prometheus gone: $err"
fi
grep -q "error: cannot reach Prometheus at $url" <<<"$err" ||
  fail "dashboard-snapshot with Prometheus gone does not say so: $err"
[ ! -e "$E2E_DIR/gone.html" ] || fail "dashboard-snapshot wrote a page with Prometheus gone"
e2e_say "Prometheus gone: $err"

# a dashboard that is not JSON
printf '{"panels": [' >"$E2E_DIR/broken.json"
if err=$("$tool" --prometheus "$url" --dashboard "$E2E_DIR/broken.json" -o "$E2E_DIR/broken.html" 2>&1); then
  fail "dashboard-snapshot accepted a dashboard that is not JSON: $err"
fi
grep -q "broken.json is not JSON" <<<"$err" || fail "a dashboard that is not JSON is not said to be: $err"
e2e_say "a broken dashboard: $err"
e2e_say "PASS"
