"""edit.html in a real headless Chromium (Debian's ``chromium``, over the DevTools pipe of
tests/test_maps_browser.py): the page's figures against ``territory evaluate``, undo/redo and
locks, selection with the mouse, escaping, no network, and its export feeding ``plan``."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import CONFIG, CUSTOMERS, REPS, read_csv, small_sample
from test_maps import PAYLOAD_IMG, PAYLOAD_SCRIPT, make_plan_folder
from test_maps_browser import CHROMIUM, Browser

from territory import assets, pipeline
from territory.cli import main
from territory.edit import EDIT_FILE, write_editor

pytestmark = pytest.mark.slow  # a real headless browser

READY = "window.territoryEditor"
IDS_JS = "JSON.parse(document.getElementById('te-data').textContent).customers.id"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with every host unresolvable (truly offline)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    if assets.missing():
        message = f"map assets not cached; run `{assets.FETCH_COMMAND}` before the tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    b = Browser(CHROMIUM, extra_args=("--host-resolver-rules=MAP * ~NOTFOUND",))
    yield b
    b.close()


@pytest.fixture(scope="module")
def sample_design(tmp_path_factory: pytest.TempPathFactory) -> tuple[pipeline.Inputs, Path]:
    """The sample's design (600 customers, 6 reps) with an offline edit.html."""
    inputs = pipeline.load_inputs(CUSTOMERS, REPS, CONFIG)
    design, workload = pipeline.design(inputs)
    folder = tmp_path_factory.mktemp("edit") / "design"
    pipeline.write_outputs(folder, "design", inputs, design, workload, 0.0, maps=False)
    write_editor(folder, offline=True)
    return inputs, folder


def _evaluate(inputs: pipeline.Inputs, csv_text: str, path: Path) -> dict:
    path.write_text(csv_text, encoding="utf-8")
    assert inputs.reps is not None
    kpis = pipeline.evaluate(inputs, path)
    return {
        rep.id: {
            "workload_hours": kpis.workload_min[t] / 60,
            "deviation": kpis.deviation[t],
            "customers": kpis.customers[t],
            "potential": kpis.potential[t],
            "connected": kpis.connected[t],
            "pieces": kpis.pieces[t],
        }
        for t, rep in enumerate(inputs.reps)
    }


def _assert_agree(page: dict, judged: dict) -> float:
    """The page's figures against evaluate's; returns the largest workload gap in hours."""
    assert set(page) == set(judged)
    gap = 0.0
    for rep_id, ev in judged.items():
        m = page[rep_id]
        gap = max(gap, abs(m["workload_hours"] - ev["workload_hours"]))
        assert abs(m["workload_hours"] - ev["workload_hours"]) <= 0.1, rep_id
        assert m["deviation"] == pytest.approx(ev["deviation"], abs=1e-3), rep_id
        assert m["customers"] == ev["customers"], rep_id
        assert m["potential"] == pytest.approx(ev["potential"], abs=0.01), rep_id
        assert (m["connected"], m["pieces"]) == (ev["connected"], ev["pieces"]), rep_id
    return gap


