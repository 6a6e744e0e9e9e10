#!/usr/bin/env python3
"""portal_check.py - drives the portal (the static site under RELEASES/site/) in headless Chromium
as people use it, and checks it against the release files it was drawn from:
  - the home page lists every audit (its name from latest.json), grouped under its speciality;
  - a trust found by the search box on an audit page opens its page;
  - on every metric's funnel plot each trust's dot is where its figures in latest.csv put it
    (the circle's cx and cy against the axis mapping the svg declares), and a suppressed trust
    has no dot and reads "suppressed (fewer than N)" in the table; England's run chart draws the
    months spc.csv shows (a hidden month reads suppressed in its table) and each inequality chart
    the categories not suppressed;
  - each earlier period with pages of its own (the 8 before the latest) checked the same way
    against its own files, its pages passing the page checks below, the latest's page linking it;
  - keyboard only: TAB from the top of an audit page reaches every trust link of its tables, and
    ENTER on one opens the trust's page;
  - on the main pages: one h1 and headings in order, a lang attribute and a skip link, every
    svg chart role=img with a title and description and a table after it, every form control
    labelled, every badge with words, nothing loaded from elsewhere, every download link a file;
  - `tidy -access 2` reports nothing on any page but its reminders to check by hand (below);
  - screenshots of the home, audit, metric and trust pages into --shots (NAME.png the whole
    page, NAME-top.png its first screen).
Usage: portal_check.py --releases DIR --shots DIR [--name CODE=NAME]  (NAME: a trust's name as
loaded, e.g. with < > & " ', that its page must show as text). Exit 0 when all hold."""

import argparse
import csv
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402

# tidy's WCAG 1.0 checks that are reminders to check by hand whenever a page has a script or an
# input (it cannot tell), and 13.1.1.3 "link text too long" (over 60 characters: trusts' official
# names, metrics' titles, which are the meaningful text). Everything else fails.
TIDY_REMINDERS = {"2.1.1.4", "2.1.1.5", "6.2.2.2", "6.3.1.1", "7.1.1.1", "8.1.1.1", "13.1.1.3"}

A11Y_SCRIPT = r"""
var p = [];
if (document.documentElement.lang !== 'en') p.push('no lang="en"');
var hs = Array.prototype.map.call(document.querySelectorAll('h1,h2,h3,h4,h5,h6'),
                                  function (h) { return +h.tagName[1]; });
if (hs[0] !== 1) p.push('the first heading is not h1');
if (hs.filter(function (l) { return l === 1; }).length !== 1) p.push('not exactly one h1');
for (var i = 1; i < hs.length; i++)
  if (hs[i] > hs[i - 1] + 1) p.push('heading h' + hs[i - 1] + ' followed by h' + hs[i]);
document.querySelectorAll('svg').forEach(function (s) {
  if (s.getAttribute('role') !== 'img') p.push('svg without role=img: ' + s.id);
  var lb = s.getAttribute('aria-labelledby'), al = s.getAttribute('aria-label');
  var named = al || (lb && lb.split(' ').every(function (id) {
    var e = document.getElementById(id); return e && e.textContent.trim() !== ''; }));
  if (!named) p.push('svg without an accessible name: ' + s.id);
  if (s.classList.contains('chart')) {
    if (!s.querySelector('title') || !s.querySelector('desc')) p.push('chart without title and desc: ' + s.id);
    var n = s.nextElementSibling;
    while (n && n.tagName !== 'TABLE' && !/^H[1-6]$/.test(n.tagName)) n = n.nextElementSibling;
    if (!n || n.tagName !== 'TABLE') p.push('chart without a table equivalent after it: ' + s.id);
  }
});
document.querySelectorAll('input,select,textarea').forEach(function (e) {
  if (!(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.getAttribute('aria-label'))
    p.push('form control without a label: ' + (e.id || e.name));
});
var skip = document.querySelector('a.skip');
if (!skip || !document.querySelector(skip.getAttribute('href'))) p.push('no skip link to the main content');
document.querySelectorAll('.badge').forEach(function (b) {
  if (b.textContent.trim() === '') p.push('a badge with colour only');
});
document.querySelectorAll('[src],[href]').forEach(function (e) {
  var u = e.getAttribute('src') || e.getAttribute('href');
  if (/^([a-z]+:)?\/\//i.test(u)) p.push('a resource from elsewhere: ' + u);
});
return p;
"""


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def file_url(path):
    return "file://" + urllib.request.pathname2url(os.path.abspath(path))


