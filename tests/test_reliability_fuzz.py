"""Fuzzing the edges: damaged CSV bytes and random config values never give a traceback or hang.

The loaders may only return values or raise ``InputError``; the CLI may only exit 0 or 2 with
``territory: error:`` lines. Inputs are small and every CLI call has a time limit, so a hang
fails the test instead of stalling the suite.
"""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory.cli import main
from territory.exceptions import InputError
from territory.load import load_customers, load_reps
from territory.params import Config

MESSY = Path(__file__).parent / "data" / "messy"
CUSTOMERS_TEXT = (MESSY / "customers_ok.csv").read_text(encoding="utf-8") + (
    "K5,Café Noël,51.58656,4.77596,A\n"
)
REPS_TEXT = (MESSY / "reps_ok.csv").read_text(encoding="utf-8")
CLI_TIMEOUT_S = 60.0

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def damaged(draw, text: str) -> bytes:
    """A valid table with a few of the damages real files have, then encoded somehow."""
    damages = draw(
        st.lists(
            st.sampled_from(
                ["cut", "quote", "delimiter", "nul", "junk", "dupcol", "blank", "swapcells"]
            ),
            min_size=1,
            max_size=3,
        )
    )
    for damage in damages:
        if damage == "cut" and text:
            text = text[: draw(st.integers(0, len(text)))]
        elif damage == "quote" and text:
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(['"', '""', "'", '"\n'])) + text[at:]
        elif damage == "delimiter":
            text = text.replace(",", draw(st.sampled_from([";", "\t", "|", " ", ",,"])))
        elif damage == "nul" and text:
            at = draw(st.integers(0, len(text)))
            text = text[:at] + "\x00" + text[at:]
        elif damage == "junk":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.text(max_size=12)) + text[at:]
        elif damage == "dupcol":
            text = text.replace("lat", "lon", 1)
        elif damage == "blank":
            text = text.replace(draw(st.sampled_from(["K1", "52.", "A\n", "lat"])), "", 1)
        elif damage == "swapcells":
            text = text.replace("52.37403,4.88969", "4.88969,52.37403")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]  # an interrupted download: possibly mid character
    return data


def _load_or_input_error(loader, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a TerritoryWarning is fine here
        try:
            result = loader(path, Config())
        except InputError as exc:
            message = str(exc)
            assert message and "Traceback" not in message
            assert all(line.strip() for line in message.splitlines())
        else:
            assert isinstance(result, tuple)


@FUZZ
@given(data=damaged(CUSTOMERS_TEXT), suffix=st.sampled_from([".csv", ".txt", ".tsv"]))
def test_damaged_customers_file_loads_or_is_refused(tmp_path_factory, data, suffix) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"customers{suffix}"
    path.write_bytes(data)
    _load_or_input_error(load_customers, path)


@FUZZ
@given(data=damaged(REPS_TEXT))
def test_damaged_reps_file_loads_or_is_refused(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "reps.csv"
    path.write_bytes(data)
    _load_or_input_error(load_reps, path)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes_are_refused_in_one_message(tmp_path_factory, data, suffix) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"customers{suffix}"
    path.write_bytes(data)
    _load_or_input_error(load_customers, path)


# Random config values: every section and key plan.toml knows, values of any TOML type.
CONFIG_KEYS = {
    "period": ["weeks", "days", "start_date"],
    "day": ["start", "end", "lunch_minutes", "lunch_from", "lunch_until", "admin_minutes"],
    "travel": ["speed_kmh", "circuity"],
    "sizing": ["target_utilization", "default_class", "potential_per_rep", "travel_leg_factor"],
    "territory": ["balance", "tolerance", "contiguous", "seed", "keep_current_weight",
                  "max_moved", "candidates"],
    "planning": ["rebalance_rounds", "routed_tolerance", "routed_goal", "improve_iterations",
                 "repair_routes", "polish_iterations"],
}  # fmt: skip
TOML_SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=10),
    st.sampled_from(["08:30", "25:99", "mon", "ma-vr", "2027-01-04", "", "A", "workload"]),
)
TOML_VALUES = st.one_of(TOML_SCALARS, st.lists(TOML_SCALARS, max_size=4))


@st.composite
def config_dicts(draw) -> dict:
    data: dict = {}
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from([*CONFIG_KEYS, "classes", "nonsense"]))
        if section == "classes":
            name = draw(st.sampled_from(["A", "B", "Z", ""]))
            table = {k: draw(TOML_VALUES) for k in draw(st.sets(st.sampled_from(
                ["visits", "visit_minutes", "colour"]), max_size=3))}  # fmt: skip
            data.setdefault("classes", {})[name] = draw(st.sampled_from([table, 3, "x"]))
        elif section == "nonsense":
            data[section] = draw(TOML_VALUES)
        else:
            key = draw(st.sampled_from(CONFIG_KEYS[section]))
            data.setdefault(section, {})[key] = draw(TOML_VALUES)
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.sampled_from(list(CONFIG_KEYS)))] = draw(TOML_SCALARS)  # a key, no table
    return data


@settings(max_examples=100, deadline=None)
@given(data=config_dicts())
def test_random_config_values_give_a_config_or_a_config_error(data) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            config = Config.from_dict(data)
        except InputError as exc:
            assert str(exc) and "Traceback" not in str(exc)
        else:
            assert isinstance(config, Config)


