# shellcheck shell=bash
# Functions shared by tests/bench/pipeline.sh and tests/bench/latency.sh: a private deployment for
# one benchmark (an optimised build, a PostgreSQL cluster with pg_stat_statements and commit
# timestamps), the daemons, and the figures read back from PostgreSQL and /proc. Sourced, not run.
#
# Times come from PostgreSQL's commit timestamps (track_commit_timestamp): a row's
# pg_xact_commit_timestamp(xmin) is when the transaction that wrote it committed, so a stage's
# progress is read from the rows it wrote, without a column for it or a clock in the daemons.
# Each daemon connects as its own role, so pg_stat_statements tells the SQL of each stage apart.

# shellcheck source-path=SCRIPTDIR source=../../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"

# bench_setup WORK: sets the CTX_* globals of a deployment under WORK, builds, starts the cluster
# (restarting it once if it lacks the settings above), recreates the database, makes the keys,
# migrates and loads the reference data shipped in deploy/refdata. The EXIT trap stops the daemons
# and the cluster.
bench_setup() {
  BENCH_WORK=$1
  CTX_BUILD=$NCAP_ROOT/build
  CTX_RUN=$BENCH_WORK/run
  CTX_OUT=$BENCH_WORK/releases
  CTX_KEY=$BENCH_WORK/pseudonym.key
  CTX_KEYS=$BENCH_WORK/keys # CurveZMQ, as deployed
  CTX_DB=bench
  trap bench_cleanup EXIT
  ncap_install_deps
  ncap_build "$CTX_BUILD" "$BENCH_WORK/build.log" -DNCAP_SANITIZE=OFF
  rm -rf "$CTX_RUN" "$CTX_OUT"
  mkdir -p "$CTX_RUN" "$CTX_OUT"
  ncap_pg_up "$BENCH_WORK/pg"
  CTX_PGHOST=$PG_SOCK
  if [ "$(bench_psql_db postgres 'SHOW track_commit_timestamp')" != on ] ||
    [[ "$(bench_psql_db postgres 'SHOW shared_preload_libraries')" != *pg_stat_statements* ]]; then
    bench_psql_db postgres "ALTER SYSTEM SET track_commit_timestamp = on"
    bench_psql_db postgres "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    ncap_pg_down "$BENCH_WORK/pg"
    ncap_pg_up "$BENCH_WORK/pg"
  fi
  # the time each statement spent planning too (pipeline.sh's "SQL" rows; off by default)
  bench_psql_db postgres "ALTER SYSTEM SET pg_stat_statements.track_planning = on" >/dev/null
  bench_psql_db postgres "SELECT pg_reload_conf()" >/dev/null
  ncap_pg_recreate_db "$CTX_PGHOST" "$CTX_DB"
  bench_psql "CREATE EXTENSION pg_stat_statements"
  ncap_ensure_key "$CTX_KEY"
  ncap_ensure_keys "$CTX_KEYS"
  ncap_client_env
  export NCAP_PG
  NCAP_PG=$(ncap_admin_pg)
  "$CTX_BUILD/ncap" migrate >/dev/null
  # as deploy/local/up runs the pipeline: linkage derives each record's deprivation, and the
  # breakdowns by it spread over their categories rather than all "unknown"
  ncap_refdata_load_shipped "$BENCH_WORK/refdata.log"
}

bench_cleanup() {
  local pidfiles
  [ -z "${BENCH_MEMORY_PID:-}" ] || kill "$BENCH_MEMORY_PID" 2>/dev/null || true
  [ -z "${BENCH_PERF_PIDS:-}" ] || bench_perf_stop
  mapfile -t pidfiles < <(find "$CTX_RUN/pids" -name '*.pid' 2>/dev/null)
  [ "${#pidfiles[@]}" -eq 0 ] || ncap_stop "${pidfiles[@]}"
  ncap_pg_down "$BENCH_WORK/pg" || true
}

# bench_psql_db DB SQL / bench_psql SQL: as the superuser, unaligned tuples, "|" between columns.
bench_psql_db() { ncap_pg_psql "$CTX_PGHOST" "$1" "$2"; }
bench_psql() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

