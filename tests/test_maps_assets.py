"""The offline asset cache: integrity check, inlining, and the one-line advice when empty."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from territory import assets
from territory.exceptions import TerritoryError


def test_tampered_tarball_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"window.L = {};"
        info = tarfile.TarInfo("package/dist/leaflet.js")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(TerritoryError, match="integrity"):
        assets.install_tarball(buffer.getvalue(), tmp_path)
    assert assets.missing(tmp_path) == list(assets.FILES)


def test_check_and_path_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(assets.ENV_VAR, str(tmp_path))
    assert assets.cache_dir() == tmp_path
    assert assets.main(["check"]) == 1
    assert assets.FETCH_COMMAND in capsys.readouterr().out
    assert assets.main(["path"]) == 0
    assert str(tmp_path) in capsys.readouterr().out


def test_inline_assets_from_the_cache() -> None:
    if assets.missing():
        pytest.skip(f"map assets not cached; run `{assets.FETCH_COMMAND}`")
    inline = assets.load_inline()
    assert 'version="1.9.4"' in inline.js.replace(" ", "")
    assert "sourceMappingURL" not in inline.js
    # every image the CSS refers to is inlined: nothing left to fetch from disk or network
    assert "url(images/" not in inline.css
    assert inline.css.count("url(data:image/png;base64,") == 3
