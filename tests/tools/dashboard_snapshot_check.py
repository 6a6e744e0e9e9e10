#!/usr/bin/env python3
"""dashboard_snapshot_check.py - checks a page of deploy/monitoring/dashboard-snapshot drawn from
tests/tools/fake_prometheus.py, for tests/e2e/test_dashboard_snapshot.sh.

Usage: dashboard_snapshot_check.py PAGE.html DASHBOARD.json [--fail SUBSTRING]...

Checks, against the dashboard and the fake's canned series:
  - the page says it is a rendering of the dashboard's panels from Prometheus data, not Grafana;
  - one panel per panel of the dashboard (rows aside), with its id and title, in the dashboard's
    order and where its gridPos puts it (left to right, top to bottom);
  - a panel none of whose queries fails draws its data: a time series an SVG with a line for each
    series and a legend naming every series as the dashboard's legendFormat makes it, a stat panel
    a number, a table a row for each series with a number; and shows no error;
  - a panel with a query containing a --fail SUBSTRING shows that query's error inside it (and
    still draws its other queries' series);
  - nothing outside the page: no script, no link, no src or href to an http(s) or
    protocol-relative URL, no url() or @import in a style.
Prints one line per problem and exits 1 if any; prints a summary and exits 0 otherwise.
"""

import json
import os
import re
import sys
from html.parser import HTMLParser

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_prometheus import canned_labels, dashboard_targets, legend_name  # noqa: E402


