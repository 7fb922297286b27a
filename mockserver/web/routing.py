"""Who answers a path: surfaces (each vendor, the control API) and their routes, made from the specs.

Every route is an operation of a spec with a handler; ``Router.build`` fails loudly when a
handler has no operation or an operation has no handler, so a spec and its code cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from mockserver.core.contract import Contract
from mockserver.core.problems import Problem
from mockserver.core.vendor import Handler, Vendor

_PARAM = re.compile(r"{([^}]+)}")
OVERRIDABLE = ("DELETE", "PATCH", "PUT")


@dataclass(frozen=True, eq=False)
class Surface:
    """A family of routes with one contract and one error envelope: a vendor or the control API."""

    name: str
    kind: str  # "vendor" | "admin"
    prefixes: tuple[str, ...]
    contract: Contract
    render: Callable[[Problem], tuple[int, Any]]
    vendor: Vendor | None = None

    def owns(self, path: str) -> bool:
        return path.startswith(self.prefixes)


@dataclass(frozen=True, eq=False)
class Route:
    surface: Surface
    operation_id: str
    method: str
    path: str  # the spec's path template
    handler: Handler
    part: str  # the part of the state its handler gets (a vendor's, or the control API's "admin")


class RouteMismatch(RuntimeError):
    """Handlers and spec operations do not pair up: raised at start-up, never at request time."""


def rule_path(spec_path: str) -> str:
    return _PARAM.sub(lambda m: f"<{m.group(1)}>", spec_path)


def _no_url_building(self: Rule, **values: Any) -> tuple[str, str]:
    raise NotImplementedError("the mock's routes only match requests; they build no URLs")


class MatchRule(Rule):
    """A rule that matches and never builds: werkzeug compiles two URL builders per rule through
    ``ast`` and ``exec``, about 1 ms a rule, a tenth of a second of every start-up here."""

    def _compile_builder(self, append_unknown: bool = True) -> Any:
        return _no_url_building


class Router:
    """A path is resolved first and its method second, as Django and DRF resolve them: where a
    literal segment and a parameter both fit (``experiments/stats/`` and ``experiments/{id}/``), the
    literal's path answers, with 405 for a method it does not serve, never the parameter's route."""

    def __init__(self, surfaces: list[Surface], routes: list[Route]) -> None:
        self.surfaces = surfaces
        self.routes = {f"{r.surface.name}.{r.operation_id}": r for r in routes}
        self.by_path: dict[str, dict[str, Route]] = {}
        for route in routes:
            self.by_path.setdefault(route.path, {})[route.method] = route
        # One rule per path, whatever its methods: werkzeug tries literal parts before parameters.
        self.map = Map(
            [MatchRule(rule_path(path), endpoint=path, strict_slashes=False) for path in self.by_path],
            merge_slashes=False,
            strict_slashes=False,
        )

    @classmethod
    def build(cls, surfaces: Iterable[tuple[Surface, Mapping[str, tuple[Handler, str]]]]) -> Router:
        """Routes for each surface from (handler, state part) by operationId."""
        routes: list[Route] = []
        listed: list[Surface] = []
        for surface, handlers in surfaces:
            listed.append(surface)
            operations = surface.contract.raw_operations
            missing = sorted(set(operations) - set(handlers))
            extra = sorted(set(handlers) - set(operations))
            if missing or extra:
                parts = []
                if missing:
                    parts.append(f"operations without a handler: {', '.join(missing)}")
                if extra:
                    parts.append(f"handlers without a spec operation: {', '.join(extra)}")
                raise RouteMismatch(f"{surface.name}: " + "; ".join(parts))
            for operation_id, (method, path, _op, _item) in operations.items():
                handler, part = handlers[operation_id]
                routes.append(Route(surface, operation_id, method, path, handler, part))
        return cls(listed, routes)

    def surface_for(self, path: str) -> Surface | None:
        for surface in self.surfaces:
            if surface.owns(path):
                return surface
        return None

    def match(self, request: Request, method: str | None = None) -> tuple[Route, dict[str, str]]:
        """The route and path arguments; NotFound or MethodNotAllowed (with the allowed methods)."""
        if request.path.endswith("//"):  # werkzeug takes one slash more than its rule; Django's `/?$` does not
            raise NotFound()
        adapter = self.map.bind_to_environ(request.environ)
        path, args = adapter.match(request.path)
        served = self.by_path[path]
        wanted = method or request.method
        route = served.get("GET" if wanted == "HEAD" and "HEAD" not in served else wanted)
        if route is None:
            raise MethodNotAllowed(valid_methods=self.methods(path))
        return route, {k: str(v) for k, v in args.items()}

    def methods(self, path: str) -> list[str]:
        """The methods a spec path serves, HEAD with GET."""
        served = set(self.by_path[path])
        return sorted(served | {"HEAD"} if "GET" in served else served)

    def operations(self) -> Iterable[Route]:
        return self.routes.values()
