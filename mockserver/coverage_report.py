"""A contract-coverage report (``GET /__admin/coverage``) as terminal lines, a JSON file and a small
HTML page: which operations of each vendor a suite called, with which documented statuses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

NEVER_CALLED_SHOWN = 12


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """A few lines per vendor for the end of a test session."""
    lines = []
    for name, vendor in report["vendors"].items():
        lines.append(
            f"{name}: {vendor['called']}/{vendor['operations']} operations called, "
            f"{vendor['statuses_seen']}/{vendor['statuses']} documented statuses seen"
        )
        never = vendor["never_called"]
        if never:
            shown = ", ".join(never[:NEVER_CALLED_SHOWN])
            more = len(never) - NEVER_CALLED_SHOWN
            lines.append(f"  never called: {shown}" + (f" (and {more} more)" if more > 0 else ""))
        undocumented = [
            f"{row['operation_id']} {'/'.join(row['undocumented'])}" for row in vendor["detail"] if row["undocumented"]
        ]
        if undocumented:
            lines.append(f"  undocumented statuses answered: {', '.join(undocumented)}")
    return lines


def write(report: Mapping[str, Any], json_path: Path) -> Path:
    """Write ``json_path`` and an HTML page beside it (same name, ``.html``); returns the page's path."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    html_path = json_path.with_suffix(".html")
    html_path.write_text(to_html(report), encoding="utf-8")
    return html_path


def to_html(report: Mapping[str, Any]) -> str:
    """A self-contained page: one table per vendor, uncalled operations and missed statuses marked."""
    sections = []
    for name, vendor in report["vendors"].items():
        rows = []
        for row in vendor["detail"]:
            state = "called" if row["calls"] else "never"
            rows.append(
                f'<tr class="{state}"><td><code>{escape(row["operation_id"])}</code></td>'
                f"<td>{escape(row['method'])} <code>{escape(row['path'])}</code></td>"
                f'<td class="n">{row["calls"]}</td>'
                f"<td>{_statuses(row['statuses'])}</td>"
                f"<td>{escape(' '.join(row['documented_seen']))}</td>"
                f'<td class="missed">{escape(" ".join(row["documented_missed"]))}</td>'
                f'<td class="missed">{escape(" ".join(row["undocumented"]))}</td></tr>'
            )
        sections.append(
            f"<section><h2>{escape(name)}</h2>"
            f"<p>{vendor['called']} of {vendor['operations']} operations called; "
            f"{vendor['statuses_seen']} of {vendor['statuses']} documented statuses seen.</p>"
            "<table><thead><tr><th>Operation</th><th>Request</th><th>Calls</th><th>Answered</th>"
            "<th>Documented, seen</th><th>Documented, never seen</th><th>Undocumented</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></section>"
        )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>mockserver contract coverage</title><style>"
        "body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;width:100%}"
        "th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}"
        "tr.never{color:#666;background:#fff4f4}.missed{color:#a00}.n{text-align:right}"
        "</style></head><body><h1>Contract coverage</h1>"
        f"{''.join(sections)}</body></html>\n"
    )


def _statuses(statuses: Mapping[str, int]) -> str:
    return escape(", ".join(f"{status}: {n}" for status, n in statuses.items()))
