#!/usr/bin/env python3
"""fake_prometheus.py - a small stand-in for Prometheus's HTTP API, for
tests/e2e/test_dashboard_snapshot.sh (deploy/monitoring/dashboard-snapshot).

Usage: fake_prometheus.py DASHBOARD.json PORT_FILE LOG_FILE [--fail SUBSTRING]...

Listens on a free port of 127.0.0.1 and writes it to PORT_FILE once it accepts connections.
Answers, in Prometheus's JSON:
  GET /api/v1/status/buildinfo   version "fake"
  GET /api/v1/query_range        a matrix for each expression of DASHBOARD.json's panels: one series
                                 per combination of the labels its legendFormat names (canned_labels
                                 below), a point every step from start to end
  GET /api/v1/query              the same series as a vector at time
An expression the dashboard does not hold is refused as Prometheus refuses a bad one (400
bad_data); one containing a --fail SUBSTRING fails as a query Prometheus cannot run (422
execution). Every query's parameters are appended to LOG_FILE as one JSON object a line.
Runs until killed. Python's standard library only.
"""

import itertools
import json
import math
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# The values a label named in a legendFormat takes in the canned series.
LABEL_VALUES = {
    "stage": ["ingest", "linkage", "validation", "metric", "publish"],
    "audit": ["nhfd", "nela"],
    "class": ["40", "08"],
    "version": ["0.1.0"],
}
LEGEND_VAR = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def dashboard_targets(dashboard):
    """[(panel, target)] of every panel with a PromQL expression, rows' nested panels included."""
    out = []
    panels = list(dashboard.get("panels", []))
    for p in panels:
        panels.extend(p.get("panels", []) if p.get("type") == "row" else [])
        for t in p.get("targets", []):
            if isinstance(t.get("expr"), str):
                out.append((p, t))
    return out


def canned_labels(legend_format):
    """The label sets the fake answers with for an expression drawn with this legendFormat."""
    names = list(dict.fromkeys(LEGEND_VAR.findall(legend_format or "")))
    values = [LABEL_VALUES.get(n, ["x"]) for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def legend_name(legend_format, labels):
    return LEGEND_VAR.sub(lambda m: labels.get(m.group(1), ""), legend_format)


def value_at(series_index, t):
    return (series_index + 1) * (1.5 + math.sin(t / 90.0 + series_index))


class Handler(BaseHTTPRequestHandler):
    exprs = {}  # expression -> legendFormat
    fail = []
    log = None
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: the log file says what was asked
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, kind, message):
        self.answer(code, {"status": "error", "errorType": kind, "error": message})

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/api/v1/status/buildinfo":
            return self.answer(200, {"status": "success", "data": {"version": "fake"}})
        if url.path not in ("/api/v1/query_range", "/api/v1/query"):
            return self.error(404, "not_found", f"no such path {url.path}")
        with self.lock, open(self.log, "a") as f:
            f.write(json.dumps(dict(q, path=url.path)) + "\n")
        expr = q.get("query", "")
        if expr not in self.exprs:
            return self.error(400, "bad_data", f"the fake holds no answer for {expr!r}")
        for s in self.fail:
            if s in expr:
                return self.error(422, "execution", f"fake failure of a query with {s}")
        label_sets = canned_labels(self.exprs[expr])
        if url.path == "/api/v1/query":
            t = float(q.get("time", 0))
            result = [{"metric": labels, "value": [t, "1"]} for labels in label_sets]
            return self.answer(200, {"status": "success",
                                     "data": {"resultType": "vector", "result": result}})
        try:
            start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
        except (KeyError, ValueError):
            return self.error(400, "bad_data", "start, end and step are needed")
        if step <= 0 or end < start:
            return self.error(400, "bad_data", "bad start, end or step")
        n = int((end - start) // step) + 1
        result = [{"metric": labels,
                   "values": [[start + k * step, f"{value_at(i, start + k * step):.6g}"]
                              for k in range(n)]}
                  for i, labels in enumerate(label_sets)]
        return self.answer(200, {"status": "success",
                                 "data": {"resultType": "matrix", "result": result}})


def main(argv):
    if len(argv) < 4 or len(argv) % 2 or any(a != "--fail" for a in argv[4::2]):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        dashboard = json.load(f)
    Handler.exprs = {t["expr"]: t.get("legendFormat", "") for _, t in dashboard_targets(dashboard)}
    Handler.fail = [argv[i + 1] for i in range(4, len(argv), 2) if argv[i] == "--fail"]
    Handler.log = argv[3]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(argv[2] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(argv[2] + ".tmp", argv[2])
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