def test_figures_agree_with_evaluate(
    browser: Browser, sample_design: tuple[pipeline.Inputs, Path], tmp_path: Path
) -> None:
    inputs, folder = sample_design
    since = len(browser.events)
    browser.open(folder / EDIT_FILE, ready=READY)
    ids = browser.evaluate(IDS_JS)
    rep_ids = [r.id for r in inputs.reps or ()]
    start = browser.evaluate("window.territoryEditor.metrics()")
    _assert_agree(
        start,
        _evaluate(
            inputs, browser.evaluate("window.territoryEditor.exportCsv()"), tmp_path / "0.csv"
        ),
    )
    rng = np.random.default_rng(7)
    gaps = []
    for round_ in range(4):
        chosen = [ids[i] for i in rng.choice(len(ids), int(rng.integers(1, 120)), replace=False)]
        to = rep_ids[int(rng.integers(0, len(rep_ids)))]
        result = browser.evaluate(
            f"window.territoryEditor.move({json.dumps(chosen)}, {json.dumps(to)})"
        )
        assert result["moved"] + result["locked_kept"] <= len(chosen)
        page = browser.evaluate("window.territoryEditor.metrics()")
        text = browser.evaluate("window.territoryEditor.exportCsv()")
        gaps.append(_assert_agree(page, _evaluate(inputs, text, tmp_path / f"{round_}.csv")))
    assert any(not m["connected"] for m in page.values())  # random moves break territories up
    assert max(gaps) < 0.05  # the folder rounds workload_min to 0.1 min; well inside 0.1 h
    # the whole command on the last export agrees too
    assert main(["evaluate", str(CUSTOMERS), "--reps", str(REPS), "--config", str(CONFIG),
                 "--assignments", str(tmp_path / "3.csv"), "--json"]) == 0  # fmt: skip
    assert browser.problems(since) == []


def test_undo_redo_and_locks(browser: Browser, sample_design: tuple[pipeline.Inputs, Path]) -> None:
    _, folder = sample_design
    browser.open(folder / EDIT_FILE, ready=READY)
    out = browser.evaluate(
        """(() => {
      const E = window.territoryEditor, rows = E.exportCsv().trim().split('\\n').slice(1)
        .map(l => l.split(','));
      const r1 = rows.filter(r => r[1] === 'R1').map(r => r[0]).slice(0, 10);
      const before = E.metrics();
      const lock = E.lock(r1.slice(0, 5), true);
      const locked = E.metrics();
      const move = E.move(r1, 'R2');
      const moved = E.metrics(), csv = E.exportCsv();
      const undone = E.undo(), afterUndo = E.metrics();
      const undone2 = E.undo(), afterUndo2 = E.metrics();
      const redone = E.redo() && E.redo(), afterRedo = E.metrics();
      E.undo();
      E.move(r1.slice(5, 6), 'R3');  // a new change: nothing left to redo
      const redoAfterNew = E.redo();
      return {r1, before, lock, locked, move, moved, csv, undone, afterUndo, undone2, afterUndo2,
              redone, afterRedo, redoAfterNew};
    })()"""
    )
    assert out["lock"] == {"changed": 5}
    assert out["locked"]["R1"]["locked"] == out["before"]["R1"]["locked"] + 5
    assert out["move"] == {"moved": 5, "locked_kept": 5}  # locked customers stay
    assert out["moved"]["R1"]["customers"] == out["before"]["R1"]["customers"] - 5
    assert out["moved"]["R2"]["customers"] == out["before"]["R2"]["customers"] + 5
    rows = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(out["csv"]))}
    assert list(next(csv.reader(io.StringIO(out["csv"])))) == ["customer_id", "rep_id", "locked"]
    for cid in out["r1"][:5]:
        assert (rows[cid]["rep_id"], rows[cid]["locked"]) == ("R1", "true")
    for cid in out["r1"][5:]:
        assert (rows[cid]["rep_id"], rows[cid]["locked"]) == ("R2", "false")
    assert out["undone"] and out["afterUndo"] == out["locked"]
    assert out["undone2"] and out["afterUndo2"] == out["before"]
    assert out["redone"] and out["afterRedo"] == out["moved"]
    assert out["redoAfterNew"] is False
    with pytest.raises(Exception, match="unknown customer id"):
        browser.evaluate("window.territoryEditor.move(['no such id'], 'R1')")
    with pytest.raises(Exception, match="unknown rep id"):
        browser.evaluate(f"window.territoryEditor.move({json.dumps(out['r1'][:1])}, 'R99')")


def _click(browser: Browser, x: float, y: float, modifiers: int = 0) -> None:
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                  "clickCount": 1, "modifiers": modifiers})  # fmt: skip