def periods_of(releases, audit):
    """An audit's periods with a latest.json, in order (the last is the latest)."""
    d = os.path.join(releases, audit)
    return sorted(p for p in os.listdir(d)
                  if p != "final" and os.path.isfile(os.path.join(d, p, "latest.json")))


def read_period(releases, audit, period):
    """(period, latest.json, rows of latest.csv) of an audit's period."""
    d = os.path.join(releases, audit, period)
    with open(os.path.join(d, "latest.json")) as f:
        return period, json.load(f), read_csv(os.path.join(d, "latest.csv"))


def audits(releases):
    """{audit: (period, latest.json, rows of latest.csv)} for the latest period of each audit."""
    out = {}
    for name in sorted(os.listdir(releases)):
        if name == "site" or name.startswith(".") or not os.path.isdir(os.path.join(releases, name)):
            continue
        periods = periods_of(releases, name)
        if periods:
            out[name] = read_period(releases, name, periods[-1])
    return out


EARLIER_PAGES = 8  # SITE_EARLIER_PAGES (services/publish/site/site_release.h)


def earlier_periods(releases, audit):
    """[(period, latest.json, rows of latest.csv)] of the periods before the latest that have
    pages of their own: the EARLIER_PAGES nearest it."""
    return [read_period(releases, audit, p)
            for p in periods_of(releases, audit)[:-1][-EARLIER_PAGES:]]


def check_home(b, site, tree):
    b.get(file_url(os.path.join(site, "index.html")))
    links = {b.text(e): b.attr(e, "href") for e in b.find_all("ul.audits a")}
    for audit, (_, meta, _) in tree.items():
        name = meta["provenance"]["audit_name"]
        check(name in links, f"the home page does not list {name}: {sorted(links)}")
        check(links[name] == f"audit/{audit}/index.html", f"{name} links {links[name]}")
    heads = [b.text(e) for e in b.find_all("h2")]
    for audit, (_, meta, _) in tree.items():
        spec = meta["provenance"].get("speciality", "Other")
        check(spec in heads, f"no heading for speciality {spec!r} on the home page: {heads}")
    print(f"home page lists {len(tree)} audits under their specialities")


