"""webdriver.py - a small W3C WebDriver client (python3 standard library only) for the portal's
browser tests: starts chromedriver on a free port, opens headless Chromium (Debian's chromium and
chromium-driver) with a fixed window and a throwaway profile, and offers the few commands the tests
use: open a page, find elements, read attributes, type, click, press keys, run a script, take a
screenshot. Each failure raises WebDriverError with the driver's message."""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

TAB = "\ue004"
ENTER = "\ue007"


class WebDriverError(Exception):
    pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Headless Chromium through chromedriver. Use as a context manager."""

    def __init__(self, width=1280, height=1000, chromium="chromium", driver="chromedriver"):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="ncap-chromium-")
        self.log = open(os.path.join(self.profile, "chromedriver.log"), "w")
        self.proc = subprocess.Popen([driver, f"--port={self.port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                self._http("GET", "/status")
                break
            except (OSError, WebDriverError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise WebDriverError("chromedriver did not start")
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", f"--user-data-dir={self.profile}/profile",
                "--allow-file-access-from-files", "--force-device-scale-factor=1"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": shutil.which(chromium) or chromium, "args": args}}}}
        try:
            got = self._http("POST", "/session", caps)
        except WebDriverError:
            self.close()
            raise
        self.session = got["sessionId"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if getattr(self, "session", None):
            try:
                self._http("DELETE", f"/session/{self.session}")
            except (OSError, WebDriverError):
                pass
            self.session = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _http(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                out = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read()).get("value", {})
                msg = f"{v.get('error')}: {v.get('message', '')}".split("\n")[0]
            except ValueError:
                msg = str(e)
            raise WebDriverError(f"{method} {path}: {msg}") from None
        return out.get("value", out) if path != "/session" or method != "POST" else out["value"]

    def _cmd(self, method, path, body=None):
        return self._http(method, f"/session/{self.session}{path}", body)

    # --- pages ---
    def get(self, url):
        self._cmd("POST", "/url", {"url": url})

    def url(self):
        return self._cmd("GET", "/url")

    def title(self):
        return self._cmd("GET", "/title")

    def run(self, script, *args):
        """Runs script (a function body; arguments as `arguments`) and returns its value."""
        return self._cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path, full=True):
        """The whole page (the window resized to the page's height), or the window only."""
        if not full:
            with open(path, "wb") as f:
                f.write(base64.b64decode(self._cmd("GET", "/screenshot")))
            return
        height = self.run("return Math.ceil(document.documentElement.scrollHeight);")
        rect = self._cmd("GET", "/window/rect")
        self._cmd("POST", "/window/rect", {"width": rect["width"], "height": min(height + 120, 8000)})
        png = base64.b64decode(self._cmd("GET", "/screenshot"))
        self._cmd("POST", "/window/rect", {"width": rect["width"], "height": rect["height"]})
        with open(path, "wb") as f:
            f.write(png)

    # --- elements ---
    def find(self, css):
        """The first element matching css (its WebDriver reference), or None."""
        found = self._cmd("POST", "/elements", {"using": "css selector", "value": css})
        return next(iter(found[0].values())) if found else None

    def find_all(self, css):
        found = self._cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [next(iter(e.values())) for e in found]

    def attr(self, el, name):
        return self._cmd("GET", f"/element/{el}/attribute/{name}")

    def text(self, el):
        return self._cmd("GET", f"/element/{el}/text")

    def displayed(self, el):
        return self._cmd("GET", f"/element/{el}/displayed")

    def click(self, el):
        self._cmd("POST", f"/element/{el}/click", {})

    def type(self, el, text):
        self._cmd("POST", f"/element/{el}/value", {"text": text})

    def keys(self, text):
        """Presses each key of text on whatever has focus (e.g. TAB)."""
        acts = []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self._cmd("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard",
                                                    "actions": acts}]})
