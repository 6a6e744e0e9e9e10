#!/usr/bin/env bash
# Rotating the pseudonymisation key (README.md, "Rotating the pseudonymisation key"): simulated
# NHFD records run through the pipeline under one key; linkage is stopped, its key file replaced
# with a new key and linkage started again. Its sweep re-pseudonymises every record by itself:
# once no record version carries the old key id, every pseudonym in linkage.pseudo_record and
# validation.record is HMAC-SHA-256(new key, "patient:<id>") computed here independently of the C
# code, the latest.csv files are byte-identical to those before, and validation's problems (its
# history rule's among them: a patient seen once, not once per key) are the same per rule.
# Then a second rotation while more records stream in, with linkage killed (SIGKILL) part way
# through the re-keying and started again: it ends with the releases and problems of a deployment
# that took the same submissions under one key. Publish counts each re-pseudonymised record as
# re-keyed, never as a death loaded, and `ncap release diff` says so. Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=4000
more=1000 # submitted during the second rotation
e2e_sim "$E2E_DIR/sim" "$records" 8 7 --problems probable_duplicate_episode=40
e2e_sim "$E2E_DIR/sim2" "$more" 8 8 --problems probable_duplicate_episode=10

# key_id FILE: the key id of the key in FILE, as pseudonym_key_id makes it.
key_id() {
  python3 -c 'import hashlib, hmac, sys
key = bytes.fromhex(open(sys.argv[1]).read().strip())
print(hmac.new(key, b"ncap pseudonym key id", hashlib.sha256).hexdigest()[:16])' "$1"
}

# wrong_pseudonyms TABLE FILE: the rows of TABLE (linkage.pseudo_record or validation.record)
# whose pseudonym is not the one the key in FILE gives their patient, and how many rows there are.
wrong_pseudonyms() {
  ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "COPY (SELECT l.patient_id, t.pseudonym FROM $1 t
      JOIN linkage.link l USING (record_id, version)) TO STDOUT" |
    python3 -c 'import hashlib, hmac, sys
key = bytes.fromhex(open(sys.argv[1]).read().strip())
rows = wrong = 0
for line in sys.stdin:
    pid, pseudonym = line.rstrip("\n").split("\t")
    rows += 1
    want = hmac.new(key, b"patient:" + pid.encode(), hashlib.sha256).hexdigest()
    wrong += want != pseudonym
print(wrong, rows)' "$2"
}

# problems: validation's problems per rule, one "rule count" a line.
problems() {
  ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT string_agg(rule || ' ' || n, E'\n' ORDER BY rule)
      FROM (SELECT rule, count(*) AS n FROM validation.problem GROUP BY rule) p"
}

old_remaining() {
  ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" \
    "SELECT count(*) FROM linkage.pseudo_record WHERE key_id IS DISTINCT FROM '$new_id'"
}
converged() { [ "$(old_remaining)" = 0 ]; }

# rotate: linkage stopped (exit 0 on SIGTERM), its key file moved to CTX_KEY.old and a new key
# written in its place; sets old_id and new_id. Linkage is not started again.
rotate() {
  local pid status=0
  old_id=$(key_id "$CTX_KEY")
  pid=$(e2e_pid linkage)
  ncap_stop "$CTX_RUN/pids/linkage-1.pid"
  wait "$pid" 2>/dev/null || status=$?
  [ "$status" -eq 0 ] || fail "linkage exited with status $status after SIGTERM"
  mv "$CTX_KEY" "$CTX_KEY.old"
  ncap_ensure_key "$CTX_KEY"
  new_id=$(key_id "$CTX_KEY")
  [ "$new_id" != "$old_id" ] || fail "the new key has the old key's id"
}

# expect_rekeyed: every pseudonym in linkage and validation is the new key's, none the old's.
expect_rekeyed() {
  local table wrong rows
  for table in linkage.pseudo_record validation.record; do
    read -r wrong rows <<<"$(wrong_pseudonyms "$table" "$CTX_KEY")"
    [ "$wrong" = 0 ] || fail "$wrong of $rows pseudonyms in $table are not HMAC(new key, patient id)"
  done
  read -r wrong rows <<<"$(wrong_pseudonyms validation.record "$CTX_KEY.old")"
  [ "$wrong" = "$rows" ] || fail "$((rows - wrong)) of $rows validated pseudonyms are still the old key's"
  e2e_say "all $rows validated pseudonyms are HMAC(new key $new_id, patient id)"
}

# --- the reference: the same submissions under one key
e2e_deploy reference
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$E2E_DIR/sim"
e2e_drain
e2e_submit_all "$E2E_DIR/sim2"
e2e_drain
e2e_status
reference_processed=$(e2e_field linkage processed)
reference_problems=$(problems)
e2e_keep_releases "$E2E_DIR/releases-reference"
e2e_stop_all

# --- first rotation, with nothing else arriving
e2e_deploy rekey
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$E2E_DIR/sim"
e2e_drain
e2e_expect_drained "$records"
old_id=$(key_id "$CTX_KEY")
read -r wrong rows <<<"$(wrong_pseudonyms validation.record "$CTX_KEY")"
if [ "$wrong" != 0 ] || [ "$rows" = 0 ]; then
  fail "before the rotation $wrong of $rows validated pseudonyms are not HMAC(key, patient id)"
