"""The seam between the server and a vendor: what a vendor declares, what its handlers get and return.

Everything vendor-specific lives on its ``Vendor``: contract, handlers, envelope, auth, seed and
state schema, control-API routes, CORS headers, no-auth credentials, key grants. The server only
reads these fields; it never names a vendor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from mockserver.core.contract import Contract, ValidRequest
from mockserver.core.problems import Problem

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime
    from mockserver.core.store import SeedContext


class HttpRequest(Protocol):
    """The parts of the HTTP request a vendor may read (a werkzeug ``Request`` provides them)."""

    method: str
    path: str
    args: Any
    headers: Any
    query_string: bytes
    base_url: str
    mimetype: str

    def get_data(self, cache: bool = True) -> bytes: ...


class AuthRequest(Protocol):
    """What ``Vendor.authenticate`` sees of a request on its way through the pipeline."""

    request: HttpRequest
    runtime: Runtime
    operation_id: str | None
    path_args: dict[str, str]
    response_headers: dict[str, str]  # headers to send whatever the answer (rate-limit budgets…)
    approved_by: int | None  # set when an approved change request is applied: the requester


@dataclass
class Reply:
    """A JSON answer; or, with ``content_type``, raw bytes of that type (the console's files)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    # The ``Store.memo`` key this exact body object is remembered under until the next write (a
    # list page): its contract verdict is then remembered with it instead of checked again.
    memo: Any = None


@dataclass
class Call:
    """One validated request, handed to a route handler."""

    runtime: Runtime
    request: HttpRequest
    valid: ValidRequest | None  # None only for the control API's unchecked health probe
    identity: Any
    state: dict[str, Any]
    approved: bool = False  # applying a change request that was approved: gates are passed
    # Applies a stored request through the pipeline (approval gates): (intent, user id) -> Reply.
    replay: Callable[[Mapping[str, Any], int], Reply] | None = None

    @property
    def path(self) -> dict[str, Any]:
        return self.valid.path if self.valid is not None else {}

    @property
    def query(self) -> dict[str, Any]:
        return self.valid.query if self.valid is not None else {}

    @property
    def body(self) -> Any:
        return self.valid.body if self.valid is not None else None

    @property
    def now(self) -> datetime:
        return self.runtime.clock.now()


Handler = Callable[[Call], Reply]


def no_grant(body: Mapping[str, Any]) -> dict[str, Any]:
    return {}


@dataclass
class Vendor:
    """A vendor's contract, envelope, routes and everything else the server asks of it.

    ``authenticate`` runs before the contract check (as the real services do) and returns the
    caller's identity or raises a Problem; ``render`` turns a Problem into status and body.
    """

    name: str
    prefix: str | tuple[str, ...]
    contract: Contract
    handlers: Mapping[str, Handler]
    render: Callable[[Problem], tuple[int, Any]]
    authenticate: Callable[[AuthRequest], Any]
    seed: Callable[[SeedContext], dict[str, Any]]
    # JSON Schema of this vendor's part of the state (see mockserver.core.tables).
    state_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    # Members of the part that are tables of records (each record is one row when persisted).
    tables: tuple[str, ...] = ()
    # Control-API operations under /__admin/<name>/, and the spec (in specs/) that documents them.
    admin_handlers: Mapping[str, Handler] = field(default_factory=dict)
    admin_spec: str | None = None
    # Every record of a candidate state with the operation that serves it (see core.verify).
    verify: Callable[[dict[str, Any]], Any] | None = None
    # The vendor's own answer to a request the contract rejected (operation, problem, parsed
    # body), where the vendor words that failure its own way; None keeps the generic answer.
    explain: Callable[[str, Problem, Any], Problem | None] | None = None
    # What a credential-less request is given under --no-auth: header name and value.
    no_auth_header: tuple[str, str] | None = None
    # Request headers the vendor's clients send, and response headers they read (CORS).
    cors_allow_headers: tuple[str, ...] = ()
    cors_expose_headers: tuple[str, ...] = ()
    # A POST carrying this header is handled as the method it names (DELETE, PATCH, PUT).
    method_override_header: str | None = None
    # The vendor's part of an API-key registration: checks and normalises it (raises Problem).
    grant: Callable[[Mapping[str, Any]], dict[str, Any]] = no_grant
    # How the vendor's answers become records of its state (--upstream with --record); see upstream.recorder.
    recording: Any = None
    # Largest number of records a table may hold (a write past it is refused in the vendor's format).
    table_limits: Mapping[str, int] = field(default_factory=dict)
    # Brings a loaded part's bookkeeping in line with its records before it is checked (id sequences).
    settle: Callable[[dict[str, Any]], None] | None = None

    @property
    def prefixes(self) -> tuple[str, ...]:
        return (self.prefix,) if isinstance(self.prefix, str) else tuple(self.prefix)
