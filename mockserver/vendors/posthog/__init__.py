"""PostHog: experiments, holdouts, shared metrics, feature flags, cohorts, actions and event definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.contract import shared_contract
from mockserver.core.registry import VendorPlugin
from mockserver.core.vendor import Vendor
from mockserver.vendors.posthog import admin, control, errors, field_errors, recording, routes, seed, state, verify
from mockserver.vendors.posthog.auth import NAME, authenticate, grant

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime


def build(runtime: Runtime) -> Vendor:
    return Vendor(
        name=NAME,
        prefix=("/api/projects", "/api/environments"),
        contract=shared_contract(NAME),
        handlers=routes.HANDLERS,
        render=errors.render,
        authenticate=authenticate,
        seed=seed.seed,
        state_schema=state.SCHEMA,
        tables=tuple(state.TABLES),
        table_limits=state.LIMITS,
        admin_handlers=admin.HANDLERS,
        admin_spec="posthog.admin",
        verify=verify.checks,
        explain=field_errors.explain,
        no_auth_header=("Authorization", "Bearer phx_mockserver_no_auth"),
        grant=grant,
        recording=recording.PostHogLayout(),
        settle=state.settle_sequences,
    )


PLUGIN = VendorPlugin(NAME, build, control=control.control)
