#!/usr/bin/env bash
# Latency under a steady offered load: every second, RATE new simulated records from K trusts (one
# file per trust, `ncap sim --submit --rounds 1`, started on the second whether or not the one
# before has finished), for SECONDS, through the five daemons (an optimised build, a private
# PostgreSQL under tests/.work/bench-latency/). Then, from PostgreSQL's commit timestamps:
#   - receipt -> metric: from the commit of the record's ingest (its receipt) to the commit of its
#     contribution in the metric stage (metric.processed), p50, p99 and max;
#   - receipt -> release: to the commit of the first release that reflects it (the publish
#     transaction that marks it in publish.seen and writes the release), p50, p99 and max;
#   - CPU per record of each stage (daemon + its PostgreSQL backends) and how long they waited for
#     a core (the scheduler's run-queue delay), the machine's CPU while
#     the load was offered (every process, the drivers too) and the PostgreSQL connections made;
#   - each stage's backlog (rows its upstream had committed and it had not) every 10 s of the load,
#     and its trend (least squares, records/s): "grew" when the records waiting anywhere in the
#     pipeline rose by more than 2% of the offered rate a second;
#   - publish's rounds that published (from its log): how many, their time from start to the end
#     of the work after the commit (mean, p50, p99, max) and per part of a round (mean), and the
#     CPU per round of the daemon and of its PostgreSQL backend, the rows its statements returned
#     a round (through its cursors: the sums and values; in all); publish's statements with the
#     most time (pg_stat_statements).
#
# usage: tests/bench/latency.sh [--rate R] [--trusts K] [--seconds S] [--linkage N]
#                               [--validation N] [--metric N] [--perf DIR]
#   --perf DIR  also `perf record` the daemons and their PostgreSQL backends while the load is
#               offered (as pipeline.sh's --perf: DIR/daemons.data, DIR/postgres.data)
#   defaults: --rate 1000 --trusts 20 --seconds 120 (issue 14's goal: p99 receipt -> metric
#   <= 1 s, receipt -> release <= the publish interval + 2 s, backlog never growing)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

rate=1000 trusts=20 seconds=120 n_linkage=1 n_validation=1 n_metric=1 perf_dir=""
while [ $# -gt 0 ]; do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --trusts) trusts=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --linkage) n_linkage=$2; shift 2 ;;
    --validation) n_validation=$2; shift 2 ;;
    --metric) n_metric=$2; shift 2 ;;
    --perf) perf_dir=$(realpath -m "$2"); shift 2 ;;
    -h | --help) bench_help "$0"; exit 0 ;;
    *) ncap_die "unknown option \"$1\"; try --help" ;;
  esac
done

bench_setup "$NCAP_ROOT/tests/.work/bench-latency"
WORK=$BENCH_WORK
# the load is many submissions per trust a minute: no submission rate limit here
bench_start "$n_linkage" "$n_validation" "$n_metric" --submission-rate 0
[ -z "$perf_dir" ] || bench_perf_start "$perf_dir"
bench_psql "SELECT pg_stat_statements_reset()" >/dev/null
bench_cpu_snapshot >"$WORK/cpu-before.txt"
sessions_before=$(bench_sessions)
head -n 1 /proc/stat >"$WORK/stat-before.txt"

driver_log=$WORK/driver.log
: >"$driver_log"
drivers=()
start=$(bench_now)
for ((s = 0; s < seconds; s++)); do
  sleep "$(awk -v t="$start" -v s="$s" -v now="$(bench_now)" 'BEGIN { d = t + s - now; print (d > 0 ? d : 0) }')"
  env "${NCAP_CLIENT_ENV[@]}" "$CTX_BUILD/ncap" sim --audit nhfd --trusts "$trusts" \
    --records "$rate" --seed "$((s + 1))" --submit --rounds 1 --interval 0 >>"$driver_log" 2>&1 &
  drivers+=("$!")
done
wait "${drivers[@]}" || true # (not a bare wait: the daemons are this shell's children too)
load_end=$(bench_now)
[ -z "$perf_dir" ] || bench_perf_stop
head -n 1 /proc/stat >"$WORK/stat-after.txt"
sessions=$(($(bench_sessions) - sessions_before))
received=$(bench_psql "SELECT count(*) FROM ingest.raw_record")
bench_wait_published "$received" 600
"$CTX_BUILD/ncap" wait --timeout 600 --settle 0 >/dev/null
stage_cpu=$(bench_cpu_used "$WORK/cpu-before.txt")
publish_cpu=$(awk '$1 == "publish" { print $2, $3 }' <<<"$stage_cpu")
# each round that published logs its time per part (publish_stage.c, log_round)
rounds=$(jq -r 'select(.msg == "published releases" and .round_ms != null) | [.round_ms, .cpu_ms,
  .lock_ms, .due_ms, .tail_ms, .outliers_ms, .read_ms, .build_ms, .store_ms, .actions_ms,
  .commit_ms, .export_ms, .ledgers_ms, .site_ms] | @tsv' "$CTX_RUN"/logs/publish-*.log 2>/dev/null ||
  true)
