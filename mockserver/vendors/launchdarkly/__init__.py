"""LaunchDarkly: Experimentation API v2 under /api/v2/projects/{projectKey}, plus the flag
endpoints that manage legacy experiments under /api/v2/flags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.contract import shared_contract
from mockserver.core.registry import Option, VendorPlugin
from mockserver.core.vendor import Vendor
from mockserver.vendors.launchdarkly import (
    admin,
    control,
    documented,
    errors,
    ratelimit,
    recording,
    routes,
    seed,
    state,
    verify,
)
from mockserver.vendors.launchdarkly.auth import NAME, authenticate, grant

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime


def build(runtime: Runtime) -> Vendor:
    return Vendor(
        name=NAME,
        prefix="/api/v2",
        contract=shared_contract(NAME),
        handlers=routes.HANDLERS,
        render=errors.render,
        authenticate=authenticate,
        seed=seed.seed,
        state_schema=state.SCHEMA,
        settle=state.settle,
        tables=tuple(state.TABLES),
        table_limits=state.LIMITS,
        admin_handlers=admin.HANDLERS,
        admin_spec="launchdarkly.admin",
        verify=verify.checks,
        explain=documented.explain,
        no_auth_header=("Authorization", "api-mockserver-no-auth"),
        cors_allow_headers=("LD-API-Version", "X-HTTP-Method-Override"),
        cors_expose_headers=ratelimit.HEADER_NAMES,
        method_override_header="X-HTTP-Method-Override",
        grant=grant,
        recording=recording.LaunchDarklyLayout(),
    )


PLUGIN = VendorPlugin(
    NAME,
    build,
    options=(
        Option(
            NAME,
            "require_beta",
            False,
            "answer LaunchDarkly experiment calls without LD-API-Version: beta with 403, as before "
            "experiments left beta (the flag API never was beta)",
        ),
    ),
    control=control.control,
)
