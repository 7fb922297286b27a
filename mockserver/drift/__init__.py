"""Contract drift: is our bundled contract for a vendor still the vendor's?

``mockserver drift VENDOR SPEC`` reads the vendor's published OpenAPI document (a file or an
http(s) URL, JSON or YAML, OpenAPI 3.0 or 3.1), compares it with ``specs/<vendor>.yaml`` for the
operations we serve, and exits 1 when a difference would break a client (0 otherwise, 2 for a
usage error), so it can run in a scheduled CI job. Framework-free: no web framework is imported.
"""

from __future__ import annotations

import sys
from typing import IO

from mockserver.drift.compare import compare
from mockserver.drift.findings import Finding, Report
from mockserver.drift.report import to_json, to_text
from mockserver.drift.source import DocumentError, load_document

__all__ = ["DocumentError", "Finding", "Report", "check", "compare", "load_document", "run"]


def check(vendor: str, source: str, timeout: float = 30.0) -> Report:
    """Our contract for ``vendor`` against the document at ``source``; DocumentError for usage errors."""
    from mockserver.core.contract import load_spec, specs_dir

    known = sorted(p.stem for p in specs_dir().glob("*.yaml") if "admin" not in p.stem.split("."))
    if vendor not in known:
        raise DocumentError(f"unknown vendor {vendor!r}; vendors are: {', '.join(known)}")
    theirs = load_document(source, timeout)
    try:
        return compare(vendor, load_spec(vendor), theirs, source)
    except RecursionError:
        raise DocumentError(f"{source}: schemas nested too deeply to compare") from None


def run(vendor: str, source: str, fmt: str = "text", out: IO[str] | None = None, timeout: float = 30.0) -> int:
    """The ``drift`` command: print the report; 0 no breaking drift, 1 breaking drift, 2 usage error."""
    out = out or sys.stdout
    try:
        report = check(vendor, source, timeout)
    except DocumentError as exc:
        print(f"mockserver drift: {exc}", file=sys.stderr)
        return 2
    print(to_json(report) if fmt == "json" else to_text(report), file=out)
    return report.exit_status
