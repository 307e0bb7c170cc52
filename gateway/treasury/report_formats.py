"""A reconciliation run, written for people and for programs: text (a table for a treasury analyst), json (the shape
docs/treasury.md documents), csv (one row per break) and html (one self-contained page: no script, no external
asset). Amounts are roubles as ISO 20022 writes them ("1000.00"), times Moscow time to the second."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from typing import Any

from gateway.domain.calendar import instant
from gateway.domain.money import text_from_kopecks
from gateway.domain.reconciliation import StoredBreak, age_text
from gateway.treasury.comparison import DayFigures, KindTotal
from gateway.treasury.reconciliation import ReconciliationReport

json_format_version = "gateway.reconciliation/1"
csv_columns = (
    "status", "kind", "business_date", "first_seen", "last_seen", "age", "amount_rub", "expected_rub", "account",
    "references", "description", "fingerprint",
)
formats = ("text", "json", "csv", "html")


def render(report: ReconciliationReport, kind: str) -> str:
    renderers: dict[str, Callable[[ReconciliationReport], str]] = {
        "text": text, "json": json_text, "csv": csv_text, "html": html_page,
    }
    return renderers[kind](report)


# --- what every format says ----------------------------------------------------------------------------------------


def _time(us: int | None) -> str:
    return "" if us is None else instant(us).strftime("%Y-%m-%d %H:%M:%S")


def _rub(kopecks: int | None) -> str:
    return "" if kopecks is None else text_from_kopecks(kopecks)


def _status(report: ReconciliationReport, stored: StoredBreak) -> str:
    if not stored.is_open:
        return "resolved"
    if stored.fingerprint in report.new:
        return "new"
    return "open" if stored in report.breaks else "open, not re-checked"


def _listed(report: ReconciliationReport) -> list[StoredBreak]:
    """Every break the run speaks of: open ones oldest first, then those it resolved."""
    return [*report.breaks, *report.not_rechecked, *report.resolved]


def _summary(report: ReconciliationReport) -> str:
    still_open = len(report.breaks) - len(report.new)
    parts = [f"{report.open_breaks} open breaks" if report.open_breaks != 1 else "1 open break"]
    details = [f"{len(report.new)} new", f"{still_open} still open from earlier runs"]
    if report.not_rechecked:
        details.append(f"{len(report.not_rechecked)} of days too far back to look at again")
    if report.open_breaks:
        parts[0] += f" ({', '.join(details)})"
    else:
        parts = ["no open breaks"]
    parts.append(f"{len(report.resolved)} resolved by this run")
    return "; ".join(parts)


def _figure_rows(figures: DayFigures) -> list[tuple[str, str, str]]:
    """(what, count, roubles) lines of the day's figures."""

    def totals(title: str, items: tuple[KindTotal, ...]) -> list[tuple[str, str, str]]:
        rows = [(title, str(sum(i.count for i in items)), text_from_kopecks(sum(i.kopecks for i in items)))]
        rows += [(f"  {i.kind}", str(i.count), text_from_kopecks(i.kopecks)) for i in items]
        return rows

    in_flight = f"{figures.in_flight_conversions} conversions"
    return [
        *totals("Postings", figures.postings),
        *totals("Payments settled", figures.payments_settled),
        *totals("Conversions settled", figures.conversions_settled),
        ("Fiat legs matched", f"{figures.fiat_legs_matched} of {figures.fiat_legs_expected}", ""),
        ("Reserve bookings accounted for",
         f"{figures.reserve_bookings_accounted} of {figures.reserve_bookings}", ""),
        ("Supply at the close", "", text_from_kopecks(figures.supply_kopecks)),
        ("Fiat reserve at the cut-off (RTGS)", "", text_from_kopecks(figures.fiat_reserve_kopecks)),
        ("In flight across the cut-off", in_flight, text_from_kopecks(figures.in_flight_kopecks)),
        ("Reserve mirror at the close (ledger)", "", text_from_kopecks(figures.reserve_mirror_kopecks)),
        ("Statements agreeing", f"{figures.statements_agreeing} of {figures.statements_expected}", ""),
    ]


def _heading(report: ReconciliationReport) -> list[str]:
    day = report.day
    postings = (
        "no postings" if day.last_seq == day.first_seq else f"ledger postings #{day.first_seq + 1}..#{day.last_seq}"
    )
    return [
        f"Reconciliation of business day {day.business_date}",
        f"cut-off {_time(day.cutoff_at_us)}, closed {_time(day.closed_at_us)} by {day.closed_by}; {postings};"
        f" RTGS reserve account {report.reserve_account}",
        f"run at {_time(report.run_at_us)} (Moscow time)"
        + (f"; also looked again at {', '.join(map(str, report.rechecked_days))}" if report.rechecked_days else ""),
    ]


