"""Locating: fill missing lat/lon of customers and reps, offline first.

Order, per row without coordinates:

1. **cache**: an on-disk JSON file of earlier online results (default
   ``~/.cache/territory/geocode.json``, or ``$XDG_CACHE_HOME/territory/geocode.json``);
2. **online** (only when ``online=True``) for rows with a street or postcode: geopy's Nominatim
   behind a ``RateLimiter`` of one request per second, with this package's user agent; results
   are added to the cache;
3. **gazetteer**: the bundled GeoNames places of NL and BE (``territory/data``), matched on
   ``city`` (and ``country`` when given), case- and accent-insensitive, with alternate names
   ("Den Haag", "'s-Gravenhage", "Den Bosch", "Ghent"). This gives the town centre, so such rows
   are marked ``located = "gazetteer"`` and the outputs show it. With ``online=True``, rows with
   only a town the gazetteer does not know are then looked up online.

Rows that stay without coordinates raise one :class:`GeocodingError` saying how many, which,
and what to do. geopy is imported only here (and in ``travel``), and only when going online.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .exceptions import GeocodingError
from .models import Customer, Rep

log = logging.getLogger(__name__)

#: Nominatim asks every application to identify itself.
USER_AGENT = "territory/0.1 (field-sales territory planner, geopy)"
GAZETTEER_FILE = "gazetteer_nl_be.csv"

T = TypeVar("T", Customer, Rep)

#: Country names and codes as people write them -> ISO alpha-2.
COUNTRY_CODES = {
    "nl": "NL",
    "nld": "NL",
    "nederland": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "be": "BE",
    "bel": "BE",
    "belgie": "BE",
    "belgium": "BE",
    "belgique": "BE",
    "belgien": "BE",
}


class Geocoder(Protocol):
    """What ``locate`` needs from an online geocoder (geopy's Nominatim fits)."""

    def geocode(self, query: str) -> Any:  # pragma: no cover - protocol
        """Return an object with ``latitude`` and ``longitude``, or None."""
        ...


def default_cache_path() -> Path:
    """``$XDG_CACHE_HOME/territory/geocode.json``, else ``~/.cache/territory/geocode.json``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "territory" / "geocode.json"


def normalise_place(text: str) -> str:
    """Comparison form of a place name: no accents or case, "'s-X" as "s x", single spaces.

    >>> normalise_place("'s-Hertogenbosch")
    's hertogenbosch'
    >>> normalise_place("Liège")
    'liege'
    """
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("\u2019", "'")
    text = re.sub(r"[-/.,']", " ", text)
    return " ".join(text.split())


def _country_code(country: str) -> str:
    key = normalise_place(country)
    return COUNTRY_CODES.get(key, key.upper() if len(key) == 2 else "")


@dataclasses.dataclass(frozen=True)
class Place:
    """One gazetteer place."""

    name: str
    lat: float
    lon: float
    country: str
    admin1: str
    population: int


@lru_cache(maxsize=2)
def load_gazetteer(path: str | None = None) -> dict[str, tuple[tuple[int, Place], ...]]:
    """The gazetteer as normalised name -> candidates, best first.

    Candidates are ranked by (primary name before alternate name, larger population first), so
    "Bergen" is the town in North Holland, not Mons (whose Dutch name is Bergen), unless the
    country says BE.
    """
    if path is None:
        text = resources.files("territory").joinpath("data", GAZETTEER_FILE).read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    index: dict[str, list[tuple[int, Place]]] = {}
    for row in csv.DictReader(text.splitlines()):
        place = Place(
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            country=row["country"],
            admin1=row["admin1"],
            population=int(row["population"] or 0),
        )
        names = [(0, row["name"])] + [(1, a) for a in row["alt_names"].split("|") if a]
        for rank, name in names:
            key = normalise_place(name)
            if key:
                index.setdefault(key, []).append((rank, place))
    return {
        key: tuple(sorted(cands, key=lambda c: (c[0], -c[1].population, c[1].name)))
        for key, cands in index.items()
    }


def gazetteer_lookup(city: str, country: str = "") -> Place | None:
    """The best gazetteer place for a city name (and optional country), or None.

    Tries the name as given, then without a parenthesised suffix ("Bergen (NH)") and without a
    leading "gemeente ".
    """
    index = load_gazetteer()
    code = _country_code(country) if country else ""
    base = normalise_place(city)
    tries = [base]
    stripped = normalise_place(re.sub(r"\(.*?\)", "", city))
    if stripped != base:
        tries.append(stripped)
    if base.startswith("gemeente "):
        tries.append(base.removeprefix("gemeente "))
    for key in tries:
        for _rank, place in index.get(key, ()):
            if not code or place.country == code:
                return place
    return None


def nearest_place(lat: float, lon: float, *, min_population: int = 20000) -> Place | None:
    """The nearest gazetteer town of at least ``min_population`` (any place if none is that big).

    Names a free territory centre ("near Amersfoort") for the console and the maps.
    """
    places = _places()
    if not places:
        return None
    big = [p for p in places if p.population >= min_population] or list(places)
    # Squared equirectangular distance is enough to rank places a few hundred km apart.
    k = math.cos(math.radians(lat))
    return min(big, key=lambda p: ((p.lat - lat) ** 2 + ((p.lon - lon) * k) ** 2, p.name))


@lru_cache(maxsize=1)
def _places() -> tuple[Place, ...]:
    unique = {id(p): p for cands in load_gazetteer().values() for _rank, p in cands}
    return tuple(sorted(unique.values(), key=lambda p: (p.name, p.lat, p.lon)))


# --------------------------------------------------------------------------------------------
# Cache


def _address_key(item: Customer | Rep) -> str:
    parts = [item.street, item.postcode, item.city, item.country]
    return "|".join(normalise_place(p) for p in parts)


def _query(item: Customer | Rep) -> str:
    parts = [item.street, " ".join(p for p in (item.postcode, item.city) if p), item.country]
    return ", ".join(p for p in parts if p)


def read_cache(path: Path) -> dict[str, list[float]]:
    """The geocode cache: address key -> [lat, lon]. A missing or unreadable cache is empty."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("geocode cache %s is unreadable (%s); ignoring it", path, exc)
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        k: [float(v[0]), float(v[1])]
        for k, v in data.items()
        if isinstance(v, list) and len(v) == 2
    }


