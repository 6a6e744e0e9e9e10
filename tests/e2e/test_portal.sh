#!/usr/bin/env bash
# The portal as people use it: simulated NHFD and NELA files from 8 trusts through a deployment
# (the ODS extract loaded with one trust renamed to hold < > & " '), then the site publish wrote
# beside the releases: whole (no half-built folder left), byte for byte what `ncap site build`
# makes from the same releases (twice: deterministic), and driven in headless Chromium through
# chromedriver by tests/tools/portal_check.py: the home page lists both audits by speciality, a
# trust found by search opens its page, every trust's dot sits on its funnel plot where its
# figures in latest.csv put it and no suppressed trust is drawn, TAB alone reaches every trust
# link, the main pages pass the accessibility checks and `tidy -access 2`, the odd name shows as
# text. Screenshots of the main pages are kept under the test's folder (screenshots/);
# NCAP_SCREENSHOTS_UPDATE=1 copies their first screens to services/publish/site/screenshots/ for
# the README.
# Needs chromium, chromium-driver and tidy (NCAP_TEST_DEPS): missing, the test fails. Run
# through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in chromium chromedriver tidy; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "$tool is not installed (Debian packages chromium, chromium-driver, tidy; tests/run installs them)"
done

# Two audits' files: E2E_AUDIT says which one e2e_sim and e2e_submit_all use.
E2E_AUDIT=nhfd e2e_sim "$E2E_DIR/sim_nhfd" 2400 8 11 --deaths "$E2E_DIR/deaths_nhfd.csv"
E2E_AUDIT=nela e2e_sim "$E2E_DIR/sim_nela" 2400 8 12 --deaths "$E2E_DIR/deaths_nela.csv"
# one register of deaths for both audits' patients
{ cat "$E2E_DIR/deaths_nhfd.csv"; tail -n +2 "$E2E_DIR/deaths_nela.csv"; } >"$E2E_DIR/deaths.csv"

# The ODS extract with one simulated trust's name holding every character HTML escapes.
odd_trust=$(basename "$(find "$E2E_DIR/sim_nhfd" -name '*.csv' | sort | head -n 1)" .csv)
odd_name='ST <MARY'"'"'S> & "ALL" HOSPITALS NHS TRUST'
ods=$E2E_DIR/ods_etr.csv
python3 - "$NCAP_ROOT/deploy/refdata/ods_etr.csv" "$ods" "$odd_trust" "$odd_name" <<'PY' ||
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
hit = [r for r in rows if r and r[0] == sys.argv[3]]
if not hit:
    sys.exit(f"trust {sys.argv[3]} is not in the ODS extract")
hit[0][1] = sys.argv[4]
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)
PY
  fail "could not write the renamed ODS extract"

e2e_deploy main
for kind_file in imd:"$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv" ods:"$ods" \
  deaths:"$E2E_DIR/deaths.csv"; do
  e2e_ncap refdata load "${kind_file%%:*}" "${kind_file#*:}" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
    fail "ncap refdata load ${kind_file%%:*} failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
done
e2e_start_pipeline
e2e_wait_registered ingest 1
E2E_AUDIT=nhfd e2e_submit_all "$E2E_DIR/sim_nhfd"
E2E_AUDIT=nela e2e_submit_all "$E2E_DIR/sim_nela"
e2e_drain
e2e_stop_all # publish finishes its round, site and all, before it exits

site=$CTX_OUT/site
[ -f "$site/index.html" ] || fail "publish wrote no portal: no ${site#"$NCAP_ROOT"/}/index.html"
leftover=$(find "$CTX_OUT" -maxdepth 1 -name '.site.tmp-*')
[ -z "$leftover" ] || fail "a half-built site was left behind: $leftover"
e2e_say "publish wrote the portal: $(find "$site" -name '*.html' | wc -l) pages"

# the same bytes from `ncap site build`, twice
for n in 1 2; do
  out=$(e2e_ncap site build --releases "$CTX_OUT" --out "$E2E_DIR/site$n" 2>&1) ||
    fail "ncap site build failed: $out"
done
diff -r "$site" "$E2E_DIR/site1" >"$E2E_DIR/site.diff" 2>&1 ||
  fail "ncap site build differs from the site publish wrote: $(head -n 20 "$E2E_DIR/site.diff")"
diff -r "$E2E_DIR/site1" "$E2E_DIR/site2" >"$E2E_DIR/site.diff" 2>&1 ||
  fail "two builds of the same releases differ: $(head -n 20 "$E2E_DIR/site.diff")"
e2e_say "ncap site build writes the same bytes as publish, every time"

shots=$E2E_DIR/screenshots
rm -rf "$shots"
python3 "$NCAP_ROOT/tests/tools/portal_check.py" --releases "$CTX_OUT" --shots "$shots" \
  --name "$odd_trust=$odd_name" || fail "the portal does not hold (portal_check.py above)"
if [ "${NCAP_SCREENSHOTS_UPDATE:-}" = 1 ]; then
  mkdir -p "$NCAP_ROOT/services/publish/site/screenshots"
  for page in home audit metric trust; do
    cp "$shots/$page-top.png" "$NCAP_ROOT/services/publish/site/screenshots/$page.png"
  done
  e2e_say "screenshots copied to services/publish/site/screenshots/"
fi
e2e_say "PASS"