# bench_start N_LINKAGE N_VALIDATION N_METRIC [INGEST_ARG...]: the five stages, waiting until
# ingest is live.
bench_start() {
  local n_linkage=$1 n_validation=$2 n_metric=$3 i
  shift 3
  ncap_stage_start ingest 1 "$@"
  ncap_stage_start publish 1
  for i in $(seq 1 "$n_linkage"); do ncap_stage_start linkage "$i"; done
  for i in $(seq 1 "$n_validation"); do ncap_stage_start validation "$i"; done
  for i in $(seq 1 "$n_metric"); do ncap_stage_start metric "$i"; done
  # shellcheck disable=SC2016 # expanded by the inner shell
  ncap_wait_until 30 bash -c '[ "$("$0/ncap" status --json | jq ".stages[0].instances")" -ge 1 ]' \
    "$CTX_BUILD" || ncap_die "ingest did not start"
  bench_check_instances 1 "$n_linkage" "$n_validation" "$n_metric" 1
}

# bench_check_instances N_INGEST N_LINKAGE N_VALIDATION N_METRIC N_PUBLISH: once every instance
# started has registered (30 s at most), dies when a stage has more live instances than that: a
# daemon of an earlier run left running (an aborted benchmark, a profiler's wrapper) would have
# reconnected to the recreated database and taken a share of the work, skewing every figure.
bench_check_instances() {
  local want="$*" have i
  # shellcheck disable=SC2016 # expanded by the inner shell
  ncap_wait_until 30 bash -c 'read -r -a w <<<"$1"; read -r -a h < <("$0/ncap" status --json |
      jq -r "[.stages[].instances] | @sh"); for i in 0 1 2 3 4; do
      [ "${h[$i]}" -ge "${w[$i]}" ] || exit 1; done' "$CTX_BUILD" "$want" ||
    ncap_die "not every stage's instances registered within 30 s (wanted $want)"
  read -r -a have < <("$CTX_BUILD/ncap" status --json | jq -r '[.stages[].instances] | @sh')
  read -r -a want <<<"$want"
  for i in 0 1 2 3 4; do
    [ "${have[$i]}" -le "${want[$i]}" ] || ncap_die "$(jq -rn --argjson i "$i" \
      '["ingest","linkage","validation","metric","publish"][$i]') has ${have[$i]} live \
instances, this run started ${want[$i]}: a daemon of an earlier run is still running (pgrep -a ncap-)"
  done
}

bench_now() { date +%s.%N; }

# bench_help SCRIPT: prints the comment at the top of SCRIPT (its --help).
bench_help() { awk 'NR > 1 && /^#/ { print substr($0, 3); next } NR > 1 { exit }' "$1"; }

# bench_stage_progress START: one line per stage, "stage rows first last half" (seconds after
# START, an epoch time) from the commit timestamps of the table each stage writes per record
# version: its first and last commit, and the commit of the row that made half of them.
bench_stage_progress() {
  local start=$1 sql="" stage table i=0
  for stage in ingest:ingest.raw_record linkage:linkage.pseudo_record validation:validation.record \
    metric:metric.processed publish:publish.seen; do
    table=${stage#*:} i=$((i + 1))
    [ -z "$sql" ] || sql+=" UNION ALL "
    sql+="SELECT $i AS i, '${stage%%:*}' AS stage, count(*) AS n,"
    sql+=" coalesce(extract(epoch FROM min(pg_xact_commit_timestamp(xmin))) - $start, 0) AS first,"
    sql+=" coalesce(extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) - $start, 0) AS last,"
    sql+=" coalesce(extract(epoch FROM percentile_disc(0.5) WITHIN GROUP"
    sql+="   (ORDER BY pg_xact_commit_timestamp(xmin))) - $start, 0) AS half"
    sql+=" FROM $table"
  done
  bench_psql "SELECT stage, n, first, last, half FROM ($sql) x ORDER BY i" | tr '|' ' '
}

# bench_memory_watch: from now until the benchmark ends, every second, appends each daemon's peak
# resident set so far (VmHWM) to $BENCH_WORK/memory.log as "epoch-seconds name kB", so that a run
# can tell what a daemon's peak was when its stage had taken half the records
# (bench_peak_memory_at): the same peak at half and at the end means its memory did not grow over
# the second half. Reads /proc without starting a process per sample.
bench_memory_watch() {
  local log=$BENCH_WORK/memory.log
  : >"$log"
  (
    while :; do
      for pidfile in "$CTX_RUN"/pids/*.pid; do
        read -r pid <"$pidfile" 2>/dev/null || continue
        name=${pidfile##*/}
        while read -r key value _; do
          [ "$key" != VmHWM: ] || echo "$EPOCHREALTIME ${name%.pid} $value"
        done <"/proc/$pid/status" 2>/dev/null
      done >>"$log"
      sleep 1
    done
  ) &
  BENCH_MEMORY_PID=$!
}

