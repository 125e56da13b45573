"""Economics (chapter 9) and telesales (6.6): config, columns, and the arithmetic of the files.

Every figure is recomputed here from the files a run wrote: contribution = margin - rep cost -
travel cost, break-even revenue = (rep cost + travel cost) / margin, agents from the call
minutes, and phone customers absent from the field plan.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from pathlib import Path

import pytest
from conftest import CONFIG, CUSTOMERS, REPS, read_csv, small_sample

from territory import Config, ConfigError, InputError
from territory.cli import main
from territory.load import load_customers
from territory.params import WORKING_WEEKS_PER_YEAR

ECONOMICS = """
[economics]
margin = 0.25
rep_cost_per_year = 90000
cost_per_km = 0.30
phone_cost_per_hour = 40
"""


def _config(tmp_path: Path, extra: str, base: Path | None = CONFIG) -> Path:
    text = (base.read_text(encoding="utf-8") if base is not None else "") + extra
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- config


def test_economics_keys_defaults_and_periods(tmp_path: Path) -> None:
    cfg = Config.from_dict({"economics": {}})
    assert cfg.economics is not None
    econ = cfg.economics
    assert (econ.margin, econ.rep_cost_per_year, econ.cost_per_km) == (0.30, 85000.0, 0.23)
    assert econ.periods(cfg.period) == pytest.approx(WORKING_WEEKS_PER_YEAR / 4) == 11.5
    six = Config.from_dict({"period": {"weeks": 2}, "economics": {"periods_per_year": 24}})
    assert six.economics is not None and six.economics.periods(six.period) == 24
    assert Config().economics is None
    assert "economics" not in Config().to_dict()  # a run without it writes the summary as before
    assert "phone" not in Config().to_dict() and "channel" not in Config().to_dict()["classes"]["A"]


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("[economics]\nmargin = 0", "margin = 0 is not accepted"),
        ("[economics]\nmargin = 1.5", "margin = 1.5"),
        ("[economics]\nrep_cost_per_year = -1", "rep_cost_per_year = -1"),
        ('[economics]\ncost_per_km = "cheap"', "cost_per_km = 'cheap'"),
        ("[economics]\nperiods_per_year = 0", "periods_per_year = 0"),
        ("[phone]\nutilisation = 2", "utilisation = 2"),
        ("[phone]\nagent_hours_per_period = 0", "agent_hours_per_period = 0"),
        ('[classes.C]\nchannel = "mail"', "channel = 'mail'"),
        ("[classes.C]\ncalls = -1", "calls = -1"),
        ("[classes.C]\ncall_minutes = 0", "call_minutes = 0"),
    ],
)
def test_bad_economics_and_phone_values_are_one_line(
    tmp_path: Path, table: str, needle: str
) -> None:
    path = _config(tmp_path, table + "\n", base=None)
    with pytest.raises(ConfigError) as err:
        Config.from_toml(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_phone_class_and_utilization_spelling() -> None:
    cfg = Config.from_dict(
        {
            "classes": {"A": {"visits": 2}, "C": {"channel": "Phone", "call_minutes": 6}},
            "phone": {"utilization": 0.7},
        }
    )
    c = cfg.classes["C"]
    assert (c.channel, c.calls_per_period, c.minutes_per_call) == ("phone", 1, 6.0)
    assert cfg.phone.utilisation == 0.7
    assert cfg.to_dict()["classes"]["C"]["channel"] == "phone"
    assert cfg.phone.agent_hours(cfg.period, cfg.day) == pytest.approx(20 * 450 / 60)


def test_unknown_economics_key_is_warned() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Config.from_dict({"economics": {"marge": 0.3}}, source="plan.toml")
    assert any("[economics] marge" in str(w.message) for w in caught)


# ---------------------------------------------------------------------------------- columns


def test_revenue_and_channel_columns(tmp_path: Path) -> None:
    """Dutch headers, a decimal comma and thousands dots; the class's or the row's channel."""
    path = tmp_path / "k.csv"
    path.write_text(
        "klantnummer;lat;lon;klasse;omzet;kanaal\n"
        "K1;52,1;5,1;A;12.500;\n"
        "K2;52,2;5,2;C;;telefoon\n"
        "K3;52,3;5,3;C;900,50;Bezoek\n",
        encoding="utf-8",
    )
    cfg = Config.from_dict({"classes": {"A": {}, "C": {"calls": 2, "call_minutes": 7}}})
    a, b, c = load_customers(path, cfg)
    assert (a.revenue, a.channel, a.calls) == (12500.0, "field", 0)
    assert (b.revenue, b.channel, b.calls, b.call_minutes) == (None, "phone", 2, 7.0)
    assert (c.revenue, c.channel) == (900.5, "field")
    by_class = Config.from_dict({"classes": {"A": {}, "C": {"channel": "phone"}}})
    assert [x.channel for x in load_customers(path, by_class)] == ["field", "phone", "field"]


def test_bad_channel_and_revenue_name_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("id,lat,lon,channel,revenue\nK1,52.1,5.1,mail,-5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_customers(path, Config())
    text = str(err.value)
    assert "row 2, column 'channel': 'mail' is not a sales channel" in text
    assert "row 2, column 'revenue': '-5' is not accepted" in text


# ------------------------------------------------------------------------- the sample's files


@pytest.fixture(scope="module")
def design_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample designed (estimated travel) with its [economics] and revenue column."""
    out = tmp_path_factory.mktemp("design")
    args = ["-q", "design", str(CUSTOMERS), "--reps", str(REPS), "--config", str(CONFIG)]
    assert main([*args, "--out", str(out), "--no-maps"]) == 0
    return out