fi
[ "$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" \
  "SELECT count(*) FROM linkage.pseudo_record WHERE key_id IS DISTINCT FROM '$old_id'")" = 0 ] ||
  fail "linkage stamped record versions with another key id than $old_id"
before_problems=$(problems)
duplicates=$(awk '$1 == "probable_duplicate_episode" { print $2 }' <<<"$before_problems")
[ "${duplicates:-0}" -gt 0 ] || fail "no history problem (probable_duplicate_episode) to compare"
e2e_keep_releases "$E2E_DIR/releases-before"
releases_before=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM publish.release")
e2e_say "$rows records under key $old_id; $duplicates probable duplicate episodes"

rotate
start=$SECONDS
e2e_start linkage
ncap_wait_until "$E2E_DRAIN_TIMEOUT" converged ||
  fail "$(old_remaining) record versions still under another key id than $new_id after $E2E_DRAIN_TIMEOUT s"
e2e_drain
e2e_say "re-keyed to $new_id and drained in $((SECONDS - start)) s"
grep -q '"msg":"rekey sweep pseudonymised again' "$CTX_RUN/logs/linkage-1.log" ||
  fail "no rekey sweep progress line in the linkage log"
! grep -q 'another ncap-linkd runs with another pseudonymisation key' "$CTX_RUN/logs/linkage-1.log" ||
  fail "linkage took the rotation for two keys at once"
expect_rekeyed
revised=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" \
  "SELECT count(*) FROM linkage.pseudo_record WHERE revision > 0")
[ "$revised" -gt 0 ] || fail "no record was passed on again as a link revision"
after_problems=$(problems)
[ "$after_problems" = "$before_problems" ] ||
  fail "validation's problems per rule changed with the key: before
$before_problems
after
$after_problems"
e2e_expect_drained "$records"
e2e_expect_same_releases "$E2E_DIR/releases-before"
# why: every link revision publish took is a re-keyed record, none a death loaded (the counts wait
# for each period's next revision, as the figures did not change)
read -r relinked rekeyed <<<"$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT
  coalesce(sum(relinked), 0) || ' ' || coalesce(sum(rekeyed), 0) FROM (SELECT relinked, rekeyed
  FROM publish.pending_change UNION ALL SELECT relinked, rekeyed FROM publish.release_change) c")"
if [ "$rekeyed" -eq 0 ] || [ "$relinked" != 0 ]; then
  fail "publish counted $rekeyed re-keyed and $relinked relinked (deaths loaded) records, expected re-keyed only"
fi
releases_after=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM publish.release")
e2e_say "$revised records passed on as link revisions; problems per rule unchanged; releases $releases_before -> $releases_after, latest.csv unchanged"

# --- second rotation, while more records arrive, linkage killed part way through
rotate
total=$(old_remaining)
some_done() { [ "$(old_remaining)" -lt "$total" ]; }
ncap_stage_start linkage 1 --batch 50 || fail "linkage-1 is already running"
e2e_submit_all "$E2E_DIR/sim2"
ncap_wait_until "$E2E_DRAIN_TIMEOUT" some_done || fail "the sweep re-keyed nothing of $total"
e2e_kill9 linkage
left=$(old_remaining)
e2e_say "killed linkage with $left of $total record versions still under the old key"
e2e_start linkage
ncap_wait_until "$E2E_DRAIN_TIMEOUT" converged ||
  fail "$(old_remaining) record versions still under another key id than $new_id after $E2E_DRAIN_TIMEOUT s"
e2e_drain
expect_rekeyed
e2e_expect_drained "$reference_processed"
[ "$(problems)" = "$reference_problems" ] ||
  fail "validation's problems per rule differ from the deployment under one key: here
$(problems)
under one key
$reference_problems"
e2e_expect_same_releases "$E2E_DIR/releases-reference"
e2e_say "second rotation: problems per rule and latest.csv as under one key"
# ncap release diff across both rotations: cells moved with the records added, and the trusts'
# re-keyed records are named as such, never as deaths loaded
period=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT period FROM publish.release GROUP BY period
  ORDER BY count(*) DESC, period LIMIT 1")
read -r first last <<<"$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT min(revision) || ' ' ||
  max(revision) FROM publish.release WHERE period = '$period'")"
e2e_ncap release diff --audit "$E2E_AUDIT" --period "$period" "r$first" "r$last" >"$CTX_RUN/diff.csv" 2>"$CTX_RUN/logs/diff.log" ||
  fail "ncap release diff failed: $(cat "$CTX_RUN/logs/diff.log")"
grep -q "^england,.*added records.*re-keyed records (new pseudonym: a new key" "$CTX_RUN/diff.csv" ||
  fail "ncap release diff $period r$first r$last does not name the re-keyed records: $(grep -m 2 "^england," "$CTX_RUN/diff.csv")"
! grep -q "deaths loaded" "$CTX_RUN/diff.csv" || fail "re-keyed records taken for deaths loaded"
e2e_say "ncap release diff $period r$first r$last: England's cells moved with added and re-keyed records"
e2e_stop_all
e2e_say "PASS"
