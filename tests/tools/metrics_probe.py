#!/usr/bin/env python3
"""metrics_probe.py - a client of a daemon's metrics listener for tests/e2e/test_metrics.sh.

Usage:
  metrics_probe.py get URL [METHOD]
      one request; prints the status code on the first line, then the body (nothing for HEAD)
  metrics_probe.py status URL [METHOD]
      one request; prints the status code only ("closed" when the server closed the connection)
  metrics_probe.py status-from SOURCE URL
      GET from the local address SOURCE (e.g. 127.0.0.2: another client than the attacker's
      127.0.0.1); prints the status code only
  metrics_probe.py value URL SERIES
      the value of SERIES (e.g. 'ncap_backlog_records{stage="linkage"}') in URL/metrics; exit 1
      when the series is not there
  metrics_probe.py hostile URL UNTIL_FILE
      an attacker of the listener: a request with 1 MB of headers, a URL of 100 KB, bytes that are
      not HTTP, and 20 connections that send half a request and then nothing; prints one line per
      attempt ("huge-header 431", "slow 20 opened"...), then keeps the slow connections open until
      UNTIL_FILE exists (polled every 0.2 s), and exits 0
Python's standard library only.
"""

import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request


def get(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as rep:
            return rep.status, rep.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def status_from(source, url):
    host, port = host_port(url)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1] if url.count("/") > 2 else "/"
    conn = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return "closed"
    finally:
        conn.close()


def host_port(url):
    rest = url.split("://", 1)[1].split("/", 1)[0]
    host, port = rest.rsplit(":", 1)
    return host.strip("[]"), int(port)


def raw(url, data):
    """Sends data on a new connection; the status the server answered, or 'closed'."""
    s = socket.create_connection(host_port(url), timeout=30)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may close before taking it all: what it answered is read next
        rep = b""
        while True:
            try:
                chunk = s.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            rep += chunk
        if rep.startswith(b"HTTP/1."):
            return rep.split(b" ", 2)[1].decode()
        return "closed"
    finally:
        s.close()


def hostile(url, until):
    print("huge-header", raw(url, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20)
                               + b"\r\n\r\n"), flush=True)
    print("huge-url", raw(url, b"GET /" + b"m" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
          flush=True)
    print("garbage", raw(url, b"\x00\x01\x02 not http\r\n\r\n"), flush=True)
    slow = []
    for _ in range(20):
        try:
            s = socket.create_connection(host_port(url), timeout=30)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHo")
            slow.append(s)
        except OSError:
            pass
    print("slow", len(slow), "opened", flush=True)
    while not os.path.exists(until):
        time.sleep(0.2)
    for s in slow:
        s.close()


def main(argv):
    if len(argv) == 4 and argv[1] == "status-from":
        print(status_from(argv[2], argv[3]))
        return 0
    if len(argv) >= 3 and argv[1] in ("get", "status"):
        method = argv[3] if len(argv) > 3 else "GET"
        try:
            status, body = get(argv[2], method)
        except (OSError, http.client.HTTPException):
            status, body = "closed", ""
        print(status)
        if argv[1] == "get":
            sys.stdout.write(body)
        return 0
    if len(argv) == 4 and argv[1] == "value":
        status, body = get(argv[2] + "/metrics")
        if status != 200:
            print(f"GET {argv[2]}/metrics: status {status}", file=sys.stderr)
            return 2
        for line in body.splitlines():
            name, _, value = line.rpartition(" ")
            if name == argv[3]:
                print(value)
                return 0
        return 1
    if len(argv) == 4 and argv[1] == "hostile":
        hostile(argv[2], argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