def _references(stored: StoredBreak) -> str:
    return "; ".join(f"{name}={value}" for name, value in stored.found.references)


# --- text ------------------------------------------------------------------------------------------------------------


def text(report: ReconciliationReport) -> str:
    lines = [*_heading(report), ""]
    rows = _figure_rows(report.figures)
    width = max(len(what) for what, _, _ in rows)
    for what, count, roubles in rows:
        lines.append(f"{what:<{width}}  {count:>12}  {(roubles + ' RUB') if roubles else '':>24}".rstrip())
    lines += ["", _summary(report).capitalize() + "."]
    listed = _listed(report)
    if listed:
        lines += ["", "Breaks, oldest first (amounts in RUB):"]
        header = ("#", "status", "kind", "day", "first seen", "age", "amount", "expected", "account")
        table = [header] + [
            (
                str(number), _status(report, stored), stored.kind.value, str(stored.found.business_date),
                _time(stored.first_seen_at_us)[:16], age_text(stored.age_us(report.run_at_us)),
                _rub(stored.found.amount_kopecks) or "-", _rub(stored.found.expected_kopecks) or "-",
                stored.found.account or "-",
            )
            for number, stored in enumerate(listed, start=1)
        ]
        widths = [max(len(row[column]) for row in table) for column in range(len(header))]
        numeric = {0, 6, 7}
        for number, row in enumerate(table):
            cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
            lines.append("  ".join(cells).rstrip())
            if number:
                stored = listed[number - 1]
                lines.append(f"{'':{widths[0]}}  {stored.found.description}")
                if stored.found.references:
                    lines.append(f"{'':{widths[0]}}  references: {_references(stored)}")
    return "\n".join(lines) + "\n"


# --- json ------------------------------------------------------------------------------------------------------------


def _break_json(report: ReconciliationReport, stored: StoredBreak) -> dict[str, Any]:
    found = stored.found
    return {
        "fingerprint": stored.fingerprint,
        "kind": found.kind.value,
        "status": _status(report, stored),
        "business_date": found.business_date.isoformat(),
        "first_seen_date": stored.first_seen_date.isoformat(),
        "last_seen_date": stored.last_seen_date.isoformat(),
        "first_seen_at": instant(stored.first_seen_at_us).isoformat(),
        "last_seen_at": instant(stored.last_seen_at_us).isoformat(),
        "resolved_at": None if stored.resolved_at_us is None else instant(stored.resolved_at_us).isoformat(),
        "age": age_text(stored.age_us(report.run_at_us)),
        "age_seconds": stored.age_us(report.run_at_us) // 1_000_000,
        "amount_rub": None if found.amount_kopecks is None else text_from_kopecks(found.amount_kopecks),
        "expected_rub": None if found.expected_kopecks is None else text_from_kopecks(found.expected_kopecks),
        "account": found.account,
        "references": dict(found.references),
        "description": found.description,
    }


def _totals_json(items: tuple[KindTotal, ...]) -> dict[str, Any]:
    return {
        "count": sum(i.count for i in items),
        "amount_rub": text_from_kopecks(sum(i.kopecks for i in items)),
        "by_kind": {i.kind: {"count": i.count, "amount_rub": text_from_kopecks(i.kopecks)} for i in items},
    }