# bench_peak_memory_at NAME EPOCH: daemon NAME's peak resident set (MB) as last sampled at or before
# EPOCH (seconds; bench_memory_watch), or "?" when none was.
bench_peak_memory_at() {
  awk -v n="$1" -v t="$2" '$2 == n && $1 <= t { kb = $3 } END {
    if (kb == "") print "?"; else printf "%.1f\n", kb / 1024 }' "$BENCH_WORK/memory.log"
}

# bench_peak_memory: "name MB" per daemon, its peak resident set (VmHWM) so far.
bench_peak_memory() {
  local pidfile pid
  for pidfile in "$CTX_RUN"/pids/*.pid; do
    pid=$(<"$pidfile")
    printf '%s %s\n' "$(basename "$pidfile" .pid)" \
      "$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo '?')"
  done
}

# bench_cpu_snapshot: "stage kind pid ticks wait" per daemon (kind daemon, from CTX_RUN's pidfiles)
# and per PostgreSQL backend of a stage's role (kind postgres), ticks the CPU time it has used (user +
# system, in clock ticks: /proc/PID/stat fields 14 and 15), wait the time its threads spent ready to
# run but waiting for a core (ns: the second field of /proc/PID/task/*/schedstat, the scheduler's
# run-queue delay; 0 where the kernel keeps none); not the superuser's (the bench's own psql).
bench_cpu_snapshot() {
  local pidfile pid name
  for pidfile in "$CTX_RUN"/pids/*.pid; do
    pid=$(<"$pidfile") name=$(basename "$pidfile" .pid)
    bench_cpu_of "${name%-*}" daemon "$pid"
  done
  bench_psql "SELECT pid, substr(usename, 6) FROM pg_stat_activity
    WHERE datname = current_database() AND usename LIKE 'ncap\_%'
      AND usename <> current_user" | tr '|' ' ' |
    while read -r pid name; do bench_cpu_of "$name" postgres "$pid"; done
}

# bench_cpu_of STAGE KIND PID: bench_cpu_snapshot's line for one process (nothing once it is gone).
bench_cpu_of() {
  local ticks wait
  ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$3/stat" 2>/dev/null) || return 0
  wait=$(cat "/proc/$3"/task/*/schedstat 2>/dev/null | awk '{ w += $2 } END { printf "%.0f", w }')
  echo "$1 $2 $3 $ticks ${wait:-0}"
}

# bench_cpu_used BEFORE_FILE: "stage daemon_s postgres_s daemon_wait_s postgres_wait_s" per stage,
# the CPU seconds used and the seconds spent waiting for a core since the snapshot in BEFORE_FILE
# (a process started since counts whole; one gone since is not seen).
bench_cpu_used() {
  bench_cpu_snapshot | awk -v hz="$(getconf CLK_TCK)" -v before="$1" '
    BEGIN { while ((getline l < before) > 0) { split(l, f, " "); was[f[3]] = f[4]; waited[f[3]] = f[5] } }
    { used[$1 " " $2] += ($4 - ($3 in was ? was[$3] : 0)) / hz
      wait[$1 " " $2] += ($5 - ($3 in waited ? waited[$3] : 0)) / 1e9; stage[$1] = 1 }
    END { for (s in stage) printf "%s %.2f %.2f %.2f %.2f\n", s, used[s " daemon"], used[s " postgres"],
      wait[s " daemon"], wait[s " postgres"] }' |
    sort -k1,1
}

