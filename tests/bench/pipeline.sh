#!/usr/bin/env bash
# Pipeline throughput benchmark: N simulated records from K trusts through the five daemons (an
# optimised build, a private PostgreSQL under tests/.work/bench/), and, in the same run on the same
# cluster, PostgreSQL's COPY of the same rows into one table with a primary key: the baseline the
# pipeline's rate is a fraction of. Prints a table (markdown, for README.md's performance section):
#   - COPY and end to end (first submission to the last release, every backlog 0): records/s and
#     their ratio; the time the submissions took (receipts, i.e. committed);
#   - per stage: records, when its first and last commit came (s after the first submission) and
#     its rate over that span, from the commit timestamps of the rows it wrote;
#   - per stage, its SQL over the run: the time PostgreSQL spent executing and planning its
#     statements, and how many it ran (pg_stat_statements);
#   - per stage, the CPU its daemon and its PostgreSQL backends used, and the time they spent ready
#     to run but waiting for a core (the scheduler's run-queue delay, /proc/PID/task/*/schedstat):
#     on a machine whose cores are all busy, the time a stage's chain of daemon and backend loses
#     to the other stages;
#   - the machine's CPU over the run (every process: what the stages' CPU leaves out, such as
#     autovacuum, PostgreSQL's WAL writer and parallel workers, shows as the difference);
#   - each daemon's peak memory (VmHWM) at the end and when its stage had taken half the records
#     (sampled every second: equal, its memory did not grow over the second half), the database
#     size per schema and per record;
#   - at the end, idle: one backlog sweep per stage (its statements' mean times, pg_stat_statements,
#     from 11 s after the last release: publish's last ledgers, written once within 10 s of its
#     last round, are not a sweep) and one `ncap status`;
#   - the floor of the data's layout: every row the run stored, written again into empty copies of
#     its tables (indexes and constraints, no triggers) in one INSERT ... SELECT a table, per stage,
#     against the CPU its PostgreSQL used (bench_write_floor);
#   - then the daemons' statements with the most total time in the run.
# The simulator runs before the clock starts (in chunks of --chunk records, one seed each, so
# 1,000,000 records need no more memory than 200,000).
#
# usage: tests/bench/pipeline.sh [--records N] [--trusts K] [--linkage N] [--validation N]
#                                [--metric N]
#                                [--perf DIR] [--idle SECONDS] [--top N] [--chunk N]
#   --perf DIR     also `perf record` the daemons and their PostgreSQL backends during the run
#                  (DIR/daemons.data with DWARF call graphs, DIR/postgres.data, DIR/backends.txt
#                  whose backend each pid is), e.g. perf report -i DIR/daemons.data --no-children
#   --idle S       how long to watch the idle sweeps at the end (default 20: an idle stage
#                  sweeps every 2 s)
#   --top N        statements listed at the end (default 12)
#   --chunk N      records the simulator makes at a time (default 200000), each chunk a file per
#                  trust submitted in turn
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

records=20000 trusts=20 n_linkage=1 n_validation=1 n_metric=1 perf_dir="" idle=20 top=12 chunk=200000
while [ $# -gt 0 ]; do
  case $1 in
    --records) records=$2; shift 2 ;;
    --trusts) trusts=$2; shift 2 ;;
    --linkage) n_linkage=$2; shift 2 ;;
    --validation) n_validation=$2; shift 2 ;;
    --metric) n_metric=$2; shift 2 ;;
    --perf) perf_dir=$(realpath -m "$2"); shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --chunk) chunk=$2; shift 2 ;;
    -h | --help) bench_help "$0"; exit 0 ;;
    *) ncap_die "unknown option \"$1\"; try --help" ;;
  esac
done

bench_setup "$NCAP_ROOT/tests/.work/bench"
WORK=$BENCH_WORK
rm -rf "$WORK/sim"
mkdir -p "$WORK/sim"
left=$records seed=1
while [ "$left" -gt 0 ]; do
  n=$((left < chunk ? left : chunk))
  "$CTX_BUILD/ncap" sim --audit nhfd --trusts "$trusts" --records "$n" --seed "$seed" \
    --out "$WORK/sim/$seed" 2>/dev/null
  left=$((left - n)) seed=$((seed + 1))
