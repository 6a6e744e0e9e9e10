#!/usr/bin/env python3
"""web_probe.py - a client of ncap-webd for tests/e2e/test_web.sh. Python's standard library only.

Usage:
  web_probe.py rows-json URL LATEST_JSON [QUERY]
      every page of URL/api/v1/audits/AUDIT/rows?QUERY (JSON, followed by its "next") against
      latest.json's columns and rows, every column, filtered as QUERY asks (level, area, metric,
      breakdown); prints "rows N pages P", exit 1 on a difference
  web_probe.py rows-csv URL LATEST_CSV [QUERY]
      the same in CSV (format=csv, the pages followed by their Link header) against latest.csv,
      byte for byte: each page is latest.csv's header line and the lines of its rows the filter
      keeps, as they are in the file
  web_probe.py hostile URL
      hostile requests to every endpoint, each with the status and problem type it must get, and
      after each a normal request that must still be answered 200; prints one line per request,
      exit 1 on the first that is not refused as it should be
  web_probe.py slow URL N SECONDS
      N connections that send half a request header, a byte a second, for SECONDS at most;
      prints "slow N closed K" (K: those the server closed meanwhile)
  web_probe.py raw URL HEX_OR_TEXT
      sends the bytes as they are, prints the status line's code ("closed" when none came)
"""

import csv
import http.client
import io
import json
import socket
import sys
import time
import urllib.parse

FILTERS = {"level": 2, "area": 3, "metric": 6, "breakdown": 7}