# bench_machine_cpu BEFORE AFTER WHEN: a table row, the machine's CPU between two copies of
# /proc/stat's first line (every process: the stages, PostgreSQL's own processes, the bench, the
# kernel's work), busy and its parts as shares of all the cores' time.
bench_machine_cpu() {
  cat "$1" "$2" | awk -v cores="$(nproc)" -v when="$3" '
    { for (k = 2; k <= 9; k++) v[NR, k] = $k }
    END { for (k = 2; k <= 9; k++) { d[k] = v[2, k] - v[1, k]; all += d[k] }
      printf "| machine CPU %s | %.0f%% busy of %d cores: user %.0f%%, system %.0f%%, softirq %.0f%%, iowait %.0f%% |\n",
        when, 100 * (all - d[5] - d[6]) / all, cores, 100 * (d[2] + d[3]) / all, 100 * d[4] / all,
        100 * d[8] / all, 100 * d[6] / all }'
}

# bench_sessions: the connections (sessions) made to the bench database so far.
bench_sessions() {
  bench_psql "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
}

# bench_wal: "bytes records full_page_images" PostgreSQL wrote to its WAL since
# pg_stat_reset_shared('wal').
bench_wal() {
  bench_psql "SELECT wal_bytes, wal_records, wal_fpi FROM pg_stat_wal" | tr '|' ' '
}

# bench_db_size: "schema bytes" per schema of the stages (tables, indexes and TOAST).
bench_db_size() {
  bench_psql "SELECT n.nspname, coalesce(sum(pg_total_relation_size(c.oid)), 0)
    FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'm')
    WHERE n.nspname IN ('ingest', 'linkage', 'validation', 'metric', 'publish', 'ops')
    GROUP BY n.nspname ORDER BY array_position(ARRAY['ingest', 'linkage', 'validation', 'metric',
    'publish', 'ops'], n.nspname::text)" | tr '|' ' '
}

# bench_rows_snapshot: "schema.table inserted" per table of the stages' schemas, the rows inserted
# into it since the database was made (pg_stat_user_tables), for bench_write_floor.
bench_rows_snapshot() {
  bench_psql "SELECT schemaname || '.' || relname, n_tup_ins FROM pg_stat_user_tables
    WHERE schemaname IN ('ingest', 'linkage', 'validation', 'metric', 'publish')" | tr '|' ' '
}

