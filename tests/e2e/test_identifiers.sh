#!/usr/bin/env bash
# No identifier leaves linkage (DESIGN.md invariant 8): 3,000 simulated records, with deaths in the
# register for some of their patients and deprivation for their LSOAs, run through the whole
# pipeline; then every row of every table of the validation, metric and publish schemas, and every
# release file, is searched for every identifier value sent (NHS numbers as written and as digits,
# forenames, surnames, dates of birth, postcodes as written and without the space, LSOA codes):
# none may appear. Linkage must have passed on date_of_death and imd_decile / imd_quintile in
# their place. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=3000
e2e_sim "$E2E_DIR/sim" "$records" 6 77
e2e_deploy main

psql_main() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

# Identifier values of every record, one per line (columns found by name in each file's header).
ids=$E2E_DIR/identifiers.txt
for f in "$E2E_DIR"/sim/*.csv; do
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    function emit(v) { if (v != "") print v }
    {
      nhs = $col["nhs_number"]; emit(nhs); d = nhs; gsub(/[ -]/, "", d); emit(d)
      emit($col["forename"]); emit($col["surname"])
      dob = $col["date_of_birth"]; emit(dob)
      if (dob ~ /^[0-9][0-9]\/[0-9][0-9]\/[0-9][0-9][0-9][0-9]$/)
        emit(substr(dob, 7, 4) "-" substr(dob, 4, 2) "-" substr(dob, 1, 2))
      pc = $col["postcode"]; emit(pc); gsub(/ /, "", pc); emit(pc)
      emit($col["lsoa"])
    }' "$f"
done | sort -u >"$ids"
[ "$(wc -l <"$ids")" -gt 1000 ] || fail "only $(wc -l <"$ids") identifier values taken from the simulated files"

# Reference data: deprivation for every LSOA sent, and deaths for every 20th record's patient.
lsoas=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "lsoa") c = i; next }
  FNR > 1 && $c != "" { print $c }' "$E2E_DIR"/sim/*.csv | sort -u |
  awk '{ printf "%s(\x27%s\x27, %d, %d, %d)", (NR > 1 ? "," : ""), $1, NR, NR % 10 + 1, NR % 5 + 1 }')
psql_main "INSERT INTO linkage.imd (lsoa, imd_rank, imd_decile, imd_quintile) VALUES $lsoas"
deaths=$(awk -F, 'FNR == 1 { delete col; for (i = 1; i <= NF; i++) col[$i] = i; next }
  FNR % 20 == 0 && $col["nhs_number"] != "" {
    n = $col["nhs_number"]; gsub(/[ -]/, "", n); d = $col["date_of_birth"]
    if (d ~ /\//) d = substr(d, 7, 4) "-" substr(d, 4, 2) "-" substr(d, 1, 2)
    printf "%s(\x27%s\x27, \x27%s\x27, \x272026-01-01\x27, \x27e2e-%d\x27)", k++ ? "," : "", n, d, k
  }' "$E2E_DIR"/sim/*.csv)
psql_main "INSERT INTO linkage.death (nhs_number, date_of_birth, date_of_death, row_hash)
  VALUES $deaths ON CONFLICT DO NOTHING"

e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$E2E_DIR/sim"
e2e_drain
e2e_expect_drained "$records"

# What linkage added in place of the identifiers.
linked=$(psql_main "SELECT count(*) FILTER (WHERE payload::jsonb ? 'date_of_death') || ' ' ||
  count(*) FILTER (WHERE payload::jsonb ? 'imd_decile' AND payload::jsonb ? 'imd_quintile')
  FROM linkage.pseudo_record")
read -r with_death with_imd <<<"$linked"
[ "$with_death" -gt 0 ] || fail "no record was passed on with date_of_death"
[ "$with_imd" -gt $((records / 2)) ] || fail "only $with_imd records were passed on with imd_decile and imd_quintile"
e2e_say "linkage passed on date_of_death for $with_death records, deprivation for $with_imd"

# Every row of every downstream table, as text, and every release file.
dump=$E2E_DIR/downstream.txt
: >"$dump"
tables=$(psql_main "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
  WHERE table_schema IN ('validation', 'metric', 'publish') AND table_type = 'BASE TABLE'
  ORDER BY 1")
[ -n "$tables" ] || fail "no table found in the validation, metric and publish schemas"
rows=0
for t in $tables; do
  psql_main "SELECT t::text FROM $t t" >>"$dump"
done
rows=$(wc -l <"$dump")
[ "$rows" -gt "$records" ] || fail "only $rows rows downstream, expected more than $records"
find "$CTX_OUT" -type f -exec cat {} + >>"$dump"

# A word ncap's own code (the simulator's name lists aside) or definitions hold is no evidence of
# a leak (the surname Wilson and the Wilson interval; White, an ethnic category): such values are
# left out of the search, and named in the log.
own=$E2E_DIR/own_words.txt
grep -rhoFw --exclude-dir=sim -f "$ids" "$NCAP_ROOT/services" "$NCAP_ROOT/common" "$NCAP_ROOT/deploy/audits" |
  sort -u >"$own" || true
[ ! -s "$own" ] || e2e_say "not searched, as ncap itself writes them: $(tr '\n' ' ' <"$own")"
grep -vxF -f "$own" "$ids" >"$ids.searched" || true
mv "$ids.searched" "$ids"

# Whole words only: an NHS number inside a 64-character pseudonym is not the identifier.
if grep -F -w -o -f "$ids" "$dump" | sort | uniq -c | sort -rn | head -n 20 >"$E2E_DIR/found.txt" &&
  [ -s "$E2E_DIR/found.txt" ]; then
  fail "identifier values found downstream (count, value): $(tr '\n' ';' <"$E2E_DIR/found.txt")"
fi
e2e_say "searched $rows downstream rows of $(wc -w <<<"$tables") tables and the release files for $(wc -l <"$ids") identifier values: none found"
e2e_stop_all
e2e_say "PASS"
