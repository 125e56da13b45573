"""Map assets: the Leaflet JavaScript and CSS, fetched once from the npm registry into a cache.

The maps need exactly one third-party library, Leaflet (https://leafletjs.com, BSD-2-Clause):
``leaflet.js``, ``leaflet.css`` and the five PNGs the CSS refers to. Nothing else is needed
because ``territory.maps`` uses none of folium's other default assets (jQuery, Bootstrap,
Font Awesome, Leaflet.awesome-markers): popups, tooltips, the legend and the numbered stops
are built by the map's own script.

No third-party file is committed to this repository. ``python -m territory.assets fetch``
downloads the package tarball ``leaflet-1.9.4.tgz`` from the npm registry once, checks its
sha512 against the integrity the registry publishes, and keeps the files in the cache folder
(``$TERRITORY_ASSETS_DIR`` or ``~/.cache/territory/assets``). Offline maps inline them
(CSS images as data URIs), so an offline ``map.html`` needs no network except for base tiles.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import logging
import os
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .exceptions import TerritoryError

log = logging.getLogger(__name__)

LEAFLET_VERSION = "1.9.4"
LEAFLET_TARBALL_URL = f"https://registry.npmjs.org/leaflet/-/leaflet-{LEAFLET_VERSION}.tgz"
# npm's published integrity of leaflet-1.9.4.tgz (npm view leaflet@1.9.4 dist.integrity).
LEAFLET_INTEGRITY = "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
# What online maps link to instead (same version as the offline copy).
LEAFLET_CDN_JS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"
LEAFLET_CDN_CSS = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css"

ENV_VAR = "TERRITORY_ASSETS_DIR"
FILES = (
    "leaflet.js",
    "leaflet.css",
    "images/layers.png",
    "images/layers-2x.png",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
)
FETCH_COMMAND = "python -m territory.assets fetch"


class AssetsMissingError(TerritoryError):
    """The offline map assets are not in the cache (fill it with ``python -m territory.assets fetch``)."""


@dataclass(frozen=True)
class InlineAssets:
    """Leaflet ready to inline into one HTML page."""

    js: str
    css: str


def cache_dir() -> Path:
    """The asset cache folder: ``$TERRITORY_ASSETS_DIR`` or ``~/.cache/territory/assets``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "territory" / "assets"


def _leaflet_dir(root: Path) -> Path:
    return root / f"leaflet-{LEAFLET_VERSION}"


def missing(root: Path | None = None) -> list[str]:
    """Names of the asset files not (yet) in the cache."""
    folder = _leaflet_dir(root or cache_dir())
    return [name for name in FILES if not (folder / name).is_file()]


def _check_integrity(data: bytes, integrity: str) -> None:
    algo, _, expected = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != expected:
        raise TerritoryError(
            f"The downloaded {LEAFLET_TARBALL_URL} does not match npm's integrity {integrity}; "
            "try again later or fill the asset cache by hand"
        )


def install_tarball(data: bytes, root: Path | None = None) -> Path:
    """Check a ``leaflet-1.9.4.tgz`` against its integrity and unpack the needed files.

    Parameters
    ----------
    data
        The tarball bytes as served by the npm registry.
    root
        Cache folder (default :func:`cache_dir`).

    Returns
    -------
    Path
        The folder holding ``leaflet.js``, ``leaflet.css`` and ``images/``.
    """
    _check_integrity(data, LEAFLET_INTEGRITY)
    folder = _leaflet_dir(root or cache_dir())
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in FILES:
            member = tar.extractfile(f"package/dist/{name}")
            if member is None:  # pragma: no cover - the integrity check pins the content
                raise TerritoryError(f"{LEAFLET_TARBALL_URL} has no dist/{name}")
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_bytes(member.read())
            tmp.replace(target)
    return folder


def fetch(root: Path | None = None, *, timeout_s: float = 60.0) -> Path:
    """Download Leaflet from the npm registry into the cache (no-op when already there).

    Returns
    -------
    Path
        The folder holding the assets.
    """
    root = root or cache_dir()
    if not missing(root):
        log.info("map assets already in %s", _leaflet_dir(root))
        return _leaflet_dir(root)
    log.info("fetching %s", LEAFLET_TARBALL_URL)
    with urllib.request.urlopen(LEAFLET_TARBALL_URL, timeout=timeout_s) as response:
        data = response.read()
    return install_tarball(data, root)


def _strip_source_map(js: str) -> str:
    # An inlined script has no neighbouring .map file; drop the reference so nothing asks for it.
    return re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", js)


def load_inline(root: Path | None = None) -> InlineAssets:
    """Leaflet's JS and CSS from the cache, with the CSS images as data URIs.

    Raises
    ------
    AssetsMissingError
        One line naming the cache folder and the command that fills it.
    """
    root = root or cache_dir()
    absent = missing(root)
    if absent:
        raise AssetsMissingError(
            f"Offline map assets (Leaflet {LEAFLET_VERSION}) are not in {root}; fill the cache "
            f"once with `{FETCH_COMMAND}` (downloads from the npm registry) or point "
            f"{ENV_VAR} at a folder that holds them"
        )
    folder = _leaflet_dir(root)
    js = _strip_source_map((folder / "leaflet.js").read_text(encoding="utf-8"))
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        name = match.group(1)
        png = (folder / "images" / name).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(png).decode()})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    return InlineAssets(js=js, css=css)


def main(argv: list[str] | None = None) -> int:
    """``python -m territory.assets fetch|path|check``."""
    parser = argparse.ArgumentParser(
        prog="python -m territory.assets",
        description="Manage the offline map assets (Leaflet from the npm registry).",
    )
    parser.add_argument(
        "action",
        choices=["fetch", "path", "check"],
        help="fetch: download into the cache; path: print the cache folder; check: exit 1 when missing",
    )
    args = parser.parse_args(argv)
    if args.action == "path":
        print(_leaflet_dir(cache_dir()))
        return 0
    if args.action == "check":
        absent = missing()
        if absent:
            print(f"missing in {cache_dir()}: {', '.join(absent)}; run `{FETCH_COMMAND}`")
            return 1
        print(f"map assets present in {_leaflet_dir(cache_dir())}")
        return 0
    try:
        folder = fetch()
    except (OSError, TerritoryError) as exc:
        print(f"error: could not fetch the map assets: {exc}", file=sys.stderr)
        return 1
    print(f"map assets in {folder}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
