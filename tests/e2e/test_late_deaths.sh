#!/usr/bin/env bash
# The register of deaths loaded after the records were published: the same simulated NHFD records
# through two deployments, one that loads the deaths first and one that loads them only once
# everything is published. After the late load the pipeline drains again, and the outcome a user
# would look at is the same as with the deaths loaded first: the published 30-day mortality
# (mortality_30d) goes from no deaths to the same figures, as many validated records carry a date
# of death, as many are rejected for arriving after the patient's death, and the published
# latest.csv files are byte-identical. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=4000
sim=$E2E_DIR/sim
rm -rf "$sim"
mkdir -p "$sim"
e2e_ncap sim --audit "$E2E_AUDIT" --records "$records" --trusts 8 --seed 7 --out "$sim" \
  --truth "$sim.truth.csv" --deaths "$E2E_DIR/deaths.csv" \
  --deaths-truth "$E2E_DIR/deaths.truth.csv" >"$sim.log" 2>&1 || {
  tail -n 20 "$sim.log" >&2
  fail "ncap sim failed"
}
deaths=$(($(wc -l <"$E2E_DIR/deaths.csv") - 1))
held=$(awk -F, 'NR > 1 && $2 != "" { n++ } END { print n + 0 }' "$E2E_DIR/deaths.truth.csv")
[ "$held" -gt 0 ] || fail "the simulator wrote no death of a patient in the audit"
e2e_say "$deaths deaths in the register, $held of patients in the audit"

load_deaths() {
  e2e_ncap refdata load deaths "$E2E_DIR/deaths.csv" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
    fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
}

# deaths_published: England's mortality_30d numerators over all periods of the latest releases.
deaths_published() {
  e2e_release_rows | awk -F'\t' '$3 == "england" && $7 == "mortality_30d" && $8 == "all" { s += $10 }
                                END { print s + 0 }'
}

# outcome: validated records with a date of death, records rejected as admitted after death.
outcome() {
  ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT
      (SELECT count(*) FROM validation.record WHERE payload::jsonb ? 'date_of_death') || ' ' ||
      (SELECT count(DISTINCT record_id) FROM validation.problem
        WHERE rule = 'admission_after_death')"
}

# --- deaths loaded first
e2e_deploy first
load_deaths
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain
e2e_expect_drained "$records"
first=$(outcome)
read -r with_death after_death <<<"$first"
[ "$with_death" -gt 0 ] || fail "no validated record has a date of death with the deaths loaded first"
mortality_first=$(deaths_published)
[ "$mortality_first" -gt 0 ] || fail "no death within 30 days published with the deaths loaded first"
e2e_say "deaths first: $with_death validated records with a date of death, $after_death admitted after death, $mortality_first deaths within 30 days published"
e2e_keep_releases "$E2E_DIR/releases-first"
e2e_stop_all

# --- deaths loaded after everything was published
e2e_deploy late
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain
[ "$(outcome)" = "0 0" ] || fail "records have dates of death before any death was loaded: $(outcome)"
[ "$(deaths_published)" = 0 ] || fail "deaths published before any death was loaded: $(deaths_published)"
releases_before=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM publish.release")
start=$SECONDS
load_deaths
e2e_drain
e2e_say "outputs followed the late deaths within $((SECONDS - start)) s"
e2e_expect_drained "$records"
late=$(outcome)
[ "$late" = "$first" ] ||
  fail "with the deaths loaded late, (with a date of death, admitted after death) is \"$late\", loaded first \"$first\""
[ "$(deaths_published)" = "$mortality_first" ] ||
  fail "with the deaths loaded late, $(deaths_published) deaths within 30 days published, loaded first $mortality_first"
revised=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" \
  "SELECT count(*) FROM linkage.pseudo_record WHERE revision > 0")
releases_after=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM publish.release")
e2e_say "$revised records revised by the death sweep; releases $releases_before -> $releases_after"
[ "$revised" -ge "$with_death" ] || fail "$revised records revised, expected at least $with_death"
[ "$releases_after" -gt "$releases_before" ] || fail "no new release after the late deaths"
e2e_expect_same_releases "$E2E_DIR/releases-first"
e2e_stop_all
e2e_say "PASS"
