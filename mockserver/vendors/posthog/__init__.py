"""PostHog: experiments, holdouts and shared metrics under /api/projects/{project_id}/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.contract import shared_contract
from mockserver.core.vendor import Vendor
from mockserver.vendors.posthog import errors, field_errors, routes, seed, state
from mockserver.vendors.posthog.auth import NAME, authenticate

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime


def build(runtime: Runtime) -> Vendor:
    from mockserver.vendors.posthog import verify
    from mockserver.vendors.posthog.admin import blueprint

    return Vendor(
        name=NAME,
        prefix=("/api/projects", "/api/environments"),
        contract=shared_contract(NAME),
        handlers=routes.HANDLERS,
        render=errors.render,
        authenticate=authenticate,
        seed=seed.seed,
        state_schema=state.SCHEMA,
        admin=blueprint,
        verify=verify.checks,
        explain=field_errors.explain,
    )