def _drag(browser: Browser, points: list[tuple[float, float]]) -> None:
    x, y = points[0]
    browser.call("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y,
                                              "button": "left", "clickCount": 1})  # fmt: skip
    for x, y in points[1:]:
        browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y,
                                                  "button": "left", "buttons": 1})  # fmt: skip
    browser.call("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y,
                                              "button": "left", "clickCount": 1})  # fmt: skip


# the customers' positions on screen, from the page's own data and the Leaflet map
POSITIONS_JS = """(() => {
  const D = JSON.parse(document.getElementById('te-data').textContent), m = window.territoryEditor.map;
  const box = document.getElementById('te-map').getBoundingClientRect();
  return D.customers.id.map((id, i) => { const p = m.latLngToContainerPoint([D.customers.lat[i],
    D.customers.lon[i]]); return [id, p.x + box.left, p.y + box.top, D.customers.r[i]]; });
})()"""


def test_mouse_selection_and_give(
    browser: Browser, sample_design: tuple[pipeline.Inputs, Path]
) -> None:
    _, folder = sample_design
    since = len(browser.events)
    browser.open(folder / EDIT_FILE, ready=READY)
    pos = browser.evaluate(POSITIONS_JS)
    width = browser.evaluate("document.getElementById('te-map').clientWidth")
    height = browser.evaluate("document.getElementById('te-map').clientHeight")

    def alone(p: list) -> bool:  # no other customer within reach of a click on it
        return (
            20 < p[1] < width - 20
            and 20 < p[2] < height - 20
            and all((q[1] - p[1]) ** 2 + (q[2] - p[2]) ** 2 > 14**2 for q in pos if q is not p)
        )

    a, b = [p for p in pos if alone(p)][:2]
    _click(browser, a[1], a[2])
    assert browser.evaluate("window.territoryEditor.selection()") == [a[0]]
    _click(browser, b[1], b[2], modifiers=8)  # shift-click adds
    assert sorted(browser.evaluate("window.territoryEditor.selection()")) == sorted([a[0], b[0]])
    _click(browser, b[1], b[2], modifiers=8)  # and removes
    assert browser.evaluate("window.territoryEditor.selection()") == [a[0]]

    # a rectangle over the middle of the map selects exactly the customers inside it
    browser.evaluate("document.querySelector('[data-mode=rect]').click()")
    x0, y0, x1, y1 = width * 0.35, height * 0.35, width * 0.6, height * 0.6
    _drag(browser, [(x0, y0), ((x0 + x1) / 2, y1), (x1, y1)])
    got = set(browser.evaluate("window.territoryEditor.selection()"))
    # Leaflet rounds its screen points to whole pixels: leave a pixel either side of the edge
    inside = {p[0] for p in pos if x0 + 1 <= p[1] <= x1 - 1 and y0 + 1 <= p[2] <= y1 - 1}
    near = {p[0] for p in pos if x0 - 1 <= p[1] <= x1 + 1 and y0 - 1 <= p[2] <= y1 + 1}
    assert len(inside) > 10 and inside <= got <= near
    # a lasso (a triangle) selects the customers inside the triangle
    browser.evaluate("document.querySelector('[data-mode=lasso]').click()")
    tri = [(width * 0.3, height * 0.3), (width * 0.7, height * 0.35), (width * 0.45, height * 0.7)]
    steps = [(tri[i][0] + (tri[(i + 1) % 3][0] - tri[i][0]) * s / 10,
              tri[i][1] + (tri[(i + 1) % 3][1] - tri[i][1]) * s / 10)
             for i in range(3) for s in range(10)]  # fmt: skip
    _drag(browser, steps)
    lasso = browser.evaluate("window.territoryEditor.selection()")
    assert len(lasso) > 10 and set(lasso) != got
    browser.evaluate("document.querySelector('[data-mode=pan]').click()")

    # the '+' of a rep's row gives the selection to that rep; Ctrl+Z takes it back
    before = browser.evaluate("window.territoryEditor.metrics()")
    browser.evaluate("document.querySelectorAll('.te-give')[3].click()")
    after = browser.evaluate("window.territoryEditor.metrics()")
    status = browser.evaluate("document.querySelector('.te-status').textContent")
    assert status.startswith("Gave ") and "R4" in status
    assert after["R4"]["customers"] > before["R4"]["customers"]
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", {"type": kind, "key": "z", "code": "KeyZ",
                                                "windowsVirtualKeyCode": 90, "modifiers": 2})  # fmt: skip
    assert browser.evaluate("window.territoryEditor.metrics()") == before
    # the table shows the page's figures, the worst deviation highlighted
    worst = max(before, key=lambda r: abs(before[r]["deviation"]))
    cells = browser.evaluate(
        "Array.from(document.querySelectorAll('.te-table tbody tr')).map(tr => "
        "[tr.cells[1].textContent, tr.cells[5].className])"
    )
    assert [int(c.replace(",", "")) for c, _ in cells] == [m["customers"] for m in before.values()]
    assert [i for i, (_, cls) in enumerate(cells) if "te-worst" in cls] == [
        list(before).index(worst)
    ]
    assert browser.problems(since) == []