def json_document(report: ReconciliationReport) -> dict[str, Any]:
    day, figures = report.day, report.figures
    return {
        "format": json_format_version,
        "business_date": day.business_date.isoformat(),
        "run_at": instant(report.run_at_us).isoformat(),
        "day": {
            "cutoff_at": instant(day.cutoff_at_us).isoformat(),
            "closed_at": None if day.closed_at_us is None else instant(day.closed_at_us).isoformat(),
            "closed_by": day.closed_by,
            "first_seq": day.first_seq,
            "last_seq": day.last_seq,
        },
        "rtgs_reserve_account": report.reserve_account,
        "rechecked_days": [d.isoformat() for d in report.rechecked_days],
        "figures": {
            "postings": _totals_json(figures.postings),
            "payments_settled": _totals_json(figures.payments_settled),
            "conversions_settled": _totals_json(figures.conversions_settled),
            "fiat_legs": {"expected": figures.fiat_legs_expected, "matched": figures.fiat_legs_matched},
            "reserve_bookings": {
                "count": figures.reserve_bookings, "accounted_for": figures.reserve_bookings_accounted,
            },
            "supply_rub": text_from_kopecks(figures.supply_kopecks),
            "fiat_reserve_rub": text_from_kopecks(figures.fiat_reserve_kopecks),
            "in_flight": {
                "conversions": figures.in_flight_conversions, "amount_rub": text_from_kopecks(figures.in_flight_kopecks),
            },
            "reserve_mirror_rub": text_from_kopecks(figures.reserve_mirror_kopecks),
            "statements": {"expected": figures.statements_expected, "agreeing": figures.statements_agreeing},
        },
        "breaks_open": report.open_breaks,
        "breaks_new": len(report.new),
        "breaks_resolved": len(report.resolved),
        "breaks": [_break_json(report, stored) for stored in (*report.breaks, *report.not_rechecked)],
        "resolved": [_break_json(report, stored) for stored in report.resolved],
    }


def json_text(report: ReconciliationReport) -> str:
    return json.dumps(json_document(report), ensure_ascii=False, indent=2) + "\n"


# --- csv -------------------------------------------------------------------------------------------------------------


def csv_text(report: ReconciliationReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(csv_columns)
    for stored in _listed(report):
        found = stored.found
        writer.writerow((
            _status(report, stored), found.kind.value, found.business_date.isoformat(), _time(stored.first_seen_at_us),
            _time(stored.last_seen_at_us), age_text(stored.age_us(report.run_at_us)), _rub(found.amount_kopecks),
            _rub(found.expected_kopecks), found.account or "", _references(stored), found.description,
            stored.fingerprint,
        ))
    return out.getvalue()


# --- html ------------------------------------------------------------------------------------------------------------

_style = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d2330; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.meta { color: #555; margin: 0.1em 0; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #d8dce4; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #eef1f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sub td:first-child { padding-left: 2em; color: #555; }
.ok { color: #17663a; font-weight: 600; }
.bad { color: #a4161a; font-weight: 600; }
td.nowrap { white-space: nowrap; }
td.what { min-width: 24em; }
td.refs { font-family: ui-monospace, monospace; font-size: 0.85em; min-width: 30em; overflow-wrap: anywhere; }
"""


def html_page(report: ReconciliationReport) -> str:
    e = html.escape
    heading, *meta = _heading(report)
    figures = "".join(
        f'<tr class="{"sub" if what.startswith("  ") else ""}"><td>{e(what.strip())}</td>'
        f'<td class="num">{e(count)}</td><td class="num">{e(roubles)}</td></tr>'
        for what, count, roubles in _figure_rows(report.figures)
    )
    verdict_class = "bad" if report.open_breaks else "ok"
    rows = []
    for stored in _listed(report):
        found = stored.found
        rows.append(
            "<tr>"
            f'<td class="nowrap">{e(_status(report, stored))}</td><td>{e(found.kind.value)}</td>'
            f'<td class="nowrap">{e(found.business_date.isoformat())}</td>'
            f'<td class="nowrap">{e(_time(stored.first_seen_at_us))}</td>'
            f'<td class="nowrap">{e(age_text(stored.age_us(report.run_at_us)))}</td>'
            f'<td class="num">{e(_rub(found.amount_kopecks))}</td>'
            f'<td class="num">{e(_rub(found.expected_kopecks))}</td><td>{e(found.account or "")}</td>'
            f'<td class="what">{e(found.description)}</td>'
            f'<td class="refs">{"<br>".join(e(f"{n}={v}") for n, v in found.references)}</td>'
            "</tr>"
        )
    breaks = (
        "<table><thead><tr><th>status</th><th>kind</th><th>day</th><th>first seen</th><th>age</th>"
        "<th>amount RUB</th><th>expected RUB</th><th>account</th><th>what disagrees</th><th>references</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(heading)}</title><style>{_style}</style></head><body>"
        f"<h1>{e(heading)}</h1>"
        + "".join(f'<p class="meta">{e(line)}</p>' for line in meta)
        + '<table><thead><tr><th>the day</th><th>count</th><th>RUB</th></tr></thead>'
        f"<tbody>{figures}</tbody></table>"
        f'<p class="{verdict_class}">{e(_summary(report).capitalize())}.</p>'
        f"{breaks}</body></html>\n"
    )
