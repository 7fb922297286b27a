"""What every vendor provides to the app, and what a route handler receives and returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.core.contract import Contract, ValidRequest
from mockserver.core.problems import Problem

if TYPE_CHECKING:
    from flask import Request

    from mockserver.core.runtime import Runtime


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One validated request, handed to a route handler."""

    runtime: Runtime
    request: Request
    valid: ValidRequest
    identity: Any
    state: dict[str, Any]
    approved: bool = False  # replaying a change request that was approved: gates are passed

    @property
    def path(self) -> dict[str, Any]:
        return self.valid.path

    @property
    def query(self) -> dict[str, Any]:
        return self.valid.query

    @property
    def body(self) -> Any:
        return self.valid.body

    @property
    def now(self):
        return self.runtime.clock.now()


Handler = Callable[[Call], Reply]


@dataclass
class Vendor:
    """A vendor's contract, envelope and routes.

    ``authenticate`` runs before the contract check (as the real services do) and returns the
    caller's identity or raises a Problem; ``render`` turns a Problem into status and body.
    """

    name: str
    prefix: str
    contract: Contract
    handlers: Mapping[str, Handler]
    render: Callable[[Problem], tuple[int, Any]]
    authenticate: Callable[[Runtime, Request, str, Mapping[str, str]], Any]
    seed: Callable[..., dict[str, Any]]
    # JSON Schema of this vendor's part of the state (see mockserver.core.tables).
    state_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    # Members of the part that are tables of records (each record is one row when persisted).
    tables: tuple[str, ...] = ()
    headers: Callable[[Runtime, Request, Reply], None] | None = None
    admin: Any = None  # an optional Flask blueprint mounted under /__admin/<vendor>
    # Every record of a candidate state with the operation that serves it (see mockserver.core.verify).
    verify: Callable[[dict[str, Any]], Any] | None = None
    # The vendor's own answer to a request the contract rejected (operation, problem, parsed
    # body), where the vendor words that failure its own way; None keeps the generic answer.
    explain: Callable[[str, Problem, Any], Problem | None] | None = None
