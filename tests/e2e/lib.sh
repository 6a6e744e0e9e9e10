# shellcheck shell=bash
# Helpers for the end-to-end tests, sourced by tests/e2e/test_*.sh, which tests/run runs with a
# sanitizer build (NCAP_TEST_BUILD) and a throwaway cluster (NCAP_TEST_PGHOST) under NCAP_TEST_WORK.
#
# A test works in E2E_DIR (tests/.work/<test>/). Each deployment inside it (e2e_deploy NAME) has its
# own database, run folder (logs/, pids/) and releases folder; the pseudonym key is shared by the
# test's deployments, so that two runs of the same submission can be compared. So are the CurveZMQ
# keys (CTX_KEYS, E2E_DIR/keys): every deployment runs as deployed, each daemon with its stage key
# and ingest with every simulated trust's public key, and e2e_ncap speaks for a trust with that
# trust's key. A test that wants plain sockets empties CTX_KEYS before starting anything.
#
# tests/run runs several tests at once (--jobs): a test keeps what it makes under E2E_DIR, its
# databases <test>_<name> (e2e_deploy), its listeners on ports the system picks (127.0.0.1:0), its
# own cluster when it stops or kills PostgreSQL, and looks only at its own database's sessions. A
# test that cannot (a fixed port, anything machine-wide, a time it measures under a load it makes
# itself) has the line "# ncap-test: exclusive" and runs alone. One that takes over a minute alone
# has the line "# ncap-test: long": tests/run starts those first.

# shellcheck source-path=SCRIPTDIR source=../../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"

# --help of a test: its header comment.
case ${1:-} in
  -h | --help)
    awk 'NR > 1 && /^#/ { print substr($0, 3); next } NR > 1 { exit }' "$0"
    exit 0
    ;;
esac

if [ -z "${NCAP_TEST_PGHOST:-}" ] || [ -z "${NCAP_TEST_BUILD:-}" ] || [ -z "${NCAP_TEST_WORK:-}" ]; then
  ncap_die "run the end-to-end tests through tests/run (e.g. tests/run -k $(basename "$0" .sh | sed 's/^test_//'))"
fi

E2E_NAME=$(basename "$0" .sh)
E2E_DIR=$NCAP_TEST_WORK/$E2E_NAME
E2E_AUDIT=nhfd
E2E_DRAIN_TIMEOUT=${E2E_DRAIN_TIMEOUT:-300}
E2E_SANITIZER_ERRORS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
CTX_BUILD=$NCAP_TEST_BUILD
CTX_PGHOST=$NCAP_TEST_PGHOST
CTX_KEY=$E2E_DIR/pseudonym.key
CTX_KEYS=$E2E_DIR/keys
CTX_DB=
CTX_RUN=
CTX_OUT=
CTX_AUDITS= # audit definitions of the daemons and the CLI; deploy/audits when empty
# publish's --interval: a round on every change, so that each test sees every revision at once (a
# test of the cadence sets its own before starting publish)
export NCAP_PUBLISH_INTERVAL=${NCAP_PUBLISH_INTERVAL:-0}
mkdir -p "$E2E_DIR"
ncap_ensure_key "$CTX_KEY"
ncap_ensure_keys "$CTX_KEYS"

# e2e_say MESSAGE: "[<test> +Ns] MESSAGE", N the seconds since the test started (where its time goes).
e2e_say() { printf '[%s +%ds] %s\n' "$E2E_NAME" "$SECONDS" "$*"; }

# fail MESSAGE: prints "FAIL: MESSAGE" and the tail of every daemon log of the deployment, exits 1.
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  e2e_show_logs >&2
  exit 1
}

