#!/usr/bin/env bash
# Feedback and completeness, end to end: 2,000 simulated records from 4 trusts through the
# pipeline; `ncap feedback --csv` lists an error at the row of every invalid row of the simulator's
# truth (and at no other row), and the identifier problems linkage found at the rows whose NHS
# number the simulator mistyped or left out; another trust asking gets the same "no submission"
# answer as for a submission that does not exist; `ncap report completeness` counts every record
# once per field and its figures add up to the truth and to the feedback. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=2000
e2e_sim "$E2E_DIR/sim" "$records" 4 11
truth=$E2E_DIR/sim.truth.csv

e2e_deploy main
e2e_start_pipeline
e2e_wait_registered ingest 1

e2e_submit_each "$E2E_DIR/sim"
trusts=("${!E2E_SID[@]}")
e2e_drain

fb=$CTX_RUN/feedback
mkdir -p "$fb"
for trust in "${trusts[@]}"; do
  id=${E2E_SID[$trust]}
  status=0
  e2e_ncap feedback "$id" --trust "$trust" --csv >"$fb/$trust.csv" 2>"$fb/$trust.err" || status=$?
  want_status=$(awk -F, -v t="$trust" '$2 == t && $5 == "1" { n++ } END { print n ? 1 : 0 }' "$truth")
  [ "$status" = "$want_status" ] ||
    fail "ncap feedback $id --trust $trust exited $status, expected $want_status: $(cat "$fb/$trust.err")"
  [ "$(head -n 1 "$fb/$trust.csv")" = "submission_id,row,field,rule,severity,value,message" ] ||
    fail "feedback CSV header is \"$(head -n 1 "$fb/$trust.csv")\""

  # Rows with an error in the feedback are exactly the invalid rows of the truth.
  diff <(awk -F, -v t="$trust" '$2 == t && $5 == "1" { print $3 }' "$truth" | sort -n) \
    <(awk -F, -v id="$id" 'NR > 1 && $1 == id && $5 == "error" { print $2 }' "$fb/$trust.csv" | sort -nu) \
    >"$fb/$trust.rows.diff" ||
    fail "rows with errors in the feedback of $trust differ from the truth's invalid rows (< truth, > feedback): $(head -n 10 "$fb/$trust.rows.diff")"

  # Every mistyped or missing NHS number of the truth is reported at its row, without its value.
  while IFS=, read -r row issue; do
    rule=nhs_number_invalid
    [ "$issue" = missing ] && rule=nhs_number_missing
    grep -q "^$id,$row,nhs_number,$rule,warning,," "$fb/$trust.csv" ||
      fail "feedback of $trust has no $rule at row $row"
  done < <(awk -F, -v t="$trust" '$2 == t && $7 != "" { print $3 "," $7 }' "$truth")
  awk -F, 'NR > 1 && $3 == "nhs_number" && $6 != "" { exit 1 }' "$fb/$trust.csv" ||
    fail "feedback of $trust shows an NHS number's value"

  # The readable form: summary, then one line per problem.
  status=0
  e2e_ncap feedback "$id" --trust "$trust" >"$fb/$trust.txt" 2>&1 || status=$?
  [ "$status" = "$want_status" ] || fail "ncap feedback (text) exited $status, expected $want_status"
  grep -q "^pipeline: finished with this submission$" "$fb/$trust.txt" ||
    fail "text feedback of $trust does not say the pipeline has finished: $(head -n 5 "$fb/$trust.txt")"
  lines=$(grep -c '^row ' "$fb/$trust.txt" || true)
  [ "$lines" = "$(($(wc -l <"$fb/$trust.csv") - 1))" ] ||
    fail "text feedback of $trust has $lines problem lines, the CSV $(($(wc -l <"$fb/$trust.csv") - 1))"
done
e2e_say "feedback of every trust lists every invalid row of the truth at its row, and no other"