done
mapfile -t files < <(find "$WORK/sim" -name '*.csv' | sort -V)

read -r copy_rows copy_s copy_json_s copy_text_s < <(bench_copy_baseline "${files[@]}")
[ "$copy_rows" -eq "$records" ] || ncap_die "COPY took $copy_rows rows, expected $records"

bench_start "$n_linkage" "$n_validation" "$n_metric"
bench_psql "SELECT pg_stat_statements_reset()" >/dev/null
bench_psql "SELECT pg_stat_reset_shared('wal')" >/dev/null
bench_cpu_snapshot >"$WORK/cpu-before.txt"
bench_rows_snapshot >"$WORK/rows-before.txt"
head -n 1 /proc/stat >"$WORK/stat-before.txt"
[ -z "$perf_dir" ] || bench_perf_start "$perf_dir"

start=$(bench_now)
bench_memory_watch
for f in "${files[@]}"; do
  env "${NCAP_CLIENT_ENV[@]}" "$CTX_BUILD/ncap" submit --quiet --audit nhfd \
    --trust "$(basename "$f" .csv)" "$f" >/dev/null
done
submitted=$(bench_now)
bench_wait_published "$records" 3600
head -n 1 /proc/stat >"$WORK/stat-after.txt"
[ -z "$perf_dir" ] || bench_perf_stop
"$CTX_BUILD/ncap" wait --timeout 600 --settle 0 >/dev/null

status=$("$CTX_BUILD/ncap" status --json)
published=$(jq '.stages[4].processed' <<<"$status")
[ "$published" -eq "$records" ] || ncap_die "publish reflects $published records, expected $records"
cpu=$(bench_cpu_used "$WORK/cpu-before.txt")
wal=$(bench_wal)
progress=$(bench_stage_progress "$start")
sql_top=$(bench_sql_top "$top")
sql_roles=$(bench_sql_roles)
memory=$(bench_peak_memory)
# each daemon's peak when its stage had taken half the records
half_memory=$(while read -r name _; do
  half=$(awk -v s="${name%-*}" -v t="$start" '$1 == s { printf "%.3f\n", t + $5 }' <<<"$progress")
  printf '%s %s\n' "$name" "$(bench_peak_memory_at "$name" "$half")"
done <<<"$memory")
sizes=$(bench_db_size)
# publish writes every period's ledgers at most 10 s after the rounds that rebuilt one
# (PUBLISH_LEDGERS_EVERY_MS, publish_stage.c): the last round's come once, after the run, and are
# not an idle sweep; the sweeps are watched from 11 s after the last release (end: its seconds
# after the first submission)
end=$(awk '$1 == "publish" { print $4 }' <<<"$progress")
sleep "$(awk -v s="$start" -v l="$end" -v now="$(bench_now)" 'BEGIN {
  w = s + l + 11 - now; printf "%.1f\n", (w > 0 ? w : 0) }')"
sweeps=$(bench_idle_sweep "$idle")
status_s=$(bench_status_time)
floor=$(bench_write_floor "$WORK/rows-before.txt")

