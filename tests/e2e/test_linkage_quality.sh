#!/usr/bin/env bash
# Who fails to link, end to end: simulated hip fracture records from 2 trusts whose identifiers are
# rewritten so that how each record must link is known: patients seen twice with the same NHS
# number and date of birth (both records linked by NHS number), patients seen twice, the second
# time without an NHS number (both linked by probabilistic match), patients seen once (left as
# singletons, half of them without an NHS number), some of them in the register of deaths, and
# opted-out patients (withheld). Through the daemons with a copy of the definitions in which NHFD
# says opt_out_applies: true and suppresses nothing (min_count 1), the opted-out records submitted
# first: each period's linkage_quality.csv must hold exactly the counts this script works out from
# the files it wrote (per England, trust and site, and by IMD quintile from deploy/refdata, ethnic
# group, sex and age band), `ncap report linkage --csv` must print the same bytes as the files,
# latest.csv's withheld_opt_out must count the opted-out records of each trust and site; then the
# register of deaths reloaded with the deaths of some patients seen twice moves their records to
# death_matched, and the report follows. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sim=$E2E_DIR/sim
e2e_sim "$sim" 320 2 11 --invalid-rate 0
gen=$E2E_DIR/gen
imd=$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv

# The files to submit (gen/optout/<ODS>.csv, the opted-out patients' records; gen/rest/<ODS>.csv,
# every other), the opt-out list, the registers of deaths (deaths1.csv before, deaths2.csv after),
# and each record's expected facts (gen/facts.csv: trust, site, period, method, death_before,
# late (the patient's death in deaths2.csv only), withheld, imd_quintile, ethnicity, sex, age).
python3 - "$sim" "$gen" "$imd" <<'PY' || fail "could not write the test's files"
import csv, datetime, os, random, sys

sim, gen, imd_path = sys.argv[1:4]
rng = random.Random(18)
for d in ("optout", "rest"):
    os.makedirs(os.path.join(gen, d), exist_ok=True)

def nhs_number():
    while True:
        d = [4] + [rng.randrange(10) for _ in range(8)]
        check = 11 - sum(x * (10 - i) for i, x in enumerate(d)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, d + [check]))

used = set()
def person(arrival):
    while True:
        letters = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(7))
        if letters not in used:
            used.add(letters)
            break
    age = rng.randrange(50, 100)
    dob = arrival.date() - datetime.timedelta(days=365 * age + rng.randrange(365))
    return {"nhs_number": nhs_number(), "forename": "F" + letters[::-1], "surname": "S" + letters,
            "date_of_birth": dob.isoformat()}

deciles = {}
with open(imd_path, newline="") as f:
    for r in csv.DictReader(f):
        deciles[r["lsoa11cd"]] = int(r["imd2019_decile"])

def ethnicity(code):
    for letters, group in (("ABC", "white"), ("DEFG", "mixed"), ("HJKL", "asian"),
                           ("MNP", "black"), ("RS", "other"), ("Z", "not_stated")):
        if len(code) == 1 and code in letters:
            return group
    return "unknown"

def age_band(dob, arrival):
    d = datetime.date.fromisoformat(dob)
    a = arrival.date()
    age = a.year - d.year - ((a.month, a.day) < (d.month, d.day))
    for lo, hi in ((0, 59), (60, 69), (70, 79), (80, 89)):
        if age <= hi:
            return "%d-%d" % (lo, hi)
    return "90+"

