#!/usr/bin/env bash
# A/B throughput: tests/bench/pipeline.sh of another revision (A, a git worktree under
# tests/.work/ab/base) and of this working tree as it is (B), run alternately on the same machine
# in the order A B, B A, A B, ... so that the machine's drift over the runs falls on both sides
# alike. Prints each run's figures, then per figure the median of each side and their ratio B / A
# (below 1: B is faster or takes less CPU). A shared machine's speed moves by a fifth within an
# hour: one run of each says little; quote the medians of three or more alternate runs.
#
# Figures per run (from each run's result.md): end to end records/s, its ratio to COPY (jsonb),
# the COPY baseline itself (the machine's speed at the time), and the CPU a record of each stage
# (its daemon and its PostgreSQL backends) and in all.
#
# usage: tests/bench/ab.sh --base REV [--runs N] [-- pipeline.sh options, e.g. --records 100000]
#   --base REV   revision A: a commit, branch or tag of this repository (B: this working tree)
#   --runs N     runs of each side (default 3)
# Each side builds and runs in its own tree (its own build/ and tests/.work/bench/, cluster
# included); nothing else should run meanwhile. The table is also written to
# tests/.work/ab/result.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

base="" runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --base) base=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) bench_help "$0"; exit 0 ;;
    *) ncap_die "unknown option \"$1\"; try --help (pipeline.sh's options go after --)" ;;
  esac
done
[ -n "$base" ] || ncap_die "--base REV is required: the revision to compare this tree with"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || ncap_die "--runs takes a whole number from 1, not \"$runs\""
rev=$(git -C "$NCAP_ROOT" rev-parse --verify --quiet "$base^{commit}") ||
  ncap_die "\"$base\" is not a revision of this repository"

AB=$NCAP_ROOT/tests/.work/ab
tree=$AB/base
mkdir -p "$AB/runs"
rm -f "$AB"/runs/*
if [ -d "$tree/.git" ] || [ -f "$tree/.git" ]; then
  git -C "$tree" checkout -q --detach "$rev"
else
  git -C "$NCAP_ROOT" worktree add -q --detach "$tree" "$rev"
fi
short=$(git -C "$NCAP_ROOT" rev-parse --short "$rev")
here=$(git -C "$NCAP_ROOT" rev-parse --short HEAD)
[ -z "$(git -C "$NCAP_ROOT" status --porcelain --untracked-files=no)" ] || here="$here+changes"

# figures FILE: "name value" per figure of a pipeline.sh result.md.
figures() {
  awk -F'|' '
    function ms(s) { if (match(s, /[0-9.]+ ms\/record/)) { s = substr(s, RSTART, RLENGTH);
                     sub(/ ms\/record/, "", s); return s } return "" }
    /^\| end to end, first submission/ { split($3, a, " "); print "end to end, records/s", a[1] }
    /^\| ratio end to end/ { split($3, a, ";"); gsub(/ /, "", a[1]); print "ratio to COPY (jsonb)", a[1] }
    /^\| COPY into one table, rows as jsonb/ { split($3, a, " "); print "COPY (jsonb), records/s", a[1] }
    /^\| CPU in all/ { print "CPU a record in all, ms", ms($3) }
    /^\| CPU [a-z]+ \|/ { n = $2; sub(/^ CPU /, "", n); sub(/ +$/, "", n);
                         print "CPU a record, " n ", ms", ms($3) }' "$1"
}

# one SIDE N [pipeline.sh options]: run N of side A (the worktree) or B (this tree).
one() {
  local side=$1 n=$2 root=$NCAP_ROOT name=$here
  shift 2
  if [ "$side" = A ]; then
    root=$tree name=$short
  fi
  echo "ab: run $n of $side ($name), $(date -u +%H:%M:%S) UTC" >&2
  "$root/tests/bench/pipeline.sh" "$@" >"$AB/runs/$side$n.log" 2>&1 ||
    ncap_die "run $n of $side failed: $AB/runs/$side$n.log"
  figures "$root/tests/.work/bench/result.md" >"$AB/runs/$side$n.txt"
  [ -s "$AB/runs/$side$n.txt" ] || ncap_die "no figures in run $n of $side: $AB/runs/$side$n.log"
}

shift_args=("$@")
for n in $(seq 1 "$runs"); do
  if [ $((n % 2)) -eq 1 ]; then
    one A "$n" "${shift_args[@]}"
    one B "$n" "${shift_args[@]}"
  else
    one B "$n" "${shift_args[@]}"
    one A "$n" "${shift_args[@]}"
  fi
done

# the medians: per figure, each side's values in run order, its median, and B / A
{
  echo "A = $short, B = $here (this tree); runs of each: $runs, alternately; $(nproc) cores;" \
    "pipeline.sh ${shift_args[*]:-(defaults)}"
  echo
  echo "| figure | A, each run | B, each run | median A | median B | B / A |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for side in A B; do
    for n in $(seq 1 "$runs"); do sed "s/^/$side $n|/" "$AB/runs/$side$n.txt"; done
  done | awk -F'|' '
    function median(list,   v, k, i, j, t) {
      k = split(list, v, " ")
      for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
        t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }
    { split($1, s, " "); line = $2; value = line; sub(/.* /, "", value); name = line
      sub(/ [^ ]*$/, "", name)
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
      vals[s[1], name] = vals[s[1], name] (vals[s[1], name] == "" ? "" : " ") value }
    END { for (i = 1; i <= n; i++) { f = order[i]; a = median(vals["A", f]); b = median(vals["B", f])
            r = a + 0 > 0 ? sprintf("%.3f", b / a) : "-"
            printf "| %s | %s | %s | %s | %s | %s |\n", f, vals["A", f], vals["B", f], a, b, r } }'
} | tee "$AB/result.md"