# bench_write_floor BEFORE_FILE: what storing the run's rows costs PostgreSQL alone. Each table of
# a stage's schema that the run inserted rows into (against bench_rows_snapshot's BEFORE_FILE) is
# copied with its indexes and constraints (LIKE ... INCLUDING ALL, no triggers) into an empty
# table, and its rows written into the copy in one INSERT ... SELECT: no parameters to parse, no
# conflict checks, no reads of other tables, no triggers, one statement a table. Prints per table
# "stage table rows seconds", then drops the copies. A stage's PostgreSQL CPU in the run over its
# tables' sum is the work it did on top of storing its rows.
bench_write_floor() {
  local tables
  tables=$(bench_rows_snapshot | awk -v before="$1" '
    BEGIN { while ((getline l < before) > 0) { split(l, f, " "); was[f[1]] = f[2] } }
    $2 > ($1 in was ? was[$1] : 0) { printf "%s%s", sep, $1; sep = "," }')
  [ -n "$tables" ] || return 0
  bench_psql "SET client_min_messages = warning;
    DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor;
    CREATE TEMP TABLE floor_time (stage text, tab text, n bigint, secs float8);
    DO \$\$
    DECLARE t text; s text; r text; n bigint; t0 timestamptz;
    BEGIN
      FOREACH t IN ARRAY string_to_array('$tables', ',') LOOP
        s := split_part(t, '.', 1); r := split_part(t, '.', 2);
        EXECUTE format('CREATE TABLE bench_floor.%I (LIKE %I.%I INCLUDING ALL)', s || '_' || r, s, r);
        t0 := clock_timestamp();
        EXECUTE format('INSERT INTO bench_floor.%I OVERRIDING SYSTEM VALUE SELECT * FROM %I.%I', s || '_' || r, s, r);
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO floor_time VALUES (s, r, n,
          extract(epoch FROM clock_timestamp() - t0));
      END LOOP;
    END \$\$;
    DROP SCHEMA bench_floor CASCADE;
    SELECT stage, tab, n, round(secs::numeric, 3) FROM floor_time ORDER BY stage, tab" |
    tr '|' ' '
}

# bench_status_time: seconds one `ncap status --json` takes (the best of 3).
bench_status_time() {
  local best="" t0 t1 i
  for i in 1 2 3; do
    t0=$(bench_now)
    "$CTX_BUILD/ncap" status --json >/dev/null
    t1=$(bench_now)
    best=$(awk -v a="$best" -v d="$(awk -v s="$t0" -v e="$t1" 'BEGIN { print e - s }')" \
      'BEGIN { print (a == "" || d < a) ? d : a }')
  done
  printf '%s\n' "$best"
}

# bench_sql_by_role COLUMNS: per daemon role, in the stages' order, "stage" and the aggregates
# COLUMNS (SQL over pg_stat_statements s) of its statements in this database since the last reset.
bench_sql_by_role() {
  bench_psql "SELECT substr(r.rolname, 6), $1
    FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
    JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database()
    WHERE r.rolname IN ('ncap_ingest', 'ncap_linkage', 'ncap_validation', 'ncap_metric',
      'ncap_publish') GROUP BY r.rolname
    ORDER BY array_position(ARRAY['ncap_ingest', 'ncap_linkage', 'ncap_validation', 'ncap_metric',
      'ncap_publish'], r.rolname::text)" | tr '|' ' '
}

# bench_idle_sweep SECONDS: what one sweep of each stage costs once the pipeline is idle. Resets
# pg_stat_statements, lets the daemons sweep for SECONDS (an idle stage sweeps every 2 s),
# then prints per daemon role "stage ms calls statements": the sum over the statements it ran of
# their mean time (each statement of a sweep once: the backlog query, the periodic work, the
# heartbeat), the calls and the distinct statements.
bench_idle_sweep() {
  bench_psql "SELECT pg_stat_statements_reset()" >/dev/null
  sleep "$1"
  bench_sql_by_role "round(sum(s.mean_exec_time)::numeric, 2), sum(s.calls), count(*)"
}

# bench_sql_roles: per daemon role, its statements since the last reset: "stage exec_s plan_s
# calls" (the time executing them, planning them, and their number).
bench_sql_roles() {
  bench_sql_by_role "round(sum(s.total_exec_time)::numeric / 1000, 2),
    round(sum(s.total_plan_time)::numeric / 1000, 2), sum(s.calls)"
}

# bench_sql_top N: the N statements of the daemons' roles with the most total time since the last
# reset: "role total_s plan_s calls mean_ms rows query" (total_s executing, plan_s planning; query
# shortened to one line of 110 characters).
bench_sql_top() {
  bench_psql "SELECT substr(r.rolname, 6), round(s.total_exec_time::numeric / 1000, 2),
      round(s.total_plan_time::numeric / 1000, 2), s.calls,
      round(s.mean_exec_time::numeric, 3), s.rows,
      left(regexp_replace(s.query, '\s+', ' ', 'g'), 110)
    FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
    JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database()
    WHERE r.rolname LIKE 'ncap\_%' ORDER BY s.total_exec_time DESC LIMIT $1"
}

# bench_copy_baseline CSV...: PostgreSQL's own speed on the same rows, COPYed through the socket as
# a client would into a table of a database of its own on the same cluster: each data row of the
# files with a bigint primary key and its trust, the row as jsonb keyed by the header (the
# baseline: the form ingest stored a payload in until migration 0051, and the one whose rate the
# issue quoted), the same object as json (checked, kept as text: the form ingest stores now), then
# again as the CSV line's text. The rows are turned into COPY's text format first, outside the
# timing. Prints "rows jsonb_seconds json_seconds text_seconds".
bench_copy_baseline() {
  local dir=$BENCH_WORK/copy kind t0 t1 secs=()
  mkdir -p "$dir"
  python3 - "$dir" "$@" <<'EOF'
import csv, json, sys
def esc(s):
    return s.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')
n = 0
with open(sys.argv[1] + '/jsonb.tsv', 'w') as js, open(sys.argv[1] + '/text.tsv', 'w') as tx:
    for path in sys.argv[2:]:
        with open(path, newline='') as f:
            lines = f.read().splitlines()
        head = next(csv.reader(lines[:1]))
        for line, row in zip(lines[1:], csv.reader(lines[1:])):
            n += 1
            obj = dict(zip(head, row))
            trust = esc(obj.get('trust_code', ''))
            js.write('%d\t%s\t%s\n' % (n, trust, esc(json.dumps(obj, separators=(',', ':')))))
            tx.write('%d\t%s\t%s\n' % (n, trust, esc(line)))
EOF
  ncap_pg_recreate_db "$CTX_PGHOST" bench_copy
  ln -sf jsonb.tsv "$dir/json.tsv"
  for kind in jsonb json text; do
    bench_psql_db bench_copy "CREATE TABLE copy_$kind (id bigint PRIMARY KEY, trust text NOT NULL,
      payload $kind NOT NULL)"
    t0=$(bench_now)
    psql -X -q -v ON_ERROR_STOP=1 -h "$CTX_PGHOST" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" \
      -d bench_copy -c "\\copy copy_$kind FROM '$dir/$kind.tsv'"
    t1=$(bench_now)
    secs+=("$(awk -v s="$t0" -v e="$t1" 'BEGIN { print e - s }')")
  done
  printf '%s %s %s %s\n' "$(bench_psql_db bench_copy 'SELECT count(*) FROM copy_jsonb')" \
    "${secs[@]}"
  PGOPTIONS="-c client_min_messages=warning" dropdb -h "$CTX_PGHOST" -p "$NCAP_PGPORT" \
    -U "$NCAP_PG_SUPERUSER" --if-exists bench_copy
  rm -rf "$dir"
}

