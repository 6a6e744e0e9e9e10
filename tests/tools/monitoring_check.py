#!/usr/bin/env python3
"""monitoring_check.py - the alert rules and the Grafana dashboard name only what ncap exports.

Usage: monitoring_check.py EXPOSITION RULES.yml DASHBOARD.json

EXPOSITION is the text a daemon serves on /metrics with every metric present
(build/ncap_metrics_exposition prints it); its "# TYPE" lines say what the daemons export. Checks:
  - DASHBOARD.json parses; every panel has a unique id, a title, a position and at least one
    target, each with a PromQL expression and the dashboard's data source variable;
  - every expression of the dashboard and every alert of RULES.yml names at least one metric, and
    each metric an expression names (recording rules' too) is exported (a histogram's _bucket,
    _sum and _count included) or recorded by RULES.yml;
  - each alert named in a panel's description (NcapSomething) is an alert of RULES.yml.
Exit 0 when all hold; otherwise each problem is printed and the exit status is 1 (2 for unusable
input).
"""

import json
import re
import sys

import yaml

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan"}
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def exported(path):
    """{name: type} from the exposition's # TYPE lines."""
    types = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"# TYPE (\S+) (\S+)$", line.rstrip("\n"))
            if m:
                types[m.group(1)] = m.group(2)
    if not types:
        sys.exit(f"{path}: no '# TYPE' line: not a text exposition")
    names = set()
    for name, kind in types.items():
        names.add(name)
        if kind == "histogram":
            names.update(name + s for s in ("_bucket", "_sum", "_count"))
    return names


def metric_names(expr):
    """The metric names a PromQL expression selects (functions, keywords, labels left out)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = []
    for m in IDENT.finditer(e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # the exponent or unit of a number (1e3, 5m)
        names.append(word)
    return names


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    known = exported(argv[1])
    problems = []
    with open(argv[2]) as f:
        rules = yaml.safe_load(f)
    recorded, alerts, exprs = set(), set(), []
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            if "record" in rule:
                recorded.add(rule["record"])
            if "alert" in rule:
                alerts.add(rule["alert"])
            # a recording rule may be a constant (the audits' release intervals)
            exprs.append((f"{argv[2]}: rule {rule.get('alert') or rule.get('record')}",
                          str(rule.get("expr", "")), "alert" in rule))
    try:
        with open(argv[3]) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{argv[3]}: {e}", file=sys.stderr)
        return 1
    panels = dash.get("panels")
    if not isinstance(panels, list) or not panels:
        problems.append(f"{argv[3]}: no panels")
        panels = []
    variables = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
    ids = set()
    for p in panels:
        where = f"{argv[3]}: panel {p.get('id')} \"{p.get('title', '')}\""
        if p.get("id") in ids:
            problems.append(f"{where}: id used twice")
        ids.add(p.get("id"))
        if not p.get("title"):
            problems.append(f"{where}: no title")
        if not all(k in p.get("gridPos", {}) for k in ("h", "w", "x", "y")):
            problems.append(f"{where}: no gridPos h, w, x, y")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no target")
        for t in targets:
            uid = (t.get("datasource") or p.get("datasource") or {}).get("uid", "")
            if not (uid.startswith("${") and uid[2:-1] in variables):
                problems.append(f"{where}: data source \"{uid}\" is not a dashboard variable")
            exprs.append((f"{where} target {t.get('refId')}", t.get("expr", ""), True))
        for name in re.findall(r"\bNcap[A-Za-z]+\b", p.get("description", "")):
            if name not in alerts:
                problems.append(f"{where}: its description names alert {name}, not in {argv[2]}")
    for where, expr, needs_metric in exprs:
        names = metric_names(expr)
        if not names and needs_metric:
            problems.append(f"{where}: \"{expr.strip()}\" names no metric")
        for n in names:
            if n not in known and n not in recorded:
                problems.append(f"{where}: \"{n}\" is not a metric ncap exports "
                                f"(nor one the rules record)")
    for p in problems:
        print(p)
    if not problems:
        print(f"ok: {len(exprs)} expressions of {len(panels)} panels and the rules name only "
              f"metrics ncap exports ({len(known)} names) or the rules record")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