# Another trust's submission, and one that does not exist: the same answer, exit 2.
owner=${trusts[0]} other=${trusts[1]} id=${E2E_SID[${trusts[0]}]}
status=0
err=$(e2e_ncap feedback "$id" --trust "$other" 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && [ "$err" = "ncap feedback: no submission $id for trust $other" ] ||
  fail "feedback on $owner's submission asked by $other: exit $status, \"$err\""
status=0
err=$(e2e_ncap feedback 999999 --trust "$owner" 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && [ "$err" = "ncap feedback: no submission 999999 for trust $owner" ] ||
  fail "feedback on a submission that does not exist: exit $status, \"$err\""
e2e_say "another trust gets \"no submission $id for trust $other\", as for one that does not exist"

# Completeness: every field counts every record once; per trust as many as the trust sent.
report=$CTX_RUN/completeness.csv
e2e_ncap report completeness --audit "$E2E_AUDIT" --csv >"$report" 2>"$CTX_RUN/completeness.err" ||
  fail "ncap report completeness failed: $(cat "$CTX_RUN/completeness.err")"
[ "$(head -n 1 "$report")" = "field,trust,month,records,missing,invalid,missing_rate,invalid_rate" ] ||
  fail "completeness CSV header is \"$(head -n 1 "$report")\""
bad=$(awk -F, -v n="$records" 'NR > 1 { r[$1] += $4 }
  NR > 1 && ($5 + $6 > $4 || ($4 > 0 && ($7 - $5 / $4 > 1e-6 || $5 / $4 - $7 > 1e-6))) { print "rate or count wrong: " $0 }
  END { for (f in r) if (r[f] != n) print f ": " r[f] " records, expected " n }' "$report")
[ -z "$bad" ] || fail "completeness figures do not add up: $(head -n 5 <<<"$bad")"
for trust in "${trusts[@]}"; do
  got=$(awk -F, -v t="$trust" '$1 == "asa_grade" && $2 == t { n += $4 } END { print n + 0 }' "$report")
  want=$(awk -F, -v t="$trust" '$2 == t { n++ } END { print n + 0 }' "$truth")
  [ "$got" = "$want" ] || fail "completeness counts $got records of $trust, the truth $want"
done

# ... and its missing and invalid figures are the truth's and the feedback's.
sum() { awk -F, -v f="$1" -v c="$2" '$1 == f { n += $c } END { print n + 0 }' "$report"; }
count_fb() { cat "$fb"/*.csv | awk -F, -v f="$1" -v re="$2" 'NR > 1 && $3 == f && $4 ~ re { n++ } END { print n + 0 }'; }
want=$(awk -F, '$7 == "missing" { n++ } END { print n + 0 }' "$truth")
[ "$(sum nhs_number 5)" = "$want" ] || fail "completeness: $(sum nhs_number 5) NHS numbers missing, the truth $want"
want=$(count_fb nhs_number '^nhs_number_(invalid|test|placeholder)$')
[ "$(sum nhs_number 6)" = "$want" ] || fail "completeness: $(sum nhs_number 6) NHS numbers invalid, the feedback $want"
for field in asa_grade fracture_type pre_fracture_mobility; do
  want=$(count_fb "$field" '^(code|range|type)$')
  [ "$(sum "$field" 6)" = "$want" ] || fail "completeness: $(sum "$field" 6) $field invalid, the feedback $want"
done
want=$(count_fb arrival_datetime '^required$')
[ "$(sum arrival_datetime 5)" = "$want" ] ||
  fail "completeness: $(sum arrival_datetime 5) arrival_datetime missing, the feedback $want required errors"
e2e_say "completeness: $records records per field, NHS numbers missing $(sum nhs_number 5) and invalid $(sum nhs_number 6), as the truth and the feedback say"

e2e_ncap report completeness --audit "$E2E_AUDIT" >"$CTX_RUN/completeness.txt" ||
  fail "ncap report completeness (text) failed"
grep -Eq '^nhs_number +[A-Z0-9]{3} +20[0-9]{2}-[0-9]{2} +[0-9]+ +[0-9]+ \([0-9.]+%\) +[0-9]+ \([0-9.]+%\)$' \
  "$CTX_RUN/completeness.txt" || fail "readable completeness has no nhs_number line: $(head -n 4 "$CTX_RUN/completeness.txt")"

# One trust, one quarter: a part of the whole.
e2e_ncap report completeness --audit "$E2E_AUDIT" --trust "$owner" --period 2025Q3 --csv >"$CTX_RUN/part.csv" ||
  fail "ncap report completeness --trust --period failed"
awk -F, -v t="$owner" 'NR > 1 && ($2 != t || $3 !~ /^2025-0[789]$/) { exit 1 }' "$CTX_RUN/part.csv" ||
  fail "completeness --trust $owner --period 2025Q3 has other rows: $(head -n 3 "$CTX_RUN/part.csv")"
[ "$(wc -l <"$CTX_RUN/part.csv")" -gt 1 ] || fail "completeness --trust $owner --period 2025Q3 is empty"

e2e_stop_all

# A submission with more problems than one reply holds (1,000): the pages join up, none lost.
e2e_deploy paged
e2e_start_pipeline
e2e_wait_registered ingest 1
rm -rf "$E2E_DIR/big"
mkdir -p "$E2E_DIR/big"
e2e_ncap sim --audit "$E2E_AUDIT" --records 3000 --trusts 1 --seed 5 --invalid-rate 0.5 \
  --out "$E2E_DIR/big" --truth "$E2E_DIR/big.truth.csv" >"$E2E_DIR/big.log" 2>&1 || fail "ncap sim failed"
f=$(echo "$E2E_DIR"/big/*.csv)
trust=$(basename "$f" .csv)
out=$(e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$trust" "$f" 2>&1) || fail "submission failed: $out"
id=$(sed -n 's/^submission \([0-9]*\):.*/\1/p' <<<"$out")
e2e_drain
status=0
e2e_ncap feedback "$id" --trust "$trust" --csv >"$CTX_RUN/big.csv" 2>"$CTX_RUN/big.err" || status=$?
[ "$status" = 1 ] || fail "ncap feedback on the big submission exited $status: $(cat "$CTX_RUN/big.err")"
e2e_ncap feedback "$id" --trust "$trust" >"$CTX_RUN/big.txt" || true
problems=$(sed -n 's/^problems: \([0-9]*\) errors*, \([0-9]*\) warnings*$/\1 \2/p' "$CTX_RUN/big.txt")
total=$(awk '{ print $1 + $2 }' <<<"$problems")
lines=$(($(wc -l <"$CTX_RUN/big.csv") - 1))
[ -n "$problems" ] && [ "$lines" = "$total" ] && [ "$lines" -gt 1000 ] ||
  fail "big submission: $lines CSV lines, the summary says \"$problems\" (errors warnings), expected more than 1000"
[ "$(tail -n +2 "$CTX_RUN/big.csv" | sort -u | wc -l)" = "$lines" ] || fail "big submission: a problem is listed twice"
diff <(awk -F, '$5 == "1" { print $3 }' "$E2E_DIR/big.truth.csv" | sort -n) \
  <(awk -F, 'NR > 1 && $5 == "error" { print $2 }' "$CTX_RUN/big.csv" | sort -nu) >/dev/null ||
  fail "big submission: rows with errors differ from the truth's invalid rows"
# sorted by row, field, rule
tail -n +2 "$CTX_RUN/big.csv" | cut -d, -f2-4 | LC_ALL=C sort -t, -k1,1n -k2,2 -k3,3 -c ||
  fail "big submission: problems not in row, field, rule order"
e2e_say "a submission with $lines problems comes back whole over several pages, in order"
e2e_stop_all
e2e_say "PASS"
