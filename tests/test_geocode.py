"""Locating rows without lat/lon: cache, then (opt-in) online, then the bundled gazetteer."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from territory.exceptions import GeocodingError
from territory.geocode import (
    GAZETTEER_FILE,
    _address_key,
    default_cache_path,
    gazetteer_lookup,
    locate,
    normalise_place,
)
from territory.models import Customer, Rep
from territory.travel import haversine_km

NAN = math.nan
DATA = Path(__file__).resolve().parents[1] / "territory" / "data"


@dataclass
class FakeLocation:
    latitude: float
    longitude: float


class FakeGeocoder:
    """Stands in for Nominatim: records queries, answers from a dict, never touches a network."""

    def __init__(self, answers: dict[str, tuple[float, float]] | None = None, fail: bool = False):
        self.answers = answers or {}
        self.fail = fail
        self.queries: list[str] = []

    def geocode(self, query: str):
        self.queries.append(query)
        if self.fail:
            raise TimeoutError("service timed out")
        hit = self.answers.get(query)
        return FakeLocation(*hit) if hit else None


def customer(cid: str, city: str = "", lat: float = NAN, lon: float = NAN, **kw) -> Customer:
    return Customer(id=cid, lat=lat, lon=lon, city=city, row=int(cid[1:]) + 1, **kw)


@pytest.mark.parametrize(
    ("city", "country", "name", "lat", "lon"),
    [
        ("Amsterdam", "", "Amsterdam", 52.37, 4.89),
        ("AMSTERDAM", "NL", "Amsterdam", 52.37, 4.89),
        ("'s-Hertogenbosch", "", "'s-Hertogenbosch", 51.70, 5.30),
        ("s Hertogenbosch", "", "'s-Hertogenbosch", 51.70, 5.30),
        ("Den Bosch", "Nederland", "'s-Hertogenbosch", 51.70, 5.30),
        ("Den Haag", "", "The Hague", 52.08, 4.30),
        ("'s-Gravenhage", "", "The Hague", 52.08, 4.30),
        ("Gent", "", "Gent", 51.05, 3.72),
        ("Ghent", "Belgium", "Gent", 51.05, 3.72),
        ("Liège", "", "Liège", 50.63, 5.57),
        ("liege", "BE", "Liège", 50.63, 5.57),
        ("Luik", "België", "Liège", 50.63, 5.57),
        ("Bergen", "", "Bergen", 52.67, 4.70),  # the Dutch town, not Mons
        ("Bergen", "BE", "Mons", 50.45, 3.95),  # Mons is Bergen in Dutch
        ("Bergen (NH)", "", "Bergen", 52.67, 4.70),
        ("Gemeente Zwolle", "", "Zwolle", 52.51, 6.09),
    ],
)
def test_gazetteer_finds_places(city, country, name, lat, lon) -> None:
    place = gazetteer_lookup(city, country)
    assert place is not None and place.name == name
    assert abs(place.lat - lat) < 0.01 and abs(place.lon - lon) < 0.01


def test_gazetteer_misses_and_country_filter() -> None:
    assert gazetteer_lookup("Atlantis") is None
    assert gazetteer_lookup("Amsterdam", "BE") is None


def test_normalise_place() -> None:
    assert normalise_place("  's-Hertogenbosch ") == normalise_place("S HERTOGENBOSCH")
    assert normalise_place("Liège") == "liege"


def test_gazetteer_file_is_small_and_attributed() -> None:
    path = DATA / GAZETTEER_FILE
    assert path.stat().st_size < 400_000
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert set(rows[0]) == {"name", "alt_names", "lat", "lon", "country", "admin1", "population"}
    assert {r["country"] for r in rows} == {"NL", "BE"}
    assert all(50.6 < float(r["lat"]) < 53.7 for r in rows if r["country"] == "NL")
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "GeoNames" in readme and "CC-BY 4.0" in readme


def test_locate_fills_only_missing_rows_from_the_gazetteer(tmp_path: Path) -> None:
    items = (
        customer("K1", "Utrecht", 52.0, 5.0),
        customer("K2", "Den Haag"),
        customer("K3", "Gent", country="BE"),
    )
    out = locate(items, cache_path=tmp_path / "cache.json")
    assert out[0] is items[0]
    assert out[1].located == "gazetteer" and out[2].located == "gazetteer"
    assert haversine_km(out[1].lat, out[1].lon, 52.08, 4.30) < 2
    assert haversine_km(out[2].lat, out[2].lon, 51.05, 3.72) < 2
    assert (out[1].id, out[1].city, out[1].row) == ("K2", "Den Haag", 3)
    assert not (tmp_path / "cache.json").exists()  # offline runs never write the cache


def test_locate_reps_too(tmp_path: Path) -> None:
    reps = (Rep(id="R1", lat=NAN, lon=NAN, city="Zwolle"),)
    (r,) = locate(reps, cache_path=tmp_path / "c.json", source="reps.csv")
    assert isinstance(r, Rep) and r.located == "gazetteer" and abs(r.lat - 52.51) < 0.01


def test_cache_comes_before_the_gazetteer(tmp_path: Path) -> None:
    item = customer("K1", "Amsterdam", street="Damrak 1")
    cache = tmp_path / "geocode.json"
    cache.write_text(json.dumps({_address_key(item): [52.3765, 4.8980]}), encoding="utf-8")
    fake = FakeGeocoder()
    (out,) = locate([item], online=True, cache_path=cache, geocoder=fake)
    assert (out.lat, out.lon, out.located) == (52.3765, 4.8980, "cache")
    assert fake.queries == []


def test_online_only_when_asked(tmp_path: Path) -> None:
    items = [customer("K1", "Nergenshuizen", street="Dorpsstraat 1", postcode="1234 AB")]
    fake = FakeGeocoder({"Dorpsstraat 1, 1234 AB Nergenshuizen": (52.5, 5.5)})
    cache = tmp_path / "geocode.json"
    with pytest.raises(GeocodingError):
        locate(items, online=False, cache_path=cache, geocoder=fake)
    assert fake.queries == []
    (out,) = locate(items, online=True, cache_path=cache, geocoder=fake)
    assert (out.lat, out.lon, out.located) == (52.5, 5.5, "online")
    assert fake.queries == ["Dorpsstraat 1, 1234 AB Nergenshuizen"]
    # the result was cached: the next offline run finds it without the geocoder
    (again,) = locate(items, online=False, cache_path=cache, geocoder=FakeGeocoder(fail=True))
    assert (again.lat, again.lon, again.located) == (52.5, 5.5, "cache")


def test_online_failure_falls_back_to_the_gazetteer(tmp_path: Path) -> None:
    fake = FakeGeocoder(fail=True)
    item = customer("K1", "Zwolle", street="Melkmarkt 1")
    (out,) = locate([item], online=True, cache_path=tmp_path / "c.json", geocoder=fake)
    assert out.located == "gazetteer" and fake.queries == ["Melkmarkt 1, Zwolle"]
    assert not (tmp_path / "c.json").exists()


def test_bare_town_prefers_the_gazetteer_even_online(tmp_path: Path) -> None:
    """'Zwolle' alone could be Zwolle, Louisiana online; the gazetteer knows the Dutch one."""
    fake = FakeGeocoder({"Zwolle": (31.63, -93.64), "Hoogwoud-Oost": (52.71, 4.95)})
    items = [customer("K1", "Zwolle"), customer("K2", "Hoogwoud-Oost")]
    first, second = locate(items, online=True, cache_path=tmp_path / "c.json", geocoder=fake)
    assert first.located == "gazetteer" and abs(first.lat - 52.51) < 0.01
    assert (second.lat, second.located) == (52.71, "online")
    assert fake.queries == ["Hoogwoud-Oost"]


def test_one_error_says_how_many_which_and_what_to_do(tmp_path: Path) -> None:
    items = [customer(f"K{i}", "Atlantis") for i in range(1, 9)] + [customer("K9", "Zwolle")]
    with pytest.raises(GeocodingError) as info:
        locate(items, cache_path=tmp_path / "c.json", source="klanten.csv")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("klanten.csv: 8 customers could not be located offline")
    assert "row 2 id 'K1' (city 'Atlantis')" in message and "and 3 more" in message
    assert "add lat and lon" in message and "city name" in message and "--online" in message


def test_unreadable_cache_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "geocode.json"
    cache.write_text("{not json", encoding="utf-8")
    (out,) = locate([customer("K1", "Gent")], cache_path=cache)
    assert out.located == "gazetteer"
    assert "unreadable" in caplog.text


def test_default_cache_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "territory" / "geocode.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_path().parts[-3:] == (".cache", "territory", "geocode.json")


def test_nothing_to_locate_reads_no_cache(tmp_path: Path) -> None:
    items = (customer("K1", "", 52.0, 5.0),)
    assert locate(items, cache_path=tmp_path / "missing" / "c.json") == items
