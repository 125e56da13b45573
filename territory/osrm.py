"""Travel stage, source ``osrm``: an OSRM server's ``/table`` service, in batches.

Every ask is cut into tiles of at most ``[travel] osrm_batch`` coordinates (OSRM's
``--max-table-size`` defaults to 100), each one GET of
``/table/v1/driving/lon,lat;...?sources=..&destinations=..&annotations=duration,distance``:
durations are the fastest routes' seconds and distances their metres (the km of that route).
Answers are kept per pair for the run, so the design's repeated asks cost one request each.
A request that times out, is refused or answers 5xx is retried (0.5 s, 1 s, 2 s); then the run
stops with one line naming the server and what to start. Pairs OSRM cannot route (``null``)
are estimated with the straight-line model and counted.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .exceptions import InputError
from .params import TravelParams
from .travel import Legs, Points, check_snaps, crow, snap_figures

log = logging.getLogger(__name__)

#: Seconds to wait before each retry of a failed request.
RETRY_WAITS_S = (0.5, 1.0, 2.0)


class OsrmError(InputError):
    """The OSRM server did not answer, or answered something that is not a table."""


class OsrmTravel:
    """Legs from an OSRM server (see the module notes)."""

    def __init__(self, params: TravelParams) -> None:
        self.params = params
        self.server = str(params.osrm).rstrip("/")
        self.batch = int(params.osrm_batch)
        self.timeout_s = float(params.osrm_timeout_s)
        self.known: dict[tuple[float, float, float, float], tuple[float, float]] = {}
        self.requests = 0
        self.estimated_pairs = 0
        self.snapped: dict[str, Any] = {"points": 0}

    @property
    def source(self) -> str:
        """Always ``osrm``."""
        return "osrm"

    # ---- HTTP

    def _get(self, url: str) -> dict[str, Any]:
        """One table request, retried; the parsed answer."""
        problem = ""
        for attempt in range(len(RETRY_WAITS_S) + 1):
            if attempt:
                time.sleep(RETRY_WAITS_S[attempt - 1])
            try:
                with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                    self.requests += 1
                    answer: dict[str, Any] = json.loads(response.read().decode("utf-8"))
                    return answer
            except urllib.error.HTTPError as exc:
                body = exc.read().decode("utf-8", "replace")[:200]
                if exc.code < 500:  # the request itself is wrong: retrying will not help
                    raise OsrmError(
                        f"OSRM at {self.server} refused a table request (HTTP {exc.code}: "
                        f"{body}); check [travel] osrm and osrm_batch (at most the server's "
                        "--max-table-size)"
                    ) from None
                problem = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = str(reason) or type(exc).__name__
            except ValueError:
                problem = "the answer is not JSON"
        raise OsrmError(
            f"OSRM at {self.server} did not answer ({problem}) after {len(RETRY_WAITS_S) + 1} "
            "tries; start it there (see the README, 'Travel on real roads': docker run ... "
            "osrm-routed) or choose another [travel] source"
        )

    def _table(
        self, src: NDArray[np.float64], dst: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], list[float]]:
        """Seconds and metres |src| x |dst| (NaN: no route) for one tile; source snap metres."""
        coords = np.vstack([src, dst])
        text = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in coords)
        ns = len(src)
        query = (
            f"sources={';'.join(map(str, range(ns)))}"
            f"&destinations={';'.join(map(str, range(ns, len(coords))))}"
            "&annotations=duration,distance"
        )
        answer = self._get(f"{self.server}/table/v1/driving/{text}?{query}")
        if answer.get("code") != "Ok" or "durations" not in answer:
            raise OsrmError(
                f"OSRM at {self.server} answered {answer.get('code')!r} "
                f"({answer.get('message', 'no table')}) to a table request"
            )
        seconds = np.array(answer["durations"], dtype=np.float64)
        metres = np.array(answer.get("distances") or np.full(seconds.shape, np.nan), dtype=float)
        snaps = [float(w.get("distance", 0.0)) for w in answer.get("sources", [])]
        return seconds.reshape(ns, -1), metres.reshape(ns, -1), snaps

    # ---- the model

    def _fill(self, a: Points, b: Points) -> None:
        """Ask the server for every pair of unique a x unique b not known yet, in tiles."""
        ua = np.unique(np.column_stack([a.lat, a.lon]), axis=0)
        ub = np.unique(np.column_stack([b.lat, b.lon]), axis=0)
        need_a = [
            k
            for k in range(len(ua))
            if any((*ua[k], *ub[j]) not in self.known for j in range(len(ub)))
        ]
        if not need_a:
            return
        ua = ua[need_a]
        half = max(1, self.batch // 2)
        for i in range(0, len(ua), half):
            for j in range(0, len(ub), half):
                sa, sb = ua[i : i + half], ub[j : j + half]
                seconds, metres, _ = self._table(sa, sb)
                for x in range(len(sa)):
                    for y in range(len(sb)):
                        key = (sa[x, 0], sa[x, 1], sb[y, 0], sb[y, 1])
                        self.known[key] = (seconds[x, y], metres[x, y])

    def _legs(self, a: Points, b: Points) -> Legs:
        """Flat pairs from the answers kept; unroutable ones estimated."""
        got = [
            self.known[(la, oa, lb, ob)]
            for la, oa, lb, ob in zip(a.lat, a.lon, b.lat, b.lon, strict=True)
        ]
        arr = np.array(got, dtype=np.float64).reshape(-1, 2)
        minutes, km = arr[:, 0] / 60.0, arr[:, 1] / 1000.0
        bad = ~np.isfinite(minutes) | ~np.isfinite(km)
        same = (a.lat == b.lat) & (a.lon == b.lon)
        minutes[same], km[same] = 0.0, 0.0
        bad &= ~same
        if bad.any():
            self.estimated_pairs += int(bad.sum())
            est = crow(self.params).pairs(a, b)
            minutes = np.where(bad, est.minutes, minutes)
            km = np.where(bad, est.km, km)
        return Legs(km, minutes)

    def pairs(self, a: Points, b: Points) -> Legs:
        """Travel from ``a[i]`` to ``b[i]`` (one side may have length 1)."""
        a, b = a.paired(b)
        # group by source: one tile row per distinct source over its own targets
        keys = np.column_stack([a.lat, a.lon])
        _, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        for g in np.unique(inverse):
            members = np.flatnonzero(inverse == g)
            self._fill(a.take(members[:1]), b.take(members))
        return self._legs(a, b)

    def matrix(self, a: Points, b: Points | None = None) -> Legs:
        """|a| x |b| legs."""
        b = a if b is None else b
        self._fill(a, b)
        ra = np.repeat(np.arange(len(a)), len(b))
        rb = np.tile(np.arange(len(b)), len(a))
        legs = self._legs(a.take(ra), b.take(rb))
        shape = (len(a), len(b))
        return Legs(legs.km.reshape(shape), legs.minutes.reshape(shape))

    def snap(self, places: Points) -> NDArray[np.float64]:
        """Metres from each place to the road OSRM snapped it to (one request per batch)."""
        out = np.zeros(len(places))
        step = max(1, self.batch - 1)
        for s in range(0, len(places), step):
            chunk = np.column_stack([places.lat[s : s + step], places.lon[s : s + step]])
            _, _, snaps = self._table(chunk, chunk[:1])
            out[s : s + len(chunk)] = snaps
        return out

    def paths(self, a: Points, b: Points) -> None:
        """No road geometry: the maps draw straight lines between stops."""
        return None

    def describe(self) -> dict[str, Any]:
        """Source, server, requests, snapping figures, estimated pairs."""
        return {
            "source": "osrm",
            "server": self.server,
            "requests": self.requests,
            "km": "length of the fastest route (OSRM distances)",
            "snapped": self.snapped,
            "pairs_estimated": self.estimated_pairs,
        }


def osrm_travel(params: TravelParams, places: Points | None = None) -> OsrmTravel:
    """The ``osrm`` source at ``params.osrm``; asks it at once (snapping the run's places), so
    a server that does not answer stops the run before any work.

    Raises
    ------
    InputError
        The server does not answer or refuses; a place lies more than ``max_snap_km`` from
        any road it knows.
    """
    model = OsrmTravel(params)
    if not model.server.startswith(("http://", "https://")):
        raise InputError(
            f"[travel] osrm = {params.osrm!r} is not a URL; give the server's address, e.g. "
            "http://localhost:5000"
        )
    if places is not None and len(places):
        snap = model.snap(places)
        check_snaps(snap, places, params, f"OSRM at {model.server}")
        model.snapped = snap_figures(snap, None if places.ids is None else list(places.ids))
    return model
