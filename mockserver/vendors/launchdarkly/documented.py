"""The mock answers an operation only with statuses its contract documents for it.

Some LaunchDarkly operations document no 400 (getFeatureFlag, getMetric, getEnvironment, getMember,
getCallerIdentity, getContextKindsByProjectKey). A malformed query parameter there names nothing
the operation can find, so it answers the documented 404, and a malformed ``LD-API-Version`` is
ignored (see auth).
"""

from __future__ import annotations

from typing import Any

from mockserver.core.contract import shared_contract
from mockserver.core.problems import Problem
from mockserver.vendors.launchdarkly.errors import not_found

NAME = "launchdarkly"


def documents(operation_id: str, status: int) -> bool:
    return str(status) in shared_contract(NAME).raw_operations[operation_id][2].get("responses", {})


def explain(operation_id: str, problem: Problem, body: Any) -> Problem | None:
    """A request the contract refused, answered with a status the operation documents."""
    if documents(operation_id, 400):
        return None
    where = f"{problem.attr}: " if problem.attr and problem.attr not in problem.detail else ""
    return not_found(f"Nothing matches the request as sent ({where}{problem.detail})")
