"""What one request carries through the pipeline, typed (instead of flags in ``g`` or the environ)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from mockserver.core.contract import ValidRequest
    from mockserver.core.problems import Problem
    from mockserver.core.runtime import Runtime
    from mockserver.web.routing import Route, Surface


@dataclass
class RequestContext:
    request: Request
    runtime: Runtime
    surface: Surface | None = None  # who answers: a vendor, the control API, or nobody (unmatched)
    route: Route | None = None
    path_args: dict[str, str] = field(default_factory=dict)
    routing_problem: Problem | None = None  # 404/405, raised after faults have had their chance
    started: float = field(default_factory=time.perf_counter)
    identity: Any = None
    valid: ValidRequest | None = None
    problem: Problem | None = None  # why the request was refused (journal, access log)
    refused_by: str | None = None  # the pipeline stage that refused it
    violations: list[str] = field(default_factory=list)  # the mock's own contract breaks
    fault_id: int | None = None
    dropped: bool = False
    preflight: bool = False
    approval: str | None = None  # id of the approved change request this request applies
    approved_by: int | None = None  # the user whose request is applied
    response_headers: dict[str, str] = field(default_factory=dict)  # added to whatever is answered
    upstream: dict[str, Any] | None = None  # --upstream: where it was forwarded, what came back, drift
    log_reason: str | None = None  # why a request was refused or altered, for the access log
    hurry: threading.Event | None = None  # set when a reset cuts this request's delays short
    in_flight: int | None = None  # its token while a reset must wait for it (InFlight)
    journal_epoch: int | None = None  # the journal's epoch when it arrived

    @property
    def operation_id(self) -> str | None:
        return self.route.operation_id if self.route is not None else None

    @property
    def is_admin(self) -> bool:
        return self.surface is not None and self.surface.kind == "admin"

    @property
    def is_vendor(self) -> bool:
        return self.surface is not None and self.surface.kind == "vendor"
