"""The editor: edit.html's data and page, the assignments loader's ``locked`` column, and
``design``/``plan``/``evaluate --assignments`` starting from an edited split (no browser here;
tests/test_edit_browser.py drives the page)."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import CONFIG, CUSTOMERS, REPS, read_csv, small_sample
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from test_maps import PAYLOAD_IMG, PAYLOAD_SCRIPT, make_plan_folder

from territory import assets, pipeline
from territory.cli import main
from territory.districting import evaluate_assignment
from territory.edit import (
    EDIT_FILE,
    LEAFLET_CSS_SRI,
    LEAFLET_JS_SRI,
    content_security_policy,
    editor_data,
    neighbourhood,
    write_editor,
)
from territory.exceptions import InputError
from territory.load import apply_split, load_split
from territory.models import Customer
from territory.reporthtml import load_plan_folder
from territory.workload import customer_workload


@pytest.fixture(scope="module")
def sample_inputs() -> pipeline.Inputs:
    """The full sample (600 customers, 6 reps): the editor's graph must match the design's."""
    return pipeline.load_inputs(CUSTOMERS, REPS, CONFIG)


def _write(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _pieces(edges: np.ndarray, assignment: np.ndarray, k: int) -> list[int]:
    """Connected pieces per territory on the graph, counted independently of the page."""
    n = len(assignment)
    same = assignment[edges[:, 0]] == assignment[edges[:, 1]]
    e = edges[same]
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    pieces = [0] * k
    for comp in np.unique(labels):
        pieces[int(assignment[np.flatnonzero(labels == comp)[0]])] += 1
    return pieces


# ------------------------------------------------------------------------------ the graph


def test_graph_gives_the_design_connectedness(sample_inputs: pipeline.Inputs) -> None:
    """The page counts pieces on these edges: they must give evaluate's pieces for any split,
    from the coordinates as a plan folder stores them (6 decimals)."""
    customers = sample_inputs.customers
    reps = sample_inputs.reps
    assert reps is not None
    lat = np.array([round(c.lat, 6) for c in customers])
    lon = np.array([round(c.lon, 6) for c in customers])
    edges, triangles = neighbourhood(lat, lon)
    workload = customer_workload(customers, sample_inputs.config, reps)
    rng = np.random.default_rng(3)
    index = {r.id: t for t, r in enumerate(reps)}
    today = np.array([index[c.current_rep] for c in customers])
    for split in (today, rng.integers(0, len(reps), len(customers))):
        kpis = evaluate_assignment(customers, reps, workload, split, sample_inputs.config)
        assert _pieces(edges, split, len(reps)) == list(kpis.pieces)
    # every triangle side is a graph edge, so an area never fills across a dropped crossing
    known = {tuple(e) for e in edges.tolist()}
    for a, b, c in triangles.tolist():
        for u, v in ((a, b), (b, c), (a, c)):
            assert (min(u, v), max(u, v)) in known
    assert len(triangles) > len(customers)  # the areas are (nearly) filled


def test_graph_of_tiny_and_coincident_inputs() -> None:
    edges, triangles = neighbourhood(np.zeros(0), np.zeros(0))
    assert edges.shape == (0, 2) and triangles.shape == (0, 3)
    # three customers at one address and one elsewhere: one graph, no degenerate triangles
    edges, triangles = neighbourhood(np.array([52.0, 52.0, 52.0, 52.1]), np.full(4, 5.0))
    assert _pieces(edges, np.zeros(4, dtype=int), 1) == [1]
    assert triangles.shape == (0, 3)


# ------------------------------------------------------------------------------ the page


def test_editor_data_follows_the_folder(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "p", n_customers=40, planned=False)
    rows = read_csv(folder / "assignments.csv")
    with (folder / "assignments.csv").open("w", newline="", encoding="utf-8") as fh:
        rows[5]["locked_rep"] = rows[5]["rep_id"]  # locked to its own rep: drawn locked
        rows[6]["locked_rep"] = "nobody"  # a lock the design could not keep: not shown as one
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    data = editor_data(load_plan_folder(folder))
    terr = read_csv(folder / "territories.csv")
    assert [r["id"] for r in data["reps"]] == [t["rep_id"] for t in terr]
    assert data["reps"][0]["capacity_min"] == pytest.approx(float(terr[0]["capacity_hours"]) * 60)
    c = data["customers"]
    assert c["id"] == [r["customer_id"] for r in rows]
    assert [data["reps"][t]["id"] for t in c["t"]] == [r["rep_id"] for r in rows]
    assert c["workload_min"] == [float(r["workload_min"]) for r in rows]
    assert [i for i, x in enumerate(c["locked"]) if x] == [5]
    assert data["kind"] == "design" and data["tolerance"] == 0.05
    assert len(data["edges"]) % 2 == 0 and len(data["triangles"]) % 3 == 0


def test_page_shows_input_text_as_data_only(tmp_path: Path) -> None:
    """Names with HTML reach the page only inside the escaped JSON block."""
    folder = make_plan_folder(tmp_path / "p", n_customers=30, planned=False)
    page = write_editor(folder, tiles=False).read_text(encoding="utf-8")
    for payload in (PAYLOAD_SCRIPT, PAYLOAD_IMG, "R/<b>2</b>"):
        assert payload not in page
    assert page.count("<script") == 3  # Leaflet (CDN), the data block, the editor's script
    assert page.count("</script>") == 3
    block = re.search(r'<script id="te-data" type="application/json">(.*?)</script>', page, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["reps"][1]["id"] == "R/<b>2</b>"  # the escapes decode to the very text
    assert data["customers"]["name"][0] == PAYLOAD_IMG
    assert "innerHTML" not in (Path(__file__).parents[1] / "territory/data/edit.js").read_text()


def test_page_policy_allows_no_connection(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "p", n_customers=20, planned=False)
    online = write_editor(folder).read_text(encoding="utf-8")
    assert content_security_policy(online_leaflet=True, tiles=True) in online.replace("&#x27;", "'")
    assert f'integrity="{LEAFLET_JS_SRI}"' in online and f'integrity="{LEAFLET_CSS_SRI}"' in online
    offline_policy = content_security_policy(online_leaflet=False, tiles=False)
    assert "connect-src 'none'" in offline_policy
    assert "http" not in offline_policy  # offline: no origin at all is allowed


@pytest.mark.skipif(bool(assets.missing()), reason="map assets not cached")
def test_offline_page_inlines_everything(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "p", n_customers=20, planned=False)
    page = write_editor(folder, offline=True).read_text(encoding="utf-8")
    assert "<link" not in page and "<script src" not in page
    policy = re.search(r'Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None and "http" not in policy.group(1)
    assert '"tiles":false' in page
    # the same folder gives the same bytes
    assert write_editor(folder, offline=True).read_text(encoding="utf-8") == page


@pytest.mark.skipif(bool(assets.missing()), reason="map assets not cached")
def test_cdn_integrity_is_that_of_the_cached_leaflet() -> None:
    import base64
    import hashlib

    folder = assets.cache_dir() / f"leaflet-{assets.LEAFLET_VERSION}"
    for name, sri in (("leaflet.js", LEAFLET_JS_SRI), ("leaflet.css", LEAFLET_CSS_SRI)):
        digest = hashlib.sha256((folder / name).read_bytes()).digest()
        assert sri == "sha256-" + base64.b64encode(digest).decode()


def test_offline_without_assets_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_plan_folder(tmp_path / "p", n_customers=12, planned=False)
    monkeypatch.setenv(assets.ENV_VAR, str(tmp_path / "empty-cache"))
    assert main(["edit", str(folder), "--offline"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "python -m territory.assets fetch" in err[0]
    assert not (folder / EDIT_FILE).exists()


def test_edit_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_plan_folder(tmp_path / "p", n_customers=12, planned=False)
    assert main(["edit", str(folder), "--lang", "nl"]) == 0
    assert capsys.readouterr().out.strip() == str(folder / EDIT_FILE)
    assert '"title":"Rayons bewerken"' in (folder / EDIT_FILE).read_text(encoding="utf-8")
    assert main(["edit", str(tmp_path / "nothing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_edit_refuses_a_folder_out_of_step(tmp_path: Path) -> None:
    folder = make_plan_folder(tmp_path / "p", n_customers=12, planned=False)
    rows = read_csv(folder / "assignments.csv")
    rows[3]["rep_id"] = "R9"
    with (folder / "assignments.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputError, match=r"assignments.csv, row 5: customer 'C0004' has rep 'R9'"):
        write_editor(folder)


# ------------------------------------------------------------------------------ loading a split


@pytest.fixture
def four() -> tuple:
    """Four customers, enough for every lock value and error."""
    return tuple(
        Customer(id=f"K{i}", lat=52.0 + i / 10, lon=5.0, locked_rep="R1" if i == 4 else "")
        for i in range(1, 5)
    )


def test_locked_column_values(tmp_path: Path, four: tuple) -> None:
    rows = [["K1", "R1", "true"], ["K2", "R2", "ja"], ["K3", "R2", ""], ["K4", "R1", "0"]]
    split = load_split(_write(tmp_path / "a.csv", ["klant", "rep", "locked"], rows), four)
    assert split.rep_ids == {"K1": "R1", "K2": "R2", "K3": "R2", "K4": "R1"}
    assert split.locked == {"K1", "K2"}
    # Dutch Excel: semicolons, and the editor's own header
    path = _write(tmp_path / "b.csv", ["customer_id", "rep_id", "vast"], rows, delimiter=";")
    assert load_split(path, four).locked == {"K1", "K2"}
    # no locked column: None, the customers' own locks stay
    assert (
        load_split(_write(tmp_path / "c.csv", ["id", "rep"], [r[:2] for r in rows]), four).locked
        is None
    )


def test_locked_column_bad_value_is_one_line(tmp_path: Path, four: tuple) -> None:
    rows = [["K1", "R1", "true"], ["K2", "R2", "maybe"], ["K3", "R2", ""], ["K4", "R1", "no"]]
    path = _write(tmp_path / "a.csv", ["customer_id", "rep_id", "locked"], rows)
    with pytest.raises(InputError) as err:
        load_split(path, four)
    assert str(err.value) == (
        f"{path}, row 3, column 'locked': 'maybe' is not true or false; use true/false, yes/no, "
        "ja/nee or 1/0 (empty: not locked)"
    )


def test_apply_split(tmp_path: Path, four: tuple) -> None:
    rows = [["K1", "R1", "true"], ["K2", "R2", "false"], ["K3", "R2", ""], ["K4", "R2", ""]]
    split = load_split(_write(tmp_path / "a.csv", ["customer_id", "rep_id", "locked"], rows), four)
    out = apply_split(four, split, ["R1", "R2"])
    assert [(c.current_rep, c.locked_rep) for c in out] == [
        ("R1", "R1"),
        ("R2", ""),
        ("R2", ""),
        ("R2", ""),  # the file unlocks K4 (locked to R1 in the customers file)
    ]
    plain = load_split(
        _write(tmp_path / "b.csv", ["customer_id", "rep_id"], [r[:2] for r in rows]), four
    )
    assert apply_split(four, plain, ["R1", "R2"])[3].locked_rep == "R1"  # kept
    with pytest.raises(InputError, match=r"b.csv, row 3: customer 'K2' has rep 'R2', which is not"):
        apply_split(four, plain, ["R1"])


# ------------------------------------------------------------------------------ --assignments


def _edited_split(inputs: pipeline.Inputs, path: Path, *, seed: int = 0) -> list[list[str]]:
    """Today's split with 40 customers given to a random other rep and 10 locked: what a
    manager might export from edit.html."""
    assert inputs.reps is not None
    rep_ids = [r.id for r in inputs.reps]
    rng = np.random.default_rng(seed)
    rows = [
        [c.id, c.current_rep if c.current_rep in rep_ids else rep_ids[0], "false"]
        for c in inputs.customers
    ]
    for i in rng.choice(len(rows), 40, replace=False):
        rows[i][1] = rep_ids[
            (rep_ids.index(rows[i][1]) + 1 + int(rng.integers(0, len(rep_ids) - 1))) % len(rep_ids)
        ]
    for i in rng.choice(len(rows), 10, replace=False):
        rows[i][2] = "true"
    _write(path, ["customer_id", "rep_id", "locked"], rows)
    return rows


def test_design_keeps_locks_and_max_moved_zero_keeps_all(
    tmp_path: Path, sample_inputs: pipeline.Inputs
) -> None:
    rows = _edited_split(sample_inputs, tmp_path / "edited.csv")
    inputs = pipeline.with_assignments(sample_inputs, tmp_path / "edited.csv")
    assert inputs.paths["assignments"] == tmp_path / "edited.csv"
    assert inputs.reps is not None
    rep_ids = [r.id for r in inputs.reps]
    free, _ = pipeline.design(inputs)
    got = [free.rep_ids[t] for t in free.assignment]
    assert all(got[i] == r[1] for i, r in enumerate(rows) if r[2] == "true")  # locks kept
    assert got != [r[1] for r in rows]  # the rest was the starting point, not a cage
    assert free.kpis is not None and free.kpis.max_workload_deviation <= 0.05 + 1e-9
    exact, _ = pipeline.design(inputs, max_moved=0.0)
    assert [exact.rep_ids[t] for t in exact.assignment] == [r[1] for r in rows]
    assert exact.kpis is not None and exact.kpis.moved == 0
    # the design started from the file: fewer changes against it than a design from scratch
    scratch, _ = pipeline.design(replace(inputs, start_from=None))
    moved = sum(a != b for a, b in zip(got, (r[1] for r in rows), strict=True))
    moved_scratch = sum(rep_ids[a] != r[1] for a, r in zip(scratch.assignment, rows, strict=True))
    assert moved < moved_scratch


def test_assignments_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    customers, reps = small_sample(tmp_path, n_customers=20, n_reps=2)
    out = tmp_path / "out"
    code = main(["design", str(customers), "--k", "2", "--assignments", "x.csv", "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "territory: error: design --assignments needs --reps, not --k: the file names reps, "
        "free centres have none"
    )
    ids = [row["id"] for row in read_csv(customers)]
    bad = _write(
        tmp_path / "bad.csv", ["customer_id", "rep_id", "locked"], [[c, "R99", "no"] for c in ids]
    )
    args = [
        "design",
        str(customers),
        "--reps",
        str(reps),
        "--assignments",
        str(bad),
        "--out",
        str(out),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"territory: error: {bad}, row 2: customer '{ids[0]}' has rep 'R99'")
    assert not out.exists()


def test_evaluate_reads_the_editors_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers, reps = small_sample(tmp_path, n_customers=30, n_reps=2)
    ids = [row["id"] for row in read_csv(customers)]
    path = _write(tmp_path / "e.csv", ["customer_id", "rep_id", "locked"],
                  [[c, "R1" if i % 3 else "R2", "true" if i == 0 else "false"] for i, c in enumerate(ids)])  # fmt: skip
    assert (
        main(
            ["evaluate", str(customers), "--reps", str(reps), "--assignments", str(path), "--json"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["customers"] == [20, 10]


def test_edit_html_lives_as_long_as_its_split(tmp_path: Path) -> None:
    """`territory map` keeps edit.html; a new run into the folder removes it (stale split)."""
    customers, reps = small_sample(tmp_path, n_customers=24, n_reps=2)
    out = tmp_path / "out"
    args = ["-q", "design", str(customers), "--reps", str(reps), "--out", str(out)]
    assert main([*args, "--no-maps"]) == 0
    assert main(["edit", str(out)]) == 0
    assert main(["map", str(out)]) == 0
    assert (out / EDIT_FILE).is_file()
    assert main([*args, "--no-maps"]) == 0
    assert not (out / EDIT_FILE).exists()
