"""The offline maps in a real headless Chromium, driven over the DevTools protocol.

The browser is Debian's ``chromium`` (``apt-get install chromium``); the tests skip with that
reason when it is not installed. No Python package is needed: the DevTools protocol is spoken
over ``--remote-debugging-pipe`` (JSON messages separated by NUL bytes on fds 3 and 4), which
is all the :class:`Browser` helper below does.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from territory import assets
from territory.htmlutil import rep_file_name
from territory.reporthtml import load_plan_folder

pytestmark = pytest.mark.slow  # a real headless browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(RuntimeError):
    """The browser did not answer as expected."""


class Browser:
    """A headless Chromium and one page, spoken to over the DevTools pipe.

    Events of the page are collected in :attr:`events` (method, params) so tests can look at
    console messages, exceptions and network requests.
    """

    def __init__(self, executable: str, *, extra_args: tuple[str, ...] = ()) -> None:
        self._profile = tempfile.mkdtemp(prefix="territory-chromium-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Park the child's ends above fd 10 so the dup2 to 3 and 4 cannot clobber each other.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def wire() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        args = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--allow-file-access-from-files",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            "--window-size=1280,800",
            *extra_args,
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=wire,  # noqa: PLW1509 - only dup2, before exec
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(high_r)
        os.close(high_w)
        self._out = os.fdopen(to_child_w, "wb", buffering=0)
        self._in = from_child_r
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self._messages: queue.Queue[dict] = queue.Queue()
        self.events: list[tuple[str, dict]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=None)
        attached = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=None
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(raw))
        self._messages.put({"closed": True})

    def _pump(self, timeout_s: float) -> dict:
        try:
            message = self._messages.get(timeout=timeout_s)
        except queue.Empty:
            raise BrowserError("no answer from chromium") from None
        if message.get("closed"):
            raise BrowserError("chromium closed the DevTools pipe")
        if "id" in message:
            self._replies[message["id"]] = message
        elif "method" in message:
            self.events.append((message["method"], message.get("params", {})))
        return message

    def call(
        self,
        method: str,
        params: dict | None = None,
        *,
        session: str | None = "",
        timeout_s: float = 30,
    ) -> dict:
        """Send one command and wait for its result."""
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session == "":
            session = self.session
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while self._next_id not in self._replies:
            self._pump(max(deadline - time.monotonic(), 0.01))
        reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method: str, *, since: int = 0, timeout_s: float = 30) -> dict:
        """Wait for an event of the page (looking at events from index ``since`` on)."""
        deadline = time.monotonic() + timeout_s
        while True:
            for name, params in self.events[since:]:
                if name == method:
                    return params
            self._pump(max(deadline - time.monotonic(), 0.01))

    def evaluate(
        self, expression: str, *, await_promise: bool = False, timeout_s: float = 30
    ) -> object:
        """The value of a JavaScript expression in the page (JSON-able values only)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
            timeout_s=timeout_s,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(
        self, path: Path, *, ready: str = "window.territoryMap", timeout_s: float = 60
    ) -> float:
        """Navigate to a file and wait until ``ready`` is truthy; returns seconds taken."""
        since = len(self.events)
        start = time.perf_counter()
        self.call("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_event("Page.loadEventFired", since=since, timeout_s=timeout_s)
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(f"!!({ready})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"{path.name}: {ready} never became true")
            time.sleep(0.05)
        return time.perf_counter() - start

    def problems(self, since: int = 0) -> list[str]:
        """Console errors, uncaught exceptions and error log entries since event ``since``."""
        out = []
        for name, params in self.events[since:]:
            if name == "Runtime.exceptionThrown":
                out.append(json.dumps(params["exceptionDetails"])[:300])
            elif name == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args"))[:300])
            elif name == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", "")[:300])
        return out

    def requested_urls(self, since: int = 0) -> list[str]:
        """Every URL the page asked for since event ``since``."""
        return [
            params["request"]["url"]
            for name, params in self.events[since:]
            if name == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        """Close the browser and remove its profile."""
        with contextlib.suppress(BrowserError):
            self.call("Browser.close", session=None, timeout_s=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        shutil.rmtree(self._profile, ignore_errors=True)


# Counts what Leaflet really has on the map (not what our script says it drew).
COUNT_LAYERS_JS = """(() => {
  const m = window.territoryMap.map, c = {circles: 0, polygons: 0, lines: 0, markers: 0, canvas: 0};
  m.eachLayer(l => {
    if (l instanceof L.CircleMarker) c.circles += 1;
    else if (l instanceof L.Polygon) c.polygons += 1;
    else if (l instanceof L.Polyline) c.lines += 1;
    else if (l instanceof L.Marker) c.markers += 1;
    if (l._renderer instanceof L.Canvas) c.canvas += 1;
  });
  c.leaflet = typeof window.L === "object" && L.version;
  c.pwned = typeof window.__pwned;
  c.overlays = Array.from(document.querySelectorAll(".leaflet-control-layers-overlays label"))
    .map(e => e.textContent.trim());
  c.injected = document.querySelectorAll("img[src='x'], .leaflet-container script, b").length;
  return c;
})()"""


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with every host unresolvable (truly offline)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    b = Browser(CHROMIUM, extra_args=("--host-resolver-rules=MAP * ~NOTFOUND",))
    yield b
    b.close()


@pytest.fixture(scope="module")
def offline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hostile planned folder rendered offline without base tiles: no request may leave."""
    if assets.missing():
        message = f"map assets not cached; run `{assets.FETCH_COMMAND}` before the tests"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI fills the cache first: a skip there would hide a gap
        pytest.skip(message)
    from test_maps import make_plan_folder

    from territory.maps import render

    folder = make_plan_folder(tmp_path_factory.mktemp("offline"), n_customers=48)
    render(folder, offline=True, tiles=None)
    return folder


def test_overview_map_in_browser(browser: Browser, offline_folder: Path) -> None:
    folder = load_plan_folder(offline_folder)
    since = len(browser.events)
    browser.open(offline_folder / "map.html")
    counts = browser.evaluate(COUNT_LAYERS_JS)
    assert counts["leaflet"] == assets.LEAFLET_VERSION
    assert counts["circles"] == len(folder.assignments)  # every customer, as a canvas circle
    assert counts["polygons"] == len(folder.territories)
    assert counts["markers"] == len(folder.territories)  # the rep homes
    assert counts["canvas"] >= counts["circles"] + counts["polygons"]
    # the layer control lists every rep by id and name, shown as text
    for row in folder.territories:
        label = row["rep_id"] + (" · " + row["rep_name"] if row["rep_name"] else "")
        assert label in counts["overlays"]
    assert counts["pwned"] == "undefined" and counts["injected"] == 0
    # the day routes are one switch away
    lines = browser.evaluate(
        "(() => { const t = window.territoryMap; t.map.addLayer(t.groups.routes);"
        " let n = 0; t.map.eachLayer(l => { if (l instanceof L.Polyline && !(l instanceof"
        " L.Polygon)) n += 1; }); return n; })()"
    )
    assert lines >= len(folder.days)
    # a hostile customer's popup shows the name as text and runs nothing
    popup = browser.evaluate(
        "(() => { const t = window.territoryMap; let text = null;"
        " t.groups.reps.forEach(g => g.eachLayer(l => { if (text === null && l.getPopup &&"
        " l instanceof L.CircleMarker) { l.openPopup(); const c = l.getPopup().getElement()"
        ".querySelector('.leaflet-popup-content'); if (c && c.textContent.includes('onerror')) text ="
        " c.textContent; } })); return text; })()"
    )
    assert popup is not None and 'onerror="window.__pwned=1"' in popup
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.evaluate("document.querySelectorAll(\"img[src='x']\").length") == 0
    assert browser.problems(since) == []
    urls = browser.requested_urls(since)
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls


def test_rep_map_in_browser(browser: Browser, offline_folder: Path) -> None:
    folder = load_plan_folder(offline_folder)
    rid = folder.territories[0]["rep_id"]  # the rep whose name is a <script> payload
    days = [d for d in folder.days if d["rep_id"] == rid]
    stops = [s for s in folder.schedule if s["rep_id"] == rid]
    since = len(browser.events)
    browser.open(offline_folder / "reps" / rep_file_name(rid))
    counts = browser.evaluate(COUNT_LAYERS_JS)
    # a route and a dashed way home per day, a numbered marker per stop, plus the home
    assert counts["lines"] == 2 * len(days)
    assert counts["markers"] == len(stops) + 1
    assert counts["polygons"] == 1
    assert len(counts["overlays"]) == len(days) + 2
    legend = browser.evaluate("document.querySelector('.tp-legend').textContent")
    assert "<script>window.__pwned=1</script>" in legend  # the rep's name, as text
    # clicking a day in the list shows only that day
    shown = browser.evaluate(
        "(() => { document.querySelector('.tp-legend [data-day=\"0\"]').click();"
        " const t = window.territoryMap; return t.groups.days.map(g => t.map.hasLayer(g)); })()"
    )
    assert shown == [True] + [False] * (len(days) - 1)
    assert counts["pwned"] == "undefined" and counts["injected"] == 0
    assert browser.problems(since) == []
    assert all(u.startswith(("file://", "data:")) for u in browser.requested_urls(since))


def test_report_in_browser(browser: Browser, offline_folder: Path) -> None:
    since = len(browser.events)
    browser.open(offline_folder / "report.html", ready="document.readyState === 'complete'")
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.evaluate("document.querySelectorAll('script, img').length") == 0
    text = browser.evaluate("document.body.textContent")
    assert "<script>window.__pwned=1</script>" in text
    assert browser.evaluate("document.querySelectorAll('svg.chart rect').length") == 3
    assert browser.problems(since) == []


def test_with_tiles_only_the_tile_server_is_asked(
    browser: Browser, offline_folder: Path, tmp_path: Path
) -> None:
    from territory.maps import render

    render(offline_folder, offline=True)  # default OpenStreetMap tiles
    try:
        since = len(browser.events)
        browser.open(offline_folder / "map.html")
        external = [
            u for u in browser.requested_urls(since) if not u.startswith(("file://", "data:"))
        ]
        assert external and all(u.startswith("https://tile.openstreetmap.org/") for u in external)
    finally:
        render(offline_folder, offline=True, tiles=None)
