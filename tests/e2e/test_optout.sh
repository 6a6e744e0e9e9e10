#!/usr/bin/env bash
# The national data opt-out, end to end: 2,000 simulated hip fracture records from 4 trusts and the
# simulator's opt-out list, through the daemons with a copy of the audit definitions in which NHFD
# says opt_out_applies: true. A record of an opted-out patient that carries the patient's NHS number
# goes no further than linkage: it is in no linkage hand-off, validation, metric or publish table,
# and in no release file. A record of such a patient whose NHS number was mistyped or left out is
# withheld too when it links to the patient after a record that gave the number (the opt-out follows
# the linked patient), and no record of any other patient is withheld; every record not withheld
# reaches validation;
# linkage.optout_count holds the withheld records of each submission, `ncap feedback` says how many
# were withheld, and the trust-level denominators count only the records that went on. The same
# files with the shipped definitions (opt_out_applies: false) lose nothing. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=2000
optouts=$E2E_DIR/optouts.csv
truth=$E2E_DIR/sim.truth.csv
e2e_sim "$E2E_DIR/sim" "$records" 4 23 --optouts "$optouts"

psql_db() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

# truth_rows AWK-CONDITION: trust,local_record_id of the truth's rows meeting the condition, which
# reads the columns by name (c["opted_out"] ...), sorted.
truth_rows() {
  awk -F, -v cond="$1" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { for (k in col) { v = $col[k]; gsub(/"/, "", v); c[k] = v } }
    cond == "withheld" && c["opted_out"] == "1" && c["nhs_number_issue"] == "" { print c["trust_code"] "," c["local_record_id"] }
    cond == "kept" && !(c["opted_out"] == "1" && c["nhs_number_issue"] == "") { print c["trust_code"] "," c["local_record_id"] }
    cond == "kept_valid" && c["invalid"] == "0" && !(c["opted_out"] == "1" && c["nhs_number_issue"] == "") { print c["trust_code"] "," c["local_record_id"] }
    cond == "unchecked" && c["opted_out"] == "1" && c["nhs_number_issue"] != "" { print c["trust_code"] "," c["local_record_id"] }
    cond == "opted" && c["opted_out"] == "1" { print c["trust_code"] "," c["local_record_id"] }
  ' "$truth" | LC_ALL=C sort
}
truth_rows withheld >"$E2E_DIR/withheld.csv"
truth_rows kept >"$E2E_DIR/kept.csv"
truth_rows kept_valid >"$E2E_DIR/kept_valid.csv"
withheld=$(wc -l <"$E2E_DIR/withheld.csv")
kept=$(wc -l <"$E2E_DIR/kept.csv")
unchecked=$(truth_rows unchecked | wc -l)
if [ "$withheld" -eq 0 ] || [ "$((withheld + kept))" -ne "$records" ]; then
  fail "the simulator's truth has $withheld rows of opted-out patients with their NHS number, $kept others, of $records"
fi
[ "$(($(wc -l <"$optouts") - 1))" -gt 0 ] || fail "the simulator's opt-out list ${optouts#"$NCAP_ROOT"/} is empty"
e2e_say "truth: $withheld rows of opted-out patients with their NHS number, $unchecked with it mistyped or missing"

# run_deployment NAME: a deployment with the opt-outs loaded and every trust's file submitted, drained;
# E2E_SID[TRUST] is its submission.
run_deployment() {
  e2e_deploy "$1"
  e2e_ncap refdata load optouts "$optouts" >"$CTX_RUN/logs/refdata.log" 2>&1 ||
    fail "ncap refdata load optouts failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
  [ "$(psql_db "SELECT count(*) FROM linkage.optout")" = "$(($(wc -l <"$optouts") - 1))" ] ||
    fail "linkage.optout does not hold every NHS number of ${optouts#"$NCAP_ROOT"/}"
  e2e_start_pipeline
  e2e_wait_registered ingest 1
  e2e_submit_each "$E2E_DIR/sim"
  e2e_drain
}

# in_table TABLE: trust,local_id of the records TABLE holds (by record_id), sorted and distinct.
in_table() {
  psql_db "SELECT DISTINCT r.trust || ',' || r.local_id FROM $1 t JOIN ingest.record r USING (record_id)" |
    LC_ALL=C sort
}

# expect_feedback_withheld COUNT...: ncap feedback of each trust's submission says COUNT were
# withheld (the counts in the order of the trusts' files), or says nothing of it for 0.
expect_feedback_withheld() {
  local f trust want text
  for f in "$E2E_DIR"/sim/*.csv; do
    trust=$(basename "$f" .csv)
    want=$(grep -c "^$trust," "$E2E_DIR/withheld.csv" || true)
    [ "$1" = applies ] || want=0
    text=$(e2e_ncap feedback "${E2E_SID[$trust]}" --trust "$trust" 2>&1 | head -n 4 || true)
    grep -q '^pipeline: finished with this submission$' <<<"$text" ||
      fail "feedback of $trust does not say the pipeline has finished: $text"
    if [ "$want" -gt 0 ]; then
      grep -Eq "^rows: .*, $want withheld \(the patient opted out of the use of their data\)$" <<<"$text" ||
        fail "feedback of $trust does not say $want records were withheld: $text"
    else
      ! grep -q withheld <<<"$text" || fail "feedback of $trust speaks of withheld records: $text"
    fi
  done
}

# expect_trust_denominators LIST: per trust, the trust-level ortho_72h denominators over all
# periods are the number of rows of LIST (trust,local_record_id) of that trust.
expect_trust_denominators() {
  local diffs
  diffs=$(diff <(cut -d, -f1 "$1" | sort | uniq -c | awk '{ print $2 "," $1 }') \
    <(e2e_release_rows | awk -F'\t' '$3 == "trust" && $7 == "ortho_72h" && $8 == "all" { s[$4] += $11 }
                                  END { for (t in s) print t "," s[t] }' | sort)) ||
    fail "trust-level ortho_72h denominators (>) are not the valid records that went on (<): $diffs"
  e2e_expect_national
}

# --- the opt-out applies ---------------------------------------------------------------------------
e2e_audits_optout_applies
run_deployment applies

# Withheld: every record carrying an opted-out NHS number, and only records of opted-out patients.
# Those without a valid number are withheld when their patient's number was known by then; from
# here on the checks take the records withheld as the ones that went no further.
in_table linkage.optout_withheld >"$E2E_DIR/withheld_actual.csv"
truth_rows opted >"$E2E_DIR/opted.csv"
missed=$(LC_ALL=C comm -23 "$E2E_DIR/withheld.csv" "$E2E_DIR/withheld_actual.csv" | head -n 5 | tr "\n" " ")
[ -z "$missed" ] || fail "records carrying an opted-out NHS number were not withheld: $missed"
extra=$(LC_ALL=C comm -23 "$E2E_DIR/withheld_actual.csv" "$E2E_DIR/opted.csv" | head -n 5 | tr "\n" " ")
[ -z "$extra" ] || fail "records of patients who did not opt out were withheld: $extra"
by_patient=$(($(wc -l <"$E2E_DIR/withheld_actual.csv") - withheld))
e2e_say "withheld: the $withheld records carrying an opted-out NHS number, and $by_patient of the $unchecked without a valid one, through their linked patient"
for list in kept kept_valid; do
  LC_ALL=C comm -23 "$E2E_DIR/$list.csv" "$E2E_DIR/withheld_actual.csv" >"$E2E_DIR/$list.next"
  mv "$E2E_DIR/$list.next" "$E2E_DIR/$list.csv"
done
cp "$E2E_DIR/withheld_actual.csv" "$E2E_DIR/withheld.csv"
withheld=$(wc -l <"$E2E_DIR/withheld.csv")
kept=$(wc -l <"$E2E_DIR/kept.csv")

e2e_status
e2e_expect ingest processed "$records"
e2e_expect linkage processed "$records"
for stage in validation metric publish; do
  e2e_expect "$stage" processed "$kept"
done
for stage in "${NCAP_STAGES[@]}"; do
  e2e_expect "$stage" backlog 0
done
e2e_say "ingest and linkage processed $records records, validation, metric and publish the $kept not withheld"

# No withheld record past linkage; every other one in validation.
for table in linkage.pseudo_record validation.record metric.processed metric.record_state \
  metric.contribution publish.seen; do
  leaked=$(LC_ALL=C comm -12 "$E2E_DIR/withheld.csv" <(in_table "$table") | head -n 5 | tr "\n" " ")
  [ -z "$leaked" ] || fail "records of opted-out patients in $table: $leaked"
done
in_table validation.record >"$CTX_RUN/validated.csv"
diff "$E2E_DIR/kept.csv" "$CTX_RUN/validated.csv" >"$CTX_RUN/validated.diff" ||
  fail "validation.record (>) is not every record but the withheld ones (<): $(head -n 10 "$CTX_RUN/validated.diff")"
[ "$(psql_db "SELECT count(*) FROM linkage.optout_withheld")" = "$withheld" ] ||
  fail "linkage.optout_withheld has $(psql_db "SELECT count(*) FROM linkage.optout_withheld") records, expected $withheld"
e2e_say "the $withheld withheld records are past no stage; the $kept others all reached validation"

# Nothing that names a patient or a withheld record in any release file.
grep -rwFl -f <(cut -d, -f2 "$E2E_DIR/withheld.csv"; tail -n +2 "$optouts") "$CTX_OUT" >"$CTX_RUN/named.txt" &&
  fail "release files name a withheld record or an opted-out NHS number: $(head -n 3 "$CTX_RUN/named.txt")"

# The count per submission, and what the trust is told.
for trust in "${!E2E_SID[@]}"; do
  n=$(grep -c "^$trust," "$E2E_DIR/withheld.csv" || true)
  [ "$n" -eq 0 ] || echo "${E2E_SID[$trust]},$trust,$n"
done | sort >"$CTX_RUN/optout_count.want"
psql_db "SELECT submission_id || ',' || trust || ',' || records FROM linkage.optout_count
         WHERE audit = '$E2E_AUDIT'" | sort >"$CTX_RUN/optout_count.got"
diff "$CTX_RUN/optout_count.want" "$CTX_RUN/optout_count.got" >"$CTX_RUN/optout_count.diff" ||
  fail "linkage.optout_count (>) is not the withheld records per submission (<): $(cat "$CTX_RUN/optout_count.diff")"
expect_feedback_withheld applies
e2e_say "linkage.optout_count and ncap feedback give each submission's withheld records"

expect_trust_denominators "$E2E_DIR/kept_valid.csv"
e2e_say "per trust, the ortho_72h denominators are the $(wc -l <"$E2E_DIR/kept_valid.csv") valid records not withheld"
e2e_stop_all

# --- the same files, the opt-out does not apply (the shipped definitions) ------------------------
CTX_AUDITS=
grep -qx 'opt_out_applies: false' "$NCAP_ROOT/deploy/audits/$E2E_AUDIT.yaml" ||
  fail "the shipped $E2E_AUDIT.yaml no longer says opt_out_applies: false: this part tests nothing"
run_deployment applies_not
e2e_check_full_run "$records" "$(e2e_truth_valid "$truth")"
[ "$(psql_db "SELECT count(*) FROM linkage.optout_withheld") $(psql_db "SELECT count(*) FROM linkage.optout_count")" = "0 0" ] ||
  fail "records withheld where the opt-out does not apply"
expect_feedback_withheld applies_not
e2e_say "with opt_out_applies: false, nothing is withheld"
e2e_stop_all
e2e_say "PASS"