e2e_show_logs() {
  local log
  [ -n "$CTX_RUN" ] && [ -d "$CTX_RUN/logs" ] || return 0
  for log in "$CTX_RUN"/logs/*.log; do
    [ -s "$log" ] || continue
    printf -- '--- last lines of %s\n' "${log#"$NCAP_ROOT"/}"
    tail -n 15 "$log"
  done
}

# Stops whatever the test left running (on exit, also after a failure).
e2e_cleanup() {
  local pidfiles
  mapfile -t pidfiles < <(find "$E2E_DIR" -path '*/pids/*.pid' 2>/dev/null)
  [ "${#pidfiles[@]}" -eq 0 ] || ncap_stop "${pidfiles[@]}"
}
trap e2e_cleanup EXIT

# e2e_own_pg: the test's own PostgreSQL cluster in E2E_DIR/pg (E2E_PG_BASE), for a test that stops
# and starts it: made or reused, started, CTX_PGHOST its socket, stopped on exit after the daemons.
e2e_own_pg() {
  E2E_PG_BASE=$E2E_DIR/pg
  ncap_pg_down "$E2E_PG_BASE" 2>/dev/null || true
  ncap_pg_up "$E2E_PG_BASE" 2>>"$E2E_DIR/pg.log"
  CTX_PGHOST=$PG_SOCK
  trap 'e2e_cleanup; ncap_pg_down "$E2E_PG_BASE" || true' EXIT
}

# e2e_ncap ARGS...: the ncap command as the cluster superuser on the current deployment, as a
# client of ingest holding every trust's key (e2e_with_keys).
e2e_ncap() {
  e2e_ncap_of "$CTX_BUILD/ncap" "$@"
}

# e2e_ncap_of BINARY ARGS...: e2e_ncap with that ncap binary.
e2e_ncap_of() {
  local bin=$1
  shift
  e2e_with_keys env NCAP_PG="$(ncap_admin_pg)" NCAP_AUDIT_DIR="${CTX_AUDITS:-$NCAP_ROOT/deploy/audits}" \
    "$bin" "$@"
}

# e2e_ncap_optimised ARGS...: e2e_ncap with the optimised build (build/ncap, which tests/run builds
# beside the sanitizer build), for a test's bulk work whose statistics it judges over many seeds
# (`ncap release build` of 20,000 records, 3-4 times faster): the same code runs under the
# sanitizers in the tests of those commands (test_release_offline, test_outlier_cases).
e2e_ncap_optimised() {
  [ -x "$NCAP_ROOT/build/ncap" ] ||
    fail "no optimised build: build/ncap is missing (tests/run builds it before the end-to-end tests)"
  e2e_ncap_of "$NCAP_ROOT/build/ncap" "$@"
}

# e2e_load_refdata: the reference data shipped in deploy/refdata (deprivation by LSOA, NHS trusts
# and their regions) into the current deployment, as deploy/local/up loads it.
e2e_load_refdata() {
  local kind_file
  for kind_file in "${NCAP_REFDATA_SHIPPED[@]}"; do
    e2e_ncap refdata load "${kind_file%%:*}" "$NCAP_ROOT/deploy/refdata/${kind_file#*:}" \
      >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
      fail "ncap refdata load ${kind_file%%:*} failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
  done
}

# e2e_with_keys CMD...: CMD as a client of ingest that speaks for each trust with its key
# (NCAP_CURVE_SERVER_KEY, NCAP_CLIENT_KEYS of CTX_KEYS; nothing when CTX_KEYS is empty).
e2e_with_keys() {
  ncap_client_env
  env "${NCAP_CLIENT_ENV[@]}" "$@"
}

# e2e_audits_optout_applies: CTX_AUDITS becomes a copy of the shipped definitions in which the
# test's audit says opt_out_applies: true.
e2e_audits_optout_applies() {
  CTX_AUDITS=$E2E_DIR/audits
  rm -rf "$CTX_AUDITS"
  cp -r "$NCAP_ROOT/deploy/audits" "$CTX_AUDITS"
  sed -i 's/^opt_out_applies: false$/opt_out_applies: true/' "$CTX_AUDITS/$E2E_AUDIT.yaml"
  grep -qx 'opt_out_applies: true' "$CTX_AUDITS/$E2E_AUDIT.yaml" ||
    fail "could not set opt_out_applies: true in the copy ${CTX_AUDITS#"$NCAP_ROOT"/}/$E2E_AUDIT.yaml"
}

# e2e_audits_outliers [LINE]: CTX_AUDITS becomes a copy of the shipped definitions in which the
# test's audit's `outliers:` block is replaced by LINE (e.g. "outliers: {notify_within_days: 1,
# respond_within_days: 2, publish_within_days: 1}"), or removed without one: its releases then
# show the funnel flags as computed.
e2e_audits_outliers() {
  CTX_AUDITS=$E2E_DIR/audits
  rm -rf "$CTX_AUDITS"
  cp -r "$NCAP_ROOT/deploy/audits" "$CTX_AUDITS"
  python3 - "$CTX_AUDITS/$E2E_AUDIT.yaml" "${1:-}" <<'PY' ||
import re, sys
text = open(sys.argv[1]).read()
block = re.compile(r"^outliers:(?: \{.*\})?\n(?:  .*\n)*", re.M)
if not block.search(text):
    sys.exit(1)
open(sys.argv[1], "w").write(block.sub(sys.argv[2] + "\n" if sys.argv[2] else "", text))
PY
    fail "no outliers: block in the copy ${CTX_AUDITS#"$NCAP_ROOT"/}/$E2E_AUDIT.yaml"
  e2e_ncap audit check "$CTX_AUDITS/$E2E_AUDIT.yaml" >/dev/null 2>&1 ||
    fail "the copy of $E2E_AUDIT.yaml does not load: $(e2e_ncap audit check "$CTX_AUDITS/$E2E_AUDIT.yaml" 2>&1)"
}

# e2e_deploy NAME: a fresh deployment: database <test>_<NAME> dropped, created and migrated;
# empty run and releases folders. In tests/run's cluster the database is a copy of the one it
# migrated once for every test (NCAP_TEST_TEMPLATE: the same schema, rows and privileges, made in
# a fraction of the time), which `ncap migrate` then finds up to date; in a test's own cluster
# (e2e_own_pg) it is created empty and migrated.
e2e_deploy() {
  CTX_DB="${E2E_NAME}_$1"
  CTX_RUN=$E2E_DIR/$1
  CTX_OUT=$CTX_RUN/releases
  rm -rf "$CTX_RUN"
  mkdir -p "$CTX_RUN/logs" "$CTX_RUN/pids" "$CTX_OUT"
  if [ -n "${NCAP_TEST_TEMPLATE:-}" ] && [ "$CTX_PGHOST" = "$NCAP_TEST_PGHOST" ]; then
    ncap_pg_clone_db "$CTX_PGHOST" "$NCAP_TEST_TEMPLATE" "$CTX_DB" ||
      fail "could not create database \"$CTX_DB\" from \"$NCAP_TEST_TEMPLATE\""
  else
    ncap_pg_recreate_db "$CTX_PGHOST" "$CTX_DB" || fail "could not create database \"$CTX_DB\""
  fi
  e2e_ncap migrate >"$CTX_RUN/logs/migrate.log" 2>&1 || fail "ncap migrate failed on \"$CTX_DB\""
  e2e_say "deployment \"$1\": database $CTX_DB, folder ${CTX_RUN#"$NCAP_ROOT"/}"
}

# e2e_start STAGE [INDEX]: starts instance INDEX (default 1) of STAGE.
e2e_start() {
  ncap_stage_start "$1" "${2:-1}" || fail "$1-${2:-1} is already running"
}

# e2e_start_pipeline: one instance of each stage.
e2e_start_pipeline() {
  local stage
  for stage in "${NCAP_STAGES[@]}"; do
    e2e_start "$stage" 1
  done
}

# e2e_pid STAGE [INDEX]
e2e_pid() {
  local pidfile="$CTX_RUN/pids/$1-${2:-1}.pid"
  ncap_pid_alive "$pidfile" || fail "$1-${2:-1} is not running"
  cat "$pidfile"
}

# e2e_kill9 STAGE [INDEX]: SIGKILL, as a crash would.
e2e_kill9() {
  local name="$1-${2:-1}" pid
  pid=$(e2e_pid "$1" "${2:-1}")
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$CTX_RUN/pids/$name.pid"
  e2e_say "killed $name (pid $pid) with SIGKILL"
}

# e2e_pg_kill9 DATA_DIR: a PostgreSQL server lost as a machine is: SIGKILL to every process
# working in its data folder (the postmaster and its children, and any it forks meanwhile: once
# the postmaster is dead they are no longer its children), waited for until none runs (SIGKILL
# takes a process when it next runs: a backend still writing its WAL made the `rm` of the folder
# that followed fail, "Directory not empty"). A zombie nobody reaps here counts as gone.
e2e_pg_kill9() {
  ncap_wait_until 10 e2e_pg_gone "$(realpath "$1")" ||
    fail "the server's processes in $1 outlived SIGKILL for 10 s"
}

# e2e_pg_gone REAL_DATA_DIR: true when no process runs in the folder; else SIGKILL to those that do.
e2e_pg_gone() {
  local d alive=()
  for d in /proc/[0-9]*; do
    [ "$(readlink "$d/cwd" 2>/dev/null)" = "$1" ] || continue
    [ "$(awk '{ print $3 }' "$d/stat" 2>/dev/null || echo Z)" = Z ] || alive+=("${d#/proc/}")
  done
  [ ${#alive[@]} -eq 0 ] && return 0
  kill -KILL "${alive[@]}" 2>/dev/null || true
  return 1
}

# e2e_stop_all: SIGTERM to every daemon of the deployment; each must exit 0 within 15 s, and no
# log may hold a sanitizer report.
e2e_stop_all() {
  local pidfile name pid status failed=()
  local -A pids=()
  for pidfile in "$CTX_RUN"/pids/*.pid; do
    [ -f "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    ncap_pid_alive "$pidfile" || fail "$name died before it was stopped"
    pids[$name]=$(<"$pidfile")
  done
  [ "${#pids[@]}" -eq 0 ] && return 0
  ncap_stop "$CTX_RUN"/pids/*.pid
  for name in "${!pids[@]}"; do
    pid=${pids[$name]}
    status=0
    wait "$pid" 2>/dev/null || status=$?
    [ "$status" -eq 0 ] || failed+=("$name exited with status $status")
  done
  e2e_check_sanitizers
  [ "${#failed[@]}" -eq 0 ] || fail "after SIGTERM: ${failed[*]}"
}

# e2e_check_sanitizers: fails when a daemon log holds an AddressSanitizer, LeakSanitizer or
# UndefinedBehaviorSanitizer report.
e2e_check_sanitizers() {
  local hits log
  mapfile -t hits < <(grep -E -l "$E2E_SANITIZER_ERRORS" "$CTX_RUN"/logs/*.log 2>/dev/null)
  [ "${#hits[@]}" -eq 0 ] && return 0
  for log in "${hits[@]}"; do
    printf -- '--- sanitizer report in %s\n' "${log#"$NCAP_ROOT"/}" >&2
    grep -E -A 30 "$E2E_SANITIZER_ERRORS" "$log" | head -n 60 >&2
  done
  fail "sanitizer reports in: $(basename -a "${hits[@]}" | tr '\n' ' ')"
}

# e2e_sim DIR RECORDS TRUSTS SEED [OPTION...]: writes DIR/<ODS>.csv (one per trust) and
# DIR.truth.csv; the options go to ncap sim as they are (e.g. --optouts FILE).
e2e_sim() {
  local dir=$1 nrecords=$2 ntrusts=$3 seed=$4
  shift 4
  rm -rf "$dir"
  mkdir -p "$dir"
  e2e_ncap sim --audit "$E2E_AUDIT" --records "$nrecords" --trusts "$ntrusts" --seed "$seed" \
    --out "$dir" --truth "$dir.truth.csv" "$@" >"$dir.log" 2>&1 || {
    tail -n 20 "$dir.log" >&2
    fail "ncap sim failed"
  }
  local files=("$dir"/*.csv)
  if [ "${#files[@]}" -ne "$ntrusts" ] || [ ! -f "${files[0]}" ]; then
    fail "ncap sim wrote ${#files[@]} files, expected $ntrusts"
  fi
}

# e2e_wait_registered STAGE N: until ncap status shows N live instances of STAGE (30 s).
e2e_wait_registered() {
  ncap_wait_until 30 e2e_stage_is "$1" instances "$2" ||
    fail "$1 has $(e2e_field "$1" instances) live instances after 30 s, expected $2"
}

# e2e_submit_all DIR: submits every DIR/<ODS>.csv as trust <ODS>; each must be accepted.
e2e_submit_all() {
  local f trust
  for f in "$1"/*.csv; do
    trust=$(basename "$f" .csv)
    e2e_ncap submit --audit "$E2E_AUDIT" --trust "$trust" "$f" >>"$CTX_RUN/logs/submit.log" 2>&1 || {
      tail -n 5 "$CTX_RUN/logs/submit.log" >&2
      fail "submission of ${f#"$NCAP_ROOT"/} was not accepted"
    }
  done
  e2e_say "submitted $(find "$1" -name '*.csv' | wc -l) files"
}

# e2e_submit_each [--in-order] DIR: submits every DIR/<ODS>.csv as trust <ODS>, each to be accepted,
# and keeps its submission id in E2E_SID[<ODS>]. --in-order: each file linked before the next is
# sent, so that linkage sees the records in the files' order, as `ncap release build` does.
declare -A E2E_SID=()
e2e_submit_each() {
  local f trust out in_order=0
  if [ "$1" = --in-order ]; then
    in_order=1
    shift
  fi
  E2E_SID=()
  for f in "$1"/*.csv; do
    trust=$(basename "$f" .csv)
    out=$(e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$trust" "$f" 2>&1) ||
      fail "submission of $trust was not accepted: $out"
    E2E_SID[$trust]=$(sed -n 's/^submission \([0-9]*\):.*/\1/p' <<<"$out")
    [ -n "${E2E_SID[$trust]}" ] || fail "no submission id in \"$out\""
    # linkage's order is the files' (a patient's later record can only link to an earlier one)
    if [ "$in_order" -eq 1 ] && ! ncap_wait_until "$E2E_DRAIN_TIMEOUT" e2e_stage_is linkage backlog 0; then
      fail "linkage still has $(e2e_field linkage backlog) records of $trust after $E2E_DRAIN_TIMEOUT s"
    fi
  done
  e2e_say "submitted ${#E2E_SID[@]} files"
}

