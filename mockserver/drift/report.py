"""The drift report, for people (text) and for machines (JSON).

A difference inside a shared component shows up at every place the component is used (one
changed metric field can appear under twenty paths of five operations). The text report names
each difference once, with the first place it was seen and how many more there are; the JSON
report lists every place.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.drift.findings import Finding, Report

_NOTES_SHOWN = 200  # past this many distinct notes, the text report counts the rest


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str)


def _place(finding: Finding) -> str:
    where = " ".join(part for part in (finding.where, finding.field) if part)
    return f"{finding.operation} {where}".rstrip()


def _group_key(finding: Finding) -> tuple[Any, ...]:
    if finding.schema:
        return (finding.kind, finding.message, finding.schema)
    return (finding.kind, finding.message, finding.operation, finding.where, finding.field)


def _groups(findings: list[Finding]) -> list[list[Finding]]:
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_group_key(finding), []).append(finding)
    return list(groups.values())


def _describe(group: list[Finding]) -> list[str]:
    first = group[0]
    if first.kind.startswith("operation_") and not first.where:
        head = f"{first.method} {first.path} ({first.operation}): {first.message}"
    elif first.schema:
        head = f"{first.schema}: {first.message}"
    else:
        head = f"{_place(first)}: {first.message}"
    lines = [f"  - {head}  [{first.kind}]"]
    if first.schema:
        operations = {f.operation for f in group}
        more = f" (+{len(group) - 1} more in {len(operations)} operation(s))" if len(group) > 1 else ""
        lines.append(f"      at {_place(first)}{more}")
    return lines


def to_text(report: Report) -> str:
    lines = [
        f"Drift of our {report.vendor} contract against {report.source or 'the vendor document'}"
        f" (OpenAPI {report.openapi or '?'})",
        f"Operations we serve: {report.compared}; found in the vendor's document: {report.matched}; "
        f"vendor operations beside them that we do not serve: {report.unserved}",
    ]
    breaking = _groups(report.breaking)
    notes = _groups([f for f in report.findings if not f.breaking])
    if breaking:
        lines += ["", f"Breaking for a client ({len(breaking)} difference(s), {len(report.breaking)} place(s)):"]
        for group in breaking:
            lines += _describe(group)
    if notes:
        count = sum(len(g) for g in notes)
        lines += ["", f"Not breaking ({len(notes)} difference(s), {count} place(s)):"]
        for group in notes[:_NOTES_SHOWN]:
            lines += _describe(group)
        if len(notes) > _NOTES_SHOWN:
            lines.append(f"  … {len(notes) - _NOTES_SHOWN} more (see --format json)")
    if not report.findings:
        lines += ["", "No differences that matter to a client."]
    verdict = "breaking drift" if breaking else "no breaking drift"
    lines += ["", f"{len(report.findings)} finding(s), {len(report.breaking)} breaking: {verdict}."]
    return "\n".join(lines)
