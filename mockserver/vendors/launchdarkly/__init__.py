"""LaunchDarkly: Experimentation API v2 under /api/v2/projects/{projectKey}, plus the flag
endpoints that manage legacy experiments under /api/v2/flags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.contract import shared_contract
from mockserver.core.vendor import Vendor
from mockserver.vendors.launchdarkly import documented, errors, routes, seed, state
from mockserver.vendors.launchdarkly.auth import NAME, authenticate

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime


def build(runtime: Runtime) -> Vendor:
    from mockserver.vendors.launchdarkly import verify
    from mockserver.vendors.launchdarkly.admin import blueprint

    return Vendor(
        name=NAME,
        prefix="/api/v2",
        contract=shared_contract(NAME),
        handlers=routes.HANDLERS,
        render=errors.render,
        authenticate=authenticate,
        seed=seed.seed,
        state_schema=state.SCHEMA,
        admin=blueprint,
        verify=verify.checks,
        explain=documented.explain,
    )
