#!/usr/bin/env python3
"""A small headless-Chromium driver for testing a local HTML page (the `mrhost report` page).

It speaks the Chrome DevTools protocol over `--remote-debugging-pipe` (NUL-separated JSON
on file descriptors 3 and 4, the transport Puppeteer uses), so it needs only the Python
standard library and Debian's /usr/bin/chromium (scripts/setup-browser.sh): no port, no
websocket, no browser download.

    browser.py FILE.html --script STEPS.json [--timeout 60] [--chromium PATH]

STEPS.json is a JSON list ("-" reads it from standard input); each step is one of

    {"eval": "js expression"}              value of the expression (promises awaited)
    {"click": "css selector"}              a real mouse click at the element's centre
    {"type": ["css selector", "text"]}     focus the element and type the text
    {"viewport": [375, 800]}               resize the page (mobile emulation below 600 px)
    {"screenshot": "out.png", "width": 1280}  full-page PNG (width optional; "clip":
                                           [x, y, w, h] takes that CSS-pixel rectangle)
    {"media": {"prefers-color-scheme": "dark"}}  emulate CSS media features
    {"wait": 250}                          milliseconds
    {"wait_for": "js expression", "timeout": 10}  until the expression is truthy

and it prints one JSON object:

    {"results": [{"step": 0, "eval": "...", "value": ...}, ...],
     "requests": ["https://...", ...],     every request the page attempted whose URL is
                                           not file:, data:, blob: or about: (all blocked)
     "exceptions": [...], "console_errors": [...]}

Exit status 0 when every step succeeded, 1 when a step failed (its result has "error"),
2 on bad usage, 3 when Chromium could not be driven, 124 on the overall timeout. Every wait
has a timeout and the overall one kills Chromium, so the process never hangs.

From Python: `browser.run("page.html", steps, timeout=60)` returns the same object.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
    "--mute-audio",
    "--hide-scrollbars",
    # Belt and braces: even a request that slipped past the Fetch block resolves nowhere.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
]

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


class DriverError(Exception):
    pass


class StepError(Exception):
    pass


class Browser:
    """One Chromium process with one page, driven over the DevTools pipe."""

    def __init__(self, chromium: str | None = None, command_timeout: float = 15.0):
        self.chromium = chromium or os.environ.get("MRHOST_CHROMIUM") or _find_chromium()
        self.command_timeout = command_timeout
        self.user_data_dir = tempfile.mkdtemp(prefix="mrhost-chromium-")
        self.requests: list[str] = []
        self.exceptions: list[str] = []
        self.console_errors: list[str] = []
        self._next_id = 0
        self._responses: dict[int, dict] = {}
        self._events: list[dict] = []
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._closed = False
        self._close_lock = threading.Lock()
        self._shut = False
        self.timed_out = False
        self.deadline = time.monotonic() + 86400
        self.session: str | None = None
        self.proc: subprocess.Popen | None = None
        self._stderr = tempfile.TemporaryFile()
        self._start()

    # -- process and transport ------------------------------------------------------------

    def _start(self) -> None:
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def child_fds():  # runs in the child: its fd 3 reads commands, fd 4 writes replies
            hi_r = os.dup(to_child_r)
            hi_w = os.dup(from_child_w)
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [self.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self.user_data_dir}",
                "--window-size=1280,900", "about:blank"]
        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                # close_fds runs after preexec_fn: keep 3 and 4 open
                pass_fds=(3, 4, to_child_r, from_child_w), preexec_fn=child_fds,
                start_new_session=True)
        except OSError as e:
            raise DriverError(f"cannot start {self.chromium}: {e}") from e
        os.close(to_child_r)
        os.close(from_child_w)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if "id" in msg:
                    with self._cond:
                        self._responses[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self._on_event(msg)

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        with self._cond:
            self._next_id += 1
            mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        with self._write_lock:
            try:
                os.write(self._to_child_w, data)
            except OSError as e:
                raise DriverError(f"chromium is gone ({e}); {self.stderr_tail()}") from e
        return mid

    def call(self, method: str, params: dict | None = None, *, page: bool = True,
             timeout: float | None = None) -> dict:
        """Sends one command (to the page session unless page=False) and waits for its reply."""
        mid = self._send(method, params, self.session if page else None)
        deadline = min(time.monotonic() + (timeout or self.command_timeout), self.deadline)
        with self._cond:
            while mid not in self._responses:
                if self._closed:
                    raise DriverError(f"chromium closed the pipe during {method}; "
                                      f"{self.stderr_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    if time.monotonic() >= self.deadline:
                        self.timed_out = True
                    raise DriverError(f"{method}: no reply in {timeout or self.command_timeout}s")
                self._cond.wait(left)
            msg = self._responses.pop(mid)
        if "error" in msg:
            raise StepError(f"{method}: {msg['error'].get('message')}")
        return msg.get("result", {})

    def time_left(self) -> float:
        """Seconds until the overall deadline (run() sets it; else a day from the start)."""
        return self.deadline - time.monotonic()

    def stderr_tail(self) -> str:
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode(errors="replace").strip().splitlines()
            tail = [x for x in lines if "dbus" not in x.lower()][-5:]
            return "chromium stderr: " + " | ".join(tail) if tail else "no stderr"
        except (OSError, ValueError):
            return "no stderr"

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self._note_request(p.get("request", {}).get("url", ""))
        elif method == "Network.webSocketCreated":
            self._note_request(p.get("url", ""))
        elif method == "Fetch.requestPaused":
            url = p.get("request", {}).get("url", "")
            if url.startswith(LOCAL_SCHEMES):
                self._send("Fetch.continueRequest", {"requestId": p["requestId"]},
                           msg.get("sessionId"))
            else:
                self._note_request(url)
                self._send("Fetch.failRequest", {"requestId": p["requestId"],
                                                 "errorReason": "BlockedByClient"},
                           msg.get("sessionId"))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = (d.get("exception") or {}).get("description") or d.get("text", "")
            self.exceptions.append(text)
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            self.console_errors.append(p["entry"].get("text", ""))
        else:
            with self._cond:
                self._events.append(msg)
                self._cond.notify_all()

    def _note_request(self, url: str) -> None:
        if url and not url.startswith(LOCAL_SCHEMES) and url not in self.requests:
            self.requests.append(url)

    def wait_event(self, method: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, ev in enumerate(self._events):
                    if ev.get("method") == method:
                        return self._events.pop(i)
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise DriverError(f"no {method} within {timeout}s")
                self._cond.wait(left)

    # -- page -----------------------------------------------------------------------------

    def open(self, path: str, load_timeout: float = 30.0) -> None:
        self.call("Browser.getVersion", page=False, timeout=30)  # the pipe is up
        target = self.call("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, page=False)
        self.session = attached["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Log.enable")
        self.call("Network.enable")
        self.call("Network.setCacheDisabled", {"cacheDisabled": True})
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        self.set_viewport(1280, 900)
        url = pathlib.Path(path).resolve().as_uri()
        with self._cond:
            self._events.clear()
        nav = self.call("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise DriverError(f"cannot open {url}: {nav['errorText']}")
        self.wait_event("Page.loadEventFired", load_timeout)

    def evaluate(self, expr: str, timeout: float | None = None):
        res = self.call("Runtime.evaluate", {
            "expression": expr, "returnByValue": True, "awaitPromise": True,
            "userGesture": True, "timeout": int((timeout or self.command_timeout) * 1000)},
            timeout=(timeout or self.command_timeout) + 2)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise StepError((d.get("exception") or {}).get("description") or d.get("text"))
        return res.get("result", {}).get("value")

    def settle(self) -> None:
        """Two animation frames: whatever a click or resize scheduled has been painted."""
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def set_viewport(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": int(width), "height": int(height), "deviceScaleFactor": 1,
            "mobile": int(width) < 600})
        self.viewport = (int(width), int(height))

    def click(self, selector: str) -> None:
        box = self.evaluate(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return null;
            el.scrollIntoView({{block: "center", inline: "center"}});
            const r = el.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height}};
        }})()""")
        if box is None:
            raise StepError(f"no element matches {selector}")
        if box["w"] <= 0 or box["h"] <= 0:
            raise StepError(f"{selector} is not visible")
        hit = self.evaluate(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            const at = document.elementFromPoint({box['x']}, {box['y']});
            return !!at && (el === at || el.contains(at));
        }})()""")
        if not hit:
            raise StepError(f"{selector} is covered by another element")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {
                "type": kind, "x": box["x"], "y": box["y"], "button": "left",
                "clickCount": 0 if kind == "mouseMoved" else 1})
        self.settle()

    def type_text(self, selector: str, text: str) -> None:
        ok = self.evaluate(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return false;
            el.focus(); if ('select' in el) el.select(); return true;
        }})()""")
        if not ok:
            raise StepError(f"no element matches {selector}")
        self.call("Input.insertText", {"text": text})
        self.settle()

    def screenshot(self, path: str, width: int | None = None,
                   clip: list | None = None) -> dict:
        """A PNG of the whole page, or of the CSS-pixel rectangle clip = [x, y, w, h]."""
        if width and width != self.viewport[0]:
            self.set_viewport(width, self.viewport[1])
            time.sleep(0.3)  # let the page's debounced resize handlers run
            self.settle()
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        x, y, w, h = 0, 0, self.viewport[0], min(int(size["height"]) + 1, 16000)
        if clip:
            x, y, w, h = (int(v) for v in clip)
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": x, "y": y, "width": w, "height": h, "scale": 1}}, timeout=60)
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(path).write_bytes(base64.b64decode(shot["data"]))
        return {"width": w, "height": h}

    def close(self) -> None:
        with self._close_lock:
            if self._shut:
                return
            self._shut = True
            self._close()

    def _close(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                try:
                    self._send("Browser.close")
                    self.proc.wait(timeout=3)
                except (DriverError, subprocess.TimeoutExpired):
                    pass
                if self.proc.poll() is None:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                    self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        for fd in (self._to_child_w, self._from_child_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.user_data_dir, ignore_errors=True)


def _find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    raise DriverError("chromium not found: run scripts/setup-browser.sh")


def _run_step(b: Browser, i: int, step: dict) -> dict:
    out: dict = {"step": i}
    if "eval" in step:
        out["eval"] = step["eval"]
        out["value"] = b.evaluate(step["eval"], step.get("timeout"))
    elif "click" in step:
        out["click"] = step["click"]
        b.click(step["click"])
        out["ok"] = True
    elif "type" in step:
        sel, text = step["type"]
        out["type"] = step["type"]
        b.type_text(sel, text)
        out["ok"] = True
    elif "viewport" in step:
        w, h = step["viewport"]
        out["viewport"] = [w, h]
        b.set_viewport(w, h)
        time.sleep(0.3)  # let the page's debounced resize handlers run
        b.settle()
        out["ok"] = True
    elif "screenshot" in step:
        out["screenshot"] = step["screenshot"]
        out.update(b.screenshot(step["screenshot"], step.get("width"), step.get("clip")))
    elif "media" in step:
        out["media"] = step["media"]
        b.call("Emulation.setEmulatedMedia", {"features": [
            {"name": k, "value": v} for k, v in step["media"].items()]})
        b.settle()
        out["ok"] = True
    elif "wait" in step:
        want, left = float(step["wait"]) / 1000, b.time_left()
        time.sleep(max(0.0, min(want, left)))
        if want > left:
            raise DriverError("overall timeout reached during a wait step")
        out["wait"] = step["wait"]
    elif "wait_for" in step:
        out["wait_for"] = step["wait_for"]
        limit = float(step.get("timeout", 10))
        deadline = time.monotonic() + min(limit, b.time_left())
        while True:
            value = b.evaluate(step["wait_for"])
            if value:
                out["value"] = value
                break
            if time.monotonic() > deadline:
                raise StepError(f"still falsy after {limit}s")
            time.sleep(0.05)
    else:
        raise StepError(f"unknown step {json.dumps(step)}")
    return out


def run(path: str, steps: list, timeout: float = 60.0, chromium: str | None = None) -> dict:
    """Opens PATH in a fresh headless Chromium, runs STEPS, returns the result object."""
    if not os.path.exists(path):
        raise DriverError(f"no such file: {path}")
    b = Browser(chromium)
    b.deadline = time.monotonic() + timeout

    def overall_limit():  # kill chromium: every pending wait then ends at once
        b.timed_out = True
        b.close()
    timer = threading.Timer(timeout + 1, overall_limit)
    timer.daemon = True
    timer.start()
    results = []
    try:
        b.open(path)
        for i, step in enumerate(steps):
            if b.time_left() <= 0:
                raise DriverError(f"overall timeout of {timeout}s reached")
            try:
                results.append(_run_step(b, i, step))
            except StepError as e:
                results.append({"step": i, **step, "error": str(e)})
    except DriverError as e:
        if b.timed_out or b.time_left() <= 0:
            raise DriverError(f"overall timeout of {timeout}s reached ({e})") from e
        raise
    finally:
        timer.cancel()
        b.close()
    return {"results": results, "requests": b.requests, "exceptions": b.exceptions,
            "console_errors": b.console_errors}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="the HTML file to open")
    ap.add_argument("--script", required=True, help="JSON list of steps (- for stdin)")
    ap.add_argument("--timeout", type=float, default=60.0, help="overall limit in seconds")
    ap.add_argument("--chromium", help="browser binary (default: chromium on PATH)")
    args = ap.parse_args(argv)
    try:
        text = sys.stdin.read() if args.script == "-" else pathlib.Path(args.script).read_text()
        steps = json.loads(text)
        if not isinstance(steps, list):
            raise ValueError("the script must be a JSON list of steps")
    except (OSError, ValueError) as e:
        print(f"browser.py: {e}", file=sys.stderr)
        return 2

    # A second guard besides run()'s: whatever happens, this process ends.
    def hard_stop(*_):
        print(f"browser.py: overall timeout of {args.timeout}s reached", file=sys.stderr)
        os._exit(124)
    watchdog = threading.Timer(args.timeout + 15, hard_stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        out = run(args.file, steps, args.timeout, args.chromium)
    except DriverError as e:
        print(f"browser.py: {e}", file=sys.stderr)
        return 124 if "overall timeout" in str(e) else 3
    finally:
        watchdog.cancel()
    print(json.dumps(out, indent=2))
    return 1 if any("error" in r for r in out["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
