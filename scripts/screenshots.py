"""Make the README's pictures of the rep pages: one on a phone, one printed day sheet.

    python scripts/screenshots.py out --rep R1 --day 2027-01-05 --img docs/img

``out`` is a plan folder (``make demo`` writes one). Its pages are rendered again offline (no
base tiles, so the pictures need no network), then headless Chromium takes the phone picture
(390 x 844 CSS pixels, as a phone) and prints the rep page to PDF, whose page for ``--day`` is
turned into a PNG by ``pdftoppm`` (Debian's poppler-utils; only this script needs it).
"""

from __future__ import annotations

import argparse
import base64
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_maps_browser import CHROMIUM, Browser  # noqa: E402

from territory.htmlutil import rep_file_name  # noqa: E402
from territory.maps import render  # noqa: E402
from territory.reporthtml import load_plan_folder  # noqa: E402

log = logging.getLogger("screenshots")


def phone_picture(page: Path, day: str, out: Path) -> None:
    """The rep page as a phone shows it, opened on ``day``."""
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, extra_args=("--host-resolver-rules=MAP * ~NOTFOUND",))
    try:
        browser.viewport(390, 844, mobile=True)
        since = len(browser.events)
        browser.call("Page.navigate", {"url": page.resolve().as_uri() + "#" + day})
        browser.wait_event("Page.loadEventFired", since=since)
        browser.evaluate("new Promise(r => setTimeout(r, 1500))", await_promise=True)
        shot = browser.call("Page.captureScreenshot", {"format": "png"})
        out.write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.close()


def printed_sheet(page: Path, sheet: int, out: Path) -> None:
    """Page ``sheet`` (1-based) of the rep page printed by Chromium, as a PNG."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "sheets.pdf"
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/p",
             "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri()],
            check=True, timeout=120, capture_output=True,
        )  # fmt: skip
        stem = Path(tmp) / "sheet"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", str(sheet), "-l", str(sheet), "-singlefile",
             str(pdf), str(stem)],
            check=True, timeout=60,
        )  # fmt: skip
        shutil.copyfile(stem.with_suffix(".png"), out)


def main(argv: list[str] | None = None) -> int:
    """Render the folder's pages offline and write rep-phone.png and day-sheet.png."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a plan folder (territory plan --out)")
    parser.add_argument("--rep", default="R1", help="the rep whose page is shown")
    parser.add_argument("--day", default="", help="ISO date of the day to show (default: first)")
    parser.add_argument("--lang", default="en", choices=("en", "nl"))
    parser.add_argument("--img", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if CHROMIUM is None or shutil.which("pdftoppm") is None:
        log.error("needs chromium and pdftoppm (apt-get install chromium poppler-utils)")
        return 2
    render(args.folder, lang=args.lang, offline=True, tiles=None)
    folder = load_plan_folder(args.folder)
    days = [d["date"] for d in folder.days or [] if d["rep_id"] == args.rep]
    day = args.day or days[0]
    page = args.folder / "reps" / rep_file_name(args.rep)
    args.img.mkdir(parents=True, exist_ok=True)
    phone_picture(page, day, args.img / "rep-phone.png")
    printed_sheet(page, days.index(day) + 1, args.img / "day-sheet.png")
    log.info("wrote %s and %s", args.img / "rep-phone.png", args.img / "day-sheet.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
