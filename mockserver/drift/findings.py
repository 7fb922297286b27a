"""What a drift check finds, and the report that holds the findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Finding:
    """One difference that matters to a client.

    ``kind`` is a stable machine name (``response_field_removed``); ``breaking`` says whether a
    client written against our contract can fail against the vendor's; ``where`` names the part
    of the operation (``response 200 application/json``, ``query parameter expand``) and
    ``field`` the dotted path inside its schema (``items[].status``); a difference in a shared
    component is found once per place it is used, and ``schema`` names the component.
    """

    kind: str
    breaking: bool
    message: str
    operation: str
    method: str
    path: str
    where: str = ""
    field: str | None = None
    ours: Any = None
    theirs: Any = None
    schema: str | None = None  # where in our components it sits (``MetricRep.kind``), when in a shared schema

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    vendor: str
    source: str
    openapi: str
    compared: int = 0  # operations we serve
    matched: int = 0
    unserved: int = 0  # vendor operations next to ours that we do not serve
    findings: list[Finding] = field(default_factory=list)

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.breaking]

    @property
    def exit_status(self) -> int:
        return 1 if self.breaking else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "source": self.source,
            "openapi": self.openapi,
            "operations": {"compared": self.compared, "matched": self.matched, "unserved": self.unserved},
            "summary": {"findings": len(self.findings), "breaking": len(self.breaking)},
            "findings": [f.to_json() for f in self.findings],
        }