# e2e_drain: ncap wait until every backlog is 0 and everything is published (E2E_DRAIN_TIMEOUT s).
e2e_drain() {
  local timeout=$E2E_DRAIN_TIMEOUT start=$SECONDS
  if ! e2e_ncap wait --timeout "$timeout" >>"$CTX_RUN/logs/wait.log" 2>&1; then
    fail "pipeline not drained after $timeout s; status: $(e2e_ncap status --json 2>&1)"
  fi
  e2e_say "pipeline drained in $((SECONDS - start)) s"
}

# e2e_status: refreshes CTX_RUN/status.json from ncap status --json.
e2e_status() {
  e2e_ncap status --json >"$CTX_RUN/status.json" 2>"$CTX_RUN/status.err" ||
    fail "ncap status --json failed: $(cat "$CTX_RUN/status.err")"
  jq -e '.stages | length == 5' "$CTX_RUN/status.json" >/dev/null ||
    fail "ncap status --json is not {\"stages\":[5 stages]}: $(cat "$CTX_RUN/status.json")"
}

# e2e_field STAGE FIELD: the field from the last e2e_status (refreshed first when asked through
# e2e_stage_is).
e2e_field() {
  jq -r --arg s "$1" --arg f "$2" '.stages[] | select(.name == $s) | .[$f]' "$CTX_RUN/status.json"
}