def split(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port, u.path.rstrip("/")


def request(url, method="GET", path="/", headers=None, body=None):
    host, port, _ = split(url)
    c = http.client.HTTPConnection(host, port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def wanted(rows, query):
    q = urllib.parse.parse_qs(query)
    for name, col in FILTERS.items():
        if name in q:
            rows = [r for r in rows if r[col] == q[name][0]]
    return rows


def audit_of(path):
    # .../<audit>/<period>/latest.json
    parts = path.rstrip("/").split("/")
    return parts[-3], parts[-2]


def compare(got, want, pages):
    """0 when the API's rows are the file's, else 1 after saying where they first differ."""
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                print("row %d differs:\n  api  %s\n  file %s" % (i + 1, g, w))
                break
        print("api %d rows, file %d" % (len(got), len(want)))
        return 1
    print("rows %d pages %d" % (len(got), pages))
    return 0


def rows_json(url, latest, query=""):
    doc = json.load(open(latest))
    audit, period = audit_of(latest)
    want = wanted(doc["rows"], query)
    got, pages, after = [], 0, None
    while True:
        q = "period=%s&limit=200%s%s" % (period, "&" + query if query else "",
                                         "&after=" + after if after else "")
        st, h, b = request(url, path="/api/v1/audits/%s/rows?%s" % (audit, q))
        if st != 200:
            print("status %d: %s" % (st, b[:300]))
            return 1
        page = json.loads(b)
        if page["columns"] != doc["columns"]:
            print("columns differ: %s" % page["columns"])
            return 1
        got += page["rows"]
        pages += 1
        after = page["next"]
        if not after:
            break
    return compare(got, want, pages)


def csv_lines(data):
    """The bytes of each record of a CSV (its line ending kept; a quoted newline stays inside)."""
    lines, start, quoted = [], 0, False
    for i, c in enumerate(data):
        if c == 0x22:
            quoted = not quoted
        elif c == 0x0A and not quoted:
            lines.append(data[start:i + 1])
            start = i + 1
    if start < len(data):
        lines.append(data[start:])
    return lines


def parsed(line):
    return next(csv.reader(io.StringIO(line.decode("utf-8"), newline="")))


def rows_csv(url, latest, query=""):
    with open(latest, "rb") as f:
        file_lines = csv_lines(f.read())
    audit, period = audit_of(latest)
    head = file_lines[0]
    # the lines the filter keeps, each as its bytes (a row's last item: its line's index)
    rows = [parsed(x) + [i] for i, x in enumerate(file_lines[1:], 1)]
    want = [file_lines[r[-1]] for r in wanted(rows, query)]
    got, pages = [], 0
    path = "/api/v1/audits/%s/rows?period=%s&limit=200&format=csv%s" % (
        audit, period, "&" + query if query else "")
    while path:
        st, h, b = request(url, path=path)
        if st != 200 or not h.get("content-type", "").startswith("text/csv"):
            print("status %d %s: %s" % (st, h.get("content-type"), b[:300]))
            return 1
        lines = csv_lines(b)
        if not lines or lines[0] != head:
            print("header differs: %r" % (lines[0] if lines else b""))
            return 1
        got += lines[1:]
        pages += 1
        link = h.get("link", "")
        path = link[1:link.index(">")] if link.startswith("<") else None
    return compare(got, want, pages)


def raw(url, data, read_timeout=10):
    host, port, _ = split(url)
    s = socket.create_connection((host, port), timeout=read_timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b""
        while b"\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
        parts = buf.split(b" ", 2)
        return parts[1].decode() if len(parts) > 1 and buf.startswith(b"HTTP/") else "closed"
    except OSError:
        return "closed"
    finally:
        s.close()


def problem_type(h, b):
    if not h.get("content-type", "").startswith("application/problem+json"):
        return "(not problem+json: %s)" % h.get("content-type")
    try:
        p = json.loads(b)
    except ValueError:
        return "(invalid JSON)"
    if not all(k in p for k in ("type", "title", "status", "detail")):
        return "(members missing: %s)" % sorted(p)
    return p["type"].rsplit(":", 1)[-1]


def hostile(url):
    big = "a" * (1 << 20)
    cases = [
        # (label, method, path, headers, body, status, problem type)
        ("level-malformed", "GET", "/api/v1/audits/nhfd/rows?level=county", {}, None, 400, "bad-query"),
        ("limit-huge", "GET", "/api/v1/audits/nhfd/rows?limit=100000000", {}, None, 400, "bad-query"),
        ("after-text", "GET", "/api/v1/audits/nhfd/releases?after=x", {}, None, 400, "bad-query"),
        ("sql-in-area", "GET", "/api/v1/audits/nhfd/rows?area=RX1%27%3B%20DROP%20TABLE%20publish.output%3B--", {}, None, 400, "bad-query"),
        ("unknown-param", "GET", "/api/v1/audits?admin=1", {}, None, 400, "bad-query"),
        ("repeated-param", "GET", "/api/v1/audits/nhfd/rows?metric=a&metric=b", {}, None, 400, "bad-query"),
        ("bad-escape", "GET", "/api/v1/audits/nhfd/rows?metric=%zz", {}, None, 400, "bad-query"),
        ("revision-no-period", "GET", "/api/v1/audits/nhfd/rows?revision=1", {}, None, 400, "bad-request"),
        ("audit-traversal", "GET", "/api/v1/audits/..%2f..%2fetc/rows", {}, None, 400, "bad-path"),
        ("audit-unknown", "GET", "/api/v1/audits/nosuch/rows", {}, None, 404, "no-release"),
        ("period-unknown", "GET", "/api/v1/audits/nhfd/rows?period=1999Q1", {}, None, 404, "no-release"),
        ("metrics-csv", "GET", "/api/v1/audits/nhfd/metrics?format=csv", {}, None, 400, "bad-query"),
        ("accept-html", "GET", "/api/v1/audits", {"Accept": "text/html"}, None, 406, "not-acceptable"),
        ("no-route", "GET", "/api/v1/admin", {}, None, 404, "not-found"),
        ("delete-api", "DELETE", "/api/v1/audits/nhfd", {}, None, 405, "method-not-allowed"),
        ("post-read", "POST", "/api/v1/audits", {"Content-Type": "application/json"}, b"{}", 405, "method-not-allowed"),
        ("get-submit", "GET", "/api/v1/submissions", {}, None, 405, "method-not-allowed"),
        ("put-file", "PUT", "/site/index.html", {}, b"x", 405, "method-not-allowed"),
        ("submit-no-token", "POST", "/api/v1/submissions?audit=nhfd&trust=RX1", {"Content-Type": "text/csv"}, b"a,b\n", 401, "unauthorized"),
        ("submit-basic", "POST", "/api/v1/submissions?audit=nhfd&trust=RX1", {"Authorization": "Basic eDp5", "Content-Type": "text/csv"}, b"a\n", 401, "unauthorized"),
        ("submit-json", "POST", "/api/v1/submissions?audit=nhfd&trust=RX1", {"Authorization": "Bearer abc", "Content-Type": "application/json"}, b"{\"a\": 1}", 415, "unsupported-media-type"),
        ("submit-malformed-query", "POST", "/api/v1/submissions?audit=nhfd&trust=RX1%27", {"Authorization": "Bearer abc", "Content-Type": "text/csv"}, b"a\n", 400, "bad-query"),
        ("feedback-bad-id", "GET", "/api/v1/submissions/1%20OR%201/feedback", {"Authorization": "Bearer abc"}, None, 400, "bad-path"),
        ("results-no-token", "GET", "/api/v1/results?audit=nhfd", {}, None, 401, "unauthorized"),
        ("outliers-bad-token", "GET", "/api/v1/outliers", {"Authorization": "Bearer a\"b"}, None, 401, "unauthorized"),
        ("case-bad-id", "GET", "/api/v1/outliers/..%2f1", {"Authorization": "Bearer abc"}, None, 400, "bad-path"),
        ("case-reply-csv", "POST", "/api/v1/outliers/1/response", {"Authorization": "Bearer abc", "Content-Type": "text/csv"}, b"a", 415, "unsupported-media-type"),
        ("case-reply-get", "GET", "/api/v1/outliers/1/response", {}, None, 405, "method-not-allowed"),
        ("traversal", "GET", "/../../../etc/passwd", {}, None, 400, "bad-path"),
        ("traversal-encoded", "GET", "/%2e%2e/%2e%2e/etc/passwd", {}, None, 400, "bad-path"),
        ("traversal-in-release", "GET", "/nhfd/%2e%2e/%2e%2e/%2e%2e/etc/passwd", {}, None, 400, "bad-path"),
        ("encoded-slash", "GET", "/nhfd%2f..%2f..%2fetc%2fpasswd", {}, None, 400, "bad-path"),
        ("backslash", "GET", "/nhfd\\..\\..\\etc\\passwd", {}, None, 400, "bad-path"),
        ("nul", "GET", "/site/index.html%00.csv", {}, None, 400, "bad-path"),
        ("dotdir", "GET", "/.site.tmp-x/index.html", {}, None, 404, "not-found"),
        ("missing-file", "GET", "/nhfd/2026Q1/passwd", {}, None, 404, "not-found"),
        ("long-path", "GET", "/site/" + "a" * 5000, {}, None, 414, "uri-too-long"),
        ("headers-20k", "GET", "/site/", {"X-Big": "a" * 20000}, None, 431, "headers-too-large"),
        ("body-over-limit", "POST", "/api/v1/submissions?audit=nhfd&trust=RX1", {"Authorization": "Bearer abc", "Content-Type": "text/csv", "Content-Length": "100000000000"}, None, 413, "body-too-large"),
    ]
    bad = 0
    for label, method, path, headers, body, status, ptype in cases:
        try:
            if "Content-Length" in headers:  # the header alone: the body is never sent
                head = "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
                    method, path, "".join("%s: %s\r\n" % kv for kv in headers.items()))
                got, typ = raw(url, head.encode()), ptype
                got = int(got) if got.isdigit() else got
            else:
                got, h, b = request(url, method, path, headers, body)
                typ = problem_type(h, b)
        except (OSError, http.client.HTTPException) as e:
            got, typ = "error %s" % e, ""
        ok = got == status and typ == ptype
        print("%-24s %s %s%s" % (label, got, typ, "" if ok else "  EXPECTED %d %s" % (status, ptype)))
        bad += not ok
        st, _, _ = request(url, path="/api/v1/audits")
        if st != 200:
            print("  then /api/v1/audits answered %d" % st)
            bad += 1
    # 1 MB of headers: libmicrohttpd's own 431 (or the connection closed)
    got = raw(url, ("GET /site/ HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % big).encode())
    print("%-24s %s" % ("headers-1MB", got))
    bad += got not in ("431", "closed")
    return 1 if bad else 0


def slow(url, n, seconds):
    """n connections with half a request header: the even ones then silent (the server closes
    them after its --timeout), the odd ones trickling a byte a second (held, each a connection
    slot, never a thread)."""
    host, port, path = split(url)
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /site/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        s.setblocking(False)
        socks.append(s)
    print("slow %d opened" % n, flush=True)
    closed = set()
    end = time.time() + seconds
    while time.time() < end:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if i % 2:
                    s.send(b"x")
                d = s.recv(4096)
                if d == b"" or d.startswith(b"HTTP/"):
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
        time.sleep(1)
    for s in socks:
        s.close()
    idle = (n + 1) // 2
    print("slow %d idle-closed %d of %d trickling-held %d of %d" % (
        n, len([i for i in closed if i % 2 == 0]), idle,
        len([i for i in range(1, n, 2) if i not in closed]), n - idle))
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, url = argv[1], argv[2]
    if cmd == "rows-json":
        return rows_json(url, argv[3], argv[4] if len(argv) > 4 else "")
    if cmd == "rows-csv":
        return rows_csv(url, argv[3], argv[4] if len(argv) > 4 else "")
    if cmd == "hostile":
        return hostile(url)
    if cmd == "slow":
        return slow(url, int(argv[3]), float(argv[4]))
    if cmd == "raw":
        print(raw(url, argv[3].encode().decode("unicode_escape").encode("latin-1")))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
