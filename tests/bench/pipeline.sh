#!/usr/bin/env bash
# Pipeline throughput benchmark: N simulated records from K trusts through the five daemons (an
# optimised build, a private PostgreSQL under tests/.work/bench/), printing how long submission and
# the whole pipeline took, records per second end to end, and each daemon's peak memory.
# Issue 2's target: 20,000 records reach the release, every backlog 0, well within a minute.
#
# usage: tests/bench/pipeline.sh [--records N] [--trusts K] [--linkage N] [--validation N]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"

records=20000 trusts=20 n_linkage=1 n_validation=1
while [ $# -gt 0 ]; do
  case $1 in
    --records) records=$2; shift 2 ;;
    --trusts) trusts=$2; shift 2 ;;
    --linkage) n_linkage=$2; shift 2 ;;
    --validation) n_validation=$2; shift 2 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { print substr($0, 3); next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) ncap_die "unknown option \"$1\"; try --help" ;;
  esac
done

WORK=$NCAP_ROOT/tests/.work/bench
CTX_BUILD=$NCAP_ROOT/build
CTX_RUN=$WORK/run
CTX_OUT=$WORK/releases
CTX_KEY=$WORK/pseudonym.key
CTX_KEYS=$WORK/keys # CurveZMQ, as deployed
CTX_DB=bench

cleanup() {
  local pidfiles
  mapfile -t pidfiles < <(find "$CTX_RUN/pids" -name '*.pid' 2>/dev/null)
  [ "${#pidfiles[@]}" -eq 0 ] || ncap_stop "${pidfiles[@]}"
  ncap_pg_down "$WORK/pg" || true
}
trap cleanup EXIT

ncap_install_deps
ncap_build "$CTX_BUILD" "$WORK/build.log" -DNCAP_SANITIZE=OFF
rm -rf "$CTX_RUN" "$CTX_OUT" "$WORK/sim"
mkdir -p "$CTX_RUN" "$CTX_OUT"
ncap_pg_up "$WORK/pg"
CTX_PGHOST=$PG_SOCK
ncap_pg_recreate_db "$CTX_PGHOST" "$CTX_DB"
ncap_ensure_key "$CTX_KEY"
ncap_ensure_keys "$CTX_KEYS"
ncap_client_env
export NCAP_PG
NCAP_PG=$(ncap_admin_pg)
"$CTX_BUILD/ncap" migrate >/dev/null
"$CTX_BUILD/ncap" sim --audit nhfd --trusts "$trusts" --records "$records" --seed 1 --out "$WORK/sim" 2>/dev/null

for stage in ingest metric publish; do ncap_stage_start "$stage" 1; done
for i in $(seq 1 "$n_linkage"); do ncap_stage_start linkage "$i"; done
for i in $(seq 1 "$n_validation"); do ncap_stage_start validation "$i"; done
# shellcheck disable=SC2016 # expanded by the inner shell
ncap_wait_until 30 bash -c '[ "$("$0/ncap" status --json | jq ".stages[0].instances")" -ge 1 ]' "$CTX_BUILD" ||
  ncap_die "ingest did not start"

start=$(date +%s.%N)
for f in "$WORK"/sim/*.csv; do
  env "${NCAP_CLIENT_ENV[@]}" "$CTX_BUILD/ncap" submit --quiet --audit nhfd --trust "$(basename "$f" .csv)" "$f" >/dev/null
done
submitted=$(date +%s.%N)
"$CTX_BUILD/ncap" wait --timeout 600 --settle 0 >/dev/null
done_at=$(date +%s.%N)

status=$("$CTX_BUILD/ncap" status --json)
published=$(jq '.stages[4].processed' <<<"$status")
[ "$published" -eq "$records" ] || ncap_die "publish reflects $published records, expected $records"

printf 'records              %d from %d trusts (linkage x%d, validation x%d)\n' "$records" "$trusts" \
  "$n_linkage" "$n_validation"
awk -v s="$start" -v m="$submitted" -v e="$done_at" -v n="$records" 'BEGIN {
  printf "submitted (receipts)  %.1f s\n", m - s
  printf "released, backlog 0   %.1f s after the first submission\n", e - s
  printf "end-to-end rate       %.0f records/s\n", n / (e - s) }'
for pidfile in "$CTX_RUN"/pids/*.pid; do
  pid=$(<"$pidfile")
  printf 'peak memory %-12s %s\n' "$(basename "$pidfile" .pid)" \
    "$(awk '/VmHWM/ { printf "%.1f MB", $2 / 1024 }' "/proc/$pid/status")"
done