def test_territory_economics_recomputed_from_the_files(design_dir: Path) -> None:
    cfg = Config.from_toml(CONFIG)
    econ = cfg.economics
    assert econ is not None
    periods = econ.periods(cfg.period)
    revenue = {c["id"]: float(c["revenue"] or 0) for c in read_csv(CUSTOMERS)}
    capacity = {r["id"]: float(r["capacity"] or 1) for r in read_csv(REPS)}
    assignments = read_csv(design_dir / "assignments.csv")
    territories = {t["rep_id"]: t for t in read_csv(design_dir / "territories.csv")}
    rows = read_csv(design_dir / "economics.csv")
    assert [r["rep_id"] for r in rows] == list(territories)
    for r in rows:
        rep = r["rep_id"]
        mine = [a["customer_id"] for a in assignments if a["rep_id"] == rep]
        margin, rep_cost = float(r["margin_eur"]), float(r["rep_cost_eur"])
        travel_cost = float(r["travel_cost_eur"])
        assert int(r["customers"]) == len(mine)
        assert float(r["revenue"]) == pytest.approx(sum(revenue[c] for c in mine), abs=0.01)
        assert margin == pytest.approx(float(r["revenue"]) * econ.margin, abs=0.01)
        assert rep_cost == pytest.approx(econ.rep_cost_per_year * capacity[rep], abs=0.01)
        km_year = float(territories[rep]["travel_km"]) * periods  # estimated travel of a design
        assert float(r["travel_km_year"]) == pytest.approx(km_year, abs=0.1 * periods)
        assert travel_cost == pytest.approx(km_year * econ.cost_per_km, abs=0.05 * periods)
        # the two formulas of the issue, to the cent
        assert float(r["contribution_eur"]) == pytest.approx(
            margin - rep_cost - travel_cost, abs=1e-6
        )
        assert float(r["break_even_revenue_eur"]) == pytest.approx(
            (rep_cost + travel_cost) / econ.margin, abs=0.006
        )
        visits_year = round(float(territories[rep]["visits"]) * periods)
        assert int(r["visits_year"]) == visits_year
        assert float(r["cost_per_visit_eur"]) == pytest.approx(
            (rep_cost + travel_cost) / visits_year, abs=0.006
        )
    summary = json.loads((design_dir / "summary.json").read_text("utf-8"))
    totals = summary["kpis"]["economics"]
    assert totals["basis"] == "revenue"
    assert totals["contribution_eur"] == pytest.approx(
        sum(float(r["contribution_eur"]) for r in rows), abs=0.05
    )


def test_customer_economics_add_up_and_flag(design_dir: Path) -> None:
    cfg = Config.from_toml(CONFIG)
    assert cfg.economics is not None
    territories = {r["rep_id"]: r for r in read_csv(design_dir / "economics.csv")}
    customers = read_csv(design_dir / "customer_economics.csv")
    assert len(customers) == 600 and {c["channel"] for c in customers} == {"field"}
    cost: dict[str, float] = dict.fromkeys(territories, 0.0)
    flagged: dict[str, int] = dict.fromkeys(territories, 0)
    for c in customers:
        margin, visit_cost = float(c["margin_eur"]), float(c["visit_cost_eur"])
        assert margin == pytest.approx(float(c["revenue"]) * cfg.economics.margin, abs=0.006)
        assert float(c["contribution_eur"]) == pytest.approx(margin - visit_cost, abs=1e-6)
        assert (c["cost_above_margin"] == "true") == (visit_cost > margin)
        cost[c["rep_id"]] += visit_cost
        flagged[c["rep_id"]] += c["cost_above_margin"] == "true"
    for rep, t in territories.items():
        # the customers carry their territory's whole cost between them
        whole = float(t["rep_cost_eur"]) + float(t["travel_cost_eur"])
        assert cost[rep] == pytest.approx(whole, abs=0.01 * int(t["customers"]))
        assert int(t["flagged_customers"]) == flagged[rep]
    assert sum(flagged.values()) > 0  # the sample has customers worth a call instead


def test_the_report_shows_contribution_break_even_and_flagged(
    tmp_path: Path, design_dir: Path
) -> None:
    import shutil

    from openpyxl import load_workbook

    from territory.maps import render

    folder = tmp_path / "d"
    shutil.copytree(design_dir, folder)
    render(folder, lang="nl")
    page = (folder / "report.html").read_text("utf-8")
    assert "Dekkingsbijdrage per vertegenwoordiger" in page
    assert "Break-evenomzet per vertegenwoordiger" in page
    assert "Klanten waarvan de bezoeken meer kosten dan hun marge" in page
    assert page.count("<rect") >= 2 * 6  # the workload chart and the contribution chart
    assert {"economics", "customer_economics"} <= set(
        load_workbook(folder / "plan.xlsx").sheetnames
    )


