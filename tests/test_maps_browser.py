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

    def viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        """Emulate a window of ``width`` x ``height`` CSS pixels (a phone with ``mobile``)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def on_new_document(self, source: str) -> str:
        """Run ``source`` in every page before its own scripts; returns an id for :meth:`forget`."""
        return str(
            self.call("Page.addScriptToEvaluateOnNewDocument", {"source": source})["identifier"]
        )

    def forget(self, identifier: str) -> None:
        """Stop running a script added by :meth:`on_new_document`."""
        self.call("Page.removeScriptToEvaluateOnNewDocument", {"identifier": identifier})

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
    # the page opens on the first day: its route, its dashed way home, its numbered stops
    first = [s for s in stops if s["date"] == days[0]["date"]]
    assert (counts["lines"], counts["markers"]) == (2, len(first) + 1)
    assert counts["polygons"] == 1
    assert len(counts["overlays"]) == len(days) + 2
    # "show all days": a route and a way home per day, a marker per stop, plus the home
    browser.evaluate("document.querySelector('.tp-side [data-day=\"all\"]').click()")
    counts = browser.evaluate(COUNT_LAYERS_JS)
    assert counts["lines"] == 2 * len(days)
    assert counts["markers"] == len(stops) + 1
    header = browser.evaluate("document.querySelector('.tp-bar').textContent")
    assert "<script>window.__pwned=1</script>" in header  # the rep's name, as text
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


# ---------------------------------------------------------------------------------------------
# Phones, long names, the day list and print (the pages people hold)

PHONE = (390, 844)
#: 70 characters, with and without spaces: the legend must wrap both
LONG_NAME = "Johanna Wilhelmina van Oldenbarnevelt-Rijckevorsel tot Brederode-Smits"
LONG_WORD = "Accountmanager" * 5


def _set_column(path: Path, column: str, values: dict[int, str]) -> None:
    """Overwrite ``column`` in rows (by index) of a plan-folder CSV."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    for i, value in values.items():
        rows[i][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def long_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned folder whose reps and customers have 70-character names and addresses."""
    if assets.missing():
        pytest.skip(f"map assets not cached; run `{assets.FETCH_COMMAND}` before the tests")
    from test_maps import make_plan_folder

    from territory.maps import render

    folder = make_plan_folder(tmp_path_factory.mktemp("long"), n_customers=48, hostile=False)
    assert len(LONG_NAME) == len(LONG_WORD) == 70
    _set_column(folder / "territories.csv", "rep_name", {0: LONG_NAME, 1: LONG_WORD})
    _set_column(folder / "assignments.csv", "name", {i: LONG_WORD for i in range(0, 48, 5)})
    _set_column(folder / "assignments.csv", "street", {i: LONG_NAME for i in range(0, 48, 3)})
    _set_column(folder / "schedule.csv", "customer_name", {i: LONG_WORD for i in range(0, 40, 4)})
    render(folder, offline=True, tiles=None)
    return folder


def _pages(folder: Path) -> list[tuple[Path, str]]:
    maps = "window.territoryMap"
    return [
        (folder / "map.html", maps),
        (folder / "report.html", "document.readyState === 'complete'"),
        *((p, maps) for p in sorted((folder / "reps").glob("*.html"))),
    ]


@pytest.mark.parametrize("which", ["offline_folder", "long_folder"])
def test_pages_fit_a_phone(browser: Browser, request: pytest.FixtureRequest, which: str) -> None:
    folder: Path = request.getfixturevalue(which)
    browser.viewport(*PHONE, mobile=True)
    try:
        for page, ready in _pages(folder):
            browser.open(page, ready=ready)
            width = browser.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE[0], (page.name, width)
            if page.parent.name == "reps":  # every day unfolded, and the technical fold too
                browser.evaluate(
                    "document.querySelectorAll('details').forEach(d => { d.open = true; })"
                )
                width = browser.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE[0], (page.name, "days open", width)
        # the overview starts as a map: the legend and the layer list are folded
        browser.open(folder / "map.html")
        browser.evaluate("new Promise(r => setTimeout(r, 50))", await_promise=True)
        folded = browser.evaluate(
            "[document.querySelector('.tp-legend details').open,"
            " document.querySelectorAll('.leaflet-control-layers-expanded').length]"
        )
        assert folded == [False, 0]
    finally:
        browser.viewport(1280, 800)


def test_legend_fits_its_box_with_70_character_names(browser: Browser, long_folder: Path) -> None:
    browser.viewport(1280, 800)
    browser.open(long_folder / "map.html")
    box = browser.evaluate(
        "(() => { const l = document.querySelector('.tp-legend'), r = l.getBoundingClientRect();"
        " return {sw: l.scrollWidth, cw: l.clientWidth, right: r.right, open:"
        " l.querySelector('details').open, text: l.textContent}; })()"
    )
    assert box["open"] and box["sw"] <= box["cw"], box
    assert box["right"] <= 1280
    assert LONG_NAME in box["text"] and LONG_WORD in box["text"]  # wrapped, not cut


def _rep_page_for(folder: Path, index: int) -> tuple[Path, list[dict], list[dict]]:
    plan = load_plan_folder(folder)
    rid = plan.territories[index]["rep_id"]
    days = [d for d in plan.days if d["rep_id"] == rid]
    stops = [s for s in plan.schedule if s["rep_id"] == rid]
    return folder / "reps" / rep_file_name(rid), days, stops


TAP_TARGETS_JS = """(() => Array.from(document.querySelectorAll(
    '.tp-bar a, .tp-bar button, .tp-bar select, .tp-side summary, .tp-side a, .tp-side button,'
    + ' .leaflet-control-zoom a, .leaflet-control-layers-toggle'))
  .filter(e => e.checkVisibility())
  .map(e => { const r = e.getBoundingClientRect();
    return {what: e.className + ' ' + e.textContent.slice(0, 20), w: r.width, h: r.height}; })
  .filter(b => b.w > 0 && b.h > 0))()"""

SHOWN_DAYS_JS = "window.territoryMap.groups.days.map(g => window.territoryMap.map.hasLayer(g))"


def test_rep_page_on_a_phone(browser: Browser, offline_folder: Path) -> None:
    page, days, stops = _rep_page_for(offline_folder, 2)
    browser.viewport(*PHONE, mobile=True)
    try:
        since = len(browser.events)
        browser.open(page)
        # every stop has a geo: link with the customer's coordinates
        geo = browser.evaluate(
            "Array.from(document.querySelectorAll('a[href^=\"geo:\"]')).map(a => a.href)"
        )
        assert len(geo) == len(stops)
        for href, stop in zip(geo, stops, strict=True):
            assert href.startswith(f"geo:{float(stop['lat']):.6f},{float(stop['lon']):.6f}")
        # the period lies in 2027: the page opens on its first day, which the map shows
        assert browser.evaluate("window.territoryMap.openDay") == 0
        opened = browser.evaluate(
            "Array.from(document.querySelectorAll('details.tp-day')).map(d => d.open)"
        )
        assert opened == [True] + [False] * (len(days) - 1)
        assert browser.evaluate(SHOWN_DAYS_JS) == [True] + [False] * (len(days) - 1)
        # the map shows that day up close, and stays on screen while the stops scroll under it
        fit = browser.evaluate(
            "(() => { const t = window.territoryMap, m = t.map;"
            " const b = L.featureGroup(t.groups.days[0].getLayers()).getBounds();"
            " return [m.getBounds().contains(b), m.getZoom(), m.getBoundsZoom(b, false, L.point(40, 40))]; })()"
        )
        assert fit[0] and fit[1] >= fit[2] - 0.25, fit
        top = browser.evaluate(
            "(() => { window.scrollTo(0, 600); const r = document.querySelector('.folium-map')"
            ".getBoundingClientRect(); window.scrollTo(0, 0); return [window.innerHeight, r.top, r.height]; })()"
        )
        assert top[1] == 0 and 0.3 * top[0] <= top[2] <= 0.5 * top[0], top
        # tap targets of at least 40 px (buttons, links, day headers, the map's controls)
        first = [s for s in stops if s["date"] == days[0]["date"]]
        targets = browser.evaluate(TAP_TARGETS_JS)
        assert len(targets) >= 2 * len(first) + len(days) + 3
        for j in range(1, len(days)):  # and with each other day open
            browser.evaluate(f"document.querySelectorAll('details.tp-day > summary')[{j}].click()")
            browser.evaluate("new Promise(r => setTimeout(r, 20))", await_promise=True)
            targets += browser.evaluate(TAP_TARGETS_JS)
        assert sum("tp-geo" in b["what"] for b in targets) == len(stops)
        small = [b for b in targets if b["h"] < 40 or b["w"] < 40]
        assert small == []
        browser.evaluate("document.querySelectorAll('details.tp-day > summary')[0].click()")
        browser.evaluate("new Promise(r => setTimeout(r, 20))", await_promise=True)
        # a tap on another day opens it alone and shows its route only; a second tap closes it
        # and brings back every day
        browser.evaluate("document.querySelectorAll('details.tp-day > summary')[1].click()")
        browser.evaluate("new Promise(r => setTimeout(r, 50))", await_promise=True)
        assert browser.evaluate(SHOWN_DAYS_JS) == [j == 1 for j in range(len(days))]
        assert browser.evaluate("document.querySelectorAll('details.tp-day[open]').length") == 1
        browser.evaluate("document.querySelectorAll('details.tp-day > summary')[1].click()")
        browser.evaluate("new Promise(r => setTimeout(r, 50))", await_promise=True)
        assert browser.evaluate(SHOWN_DAYS_JS) == [True] * len(days)
        # the whole list folds away
        browser.evaluate("document.querySelector('details.tp-daylist > summary').click()")
        assert (
            browser.evaluate("document.querySelector('details.tp-day').checkVisibility()") is False
        )
        assert browser.problems(since) == []
    finally:
        browser.viewport(1280, 800)


def _fixed_today(iso: str) -> str:
    """A script that makes the page's clock read ``iso`` (local time, 09:00)."""
    y, m, d = (int(x) for x in iso.split("-"))
    return f"""(() => {{ const fixed = new Date({y}, {m - 1}, {d}, 9, 0).getTime(), Real = Date;
      class Today extends Real {{ constructor(...a) {{ super(...(a.length ? a : [fixed])); }}
        static now() {{ return fixed; }} }}
      window.Date = Today; }})();"""


def test_rep_page_opens_on_today_inside_the_period(browser: Browser, offline_folder: Path) -> None:
    page, days, _ = _rep_page_for(offline_folder, 0)
    dates = [d["date"] for d in days]
    assert len(dates) >= 4
    saturday = "2027-01-09"  # inside the two weeks, not a working day: the next one opens
    cases = {
        dates[2]: 2,
        dates[-1]: len(dates) - 1,
        saturday: next(i for i, d in enumerate(dates) if d > saturday),
        "2026-12-31": 0,  # before the period
        "2027-02-01": 0,  # after it
    }
    for today, expected in cases.items():
        script = browser.on_new_document(_fixed_today(today))
        try:
            browser.open(page)
            assert browser.evaluate("new Date().getDate()") == int(today[-2:])
            assert browser.evaluate("window.territoryMap.openDay") == expected, today
            assert browser.evaluate(
                "Array.from(document.querySelectorAll('details.tp-day')).map(d => d.open)"
            ) == [j == expected for j in range(len(dates))]
        finally:
            browser.forget(script)
    # a day named in the address opens whatever the date
    since = len(browser.events)
    browser.call("Page.navigate", {"url": "about:blank"})
    browser.wait_event("Page.loadEventFired", since=since)
    since = len(browser.events)
    browser.call("Page.navigate", {"url": page.resolve().as_uri() + "#" + dates[3]})
    browser.wait_event("Page.loadEventFired", since=since)
    assert browser.evaluate("window.territoryMap.openDay") == 3


def _print_pdf(page: Path, out: Path) -> int:
    """Print ``page`` with Chromium's own --print-to-pdf; returns the PDF's page count."""
    from pypdf import PdfReader

    profile = tempfile.mkdtemp(prefix="territory-print-")
    try:
        subprocess.run(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--no-pdf-header-footer",
                f"--print-to-pdf={out}", page.resolve().as_uri(),
            ],
            check=True, timeout=120, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return len(PdfReader(out).pages)


def test_printing_gives_one_page_per_working_day_and_per_rep(
    offline_folder: Path, long_folder: Path, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    for folder in (offline_folder, long_folder):
        plan = load_plan_folder(folder)
        for i, rep in enumerate(plan.territories):
            page, days, _ = _rep_page_for(folder, i)
            pdf = tmp_path / f"{folder.name}-{i}.pdf"
            assert _print_pdf(page, pdf) == len(days), rep["rep_id"]
            first = PdfReader(pdf).pages[0].extract_text()
            assert "Monday 4 January 2027" in first or "January 2027" in first
            assert days[0]["depart"] in first and days[0]["return"] in first
        assert _print_pdf(folder / "map.html", tmp_path / "overview.pdf") == len(plan.territories)


def test_a_day_of_many_stops_still_prints_on_one_page(tmp_path: Path) -> None:
    if assets.missing():
        pytest.skip(f"map assets not cached; run `{assets.FETCH_COMMAND}` before the tests")
    from test_maps import make_plan_folder

    from territory.maps import render

    folder = make_plan_folder(
        tmp_path / "dense", n_customers=140, n_reps=1, weeks=1, hostile=False, max_stops=30
    )
    render(folder, offline=True, tiles=None)
    page, days, stops = _rep_page_for(folder, 0)
    assert max(sum(s["date"] == d["date"] for s in stops) for d in days) >= 25
    assert _print_pdf(page, tmp_path / "dense.pdf") == len(days)
