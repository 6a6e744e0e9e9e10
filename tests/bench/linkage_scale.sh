#!/usr/bin/env bash
# Record linkage at scale and on hard data: `ncap link` (an optimised build, one core: taskset -c 0
# when there is taskset) on simulated populations (`ncap sim linkage`, 50,000 and 500,000 records
# by default) and on the public sets in the shared data (splink's fake_1000, FEBRL 1 and 2), each
# scored against its truth with `ncap link-score`. Prints a markdown table (for README.md's
# "Record linkage: how well and how fast" section; also kept in tests/.work/bench-linkage/result.md):
# records, people, wall-clock seconds and peak memory (maximum resident set, /usr/bin/time) of the
# dedupe, pairwise precision, recall and F1, and B-cubed F1. When `ncap link --incremental` exists,
# the same records are also linked one at a time, and a last column gives the pairwise F1 between
# the incremental and the batch clusters (1: they agree), then in brackets the incremental
# clusters' own pairwise F1 against the truth and the seconds they took. Figures are printed,
# never asserted.
#
# Maps: the simulated populations compare every column (nhs_number, first_name, surname, dob, sex,
# postcode, city and email as text); fake_1000 its five (first_name, surname, dob, city, email);
# FEBRL its ten, as tests/services/linkage/test_link_febrl.c does. The truth is never given to
# the linker.
#
# usage: tests/bench/linkage_scale.sh [--records "N ..."] [--seed S] [--build DIR] [--no-shared]
#   --records "N ..."  sizes of the simulated populations (default "50000 500000")
#   --seed S           seed of the populations (default 1)
#   --build DIR        the build to use (default build/ in the repository; configured as
#                      RelWithDebInfo when new, and `ncap` built)
#   --no-shared        leave out fake_1000 and FEBRL
# The shared data is read from $NCAP_SHARED_DATA, else ../shared/data beside the repository.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/local/lib.sh"

sizes="50000 500000" seed=1 build=$NCAP_ROOT/build shared=1
while [ $# -gt 0 ]; do
  case $1 in
    --records) sizes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build) build=$(realpath -m "$2"); shift 2 ;;
    --no-shared) shared=0; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { print substr($0, 3); next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) ncap_die "unknown option \"$1\"; try --help" ;;
  esac
done

WORK=$NCAP_ROOT/tests/.work/bench-linkage
DATA=${NCAP_SHARED_DATA:-$NCAP_ROOT/../shared/data}
mkdir -p "$WORK"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$NCAP_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/build.log" 2>&1 ||
    { tail -n 40 "$WORK/build.log" >&2; ncap_die "configuring \"$build\" failed"; }
fi
cmake --build "$build" --target ncap -j2 >>"$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log" >&2; ncap_die "building ncap failed, see $WORK/build.log"; }
NCAP=$build/ncap

ONE_CORE=()
if command -v taskset >/dev/null; then ONE_CORE=(taskset -c 0); fi
[ -x /usr/bin/time ] || ncap_die "/usr/bin/time is needed for peak memory (Debian: apt-get install time)"
INCREMENTAL=0
# a linker without --incremental refuses the option before it reads --help
if "$NCAP" link --incremental --help >/dev/null 2>&1; then INCREMENTAL=1; fi

SIM_MAPS=(--map unique_id=id --map nhs_number=nhs_number --map first_name=forename
  --map surname=surname --map dob=dob --map sex=sex --map postcode=postcode --map city=text
  --map email=text)
FAKE_MAPS=(--map unique_id=id --map first_name=forename --map surname=surname --map dob=dob
  --map city=text --map email=text)
FEBRL_MAPS=(--map rec_id=id --map given_name=forename --map surname=surname
  --map street_number=number --map address_1=text --map address_2=text --map suburb=text
  --map postcode=number --map state=exact --map date_of_birth=dob --map soc_sec_id=number)

