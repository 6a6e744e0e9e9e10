#!/usr/bin/env bash
# Two patients of one person merged by ncap-linkd, end to end (README.md, "Record linkage: the
# method"): simulated hip fracture records from 2 trusts, in which 6 women are each rewritten as
# two records under one identity and a third under another (a date of birth in the same year, a
# new address: too unlike the first to join it), none with an NHS number. Through the daemons
# each woman is two patients, two pseudonyms in validation. Then a second submission brings, per
# woman, a record with her first date of birth at her new address: it matches both patients, and
# they match each other as a whole, so ncap-linkd merges them. Every record ends under one
# pseudonym per woman in validation (the merged patient's record passed on again as a link
# revision that validation, metric and publish take: metric follows its latest revision), each
# record once in every stage, nothing left in any backlog, and every other record as it was.
# Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

women=6
sim=$E2E_DIR/sim
e2e_sim "$sim" 200 2 21 --invalid-rate 0
first=$E2E_DIR/first
bridges=$E2E_DIR/bridges

# first/<ODS>.csv: the simulated files with the women's records rewritten; bridges/<ODS>.csv: one
# record a woman (a copy of one of her trust's rows, under a new local id); women.csv: each
# rewritten record's local id and woman.
python3 - "$sim" "$first" "$bridges" "$women" <<'PY' || fail "could not write the test's files"
import csv, os, sys

sim, first, bridges, women = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for d in (first, bridges):
    os.makedirs(d, exist_ok=True)

def identity(w, kind):
    """Woman w's record of kind 'first', 'moved' or 'bridge'."""
    return {"nhs_number": "", "forename": "Zelda" + "abcdefgh"[w], "surname": "Merrow",
            "date_of_birth": "19%02d-%s" % (30 + w, "09-17" if kind == "moved" else "02-03"),
            "sex": "2",
            "postcode": "LS%d %s" % (w + 1, "1AE" if kind == "first" else "9ZZ")}

files = sorted(os.listdir(sim))
who = [("local_record_id", "woman", "kind")]
w = 0
for t, path in enumerate(files):
    trust = path[:-4]
    with open(os.path.join(sim, path), newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    extra = []
    per_trust = women // len(files)
    for k in range(per_trust):
        for j, kind in enumerate(("first", "first", "moved")):
            row = rows[3 * k + j]
            row.update(identity(w, kind))
            who.append((row["local_record_id"], w, kind))
        bridge = dict(rows[3 * k])
        bridge.update(identity(w, "bridge"))
        bridge["local_record_id"] = "%s-bridge-%d" % (trust, w)
        who.append((bridge["local_record_id"], w, "bridge"))
        extra.append(bridge)
        w += 1
    for folder, out in ((first, rows), (bridges, extra)):
        with open(os.path.join(folder, path), "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=header)
            wr.writeheader()
            wr.writerows(out)
with open(os.path.join(os.path.dirname(first), "women.csv"), "w", newline="") as f:
    csv.writer(f).writerows(who)
PY

records=$(($(cat "$first"/*.csv | wc -l) - 2))
psql_main() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

e2e_deploy main
psql_main "CREATE TABLE public.women (local_id text PRIMARY KEY, woman int, kind text)"
psql_main "COPY public.women FROM STDIN WITH (FORMAT csv, HEADER)" <"$E2E_DIR/women.csv"
# per woman: her records in validation and their distinct pseudonyms, "woman:records:pseudonyms"
per_woman() {
  psql_main "SELECT string_agg(woman || ':' || n || ':' || p, ' ' ORDER BY woman) FROM
    (SELECT w.woman, count(*) AS n, count(DISTINCT v.pseudonym) AS p FROM public.women w
     JOIN validation.record v ON v.local_id = w.local_id GROUP BY w.woman) s"
}
expect_per_woman() {
  local want="" k got
  for ((k = 0; k < women; k++)); do want+="${want:+ }$k:$1:$2"; done
  got=$(per_woman)
  [ "$got" = "$want" ] || fail "per woman records:pseudonyms in validation $got, expected $want"
}
# every record version once in validation, metric and publish, at linkage's link revision
expect_once_each() {
  local bad
  bad=$(psql_main "SELECT count(*) FROM linkage.pseudo_record p
    LEFT JOIN validation.record v USING (record_id, version)
    LEFT JOIN metric.record_state m ON m.record_id = p.record_id
    LEFT JOIN publish.seen s ON s.record_id = p.record_id
    WHERE v.link_revision IS DISTINCT FROM p.revision OR m.version IS DISTINCT FROM p.version
      OR m.link_revision IS DISTINCT FROM p.revision OR s.link_revision IS DISTINCT FROM p.revision")
  [ "$bad" = 0 ] || fail "$bad record versions not taken by validation, metric and publish at linkage's revision"
  [ "$(psql_main "SELECT count(*) FROM validation.record")" = "$1" ] ||
    fail "validation holds $(psql_main "SELECT count(*) FROM validation.record") records, expected $1"
}

e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$first"
e2e_drain
e2e_expect_drained "$records"
expect_per_woman 3 2
expect_once_each "$records"
[ "$(psql_main "SELECT count(*) FROM linkage.patient WHERE merged_into IS NOT NULL")" = 0 ] ||
  fail "patients merged before any bridging record"
before=$(psql_main "SELECT string_agg(v.record_id || ':' || v.pseudonym, ' ' ORDER BY v.record_id)
  FROM validation.record v WHERE v.local_id NOT IN (SELECT local_id FROM public.women)")
e2e_say "each of $women women is two patients: two pseudonyms in validation"

e2e_submit_all "$bridges"
e2e_drain
e2e_expect_drained "$((records + women))"
merged=$(psql_main "SELECT count(*) FROM linkage.patient WHERE merged_into IS NOT NULL")
[ "$merged" = "$women" ] || fail "$merged patients merged, expected $women"
[ "$(psql_main "SELECT count(*) FROM linkage.block b JOIN linkage.patient p USING (patient_id)
  WHERE p.merged_into IS NOT NULL")" = 0 ] || fail "a merged patient still holds blocking keys"
expect_per_woman 4 1
expect_once_each "$((records + women))"
revised=$(psql_main "SELECT count(*) FROM linkage.pseudo_record p JOIN public.women w
  ON w.local_id = p.local_id WHERE p.revision > 0")
[ "$revised" -ge "$women" ] || fail "$revised of the women's records passed on again, expected at least $women"
after=$(psql_main "SELECT string_agg(v.record_id || ':' || v.pseudonym, ' ' ORDER BY v.record_id)
  FROM validation.record v WHERE v.local_id NOT IN (SELECT local_id FROM public.women)")
[ "$after" = "$before" ] || fail "records of other patients changed pseudonym"
! grep -q '"msg":"batch failed' "$CTX_RUN/logs/linkage-1.log" || fail "a linkage batch failed"
e2e_expect_release_check
e2e_say "$merged patients merged: each woman's 4 records under one pseudonym, $revised passed on again"
e2e_stop_all
e2e_say "PASS"