# e2e_stage_is STAGE FIELD VALUE: refreshes the status, true when the field equals VALUE.
e2e_stage_is() {
  e2e_status
  [ "$(e2e_field "$1" "$2")" = "$3" ]
}

# e2e_expect STAGE FIELD VALUE: asserts on the last e2e_status.
e2e_expect() {
  local got
  got=$(e2e_field "$1" "$2")
  [ "$got" = "$3" ] || fail "$1 $2 $got, expected $3"
}

# e2e_expect_drained COUNT: every stage processed COUNT records and has backlog 0.
e2e_expect_drained() {
  local stage
  e2e_status
  for stage in "${NCAP_STAGES[@]}"; do
    e2e_expect "$stage" processed "$1"
    e2e_expect "$stage" backlog 0
  done
  e2e_say "every stage processed $1 records, backlogs 0"
}

# e2e_truth_valid TRUTH: the number of valid rows (invalid=0) in the simulator's truth file.
e2e_truth_valid() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "invalid") col = i; next }
           col == 0 { exit 2 }
           { v = $col; gsub(/"/, "", v); if (v == "0") n++ }
           END { if (col == 0) exit 2; print n + 0 }' "$1" ||
    fail "no column \"invalid\" in ${1#"$NCAP_ROOT"/}"
}

# e2e_releases: the latest.csv of every period of the audit, one per line, sorted.
e2e_releases() {
  find "$CTX_OUT/$E2E_AUDIT" -name latest.csv 2>/dev/null | sort
}

# The columns of latest.csv, in order (README.md, "Releases").
E2E_RELEASE_HEADER='audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,numerator,denominator,value,lower95,upper95,lower998,upper998,england_value,compared_to_england,funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,outlier,note,expected,held,missing,rejected,left_out,bound_lower,bound_upper,withheld_opt_out'

# e2e_release_rows: every row of every latest.csv (without headers), each checked to have the 32
# columns of the header, printed with TAB between fields (names may hold commas) for awk -F'\t':
# $3 level, $4 area_code, $7 metric, $8 breakdown, $9 category, $10 numerator, $11 denominator.
e2e_release_rows() {
  local files
  mapfile -t files < <(e2e_releases)
  [ "${#files[@]}" -gt 0 ] || fail "no release: nothing under ${CTX_OUT#"$NCAP_ROOT"/}/$E2E_AUDIT/*/latest.csv"
  python3 - "$E2E_RELEASE_HEADER" "${files[@]}" <<'PY' || fail "malformed release rows"
import csv, sys
want = sys.argv[1].split(",")
for path in sys.argv[2:]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != want:
        sys.exit(f"{path}: header is {','.join(rows[0]) if rows else '(empty)'}, expected {sys.argv[1]}")
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(want) or any("\t" in v or "\n" in v for v in r):
            sys.exit(f"{path}:{i}: {len(r)} fields, expected {len(want)} without TAB or newline")
        print("\t".join(r))
PY
}

# e2e_expect_denominators METRIC COUNT: the trust-level denominators of METRIC, over all periods,
# add up to COUNT.
e2e_expect_denominators() {
  local sum
  sum=$(e2e_release_rows | awk -F'\t' -v m="$1" '$3 == "trust" && $7 == m && $8 == "all" { s += $11 }
                                              END { print s + 0 }')
  [ "$sum" = "$2" ] || fail "trust-level $1 denominators add up to $sum, expected $2 (valid records)"
  e2e_say "trust-level $1 denominators add up to $2, the number of valid records"
}

# e2e_expect_national: for every period and metric, exactly one England row, whose denominator is
# the sum over the trusts and whose numerator is too where no trust's is suppressed.
e2e_expect_national() {
  local report
  report=$(e2e_release_rows | awk -F'\t' '
    $8 != "all" { next }
    { k = $2 "," $7; seen[k] = 1 }
    $3 == "trust"   { tn[k] += $10; td[k] += $11; if ($10 == "") hidden[k] = 1 }
    $3 == "england" { nn[k] = $10; nd[k] = $11; nc[k]++ }
    END {
      for (k in seen) {
        if (nc[k] != 1) print "period,metric " k ": " nc[k] + 0 " England rows, expected 1"
        else if (nd[k] != td[k] || (!hidden[k] && nn[k] != tn[k]))
          print "period,metric " k ": England " nn[k] "/" nd[k] ", trusts add up to " tn[k] "/" td[k]
      }
    }')
  [ -z "$report" ] || fail "England rows do not match the trusts: $report"
  e2e_say "England rows equal the sums of the trust rows"
}

# e2e_keep_releases DEST: copies every latest.csv, keeping its <period>/ path, into DEST.
e2e_keep_releases() {
  local f rel
  rm -rf "$1"
  while read -r f; do
    rel=${f#"$CTX_OUT/"}
    mkdir -p "$1/$(dirname "$rel")"
    cp "$f" "$1/$rel"
  done < <(e2e_releases)
}

# e2e_expect_same_releases REFERENCE: the current latest.csv files are byte-identical to the ones
# kept in REFERENCE, and there are as many.
e2e_expect_same_releases() {
  local here="$CTX_RUN/releases-kept"
  e2e_keep_releases "$here"
  if ! diff -r "$1" "$here" >"$CTX_RUN/releases.diff" 2>&1; then
    head -n 40 "$CTX_RUN/releases.diff" >&2
    fail "latest.csv files differ from the fault-free run (${CTX_RUN#"$NCAP_ROOT"/}/releases.diff)"
  fi
  e2e_say "latest.csv files are byte-identical to the fault-free run"
}

# e2e_fault_free_run DIR RECORDS VALID REFERENCE: the reference a fault test compares with: a
# deployment "fault_free" given every file of DIR, drained and checked (e2e_check_full_run), its
# latest.csv files kept in REFERENCE, then stopped.
e2e_fault_free_run() {
  e2e_deploy fault_free
  e2e_start_pipeline
  e2e_wait_registered ingest 1
  e2e_submit_all "$1"
  e2e_drain
  e2e_check_full_run "$2" "$3"
  e2e_keep_releases "$4"
  e2e_stop_all
}

# e2e_check_full_run RECORDS VALID: after e2e_drain, every stage processed RECORDS with backlog 0,
# the trust-level ortho_72h denominators add up to VALID, the England rows to the trusts', and
# release_check.py agrees with every release.
e2e_check_full_run() {
  e2e_expect_drained "$1"
  e2e_expect_denominators ortho_72h "$2"
  e2e_expect_national
  e2e_expect_release_check
}

# e2e_expect_release_check: tests/tools/release_check.py, a computation independent of the C code,
# agrees with every latest.csv of the audit (intervals, funnel limits, flags, comparisons, sums
# between levels and categories, suppression) and the run charts beside it (spc.csv).
e2e_expect_release_check() {
  local f out spc
  while read -r f; do
    spc=()
    [ -f "$(dirname "$f")/spc.csv" ] && spc=(--spc "$(dirname "$f")/spc.csv")
    out=$(python3 "$NCAP_ROOT/tests/tools/release_check.py" "${spc[@]}" "$f" 2>&1) ||
      fail "release_check disagrees with ${f#"$NCAP_ROOT"/}: $(printf '%s\n' "$out" | head -n 10)"
  done < <(e2e_releases)
  e2e_say "release_check.py recomputes every release and agrees"
}

# e2e_valid_count RECORDS: the valid rows of the simulator's truth in E2E_DIR/sim.truth.csv, which
# must be some but not all of RECORDS (the simulator writes invalid rows at a known rate).
e2e_valid_count() {
  local valid
  valid=$(e2e_truth_valid "$E2E_DIR/sim.truth.csv")
  if [ "$valid" -eq 0 ] || [ "$valid" -ge "$1" ]; then
    fail "the simulator's truth has $valid valid rows of $1, expected some valid and some invalid"
  fi
  echo "$valid"
}