# score FIGURE TRUTH RESULT [link-score options]: the figure (e.g. pairwise_f1) of RESULT.
score() {
  local figure=$1 truth=$2 result=$3
  shift 3
  "$NCAP" link-score --truth "$truth" "$@" "$result" | awk -v f="$figure" '$1 == f { print $2 }'
}

# row NAME FILE MAPS...: links FILE, scores it with `ncap link-score "${TRUTH[@]}"`, prints its
# row of the table.
row() {
  local name=$1 file=$2 out=$WORK/$1.out secs mem scores inc="-" people
  shift 2
  /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "${ONE_CORE[@]}" "$NCAP" link "$@" "$file" \
    >"$out" 2>"$WORK/$name.err" || { cat "$WORK/$name.err" >&2; ncap_die "ncap link failed on $file"; }
  read -r secs mem <"$WORK/$name.time"
  scores=$("$NCAP" link-score "${TRUTH[@]}" "$out")
  if [ "$INCREMENTAL" -eq 1 ]; then
    /usr/bin/time -f '%e' -o "$WORK/$name.inc.time" "${ONE_CORE[@]}" "$NCAP" link --incremental \
      "$@" "$file" >"$WORK/$name.inc.out" 2>>"$WORK/$name.err" ||
      { cat "$WORK/$name.err" >&2; ncap_die "ncap link --incremental failed on $file"; }
    inc=$(printf '%.4f (%.4f vs truth, %.2f s)' \
      "$(score pairwise_f1 "$out" "$WORK/$name.inc.out" --truth-column cluster_id \
        --id-column record_id)" \
      "$(score pairwise_f1 "${TRUTH[@]:1:1}" "$WORK/$name.inc.out" "${TRUTH[@]:2}")" \
      "$(<"$WORK/$name.inc.time")")
  fi
  people=$(awk '$1 == "truth_clusters" { print $2 }' <<<"$scores")
  awk -v name="$name" -v people="$people" -v secs="$secs" -v mem="$mem" -v inc="$inc" '
    { v[$1] = $2 }
    END {
      printf "| %s | %d | %d | %.2f | %.0f | %.4f | %.4f | %.4f | %.4f | %s |\n", name, v["records"],
        people, secs, mem / 1024, v["pairwise_precision"], v["pairwise_recall"], v["pairwise_f1"],
        v["bcubed_f1"], inc
    }' <<<"$scores"
}

{
  printf '| data | records | people | seconds | peak MB | pairwise precision | recall | F1 | B-cubed F1 | incremental vs batch F1 (vs truth, seconds) |\n'
  printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
  for n in $sizes; do
    pop=$WORK/sim_$n.csv
    "$NCAP" sim linkage --records "$n" --seed "$seed" --out "$pop" 2>/dev/null
    TRUTH=(--truth "$pop")
    row "sim_$n" "$pop" "${SIM_MAPS[@]}"
  done
  if [ "$shared" -eq 1 ]; then
    [ -f "$DATA/linkage/fake_1000_demos.csv" ] ||
      ncap_die "no $DATA/linkage/fake_1000_demos.csv: set NCAP_SHARED_DATA, or --no-shared"
    TRUTH=(--truth "$DATA/linkage/fake_1000_demos.csv")
    row fake_1000 "$DATA/linkage/fake_1000_demos.csv" "${FAKE_MAPS[@]}"
    for k in 1 2; do
      # the entity is the number in rec_id: rec-N-org, rec-N-dup-K
      awk -F', *' 'NR == 1 { print "rec_id,cluster"; next } { split($1, p, "-"); print $1 "," p[2] }' \
        "$DATA/linkage/febrl$k.csv" >"$WORK/febrl${k}_truth.csv"
      TRUTH=(--truth "$WORK/febrl${k}_truth.csv" --id-column rec_id)
      row "febrl$k" "$DATA/linkage/febrl$k.csv" "${FEBRL_MAPS[@]}"
    done
  fi
  printf '\n%s cores, load average %s; seed %s; one core for ncap link: %s\n' "$(nproc)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$seed" "${ONE_CORE[*]:-no taskset}"
} | tee "$WORK/result.md"
