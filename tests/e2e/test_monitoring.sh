#!/usr/bin/env bash
# deploy/monitoring checked offline: the alert rules pass `promtool check rules` (Debian's
# prometheus package) and their unit tests `promtool test rules` (tests/monitoring: each alert
# fires on what should raise it and not beside it); the Prometheus configuration passes `promtool
# check config`; the daemons' exposition passes `promtool check metrics`; the Grafana dashboard
# parses and every expression of it and of the rules names a metric the daemons export
# (tests/tools/monitoring_check.py against build/ncap_metrics_exposition). Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

monitoring=$NCAP_ROOT/deploy/monitoring
command -v promtool >/dev/null 2>&1 ||
  fail "promtool is not installed (Debian package prometheus, which tests/run installs)"
exposition=$E2E_DIR/exposition.txt
"$CTX_BUILD/ncap_metrics_exposition" >"$exposition" || fail "ncap_metrics_exposition failed"

out=$(promtool check rules "$monitoring/ncap-alerts.yml" 2>&1) || fail "promtool check rules: $out"
e2e_say "promtool check rules: $(grep -o 'SUCCESS.*' <<<"$out" | head -n 1)"
out=$(cd "$NCAP_ROOT/tests/monitoring" && promtool test rules ncap-alerts.test.yml 2>&1) ||
  fail "promtool test rules tests/monitoring/ncap-alerts.test.yml: $out"
e2e_say "promtool test rules: every alert fires where it should and nowhere else"
out=$(promtool check config "$monitoring/prometheus.yml" 2>&1) || fail "promtool check config: $out"
e2e_say "promtool check config deploy/monitoring/prometheus.yml: valid"
out=$(promtool check metrics <"$exposition" 2>&1) || fail "promtool check metrics: $out"
[ -z "$out" ] || fail "promtool check metrics has remarks on the daemons' exposition: $out"
e2e_say "promtool check metrics: the daemons' exposition is clean"
out=$(python3 "$NCAP_ROOT/tests/tools/monitoring_check.py" "$exposition" "$monitoring/ncap-alerts.yml" \
  "$monitoring/ncap-dashboard.json" 2>&1) || fail "monitoring_check.py: $out"
e2e_say "$out"
e2e_say "PASS"