def check_search(b, site, audit, rows):
    trusts = sorted({(r["area_code"], r["area_name"]) for r in rows if r["level"] == "trust"})
    code, name = trusts[len(trusts) // 2]
    b.get(file_url(os.path.join(site, "audit", audit, "index.html")))
    box = b.find("#search")
    check(box and b.displayed(box), "no visible search box on the audit page")
    b.type(box, code.lower())
    visible = b.run("return Array.prototype.filter.call("
                    "document.querySelector('table.trusts').tBodies[0].rows,"
                    "function (r) { return !r.hidden; }).map(function (r) { return r.cells[0].textContent; });")
    check(visible == [f"{name} ({code})"], f"searching {code!r} shows {visible}")
    link = b.find("table.trusts tbody tr:not([hidden]) a")
    b.click(link)
    check(b.url().endswith(f"/trust/{code}.html"), f"the search's link opened {b.url()}")
    h1 = b.text(b.find("h1"))
    want = f"{name} ({code})" if name != code else f"NHS trust {code}"
    check(h1 == want, f"the trust page's heading is {h1!r}, expected {want!r}")
    print(f"search for {code} on {audit}'s page shows only {name}; its link opens trust/{code}.html")


def check_funnels(b, site, audit, meta, rows, min_count, folder=None):
    """Returns how many dots and how many suppressed trusts were checked, on the metric pages in
    folder (the latest period's, audit/AUDIT, unless given)."""
    folder = folder or os.path.join("audit", audit)
    dots = hidden = 0
    for m in meta["metrics"]:
        if m.get("kind", "proportion") not in ("proportion", "ratio"):
            continue
        b.get(file_url(os.path.join(site, folder, m["id"] + ".html")))
        svg = b.find(f"svg#funnel-{m['id']}")
        trust_rows = [r for r in rows if r["level"] == "trust" and r["metric"] == m["id"]
                      and r["breakdown"] == "all"]
        if svg is None:
            check(all(r["value"] == "" for r in trust_rows),
                  f"{audit}/{m['id']}: no funnel plot but trusts with a value")
            continue
        ax = {k: float(b.attr(svg, "data-" + k)) for k in
              ("x-min", "x-max", "y-min", "y-max", "left", "right", "top", "bottom")}
        circles = b.run("var o = {}; document.getElementById(arguments[0]).querySelectorAll("
                        "'circle[data-area]').forEach(function (c) {"
                        " o[c.getAttribute('data-area')] = [+c.getAttribute('cx'),"
                        " +c.getAttribute('cy')]; }); return o;", "funnel-" + m["id"])
        for r in trust_rows:
            code = r["area_code"]
            if "suppressed" in r["note"] or r["value"] == "":
                check(code not in circles, f"{audit}/{m['id']}: suppressed trust {code} is drawn")
                text = b.run("var code = arguments[0]; var tr = Array.prototype.find.call("
                             "document.querySelectorAll('table.trusts tbody tr'), function (t) {"
                             " return t.cells[0].textContent.endsWith('(' + code + ')'); });"
                             " return tr ? tr.cells[3].textContent : null;", code)
                if "suppressed" in r["note"]:
                    want = f"suppressed (fewer than {min_count})"
                    check(text == want, f"{audit}/{m['id']}: {code}'s value reads {text!r}, expected {want!r}")
                    hidden += 1
                continue
            x = float(r["expected"] if m.get("kind") == "ratio" else r["denominator"])
            y = float(r["value"])
            cx = ax["left"] + (x - ax["x-min"]) / (ax["x-max"] - ax["x-min"]) * (ax["right"] - ax["left"])
            cy = ax["bottom"] - (y - ax["y-min"]) / (ax["y-max"] - ax["y-min"]) * (ax["bottom"] - ax["top"])
            check(code in circles, f"{audit}/{m['id']}: trust {code} ({x}, {y}) has no dot")
            got = circles[code]
            check(abs(got[0] - cx) <= 0.006 and abs(got[1] - cy) <= 0.006,
                  f"{audit}/{m['id']}: {code}'s dot at ({got[0]}, {got[1]}), its figures "
                  f"({x}, {y}) put it at ({cx:.3f}, {cy:.3f})")
            dots += 1
        check(len(circles) == sum(1 for r in trust_rows if r["value"] and "suppressed" not in r["note"]),
              f"{audit}/{m['id']}: {len(circles)} dots, expected one per trust with a value")
    return dots, hidden


def check_metric_charts(b, site, releases, audit, period, meta, rows, min_count, folder=None):
    """England's run chart draws exactly the months spc.csv shows, and each inequality chart
    exactly the England categories not suppressed, on the metric pages in folder (as
    check_funnels). Returns (points, hidden months, categories)."""
    folder = folder or os.path.join("audit", audit)
    spc_path = os.path.join(releases, audit, period, "spc.csv")
    spc = read_csv(spc_path) if os.path.isfile(spc_path) else []
    points = hidden = cats = 0
    for m in meta["metrics"]:
        b.get(file_url(os.path.join(site, folder, m["id"] + ".html")))
        months = [r for r in spc if r["metric"] == m["id"] and r["level"] == "england"]
        drawn = b.run("var s = document.getElementById(arguments[0]); return s ? Array.prototype.map"
                      ".call(s.querySelectorAll('[data-month]'), function (e) {"
                      " return e.getAttribute('data-month'); }) : [];",
                      f"run-{audit}-{m['id']}-E92000001")
        want = [r["month"] for r in months if r["value"] != ""]
        check(drawn == want, f"{audit}/{m['id']}: England's run chart draws {drawn}, spc.csv shows {want}")
        texts = b.run("var t = document.querySelector('table.months'); return t ? Array.prototype.map"
                      ".call(t.tBodies[0].rows, function (r) { return r.cells[0].textContent + '|' +"
                      " r.cells[1].textContent; }) : [];")
        for r in months:
            if r["value"] == "":
                want_text = f"{r['month']}|suppressed (fewer than {min_count})"
                check(want_text in texts, f"{audit}/{m['id']}: hidden month {r['month']} does not read "
                                          f"suppressed in the table")
                hidden += 1
        points += len(drawn)
        for bd in sorted({r["breakdown"] for r in rows if r["level"] == "england"
                          and r["metric"] == m["id"] and r["breakdown"] not in ("all", "sii")}):
            shown = sorted(r["category"] for r in rows if r["level"] == "england" and
                           r["metric"] == m["id"] and r["breakdown"] == bd and r["value"] != ""
                           and "suppressed" not in r["note"])
            got = b.run("var s = document.getElementById(arguments[0]); return s ? Array.prototype.map"
                        ".call(s.querySelectorAll('g.category'), function (g) {"
                        " return g.getAttribute('data-category'); }) : [];", f"ineq-{m['id']}-{bd}")
            check(sorted(got) == shown, f"{audit}/{m['id']}: the {bd} chart draws {sorted(got)}, "
                                        f"the release shows {shown}")
            cats += len(got)
    return points, hidden, cats


def check_keyboard(b, site, audit):
    b.get(file_url(os.path.join(site, "audit", audit, "index.html")))
    want = set(b.run("return Array.prototype.map.call(document.querySelectorAll("
                     "'table.trusts a'), function (a) { return a.href; });"))
    focusable = b.run("return document.querySelectorAll('a[href],button,input,select').length;")
    reached, first = set(), None
    for _ in range(focusable + 5):
        b.keys(webdriver.TAB)
        href = b.run("var e = document.activeElement; return e && e.href ? e.href : null;")
        if href in want:
            reached.add(href)
            first = first or href
    missing = want - reached
    check(not missing, f"TAB never reached {len(missing)} of {len(want)} trust links, e.g. {sorted(missing)[:3]}")
    # back to the first trust link, then ENTER opens it
    b.get(file_url(os.path.join(site, "audit", audit, "index.html")))
    for _ in range(focusable + 5):
        b.keys(webdriver.TAB)
        if b.run("return document.activeElement.href || null;") == first:
            break
    b.keys(webdriver.ENTER)
    check(b.url() == first, f"ENTER on {first} opened {b.url()}")
    print(f"keyboard only: TAB reaches all {len(want)} trust links of {audit}'s tables, ENTER opens one")


def check_page(b, site, rel):
    b.get(file_url(os.path.join(site, rel)))
    problems = b.run(A11Y_SCRIPT)
    check(not problems, f"{rel}: {problems}")
    for href in b.run("return Array.prototype.map.call(document.querySelectorAll("
                      "'a[href$=\".csv\"],a[href$=\".json\"],a[href$=\".html\"]'), function (a) {"
                      " return new URL(a.getAttribute('href'), document.baseURI).href; });"):
        path = urllib.request.url2pathname(urllib.parse.urlparse(href).path)
        check(os.path.isfile(path), f"{rel} links {href}, which is not a file")


def check_earlier(b, site, releases, tree):
    """Each earlier period with pages: its funnel plots and charts drawn from its own files, its
    audit page and a metric page passing the page checks, and the latest's page linking it."""
    periods = dots = points = 0
    for audit in tree:
        for period, m, r in earlier_periods(releases, audit):
            folder = os.path.join("audit", audit, period)
            d, _ = check_funnels(b, site, audit, m, r, m["methods"]["min_count"], folder)
            p, _, _ = check_metric_charts(b, site, releases, audit, period, m, r,
                                          m["methods"]["min_count"], folder)
            check_page(b, site, os.path.join(folder, "index.html"))
            check_page(b, site, os.path.join(folder, m["metrics"][0]["id"] + ".html"))
            b.get(file_url(os.path.join(site, "audit", audit, "index.html")))
            linked = b.run("var want = arguments[0]; return Array.prototype.some.call("
                           "document.querySelectorAll('a'), function (a) {"
                           " return a.getAttribute('href') === want; });",
                           f"../../{folder}/index.html")
            check(linked, f"audit/{audit}/index.html does not link {folder}/index.html")
            periods, dots, points = periods + 1, dots + d, points + p
    print(f"earlier periods: {periods} with pages of their own, {dots} funnel dots and {points} "
          f"run-chart months where their own files put them")
    return periods


def check_tidy(site):
    pages = sorted(os.path.join(d, f) for d, _, fs in os.walk(site) for f in fs if f.endswith(".html"))
    for page in pages:
        out = subprocess.run(["tidy", "-access", "2", "-q", "-e", page], capture_output=True, text=True)
        bad = [line for line in (out.stdout + out.stderr).splitlines() if "Access: [" in line
               and line.split("Access: [", 1)[1].split("]", 1)[0] not in TIDY_REMINDERS]
        check(not bad, f"tidy -access 2 on {os.path.relpath(page, site)}: {bad[:5]}")
    print(f"tidy -access 2: no finding on {len(pages)} pages but its reminders to check by hand")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--releases", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--name", action="append", default=[], help="CODE=NAME")
    args = ap.parse_args()
    site = os.path.join(args.releases, "site")
    tree = audits(args.releases)
    os.makedirs(args.shots, exist_ok=True)
    try:
        check(tree, f"no release under {args.releases}")
        check(os.path.isfile(os.path.join(site, "index.html")), f"no {site}/index.html")
        check_tidy(site)
        with webdriver.Browser() as b:
            check_home(b, site, tree)
            first = sorted(tree)[0]
            period, meta, rows = tree[first]
            check_search(b, site, first, rows)
            dots = hidden = 0
            for audit, (_, m, r) in tree.items():
                d, h = check_funnels(b, site, audit, m, r, m["methods"]["min_count"])
                dots, hidden = dots + d, hidden + h
            check(dots > 0, "no dot checked on any funnel plot")
            check(hidden > 0, "no suppressed trust row to check: make the test's data smaller")
            print(f"funnel plots: {dots} dots where their figures put them; {hidden} suppressed trusts not drawn")
            points = months = cats = 0
            for audit, (per, m, r) in tree.items():
                p, h, c = check_metric_charts(b, site, args.releases, audit, per, m, r,
                                              m["methods"]["min_count"])
                points, months, cats = points + p, months + h, cats + c
            check(points > 0 and cats > 0, "no run chart point or inequality category to check")
            print(f"run charts: {points} months drawn as spc.csv shows them, {months} hidden months not "
                  f"drawn; inequality charts: {cats} categories, none suppressed drawn")
            check(check_earlier(b, site, args.releases, tree) > 0,
                  "no earlier period to check: the test's records should span more than one")
            check_keyboard(b, site, first)
            code = sorted(r["area_code"] for r in rows if r["level"] == "trust")[0]
            metric = next(m["id"] for m in meta["metrics"] if m.get("kind", "proportion") == "proportion")
            main_pages = {"home": "index.html", "audit": f"audit/{first}/index.html",
                          "metric": f"audit/{first}/{metric}.html", "trust": f"trust/{code}.html"}
            for shot, rel in main_pages.items():
                check_page(b, site, rel)
                b.run("window.scrollTo(0, 0); var dot = document.querySelector('svg.funnel a');"
                      " if (dot) dot.focus({preventScroll: true});")  # its figures shown
                b.screenshot(os.path.join(args.shots, f"{shot}-top.png"), full=False)
                b.screenshot(os.path.join(args.shots, f"{shot}.png"))
            print(f"main pages: headings in order, charts named with tables, controls labelled, "
                  f"downloads resolve; screenshots in {args.shots}")
            for pair in args.name:
                code, name = pair.split("=", 1)
                b.get(file_url(os.path.join(site, "trust", f"{code}.html")))
                h1 = b.find("h1")
                check(b.text(h1) == f"{name} ({code})", f"trust/{code}.html's heading reads {b.text(h1)!r}")
                check(b.run("return document.querySelectorAll('h1 *, title *').length;") == 0,
                      f"trust/{code}.html: its name made elements")
                print(f"the name {name!r} shows as text on trust/{code}.html")
    except (Failure, webdriver.WebDriverError) as e:
        print(f"portal_check: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