# bench_wait_published N SECONDS: waits until publish has marked N record versions seen. Polls the
# table's insert counter in the statistics every 0.5 s, which costs nothing, and counts the table
# only when that says it may be done, or every 10 s (`ncap wait` counts every stage's tables and
# backlogs, and a count(*) every 0.5 s took 63 s of the cluster's time at 300,000 records: both
# would load the run they measure); without publish.seen, `ncap wait` alone.
bench_wait_published() {
  local n=$1 deadline=$((SECONDS + $2)) next_count=$((SECONDS + 10))
  if [ -z "$(bench_psql "SELECT to_regclass('publish.seen')")" ]; then
    "$CTX_BUILD/ncap" wait --timeout "$2" --settle 0 >/dev/null
    return
  fi
  while :; do
    if [ "$SECONDS" -ge "$next_count" ] || [ "$(bench_psql "SELECT n_tup_ins + n_tup_upd
      FROM pg_stat_user_tables WHERE relid = 'publish.seen'::regclass")" -ge "$n" ]; then
      [ "$(bench_psql 'SELECT count(*) FROM publish.seen')" -lt "$n" ] || return 0
      next_count=$((SECONDS + 10))
    fi
    [ "$SECONDS" -lt "$deadline" ] || ncap_die "publish did not reach $n records in $2 s"
    sleep 0.5
  done
}

# bench_perf_start DIR: `perf record` of the daemons (DWARF call graphs) and of their PostgreSQL
# backends (frame pointers) into DIR/daemons.data and DIR/postgres.data until bench_perf_stop.
bench_perf_start() {
  local dir=$1 daemons backends
  command -v perf >/dev/null || ncap_die "perf is not installed (Debian: apt-get install linux-perf)"
  mkdir -p "$dir"
  sleep 2 # every daemon connected
  daemons=$(cat "$CTX_RUN"/pids/*.pid | paste -sd,)
  # the daemons' own backends, not a passing client's; DIR/backends.txt says whose each pid is
  bench_psql "SELECT pid, usename FROM pg_stat_activity WHERE datname = current_database()
    AND usename LIKE 'ncap\_%' AND backend_start < now() - interval '1 s'" | tr '|' ' ' \
    >"$dir/backends.txt"
  backends=$(cut -d' ' -f1 "$dir/backends.txt" | paste -sd,)
  perf record -q -F 499 --call-graph dwarf,16384 -p "$daemons" -o "$dir/daemons.data" \
    >"$dir/daemons.log" 2>&1 &
  BENCH_PERF_PIDS=$!
  [ -n "$backends" ] || ncap_die "no PostgreSQL backend of the daemons to profile"
  perf record -q -F 499 -g -p "$backends" -o "$dir/postgres.data" >"$dir/postgres.log" 2>&1 &
  BENCH_PERF_PIDS+=" $!"
  sleep 1 # perf attaches
}

bench_perf_stop() {
  local pid
  for pid in $BENCH_PERF_PIDS; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in $BENCH_PERF_PIDS; do wait "$pid" 2>/dev/null || true; done
  BENCH_PERF_PIDS=
}