{
  printf '%d records from %d trusts, linkage x%d, validation x%d, metric x%d, %d cores (%s), load average %s\n\n' \
    "$records" "$trusts" "$n_linkage" "$n_validation" "$n_metric" "$(nproc)" "$(uname -m)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  echo '| figure | value |'
  echo '| --- | --- |'
  awk -v n="$records" -v cs="$copy_s" -v cj="$copy_json_s" -v ct="$copy_text_s" -v sub_s="$(awk -v s="$start" -v e="$submitted" 'BEGIN { print e - s }')" \
    -v e="$end" 'BEGIN {
    printf "| COPY into one table, rows as jsonb (baseline) | %.0f records/s (%.2f s) |\n", n / cs, cs
    printf "| COPY into one table, rows as json | %.0f records/s (%.2f s) |\n", n / cj, cj
    printf "| COPY into one table, rows as text | %.0f records/s (%.2f s) |\n", n / ct, ct
    printf "| end to end, first submission to last release | %.0f records/s (%.1f s) |\n", n / e, e
    printf "| ratio end to end / COPY (jsonb; json; text) | %.4f; %.4f; %.4f |\n", cs / e, cj / e, ct / e
    printf "| submissions (receipts, committed) | %.1f s, %.0f records/s |\n", sub_s, n / sub_s }'
  awk '{ span = $4 - $3; printf "| stage %s | %d records, %.1f-%.1f s, %.0f records/s |\n", $1, $2, $3, $4,
    (span > 0 ? $2 / span : 0) }' <<<"$progress"
  awk -v n="$records" -v e="$end" '{ d += $2; p += $3; w += $4 + $5
    printf "| CPU %s | daemon %.1f s + its PostgreSQL %.1f s: %.3f ms/record; waited for a core %.1f + %.1f s |\n",
      $1, $2, $3, ($2 + $3) * 1000 / n, $4, $5 }
    END { printf "| CPU in all | %.1f s: %.3f ms/record, %.2f cores busy on average; the stages waited for a core %.1f s |\n",
      d + p, (d + p) * 1000 / n, (d + p) / e, w }' <<<"$cpu"
  awk '{ printf "| SQL %s | %.1f s executing, %.2f s planning, %d statements |\n", $1, $2, $3,
    $4 }' <<<"$sql_roles"
  bench_machine_cpu "$WORK/stat-before.txt" "$WORK/stat-after.txt" "during the run"
  join <(sort <<<"$memory") <(sort <<<"$half_memory") |
    awk '{ printf "| peak memory %s | %.1f MB (%s MB when %s had taken half the records) |\n", $1, $2,
      $3, substr($1, 1, index($1, "-") - 1) }'
  awk -v n="$records" '{ printf "| WAL written | %.1f MB, %.0f bytes/record, %d full-page images |\n",
    $1 / 1048576, $1 / n, $3 }' <<<"$wal"
  awk -v n="$records" '{ total += $2; printf "| database %s | %.1f MB, %.0f bytes/record |\n", $1,
    $2 / 1048576, $2 / n } END { printf "| database, all schemas | %.1f MB, %.0f bytes/record |\n",
    total / 1048576, total / n }' <<<"$sizes"
  awk '{ printf "| one idle sweep, %s | %.2f ms (%d statements) |\n", $1, $2, $4 }' <<<"$sweeps"
  awk -v s="$status_s" 'BEGIN { printf "| one ncap status | %.0f ms |\n", s * 1000 }'
  awk -v n="$records" -v cpu="$cpu" '
    BEGIN { split(cpu, l, "\n"); for (i in l) { split(l[i], f, " "); pg[f[1]] = f[3] } }
    { secs[$1] += $4; rows[$1] += $3; tabs[$1]++; all += $4 }
    END { for (s in secs) printf "| rows stored, written again in bulk: %s | %.2f s (%d tables, %d rows): its PostgreSQL used %.1f times that in the run |\n",
        s, secs[s], tabs[s], rows[s], (secs[s] > 0 ? pg[s] / secs[s] : 0) | "sort"
      close("sort")
      printf "| rows stored, written again in bulk: all | %.2f s, %.3f ms/record |\n", all, all * 1000 / n }' <<<"$floor"
  echo
  echo "the daemons' statements with the most time during the run (pg_stat_statements):"
  echo '| role | total s | planning s | calls | mean ms | rows | statement |'
  echo '| --- | --- | --- | --- | --- | --- | --- |'
  awk -F'|' '{ gsub(/\|/, "\\|", $7)
    printf "| %s | %s | %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5, $6, $7 }' <<<"$sql_top"
} | tee "$WORK/result.md"