def _toml(data: dict) -> str:
    """Minimal TOML writer for the fuzzed dicts (strings escaped by repr-like JSON quoting)."""
    import json
    import math

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            if math.isnan(v):
                return "nan"
            if math.isinf(v):
                return "inf" if v > 0 else "-inf"
            return repr(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    lines = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for section, table in data.items():
        if not isinstance(table, dict):
            continue
        if section == "classes":
            for name, spec in table.items():
                if isinstance(spec, dict):
                    lines.append(f"[classes.{json.dumps(name)}]")
                    lines += [f"{k} = {value(v)}" for k, v in spec.items()]
                else:
                    lines.append(f"[classes]\n{json.dumps(name)} = {value(spec)}")
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _run_cli(args: list[str]) -> tuple[int, str]:
    """``main(args)`` in a thread with a time limit; returns (exit code, stderr)."""
    result: dict = {}
    err = io.StringIO()

    def target() -> None:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                result["code"] = main(args)
            except SystemExit as exc:  # argparse usage errors
                result["code"] = exc.code
            except BaseException as exc:  # anything else escaping is reported as a failure below
                result["escaped"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(CLI_TIMEOUT_S)
    assert not thread.is_alive(), f"territory {' '.join(args)} did not finish (a hang)"
    assert "escaped" not in result, result.get("escaped")
    return result["code"], err.getvalue()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    customers=damaged(CUSTOMERS_TEXT),
    reps=st.one_of(st.none(), damaged(REPS_TEXT)),
    config=st.one_of(st.none(), config_dicts(), st.text(max_size=60)),
)
def test_cli_on_damaged_files_and_configs_exits_cleanly(
    tmp_path_factory, customers, reps, config
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "customers.csv").write_bytes(customers)
    args = ["size", str(folder / "customers.csv")]
    if reps is not None:
        (folder / "reps.csv").write_bytes(reps)
        args += ["--reps", str(folder / "reps.csv")]
    if config is not None:
        text = config if isinstance(config, str) else _toml(config)
        (folder / "plan.toml").write_text(text, encoding="utf-8")
        args += ["--config", str(folder / "plan.toml")]
    code, err = _run_cli(args)
    assert "Traceback" not in err
    assert code in (0, 2), (code, err)
    if code:
        assert "territory: error: " in err
        assert "internal error" not in err


def test_cli_design_and_plan_on_a_damaged_file_exit_cleanly(tmp_path) -> None:
    """One design and one plan run (the heavy stages) on a file with a shifted row."""
    bad = tmp_path / "customers.csv"
    bad.write_text(CUSTOMERS_TEXT.replace("K3,Visser,", 'K3,"Visser,'), encoding="utf-8")
    for command in ("design", "plan"):
        code, err = _run_cli(
            [
                "-q",
                command,
                str(bad),
                "--reps",
                str(MESSY / "reps_ok.csv"),
                "--out",
                str(tmp_path / command),
                "--no-maps",
            ]
        )
        assert "Traceback" not in err and "internal error" not in err
        assert code in (0, 2)


# Accepted but extreme config values: the heavy stages must cope (or refuse in one line).
EXTREMES: dict[tuple[str, str], list] = {
    ("period", "weeks"): [1, 3, 13, 52],
    ("period", "days"): [["mon"], ["sat", "sun"], ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]],
    ("day", "start"): ["00:00", "06:00", "12:00", "16:00"],
    ("day", "end"): ["09:00", "23:59", "24:00"],
    ("day", "lunch_minutes"): [0, 180],
    ("day", "admin_minutes"): [0, 400, 480],
    ("day", "lunch_from"): ["00:00", "16:00"],
    ("day", "lunch_until"): ["23:00", "24:00"],
    ("travel", "speed_kmh"): [5, 200],
    ("travel", "circuity"): [1.0, 3.0],
    ("sizing", "target_utilization"): [0.1, 1.0],
    ("sizing", "potential_per_rep"): [1e-9, 1e12],
    ("territory", "balance"): [["potential"], ["customers"], ["workload", "potential", "customers"]],
    ("territory", "tolerance"): [0.001, 0.5],
    ("territory", "contiguous"): [True, False],
    ("territory", "seed"): [-1, 2**62],
    ("territory", "keep_current_weight"): [1e9, 1e300],
    ("territory", "max_moved"): [0, 1],
    ("territory", "candidates"): [2, 50],
    ("planning", "rebalance_rounds"): [0, 20],
    ("planning", "routed_tolerance"): [0.01, 0.5],
    ("planning", "improve_iterations"): [0, 1, 10**12],
    ("planning", "repair_routes"): [0, 500],
    ("classes.A", "visits"): [0, 20, 100],
    ("classes.A", "visit_minutes"): [1, 600],
}  # fmt: skip


@st.composite
def extreme_configs(draw) -> dict:
    data: dict = {}
    for section, key in draw(st.sets(st.sampled_from(sorted(EXTREMES)), min_size=1, max_size=5)):
        value = draw(st.sampled_from(EXTREMES[(section, key)]))
        if section.startswith("classes."):
            data.setdefault("classes", {}).setdefault(section.split(".")[1], {})[key] = value
        else:
            data.setdefault(section, {})[key] = value
    return data


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=extreme_configs(), command=st.sampled_from(["design", "plan"]))
def test_design_and_plan_with_extreme_config_values_exit_cleanly(
    tmp_path_factory, config, command
) -> None:
    folder = tmp_path_factory.mktemp("extreme")
    (folder / "plan.toml").write_text(_toml(config), encoding="utf-8")
    code, err = _run_cli(
        ["-q", command, str(MESSY / "plan_customers.csv"), "--reps", str(MESSY / "reps_two.csv"),
         "--config", str(folder / "plan.toml"), "--out", str(folder / "out"), "--no-maps"]
    )  # fmt: skip
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 2), (code, err)
    assert (folder / "out").is_dir() == (code == 0)