def write_cache(path: Path, cache: dict[str, list[float]]) -> None:
    """Write the cache atomically (a temporary file renamed over the old one), keys sorted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".geocode-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(cache, fh, indent=0, sort_keys=True, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def nominatim() -> Geocoder:
    """geopy's Nominatim behind a RateLimiter of one request per second (its usage policy)."""
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    service = Nominatim(user_agent=USER_AGENT, timeout=10)
    limited = RateLimiter(service.geocode, min_delay_seconds=1.0, max_retries=2)

    class _Limited:
        def geocode(self, query: str) -> Any:
            return limited(query, exactly_one=True)

    return _Limited()


# --------------------------------------------------------------------------------------------
# locate


def locate(
    items: Sequence[T],
    *,
    online: bool = False,
    cache_path: str | Path | None = None,
    source: str = "customers.csv",
    geocoder: Geocoder | None = None,
) -> tuple[T, ...]:
    """Fill NaN lat/lon of customers or reps; set ``located`` to how each was found.

    Parameters
    ----------
    items
        Customers or reps as loaded; rows with finite lat/lon are returned unchanged.
    online
        Look addresses up with ``geocoder`` (default: Nominatim, 1 request/s). Never without it.
    cache_path
        The JSON cache of earlier online results; default ``default_cache_path()``.
    source
        The file the items came from, for messages.
    geocoder
        An object with ``geocode(query)`` to use instead of Nominatim (tests inject a fake).

    Returns
    -------
    tuple
        The items in the same order, located ones replaced (``dataclasses.replace``) with
        ``located`` = "cache", "online" or "gazetteer".

    Raises
    ------
    GeocodingError
        When rows remain without coordinates: how many, the first few, and what to do.
    """
    todo = [
        i for i, it in enumerate(items) if not (math.isfinite(it.lat) and math.isfinite(it.lon))
    ]
    if not todo:
        return tuple(items)
    path = Path(cache_path) if cache_path is not None else default_cache_path()
    cache = read_cache(path)
    out = list(items)
    failed: list[int] = []
    added = 0
    service: Geocoder | None = None
    counts = {"cache": 0, "online": 0, "gazetteer": 0}
    for i in todo:
        item = items[i]
        key = _address_key(item)
        found: tuple[float, float, str] | None = None
        if key in cache:
            lat, lon = cache[key]
            found = (lat, lon, "cache")
        # Online first when there is more than a town to look up (a street or postcode gives
        # a better point than the town centre); a bare town name goes to the gazetteer first,
        # since a worldwide service may pick a namesake abroad.
        precise = bool(item.street or item.postcode)
        tried = False
        if found is None and online and precise:
            service = service or (geocoder if geocoder is not None else nominatim())
            found, tried = _online(service, item, cache), True
        if found is None and item.city:
            place = gazetteer_lookup(item.city, item.country)
            if place is not None:
                found = (place.lat, place.lon, "gazetteer")
        if found is None and online and not tried and _query(item):
            service = service or (geocoder if geocoder is not None else nominatim())
            found = _online(service, item, cache)
        if found is not None and found[2] == "online":
            added += 1
        if found is None:
            failed.append(i)
            continue
        counts[found[2]] += 1
        out[i] = dataclasses.replace(item, lat=found[0], lon=found[1], located=found[2])
    if added:
        write_cache(path, cache)
    kind = "reps" if items and isinstance(items[0], Rep) else "customers"
    log.info(
        "%s: located %d %s without lat/lon (%s)",
        source,
        len(todo) - len(failed),
        kind,
        ", ".join(f"{v} from {k}" for k, v in counts.items() if v),
    )
    if failed:
        raise GeocodingError(_failure_message(items, failed, source, kind, online))
    return tuple(out)


def _online(
    service: Geocoder, item: Customer | Rep, cache: dict[str, list[float]]
) -> tuple[float, float, str] | None:
    """Ask the online service; a hit is stored in ``cache``."""
    query = _query(item)
    try:
        result = service.geocode(query)
    except Exception as exc:  # geopy's errors (timeouts, service down) must not stop the run
        log.warning("online geocoding of '%s' failed (%s)", query, exc)
        return None
    if result is None:
        return None
    lat, lon = float(result.latitude), float(result.longitude)
    cache[_address_key(item)] = [lat, lon]
    return lat, lon, "online"


def _failure_message(
    items: Sequence[Customer | Rep], failed: list[int], source: str, kind: str, online: bool
) -> str:
    first = []
    for i in failed[:5]:
        it = items[i]
        place = f"city '{it.city}'" if it.city else "no city"
        first.append(f"row {it.row} id '{it.id}' ({place})")
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    advice = (
        "add lat and lon for them or correct the city name"
        if online
        else "add lat and lon for them, correct the city name, or pass --online to look the "
        "addresses up on the internet (OpenStreetMap Nominatim)"
    )
    how = "" if online else " offline"
    return (
        f"{source}: {len(failed)} {kind} could not be located{how}: "
        f"{'; '.join(first)}{more}; {advice}"
    )