def test_economics_skipped_with_one_line_without_revenue_or_potential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers, reps = small_sample(tmp_path, 30, 2)
    rows = read_csv(customers)
    plain = tmp_path / "plain.csv"
    header = [k for k in rows[0] if k not in ("potential", "revenue")]
    with plain.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    args = ["-q", "design", str(plain), "--reps", str(reps), "--config", str(CONFIG)]
    assert main([*args, "--out", str(out), "--no-maps"]) == 0
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if "economics are skipped" in line]
    assert len(skipped) == 1 and "no customer has a revenue or potential" in skipped[0]
    assert not (out / "economics.csv").exists()


# ----------------------------------------------------------------------------------- phone


def _phone_config(tmp_path: Path) -> Path:
    text = CONFIG.read_text(encoding="utf-8").replace(
        "call_minutes = 10", 'call_minutes = 8\nchannel = "phone"'
    )
    text = text.replace("calls = 1 ", "calls = 2 ")
    text = text.replace("utilisation = 0.8", "utilisation = 0.75\nagent_hours_per_period = 100")
    path = tmp_path / "phone.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_size_shows_the_inside_sales_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _phone_config(tmp_path)
    args = ["size", str(CUSTOMERS), "--reps", str(REPS), "--config", str(cfg)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Inside sales (telesales)" in text
    assert main([*args, "--json"]) == 0
    tele = json.loads(capsys.readouterr().out)["telesales"]
    n_c = sum(1 for c in read_csv(CUSTOMERS) if c["class"] == "C")
    hours = n_c * 2 * 8 / 60
    assert (tele["customers"], tele["calls"]) == (n_c, 2 * n_c)
    assert tele["call_hours"] == pytest.approx(hours, abs=0.01)
    assert tele["agents_exact"] == pytest.approx(hours / (100 * 0.75), abs=1e-3)
    assert tele["agents_needed"] == math.ceil(hours / (100 * 0.75))
    assert f"{tele['agents_needed']} agents" in text or f"{tele['agents_needed']} agent" in text


@pytest.mark.slow
def test_phone_customers_leave_the_field_plan(tmp_path: Path) -> None:
    """Class C by phone on a small sample: not designed, not scheduled, called and costed."""
    customers, reps = small_sample(tmp_path, 60, 2)
    cfg_path = _phone_config(tmp_path)
    cfg = Config.from_toml(cfg_path)
    assert cfg.economics is not None
    out = tmp_path / "plan"
    args = ["-q", "plan", str(customers), "--reps", str(reps), "--config", str(cfg_path)]
    assert main([*args, "--out", str(out), "--no-maps"]) == 0
    rows = read_csv(customers)
    phone = {c["id"] for c in rows if c["class"] == "C"}
    assert phone and len(phone) < len(rows)
    scheduled = {v["customer_id"] for v in read_csv(out / "schedule.csv")}
    assert scheduled and not scheduled & phone
    assert not {a["customer_id"] for a in read_csv(out / "assignments.csv")} & phone
    listed = read_csv(out / "phone_customers.csv")
    assert [c["customer_id"] for c in listed] == [c["id"] for c in rows if c["id"] in phone]
    assert all((c["calls"], c["call_minutes"]) == ("2", "8") for c in listed)
    tele = json.loads((out / "summary.json").read_text("utf-8"))["kpis"]["telesales"]
    minutes = sum(int(c["calls"]) * float(c["call_minutes"]) for c in listed)
    assert tele["agents_exact"] == pytest.approx(minutes / 60 / (100 * 0.75), abs=1e-3)
    assert tele["agents_needed"] == math.ceil(minutes / 60 / (100 * 0.75) - 1e-9)
    periods = cfg.economics.periods(cfg.period)
    for c in read_csv(out / "customer_economics.csv"):
        if c["customer_id"] in phone:
            assert (c["channel"], c["rep_id"], c["visits"]) == ("phone", "", "0")
            hours = 2 * 8 / 60 * periods / 0.75
            cost = hours * cfg.economics.phone_cost_per_hour
            assert float(c["visit_cost_eur"]) == pytest.approx(cost, abs=0.006)
        else:
            assert c["channel"] == "field" and c["rep_id"]


def test_every_customer_by_phone_is_one_line(tmp_path: Path) -> None:
    customers, reps = small_sample(tmp_path, 10, 2)
    cfg = _config(tmp_path, "", base=None)
    cfg.write_text(
        '[classes.A]\nchannel = "phone"\n[classes.B]\nchannel = "phone"\n'
        '[classes.C]\nchannel = "phone"\n',
        encoding="utf-8",
    )
    args = ["-q", "design", str(customers), "--reps", str(reps), "--config", str(cfg)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
