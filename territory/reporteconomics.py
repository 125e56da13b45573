"""Report sections: the economics (chapter 9) and the inside sales (6.6) of a plan folder.

:func:`economics_html` gives the body of report.html's economics section (contribution per rep
as a chart, the break-even revenue per rep, the customers whose visits cost more than their
margin) and :func:`telesales_html` that of the inside-sales section (the phone customers' calls
and the agents they need); each is None when the folder has nothing for it, and
:mod:`territory.reporthtml` slots them in as sections. They read only the folder's
economics.csv, customer_economics.csv and summary.json. Their words live here, not in
:data:`territory.htmlutil.LABELS`, which every map page embeds. Every text from an input file
passes through :func:`~territory.htmlutil.esc`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .columns import CUSTOMER_ECONOMICS, ECONOMICS, PHONE_CUSTOMERS
from .columns import Column as C
from .htmlutil import esc, num, number_format, rep_color

#: Flagged customers listed at most (the rest are in customer_economics.csv).
MAX_FLAGGED_SHOWN = 50

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "economics": "Economics per territory (per year)",
        "basis": "Revenue is the customers' {basis}; amounts in EUR per year over "
        "{periods} planning periods.",
        "chart": "Contribution per rep (margin - rep cost - travel cost)",
        "break_even": "Break-even revenue per rep: (rep cost + travel cost) / margin",
        "flagged": "Customers whose visits cost more than their margin",
        "flagged_none": "No customer costs more to visit than its margin.",
        "flagged_hint": "The textbook's case for serving them by phone (6.6) or visiting them "
        "less often.",
        "more": "and {n} more (see customer_economics.csv)",
        "telesales": "Inside sales (telesales)",
        "tele_line": "{customers} customers served by phone: {calls} calls and {hours} call "
        "hours per period; at {util} utilisation of {agent} agent hours that is {exact} "
        "agents, so {needed} needed.",
        "files": "Files",
        "total": "Team",
    },
    "nl": {
        "economics": "Rendement per rayon (per jaar)",
        "basis": "Omzet is de {basis} van de klanten; bedragen in euro per jaar over "
        "{periods} planperiodes.",
        "chart": "Dekkingsbijdrage per vertegenwoordiger (marge - kosten vertegenwoordiger - "
        "reiskosten)",
        "break_even": "Break-evenomzet per vertegenwoordiger: (kosten vertegenwoordiger + "
        "reiskosten) / marge",
        "flagged": "Klanten waarvan de bezoeken meer kosten dan hun marge",
        "flagged_none": "Geen klant kost meer aan bezoeken dan zijn marge.",
        "flagged_hint": "Het geval uit het boek om ze telefonisch te bedienen (6.6) of minder "
        "vaak te bezoeken.",
        "more": "en nog {n} (zie customer_economics.csv)",
        "telesales": "Binnendienst (telefonische verkoop)",
        "tele_line": "{customers} klanten telefonisch bediend: {calls} gesprekken en {hours} "
        "beluren per periode; bij {util} bezetting van {agent} uur per medewerker zijn dat "
        "{exact} medewerkers, dus {needed} nodig.",
        "files": "Bestanden",
        "total": "Team",
    },
}

_BASIS = {
    "en": {"revenue": "revenue (last year's sales)", "potential": "potential"},
    "nl": {"revenue": "omzet (vorig jaar)", "potential": "omzetpotentieel"},
}


def _euro(value: float, lang: str) -> str:
    return f"€\u202f{number_format(lang)(value, 0)}"


def contribution_chart_svg(rows: list[dict[str, str]], lang: str = "en") -> str:
    """An inline SVG bar chart: contribution per rep (negative bars to the left, in red)."""
    lab = LABELS[lang if lang in LABELS else "en"]
    bar_h, gap, left, right, top = 18, 6, 170, 130, 8
    width = 720
    height = top * 2 + len(rows) * (bar_h + gap)
    values = [num(r.get(C.CONTRIBUTION_EUR), 0.0) for r in rows]
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    plot_w = width - left - right
    zero = left + plot_w * (0 - low) / span
    parts = [
        f'<svg class="chart" role="img" aria-label="{esc(lab["chart"])}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = top + i * (bar_h + gap)
        x_end = left + plot_w * (value - low) / span
        x0, w = min(zero, x_end), abs(x_end - zero)
        label = row.get(C.REP_ID, "") + (
            f" · {row.get(C.REP_NAME, '')}" if row.get(C.REP_NAME) else ""
        )
        colour = rep_color(i) if value >= 0 else "#c0392b"
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h * 0.72:.1f}" text-anchor="end" '
            f'font-size="12">{esc(label[:28])}</text>'
            f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
            f"<title>{esc(label)}: {_euro(value, lang)}</title></rect>"
            f'<text x="{max(zero, x_end) + 6:.1f}" y="{y + bar_h * 0.72:.1f}" '
            f'font-size="12">{_euro(value, lang)}</text>'
        )
    parts.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top - 4}" y2="{height - top + 4}" '
        'stroke="#222" stroke-width="1"/></svg>'
    )
    return "".join(parts)


def _territory_table(rows: list[dict[str, str]], lang: str) -> str:
    fmt = number_format(lang)
    money = (
        C.REVENUE,
        C.MARGIN_EUR,
        C.REP_COST_EUR,
        C.TRAVEL_COST_EUR,
        C.CONTRIBUTION_EUR,
        C.COST_PER_VISIT_EUR,
        C.BREAK_EVEN_REVENUE_EUR,
    )
    head = [C.REP_ID, C.REP_NAME, *money, C.SAFETY_MARGIN, C.FLAGGED_CUSTOMERS]
    thead = "".join(
        f'<th class="{"" if c in (C.REP_ID, C.REP_NAME) else "n"}">{esc(c.header(lang))}</th>'
        for c in head
    )
    body = []
    for i, r in enumerate(rows):
        cells = [
            f'<td><span class="sw" style="background:{rep_color(i)}"></span>'
            f"{esc(r.get(C.REP_ID, ''))}</td>",
            f"<td>{esc(r.get(C.REP_NAME, ''))}</td>",
        ]
        for c in money:
            decimals = 2 if c is C.COST_PER_VISIT_EUR else 0
            cells.append(f'<td class="n">{fmt(num(r.get(c)), decimals)}</td>')
        cells.append(f'<td class="n">{fmt(num(r.get(C.SAFETY_MARGIN)) * 100, 0)}\u202f%</td>')
        cells.append(f'<td class="n">{fmt(num(r.get(C.FLAGGED_CUSTOMERS)), 0)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<div class="scroll"><table><tr>{thead}</tr>{"".join(body)}</table></div>'


def _flagged(customers: list[dict[str, str]], lang: str) -> str:
    lab = LABELS[lang if lang in LABELS else "en"]
    fmt = number_format(lang)
    flagged = [c for c in customers if c.get(C.COST_ABOVE_MARGIN, "").lower() == "true"]
    if not flagged:
        return f"<p>{esc(lab['flagged_none'])}</p>"
    flagged.sort(key=lambda c: (num(c.get(C.CONTRIBUTION_EUR), 0.0), c.get(C.CUSTOMER_ID, "")))
    shown = flagged[:MAX_FLAGGED_SHOWN]
    cols = (
        C.CUSTOMER_ID, C.NAME, C.CLASS, C.REP_ID, C.CHANNEL, C.VISITS, C.REVENUE, C.MARGIN_EUR,
        C.VISIT_COST_EUR, C.CONTRIBUTION_EUR,
    )  # fmt: skip
    text = (C.CUSTOMER_ID, C.NAME, C.CLASS, C.REP_ID, C.CHANNEL)
    thead = "".join(
        f'<th class="{"" if c in text else "n"}">{esc(c.header(lang))}</th>' for c in cols
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{esc(r.get(c, ''))}</td>"
            if c in text
            else f'<td class="n">{fmt(num(r.get(c)), 0)}</td>'
            for c in cols
        )
        + "</tr>"
        for r in shown
    )
    more = (
        f"<p>{esc(lab['more'].format(n=len(flagged) - len(shown)))}</p>"
        if len(flagged) > len(shown)
        else ""
    )
    return (
        f"<p>{esc(lab['flagged_hint'])} ({fmt(len(flagged), 0)})</p>"
        f'<div class="scroll"><table><tr>{thead}</tr>{body}</table></div>{more}'
    )


def _telesales(tele: dict[str, Any], lang: str) -> str:
    """The inside-sales figures in one sentence."""
    lab = LABELS[lang if lang in LABELS else "en"]
    fmt = number_format(lang)
    line = lab["tele_line"].format(
        customers=fmt(num(tele.get("customers")), 0),
        calls=fmt(num(tele.get("calls")), 0),
        hours=fmt(num(tele.get("call_hours")), 1),
        util=f"{fmt(num(tele.get('utilisation')) * 100, 0)}\u202f%",
        agent=fmt(num(tele.get("agent_hours_per_period")), 1),
        exact=fmt(num(tele.get("agents_exact")), 2),
        needed=fmt(num(tele.get("agents_needed")), 0),
    )
    return f"<p>{esc(line)}</p>"


def economics_html(folder: Path, summary: dict[str, Any] | None, lang: str = "en") -> str | None:
    """The body of the report's economics section (None without economics.csv).

    Parameters
    ----------
    folder
        The plan folder (economics.csv and customer_economics.csv are read where present).
    summary
        Its summary.json (the ``economics`` KPIs: the revenue basis, periods a year), or None.
    lang
        "en" or "nl".
    """
    if not (folder / ECONOMICS.file).is_file():
        return None
    lab = LABELS[lang if lang in LABELS else "en"]
    rows = read_csv(folder / ECONOMICS.file)
    econ = _kpis(summary).get("economics") or {}
    basis = _BASIS["nl" if lang == "nl" else "en"].get(str(econ.get("basis")), "revenue")
    periods = num(econ.get("periods_per_year"))
    parts = [
        f"<p>{esc(lab['basis'].format(basis=basis, periods=_periods(periods, lang)))}</p>",
        f"<h3>{esc(lab['chart'])}</h3>",
        contribution_chart_svg(rows, lang),
        f"<h3>{esc(lab['break_even'])}</h3>",
        _territory_table(rows, lang),
    ]
    customers_path = folder / CUSTOMER_ECONOMICS.file
    if customers_path.is_file():
        parts += [f"<h3>{esc(lab['flagged'])}</h3>", _flagged(read_csv(customers_path), lang)]
    parts.append(_file_links(folder, lab))
    return "".join(parts)


def telesales_html(folder: Path, summary: dict[str, Any] | None, lang: str = "en") -> str | None:
    """The body of the report's inside-sales section (None without phone customers)."""
    tele = _kpis(summary).get("telesales")
    if not isinstance(tele, dict):
        return None
    lab = LABELS[lang if lang in LABELS else "en"]
    body = _telesales(tele, lang)
    if not (folder / ECONOMICS.file).is_file():  # else the economics section links the files
        body += _file_links(folder, lab)
    return body


def section_title(key: str, lang: str) -> str:
    """The heading of the ``economics`` or ``telesales`` section in ``lang``."""
    return LABELS[lang if lang in LABELS else "en"][key]


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a plan-folder CSV as dicts of text."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def _kpis(summary: dict[str, Any] | None) -> dict[str, Any]:
    kpis = (summary or {}).get("kpis") or {}
    return kpis if isinstance(kpis, dict) else {}


def _file_links(folder: Path, lab: dict[str, str]) -> str:
    files = [t.file for t in (ECONOMICS, CUSTOMER_ECONOMICS, PHONE_CUSTOMERS)]
    links = " · ".join(
        f'<a href="{esc(quote(f))}">{esc(f)}</a>' for f in files if (folder / f).is_file()
    )
    return f"<p>{esc(lab['files'])}: {links}</p>" if links else ""


def _periods(value: float, lang: str) -> str:
    if not math.isfinite(value):
        return "–"
    return number_format(lang)(value, 0 if value.is_integer() else 1)