class Page(HTMLParser):
    """The page's panels: for each, its attributes, its text, its errors, its legend names, its
    table cells and how many SVGs and lines it draws; and every external reference."""

    def __init__(self):
        super().__init__()
        self.panels, self.external, self.stack, self.text = [], [], [], []
        self.panel = None
        self.capture = None  # (kind, list) collecting the text of an error or a legend name

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag in ("script", "link", "iframe", "object", "embed", "base"):
            self.external.append(f"<{tag}>")
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "action", "poster") and value and \
                    re.match(r"\s*(https?:)?//", value):
                self.external.append(f'{tag} {name}="{value}"')
            if name == "style" and value and re.search(r"url\(|@import", value):
                self.external.append(f'{tag} style="{value}"')
        if tag == "section" and "panel" in classes:
            self.panel = {"attrs": a, "text": [], "errors": [], "legend": [], "svg": 0,
                          "lines": 0, "cells": [], "stats": [], "depth": len(self.stack)}
            self.panels.append(self.panel)
        if self.panel is not None:
            if tag == "svg":
                self.panel["svg"] += 1
            if tag in ("polyline", "circle"):
                self.panel["lines"] += 1
            if "error" in classes:
                self.capture = ("errors", [], len(self.stack))
            elif "legend-name" in classes:
                self.capture = ("legend", [], len(self.stack))
            elif tag == "td":
                self.capture = ("cells", [], len(self.stack))
            elif "stat-value" in classes:
                self.capture = ("stats", [], len(self.stack))
            elif "stat-name" in classes:
                self.capture = ("legend", [], len(self.stack))
        if tag not in ("meta", "line", "rect", "circle", "polyline", "br", "img", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("meta", "line", "rect", "circle", "polyline", "br", "img", "input"):
            return
        while self.stack:
            top = self.stack.pop()
            if self.capture and len(self.stack) == self.capture[2]:
                kind, parts, _ = self.capture
                self.panel[kind].append("".join(parts).strip())
                self.capture = None
            if self.panel is not None and len(self.stack) == self.panel["depth"]:
                self.panel = None
            if top == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        if self.panel is not None:
            self.panel["text"].append(data)
        if self.capture:
            self.capture[1].append(data)


def main(argv):
    if len(argv) < 3 or len(argv) % 2 == 0 or any(a != "--fail" for a in argv[3::2]):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        source = f.read()
    with open(argv[2]) as f:
        dashboard = json.load(f)
    fail = [argv[i + 1] for i in range(3, len(argv), 2)]
    page = Page()
    page.feed(source)
    problems = []

    text = " ".join("".join(page.text).split())
    name = os.path.basename(argv[2])
    if f"A rendering of {name}'s panels from Prometheus data" not in text or "not Grafana" not in text:
        problems.append("the page does not say that it renders the dashboard's panels from "
                        "Prometheus data, not Grafana")
    if re.search(r"url\(|@import", " ".join(re.findall(r"<style>(.*?)</style>", source, re.S))):
        problems.append("a style loads something: url() or @import")
    problems += [f"the page refers to something outside it: {e}" for e in page.external]

    by_panel = {}
    for panel, target in dashboard_targets(dashboard):
        by_panel.setdefault(id(panel), (panel, []))[1].append(target)
    expected = [p for p in dashboard["panels"] if p.get("type") != "row"]
    got_ids = [p["attrs"].get("data-panel-id") for p in page.panels]
    want_ids = [str(p["id"]) for p in expected]
    if got_ids != want_ids:
        problems.append(f"panels on the page {got_ids}, expected one per dashboard panel "
                        f"{want_ids}")

    def place(p):
        m = re.search(r"left:(\d+)px;top:(\d+)px", p["attrs"].get("style", ""))
        return (int(m.group(2)), int(m.group(1))) if m else None

    places = [place(p) for p in page.panels]
    grid = [(p["gridPos"]["y"], p["gridPos"]["x"]) for p in expected]
    if None in places or sorted(range(len(places)), key=lambda i: places[i]) != \
            sorted(range(len(grid)), key=lambda i: grid[i]):
        problems.append("the panels are not laid out in the order of their gridPos")

    drawn = 0
    got_by_id = {p["attrs"].get("data-panel-id"): p for p in page.panels}
    for want in expected:
        got = got_by_id.get(str(want["id"]))
        if got is None:
            continue  # reported above
        pid, title = want["id"], want["title"]
        where = f"panel {pid} ({title})"
        if title not in "".join(got["text"]):
            problems.append(f"{where}: its title is not shown")
        targets = by_panel.get(id(want), (want, []))[1]
        failing = [t for t in targets if any(s in t["expr"] for s in fail)]
        working = [t for t in targets if t not in failing]
        for t in failing:
            if not any(f"query {t['refId']} failed" in e and "fake failure" in e
                       for e in got["errors"]):
                problems.append(f"{where}: query {t['refId']} fails but the panel shows no error "
                                f"for it (errors: {got['errors']})")
        if not failing and got["errors"]:
            problems.append(f"{where}: shows errors although no query failed: {got['errors']}")
        if not working:
            continue
        drawn += 1
        names = [legend_name(t.get("legendFormat", ""), labels)
                 for t in working for labels in canned_labels(t.get("legendFormat", ""))]
        kind = want["type"]
        if kind == "table":
            numbers = [c for c in got["cells"] if re.fullmatch(r"-?[0-9.]+(\s?\S+)?", c)]
            values = {v for t in working for labels in canned_labels(t.get("legendFormat", ""))
                      for v in labels.values()}
            if len(numbers) < len(names):
                problems.append(f"{where}: {len(numbers)} numbers in its table, expected one for "
                                f"each of {len(names)} series")
            missing = values - set(got["cells"])
            if missing:
                problems.append(f"{where}: its table lacks the label values {sorted(missing)}")
        elif kind == "stat":
            numbers = [v for v in got["stats"] if re.match(r"-?[0-9]", v)]
            if len(numbers) != len(names):
                problems.append(f"{where}: {len(numbers)} numbers for {len(names)} series")
            missing = [n for n in names if n not in got["legend"]] if len(names) > 1 else []
            if missing:
                problems.append(f"{where}: its numbers are not named {missing} "
                                f"(they are {got['legend']})")
        else:
            if got["svg"] != 1:
                problems.append(f"{where}: {got['svg']} SVG charts, expected 1")
            if got["lines"] < len(names):
                problems.append(f"{where}: {got['lines']} lines drawn for {len(names)} series")
            missing = [n for n in names if n not in got["legend"]]
            if missing:
                problems.append(f"{where}: the legend lacks {missing} (it shows {got['legend']})")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(page.panels)} panels as in the dashboard, {drawn} drawn with every series named "
          f"as its legendFormat says, failing queries shown in their panels, nothing loaded from "
          f"outside the page")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