optouts, deaths1, deaths2, facts = [], [], [], []
pattern = ["A", "A", "B", "B", "C", "D", "C", "A", "A", "C"]
for path in sorted(os.listdir(sim)):
    trust = path[:-4]
    with open(os.path.join(sim, path), newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    out = {"optout": [], "rest": []}
    k, prev, pair = 0, None, 0
    for i, row in enumerate(rows):
        kind = pattern[k % len(pattern)]
        k += 1
        arrival = datetime.datetime.fromisoformat(row["arrival_datetime"])
        second = kind in "AB" and prev is not None and prev[0] == kind and prev[2] == 1
        if second:
            # the patient's first record again under another local id (a readmission as sent):
            # its period, site and categories the same, whichever of the two links first
            local_id = row["local_record_id"]
            row = dict(first_row)
            row["local_record_id"] = local_id
            arrival = datetime.datetime.fromisoformat(row["arrival_datetime"])
            p = dict(prev[1])
            if kind == "B":
                p["nhs_number"] = ""
            # both records of the patient linked alike (README.md, "linkage_quality.csv")
            method, pair = ("nhs_number" if kind == "A" else "probabilistic"), 2
            facts[first]["method"] = method
        else:
            p = person(arrival)
            p["postcode"] = row["postcode"]
            method, pair = "singleton", 1  # until the patient's second record, if one comes
            if kind == "C" and rng.random() < 0.5:
                p["nhs_number"] = ""
        prev = (kind, p if not second else prev[1], pair)
        if not second:
            first, first_row = len(facts), row
        row.update(p)
        withheld = kind == "D"
        if withheld:
            optouts.append(p["nhs_number"])
        dead_before = kind == "C" and rng.random() < 0.3
        # patients seen twice: every other pair gets its death in the second register only
        late = kind == "A" and second and (i // 2) % 2 == 0
        death = {"nhs_number": p["nhs_number"], "forename": p["forename"],
                 "surname": p["surname"], "date_of_birth": p["date_of_birth"], "sex": row["sex"],
                 "postcode": p["postcode"],
                 "date_of_death": (arrival + datetime.timedelta(days=40)).date().isoformat()}
        if dead_before:
            deaths1.append(death)
        if late:
            deaths2.append(death)
        decile = deciles.get(row["lsoa"])
        quarter = "%dQ%d" % (arrival.year, (arrival.month - 1) // 3 + 1)
        sex = {"1": "male", "2": "female", "9": "indeterminate"}.get(row["sex"], "unknown")
        if late:
            facts[first]["late"] = 1
        facts.append({"trust": trust, "site": row["site_code"], "period": quarter,
                      "method": method, "death_before": int(dead_before), "late": int(late),
                      "withheld": int(withheld),
                      "imd_quintile": str((decile + 1) // 2) if decile else "unknown",
                      "ethnicity": ethnicity(row["ethnic_category"]), "sex": sex,
                      "age": age_band(p["date_of_birth"], arrival),
                      "local_id": row["local_record_id"]})
        out["optout" if withheld else "rest"].append(row)
    for d, rs in out.items():
        with open(os.path.join(gen, d, path), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
            w.writeheader()
            w.writerows(rs)
with open(os.path.join(gen, "optouts.csv"), "w") as f:
    f.write("nhs_number\n" + "".join(n + "\n" for n in optouts))
cols = ["nhs_number", "forename", "surname", "date_of_birth", "sex", "postcode", "date_of_death"]
for name, rows in (("deaths1.csv", deaths1), ("deaths2.csv", deaths1 + deaths2)):
    with open(os.path.join(gen, name), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
with open(os.path.join(gen, "facts.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(facts[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(facts)
PY
e2e_say "$(($(wc -l <"$gen/facts.csv") - 1)) records, $(($(wc -l <"$gen/optouts.csv") - 1)) opted out, $(($(wc -l <"$gen/deaths1.csv") - 1)) deaths first and $(($(wc -l <"$gen/deaths2.csv") - 1)) later"

# the definitions: the opt-out applies, and nothing is suppressed, so that every count is compared
e2e_audits_optout_applies
sed -i 's/^  min_count: 8$/  min_count: 1/' "$CTX_AUDITS/$E2E_AUDIT.yaml"
grep -qx '  min_count: 1' "$CTX_AUDITS/$E2E_AUDIT.yaml" ||
  fail "could not set min_count: 1 in the copy ${CTX_AUDITS#"$NCAP_ROOT"/}/$E2E_AUDIT.yaml"

e2e_deploy main
e2e_load_refdata
for kind_file in optouts:"$gen/optouts.csv" deaths:"$gen/deaths1.csv"; do
  e2e_ncap refdata load "${kind_file%%:*}" "${kind_file#*:}" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
    fail "ncap refdata load ${kind_file%%:*} failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
done
e2e_start_pipeline
e2e_wait_registered ingest 1
# the opted-out records first: a release is rebuilt when records reach metric, and the withheld
# ones never do, so the releases built after the others count them all
e2e_submit_all "$gen/optout"
e2e_drain
e2e_submit_all "$gen/rest"
e2e_drain

# check PHASE: every period's linkage_quality.csv holds the counts expected from facts.csv (PHASE
# before: the deaths of deaths1.csv; after: deaths2.csv's too), with its shares, and nothing else;
# `ncap report linkage --csv` prints the files' bytes; each latest.csv's withheld_opt_out counts
# the opted-out records of its trusts and sites.
# agrees PHASE: whether the published files agree (publish writes linkage_quality.csv just after
# the round's commit, which may come a moment after `ncap wait` returns); what it found in
# CTX_RUN/agree.log.
agrees() {
  python3 - "$1" "$gen/facts.csv" "$CTX_OUT/$E2E_AUDIT" >"$CTX_RUN/agree.log" 2>&1 <<'PY'
import collections, csv, os, sys

phase, facts_path, root = sys.argv[1:4]
with open(facts_path, newline="") as f:
    facts = list(csv.DictReader(f))
COUNTS = ("records", "nhs_number", "probabilistic", "singleton", "death_matched")
want = collections.defaultdict(lambda: [0] * 5)
withheld = collections.Counter()
for x in facts:
    if x["withheld"] == "1":
        for key in ((x["period"], "england", "E92000001"), (x["period"], "trust", x["trust"]),
                    (x["period"], "site", x["site"])):
            withheld[key] += 1
        continue
    dead = x["death_before"] == "1" or (phase == "after" and x["late"] == "1")
    add = [1, x["method"] == "nhs_number", x["method"] == "probabilistic",
           x["method"] == "singleton", dead]
    slots = [("all", "")] + [(b, x[b]) for b in ("imd_quintile", "ethnicity", "sex", "age")]
    for level, code, parent in (("england", "E92000001", ""), ("trust", x["trust"], "E92000001"),
                                ("site", x["site"], x["trust"])):
        for b, c in slots if level != "site" else slots[:1]:
            row = want[(x["period"], level, code, parent, b, c)]
            for i, v in enumerate(add):
                row[i] += int(v)
# a trust's category is published from 30 records up
want = {k: v for k, v in want.items() if k[1] != "trust" or k[4] == "all" or v[0] >= 30}
got, bad = {}, 0
for period in sorted(os.listdir(root)):
    path = os.path.join(root, period, "linkage_quality.csv")
    if not os.path.exists(path):
        continue
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["period"], r["level"], r["area_code"], r["parent_code"], r["breakdown"],
                   r["category"])
            got[key] = [int(r[c]) for c in COUNTS]
            for c in COUNTS[1:]:
                share = "%.6f" % (int(r[c]) / int(r["records"]))
                if r["share_" + c] != share or r["note"] != "":
                    print("%s: share_%s %s, note %r, expected %s" % (key, c, r["share_" + c],
                                                                     r["note"], share))
                    bad += 1
for key in sorted(set(want) | set(got)):
    if want.get(key) != got.get(key):
        print("%s: published %s, expected %s (%s)" % (key, got.get(key), want.get(key),
                                                      ",".join(COUNTS)))
        bad += 1
# the selection ledger: every metric's all rows of England, trusts and sites
seen = 0
for period in sorted(os.listdir(root)):
    path = os.path.join(root, period, "latest.csv")
    if not os.path.exists(path):
        continue
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["breakdown"] != "all" or r["level"] == "region":
                continue
            w = withheld[(period, r["level"], r["area_code"])]
            seen += 1
            if r["withheld_opt_out"] != str(w):
                print("%s %s %s %s: withheld_opt_out %r, expected %d" % (
                    period, r["metric"], r["level"], r["area_code"], r["withheld_opt_out"], w))
                bad += 1
if seen == 0 or sum(withheld[k] for k in withheld if k[1] == "england") == 0:
    print("nothing to compare: %d ledger rows, %d opted-out records" % (seen, sum(
        withheld[k] for k in withheld if k[1] == "england")))
    bad += 1
print("%d rows of linkage_quality.csv and %d ledger rows compared, %d disagreements"
      % (len(got), seen, bad))
sys.exit(1 if bad else 0)
PY
}

check() {
  ncap_wait_until 30 agrees "$1" ||
    fail "linkage_quality.csv or withheld_opt_out disagree with the files submitted ($1): $(head -n 20 "$CTX_RUN/agree.log")"
  tail -n 1 "$CTX_RUN/agree.log"
  local files
  mapfile -t files < <(find "$CTX_OUT/$E2E_AUDIT" -name linkage_quality.csv | sort)
  # the command prints what was published, byte for byte
  {
    head -n 1 "${files[0]}"
    for f in "${files[@]}"; do tail -n +2 "$f"; done
  } >"$CTX_RUN/published.csv"
  e2e_ncap report linkage --audit "$E2E_AUDIT" --csv >"$CTX_RUN/report.csv" 2>"$CTX_RUN/report.err" ||
    fail "ncap report linkage failed: $(cat "$CTX_RUN/report.err")"
  cmp -s "$CTX_RUN/published.csv" "$CTX_RUN/report.csv" ||
    fail "ncap report linkage --csv differs from the published linkage_quality.csv: $(diff "$CTX_RUN/published.csv" "$CTX_RUN/report.csv" | head -n 5)"
  local trust
  trust=$(basename "$(find "$gen/rest" -name '*.csv' | sort | head -n 1)" .csv)
  e2e_ncap report linkage --audit "$E2E_AUDIT" --trust "$trust" >"$CTX_RUN/report.txt" 2>&1 ||
    fail "ncap report linkage --trust $trust failed: $(cat "$CTX_RUN/report.txt")"
  grep -q "^trust $trust " "$CTX_RUN/report.txt" &&
    [ -z "$(awk -v t="$trust" '$1 == "trust" && $2 != t' "$CTX_RUN/report.txt")" ] ||
    fail "ncap report linkage --trust $trust does not show that trust alone: $(head -n 8 "$CTX_RUN/report.txt")"
  e2e_say "linkage_quality.csv, ncap report linkage and withheld_opt_out agree with the files ($1)"
}
check before

# the register reloaded with the deaths of some patients seen twice: both their records turn
# death_matched (the death sweep), and the files and the report follow
e2e_ncap refdata load deaths "$gen/deaths2.csv" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
  fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
e2e_drain
check after

e2e_stop_all
e2e_say "PASS"