def test_input_text_stays_text(browser: Browser, tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "hostile", n_customers=40, planned=False)
    write_editor(folder, offline=True)
    since = len(browser.events)
    browser.open(folder / EDIT_FILE, ready=READY)
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert (
        browser.evaluate(
            "document.querySelectorAll('#te-panel b, #te-panel img, #te-panel i:not([class])').length"
        )
        == 0
    )
    panel = browser.evaluate("document.getElementById('te-panel').textContent")
    assert PAYLOAD_SCRIPT in panel and "R/<b>2</b>" in panel
    options = browser.evaluate(
        "Array.from(document.querySelectorAll('#te-panel option')).map(o => o.textContent)"
    )
    assert any(PAYLOAD_SCRIPT in o for o in options)
    # the hover tip shows a hostile customer's name as text (zoomed in: no neighbour near)
    first = read_csv(folder / "assignments.csv")[0]
    browser.evaluate(
        f"window.territoryEditor.map.setView([{first['lat']}, {first['lon']}], 15, {{animate: false}}) && true"
    )
    box = browser.evaluate(
        "(() => { const r = document.getElementById('te-map').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    browser.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": box[0], "y": box[1]})
    browser.evaluate(
        "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
        await_promise=True,
    )
    tip = browser.evaluate("document.querySelector('.te-tip').textContent")
    assert tip.startswith(first["customer_id"] + " · " + PAYLOAD_IMG)
    assert browser.evaluate("document.querySelectorAll(\"img[src='x']\").length") == 0
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    # ids with quotes and HTML round-trip through the export
    exported = list(
        csv.DictReader(io.StringIO(browser.evaluate("window.territoryEditor.exportCsv()")))
    )
    assert [r["customer_id"] for r in exported] == [
        r["customer_id"] for r in read_csv(folder / "assignments.csv")
    ]
    assert "R/<b>2</b>" in {r["rep_id"] for r in exported}
    assert browser.problems(since) == []


def test_offline_page_makes_no_request(
    browser: Browser, sample_design: tuple[pipeline.Inputs, Path]
) -> None:
    _, folder = sample_design
    since = len(browser.events)
    browser.open(folder / EDIT_FILE, ready=READY)
    browser.evaluate(
        "window.territoryEditor.move(window.territoryEditor.exportCsv().split('\\n')[1].split(',')[0], 'R2')"
    )
    browser.evaluate("document.querySelector('.te-export').click()")  # the download is a blob
    urls = browser.requested_urls(since)
    assert browser.problems(since) == []  # a policy violation would be logged as an error
    assert all(u.startswith(("file://", "blob:", "data:")) for u in urls), urls
    assert [u for u in urls if u.startswith("file://")] == [(folder / EDIT_FILE).resolve().as_uri()]


