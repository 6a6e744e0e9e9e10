#!/usr/bin/env bash
# Releases with a cadence (issue 15), against a running deployment whose publish has --interval
# 3600 and --keep 2: a period's first release comes at once; a later change waits unpublished
# (publish's backlog counts it, no new revision) until `ncap release now`, which makes the round at
# once; after four rounds each period keeps its two newest provisional revisions, rows and
# folders, and every folder left is a whole release. Then a kill -9 of publish in the middle of a
# round and a restart leave whole releases, each latest.* its newest revision's. Run through
# tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sim=$E2E_DIR/sim
e2e_sim "$sim" 2500 5 11
mapfile -t files < <(find "$sim" -name '*.csv' | sort)
sql() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

# metric_done N: until metric has taken N records and has no backlog (120 s).
metric_done() {
  local deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    e2e_status
    [ "$(e2e_field metric processed)" = "$1" ] && [ "$(e2e_field metric backlog)" = 0 ] && return 0
    sleep 0.3
  done
  fail "metric did not take $1 records within 120 s: $(cat "$CTX_RUN/status.json")"
}

# submit FILE: one trust's file; returns once metric has everything submitted so far.
submitted=0
submit() {
  local trust rows
  trust=$(basename "$1" .csv)
  e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$trust" "$1" >>"$CTX_RUN/logs/submit.log" 2>&1 ||
    fail "submission of $trust was not accepted"
  rows=$(($(wc -l <"$1") - 1))
  submitted=$((submitted + rows))
  metric_done "$submitted"
}

release_now() {
  e2e_ncap release now --audit "$E2E_AUDIT" >>"$CTX_RUN/logs/release-now.log" 2>&1 ||
    fail "ncap release now failed: $(tail -n 3 "$CTX_RUN/logs/release-now.log")"
  e2e_drain
}

# whole_folders: every revision folder holds the five files of a release.
whole_folders() {
  local d f
  for d in "$CTX_OUT/$E2E_AUDIT"/*/r*; do
    for f in release.csv release.json fingertips.csv spc.csv spc_summary.csv; do
      [ -s "$d/$f" ] || fail "${d#"$CTX_OUT"/}/$f is missing or empty: a partial release"
    done
  done
}

e2e_deploy cadence
NCAP_PUBLISH_INTERVAL=3600 NCAP_PUBLISH_KEEP=2 e2e_start_pipeline
e2e_wait_registered ingest 1

# round 1: the first releases (publish may have made some at once; `now` takes the rest)
submit "${files[0]}"
release_now
periods=$(sql "SELECT count(DISTINCT period) FROM publish.release")
[ "$periods" -gt 0 ] || fail "no release after the first round"
[ "$(sql "SELECT max(revision) FROM publish.release")" -le 2 ] ||
  fail "more than two revisions of a period after the first submission"
first=$(sql "SELECT max(release_id) FROM publish.release")

# a change within the interval waits
submit "${files[1]}"
sleep 3
e2e_status
backlog=$(e2e_field publish backlog)
[ "$backlog" -gt 0 ] || fail "publish's backlog is 0 with a change waiting for its round"
[ "$(sql "SELECT count(*) FROM publish.release WHERE release_id > $first")" = 0 ] ||
  fail "a new revision within the interval, without ncap release now"
e2e_say "a change within the interval waits: publish backlog $backlog, no new revision"

# ncap release now: the round at once; two more rounds
release_now
[ "$(sql "SELECT count(*) FROM publish.release WHERE release_id > $first")" -gt 0 ] ||
  fail "no new revision after ncap release now"
for f in "${files[2]}" "${files[3]}"; do
  submit "$f"
  release_now
done

# --keep 2: at most two provisional revisions per period, rows and folders
[ "$(sql "SELECT max(n) FROM (SELECT count(*) AS n FROM publish.release GROUP BY period) x")" -le 2 ] ||
  fail "a period keeps more than 2 revisions: $(sql "SELECT period, revision FROM publish.release")"
[ "$(sql "SELECT count(*) FROM publish.output o WHERE NOT EXISTS (SELECT 1 FROM publish.release r
          WHERE r.release_id = o.release_id)")" = 0 ] || fail "rows of pruned revisions left"
pruned=$(sql "SELECT count(*) FROM publish.release WHERE revision > 2")
[ "$pruned" -gt 0 ] || fail "no period got past revision 2: nothing was pruned"
kept=$(find "$CTX_OUT/$E2E_AUDIT" -maxdepth 2 -name 'r*' -type d | wc -l)
[ "$kept" = "$(sql "SELECT count(*) FROM publish.release")" ] ||
  fail "$kept revision folders for $(sql "SELECT count(*) FROM publish.release") stored revisions"
whole_folders
e2e_say "--keep 2: $kept revisions kept in $periods periods, older ones pruned"
# a kill -9 of publish in the middle of a round (--interval 0 from its restart), restarted: whole
# releases, each period's latest.* its newest revision's, at most two revisions kept
submit "${files[4]}"
ncap_stop "$CTX_RUN/pids/publish-1.pid"
NCAP_PUBLISH_INTERVAL=0 NCAP_PUBLISH_KEEP=2 e2e_start publish
sleep 0.3
e2e_kill9 publish
NCAP_PUBLISH_INTERVAL=0 NCAP_PUBLISH_KEEP=2 e2e_start publish
e2e_drain
whole_folders
for d in "$CTX_OUT/$E2E_AUDIT"/*/; do
  newest=$(find "$d" -maxdepth 1 -name 'r*' -type d | sort | tail -n 1)
  cmp -s "$d/latest.csv" "$newest/release.csv" ||
    fail "${d#"$CTX_OUT"/}latest.csv is not its newest revision's (${newest##*/})"
done
[ "$(sql "SELECT max(n) FROM (SELECT count(*) AS n FROM publish.release GROUP BY period) x")" -le 2 ] ||
  fail "a period keeps more than 2 revisions after the restart"
kept=$(find "$CTX_OUT/$E2E_AUDIT" -maxdepth 2 -name 'r*' -type d | wc -l)
[ "$kept" = "$(sql "SELECT count(*) FROM publish.release")" ] ||
  fail "$kept revision folders for $(sql "SELECT count(*) FROM publish.release") stored revisions after the restart"
e2e_say "kill -9 of publish mid-round: whole releases, latest.* the newest revision's"
e2e_stop_all
e2e_say "PASS"
