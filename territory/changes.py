"""changes.csv of a re-plan: which future visits moved, were added or dropped, and why.

A visit is kept when the customer is visited on the same date by the same rep before and after
the re-plan (times within the day may shift). The others are paired per customer in date order:
the first visit that left a day with the first visit that arrived on a new one, and so on; a
visit without a partner was dropped (no new date) or added (no old date).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .columns import CHANGES
from .columns import Column as C
from .htmlutil import esc

#: One visit: (ISO date, rep id).
VisitKey = tuple[str, str]


def change_rows(
    old: Mapping[str, Sequence[VisitKey]],
    new: Mapping[str, Sequence[VisitKey]],
    reasons: Mapping[str, str],
) -> list[dict[str, str]]:
    """The rows of changes.csv, by date (the earlier of old and new) and customer.

    Parameters
    ----------
    old, new
        Per customer id, the future visits of the previous plan and of the re-plan.
    reasons
        Per customer id, why its visits changed (a default is used where none is given).
    """
    rows: list[dict[str, str]] = []
    for cid in sorted(set(old) | set(new)):
        before, after = set(old.get(cid, ())), set(new.get(cid, ()))
        gone = sorted(before - after)
        came = sorted(after - before)
        why = reasons.get(cid) or "re-planned"
        for was, now in itertools.zip_longest(gone, came):
            rows.append(
                {
                    C.CUSTOMER_ID: cid,
                    C.OLD_DATE: was[0] if was else "",
                    C.OLD_REP: was[1] if was else "",
                    C.NEW_DATE: now[0] if now else "",
                    C.NEW_REP: now[1] if now else "",
                    C.REASON: why,
                }
            )
    rows.sort(key=lambda r: (min(d for d in (r[C.OLD_DATE], r[C.NEW_DATE]) if d), r[C.CUSTOMER_ID]))
    return rows


def kept_share(
    old: Mapping[str, Sequence[VisitKey]], new: Mapping[str, Sequence[VisitKey]]
) -> float:
    """Share of the previous plan's future visits that keep their date and rep (1.0 when the
    previous plan had none)."""
    total = sum(len(v) for v in old.values())
    kept = sum(len(set(v) & set(new.get(cid, ()))) for cid, v in old.items())
    return kept / total if total else 1.0


#: At most this many changes are listed on the report page (all are in changes.csv).
SHOWN_ROWS = 200


def changes_html(plan_dir: Path, lab: Mapping[str, str], lang: str = "en") -> str | None:
    """The body of the report's section on a re-plan's changes (None without changes.csv).

    ``lab`` are the page's labels (``htmlutil.labels``: ``changes_intro``, ``changes_none``,
    ``changes_more``); the table's headers are the columns' own, in ``lang``.
    """
    path = Path(plan_dir) / CHANGES.file
    if not path.is_file():
        return None
    import csv
    import json

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return f"<p>{esc(lab['changes_none'])}</p>"
    facts: dict[str, Any] = {}
    summary = Path(plan_dir) / "summary.json"
    if summary.is_file():
        loaded = json.loads(summary.read_text(encoding="utf-8")).get("replan")
        facts = loaded if isinstance(loaded, dict) else {}
    intro = lab["changes_intro"].format(
        n=len(rows),
        kept=facts.get("future_visits_kept", "–"),
        old=facts.get("future_visits_before", "–"),
    )
    head = "".join(f"<th>{esc(c.header(lang))}</th>" for c in CHANGES.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(r.get(c, ''))}</td>" for c in CHANGES.columns) + "</tr>"
        for r in rows[:SHOWN_ROWS]
    )
    more = (
        f"<p>{esc(lab['changes_more'].format(n=len(rows) - SHOWN_ROWS))}</p>"
        if len(rows) > SHOWN_ROWS
        else ""
    )
    return (
        f'<p>{esc(intro)} <a href="{CHANGES.file}">{CHANGES.file}</a></p>'
        f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>{more}'
    )