def test_online_page_asks_only_for_leaflet_and_tiles(
    browser: Browser, sample_design: tuple[pipeline.Inputs, Path], tmp_path: Path
) -> None:
    _, folder = sample_design
    copy = tmp_path / "online"
    shutil.copytree(folder, copy)
    write_editor(copy, offline=False)  # Leaflet from the CDN: unreachable here, so no map
    since = len(browser.events)
    browser.open(copy / EDIT_FILE, ready="document.readyState === 'complete'")
    external = {u for u in browser.requested_urls(since) if not u.startswith("file://")}
    assert external == {assets.LEAFLET_CDN_JS, assets.LEAFLET_CDN_CSS}
    message = browser.evaluate("document.getElementById('te-panel').textContent")
    assert "--offline" in message  # the page says why there is no map
    write_editor(copy, offline=True, tiles=True)  # Leaflet inlined, tiles on
    since = len(browser.events)
    browser.open(copy / EDIT_FILE, ready=READY)
    external = [u for u in browser.requested_urls(since) if not u.startswith("file://")]
    assert external and all(u.startswith("https://tile.openstreetmap.org/") for u in external)


def test_export_feeds_plan_and_design(
    browser: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """edit.html's export plans exactly as edited with --max-moved 0, and a later design
    keeps the locked customers with their rep."""
    customers, reps = small_sample(tmp_path, n_customers=60, n_reps=2)
    config = str(CONFIG)
    first = tmp_path / "first"
    base = [str(customers), "--reps", str(reps), "--config", config]
    assert main(["-q", "design", *base, "--out", str(first), "--no-maps"]) == 0
    assert main(["edit", str(first), "--offline"]) == 0
    browser.open(first / EDIT_FILE, ready=READY)
    text = browser.evaluate(
        """(() => { const E = window.territoryEditor;
      const rows = E.exportCsv().trim().split('\\n').slice(1).map(l => l.split(','));
      const r1 = rows.filter(r => r[1] === 'R1').map(r => r[0]);
      const r2 = rows.filter(r => r[1] === 'R2').map(r => r[0]);
      E.move(r1.slice(0, 8), 'R2'); E.lock(r1.slice(0, 3), true); E.lock(r2.slice(0, 3), true);
      return E.exportCsv(); })()"""
    )
    edited = tmp_path / "edited.csv"
    edited.write_text(text, encoding="utf-8")
    split = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(text))}
    capsys.readouterr()

    planned = tmp_path / "planned"
    code = main(["-q", "plan", *base, "--assignments", str(edited), "--max-moved", "0",
                 "--out", str(planned), "--no-maps"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    rows = read_csv(planned / "assignments.csv")
    assert {r["customer_id"]: r["rep_id"] for r in rows} == {
        k: v["rep_id"] for k, v in split.items()
    }
    summary = json.loads((planned / "summary.json").read_text())
    assert summary["inputs"]["assignments"]["path"] == str(edited)
    assert summary["config"]["territory"]["max_moved"] == 0
    assert summary["kpis"]["moved"] == 0 and summary["kpis"]["rebalance_moved"] == 0
    assert {r["rep_id"] for r in read_csv(planned / "schedule.csv")} <= {"R1", "R2"}
    by_customer = {r["customer_id"]: r["rep_id"] for r in read_csv(planned / "schedule.csv")}
    assert all(split[c]["rep_id"] == rep for c, rep in by_customer.items())

    redesigned = tmp_path / "redesigned"
    assert (
        main(
            [
                "-q",
                "design",
                *base,
                "--assignments",
                str(edited),
                "--out",
                str(redesigned),
                "--no-maps",
            ]
        )
        == 0
    )
    again = {r["customer_id"]: r for r in read_csv(redesigned / "assignments.csv")}
    locked = [c for c, r in split.items() if r["locked"] == "true"]
    assert len(locked) == 6
    for c in locked:
        assert (
            again[c]["rep_id"] == split[c]["rep_id"]
            and again[c]["locked_rep"] == split[c]["rep_id"]
        )
    assert not (redesigned / EDIT_FILE).exists()