sql_top=$(bench_psql "SELECT round(s.total_exec_time::numeric / 1000, 2), s.calls,
    round(s.mean_exec_time::numeric, 3), s.rows, left(regexp_replace(s.query, '\s+', ' ', 'g'), 110)
  FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
  JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database()
  WHERE r.rolname = 'ncap_publish' ORDER BY s.total_exec_time DESC LIMIT 8")

# rows publish's statements returned: through its cursors (metric's sums and values), and in all
publish_rows=$(bench_psql "SELECT coalesce(sum(s.rows) FILTER (WHERE s.query LIKE 'FETCH %'), 0),
    coalesce(sum(s.rows), 0)
  FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
  JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database()
  WHERE r.rolname = 'ncap_publish'" | tr '|' ' ')

latency=$(bench_psql "
  WITH r AS (SELECT record_id, version, pg_xact_commit_timestamp(xmin) AS t FROM ingest.raw_record),
  m AS (SELECT record_id, version, pg_xact_commit_timestamp(xmin) AS t FROM metric.processed),
  p AS (SELECT record_id, version, pg_xact_commit_timestamp(xmin) AS t FROM publish.seen),
  d AS (SELECT extract(epoch FROM m.t - r.t) AS dm, extract(epoch FROM p.t - r.t) AS dp
    FROM r JOIN m USING (record_id, version) LEFT JOIN p USING (record_id, version))
  SELECT count(*), count(dp),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY dm), percentile_cont(0.99) WITHIN GROUP (ORDER BY dm),
    max(dm), percentile_cont(0.5) WITHIN GROUP (ORDER BY dp),
    percentile_cont(0.99) WITHIN GROUP (ORDER BY dp), max(dp) FROM d" | tr '|' ' ')

# Backlog of each stage at t = 10, 20, ... s of the load: rows its upstream had committed by then
# minus rows it had.
backlog=$(bench_psql "
  WITH c AS (
    SELECT 0 AS i, extract(epoch FROM pg_xact_commit_timestamp(xmin)) - $start AS t FROM ingest.raw_record
    UNION ALL SELECT 1, extract(epoch FROM pg_xact_commit_timestamp(xmin)) - $start FROM linkage.pseudo_record
    UNION ALL SELECT 2, extract(epoch FROM pg_xact_commit_timestamp(xmin)) - $start FROM validation.record
    UNION ALL SELECT 3, extract(epoch FROM pg_xact_commit_timestamp(xmin)) - $start FROM metric.processed
    UNION ALL SELECT 4, extract(epoch FROM pg_xact_commit_timestamp(xmin)) - $start FROM publish.seen),
  s AS (SELECT g AS t FROM generate_series(10, $seconds, 10) g)
  SELECT s.t, count(*) FILTER (WHERE i = 0 AND c.t <= s.t), count(*) FILTER (WHERE i = 1 AND c.t <= s.t),
    count(*) FILTER (WHERE i = 2 AND c.t <= s.t), count(*) FILTER (WHERE i = 3 AND c.t <= s.t),
    count(*) FILTER (WHERE i = 4 AND c.t <= s.t)
  FROM s CROSS JOIN c GROUP BY s.t ORDER BY s.t" | tr '|' ' ')

failed=$(grep -c 'could not\|failed' "$driver_log" || true)
memory=$(bench_peak_memory)
{
  printf 'offered %d records/s from %d trusts for %d s (linkage x%d, validation x%d, metric x%d), %d cores, load average %s\n\n' \
    "$rate" "$trusts" "$seconds" "$n_linkage" "$n_validation" "$n_metric" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  echo '| figure | value |'
  echo '| --- | --- |'
  awk -v n="$received" -v s="$start" -v e="$load_end" -v f="$failed" 'BEGIN {
    printf "| received (receipts) | %d records in %.1f s, %.0f records/s; %d submission failures |\n",
      n, e - s, n / (e - s), f }'
  read -r n_m n_p m50 m99 mmax p50 p99 pmax <<<"$latency"
  printf '| receipt -> metric committed | p50 %.3f s, p99 %.3f s, max %.3f s (%d records) |\n' \
    "$m50" "$m99" "$mmax" "$n_m"
  printf '| receipt -> first release | p50 %.3f s, p99 %.3f s, max %.3f s (%d records) |\n' \
    "${p50:-0}" "${p99:-0}" "${pmax:-0}" "$n_p"
  awk '{ printf "| peak memory %s | %.1f MB |\n", $1, $2 }' <<<"$memory"
  awk -v n="$received" '{ line = line sprintf("%s %.3f + %.3f, ", $1, $2 * 1000 / n, $3 * 1000 / n) }
    END { printf "| CPU per record (ms: daemon + its PostgreSQL) | %s |\n", substr(line, 1, length(line) - 2) }' \
    <<<"$stage_cpu"
  awk '{ line = line sprintf("%s %.1f + %.1f, ", $1, $4, $5) }
    END { printf "| waited for a core (s: daemon + its PostgreSQL, schedstat) | %s |\n", substr(line, 1, length(line) - 2) }' \
    <<<"$stage_cpu"
  bench_machine_cpu "$WORK/stat-before.txt" "$WORK/stat-after.txt" "during the load"
  awk -v n="$sessions" -v s="$start" -v e="$load_end" 'BEGIN {
    printf "| PostgreSQL connections opened during the load | %d (%.1f a second) |\n", n, n / (e - s) }'
  echo
  echo 'backlog (records waiting) per stage during the load:'
  echo '| s | linkage | validation | metric | publish | in all |'
  echo '| --- | --- | --- | --- | --- | --- |'
  awk '{ printf "| %d | %d | %d | %d | %d | %d |\n", $1, $2 - $3, $3 - $4, $4 - $5, $5 - $6, $2 - $6 }' <<<"$backlog"
  awk -v rate="$rate" '
    { t[NR] = $1; b[NR, 1] = $2 - $3; b[NR, 2] = $3 - $4; b[NR, 3] = $4 - $5; b[NR, 4] = $5 - $6
      b[NR, 5] = $2 - $6 }
    END {
      split("linkage validation metric publish in_all", name)
      for (k = 1; k <= 5; k++) {
        st = sb = stt = stb = 0
        for (i = 1; i <= NR; i++) { st += t[i]; sb += b[i, k]; stt += t[i] * t[i]; stb += t[i] * b[i, k] }
        den = NR * stt - st * st
        slope[k] = den > 0 ? (NR * stb - st * sb) / den : 0
        line = line sprintf("%s %+.1f/s  ", name[k], slope[k])
      }
      printf "\nbacklog trend: %s\n", line
      printf "backlog grew during the run: %s\n", (slope[5] > 0.02 * rate ? "yes" : "no") }' <<<"$backlog"
  echo
  echo "publish's rounds that published (its log), and its CPU during the run:"
  echo '| figure | value |'
  echo '| --- | --- |'
  sort -n <<<"$rounds" | awk -v cpu="${publish_cpu:-0 0}" -v rows="$publish_rows" 'NF {
      n++; w[n] = $1; for (k = 2; k <= NF; k++) s[k] += $k }
    END {
      if (n == 0) { print "| rounds | none logged |"; exit }
      split(cpu, c, " ")
      printf "| rounds | %d; wall from start to the end of the work after commit: mean %.0f ms, p50 %.0f, p99 %.0f, max %.0f |\n",
        n, mean(w, n), w[int((n + 1) / 2)], w[int(0.99 * (n - 1)) + 1], w[n]
      printf "| CPU per round | daemon %.0f ms (its own count: %.0f ms) + its PostgreSQL %.0f ms |\n",
        c[1] * 1000 / n, s[2] / n, c[2] * 1000 / n
      split(rows, r, " ")
      printf "| rows a round (its statements) | %.0f fetched through cursors (the sums and values of metric), %.0f in all |\n",
        r[1] / n, r[2] / n
      split("lock due tail outliers read build store actions commit export ledgers site", name)
      line = ""
      for (k = 3; k <= 14; k++) line = line sprintf("%s %.0f, ", name[k - 2], s[k] / n)
      printf "| mean ms per part | %s |\n", substr(line, 1, length(line) - 2) }
    function mean(a, m,   i, t) { for (i = 1; i <= m; i++) t += a[i]; return t / m }'
  echo
  echo "publish's statements with the most time during the run (pg_stat_statements):"
  echo '| total s | calls | mean ms | rows | statement |'
  echo '| --- | --- | --- | --- | --- |'
  awk -F'|' '{ gsub(/\|/, "\\|", $5); printf "| %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5 }' <<<"$sql_top"
} | tee "$WORK/result.md"
