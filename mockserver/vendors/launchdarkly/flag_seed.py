"""The seeded flags' finer detail: tags, targets, a rollout, a prerequisite, lifecycle states and
when SDKs last asked for each flag (what flag statuses are worked out from).

A step of its own after the main seed, with its own random stream, so it moves nothing else.
"""

from __future__ import annotations

import random
from typing import Any

from mockserver.core.store import SeedContext
from mockserver.vendors.launchdarkly import models as m

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
TAGS = {
    "checkout-button-color": ["checkout", "experiment"],
    "new-onboarding-flow": ["growth", "onboarding"],
    "pricing-page-layout": ["growth", "pricing"],
    "search-ranking-v2": ["search", "experiment"],
    "recommendations-widget": ["experiment"],
    "dark-mode-default": ["ui"],
    "holiday-banner": ["marketing"],
    "free-shipping-threshold": ["checkout", "pricing"],
    "push-permission-prompt": ["mobile", "experiment"],
    "app-rating-request": ["mobile"],
}
PERMANENT = ("free-shipping-threshold",)
CONTEXT_KINDS = {"default": ["user", "organization"], "mobile-app": ["user", "device"]}


def _flag(state: dict[str, Any], project_key: str, key: str) -> dict[str, Any]:
    return state["flags"][m.scoped(project_key, key)]


def _targeting(state: dict[str, Any]) -> None:
    """A few flags with more than a rule: individual targets, a percentage rollout, a prerequisite."""
    dark = _flag(state, "default", "dark-mode-default")["environments"]["test"]
    dark["targets"] = [{"contextKind": "user", "variation": 1, "values": ["qa-user-1", "qa-user-2"]}]
    dark["contextTargets"] = [{"contextKind": "organization", "variation": 1, "values": ["acme-corp"]}]
    shipping = _flag(state, "default", "free-shipping-threshold")["environments"]["test"]
    weights = [50_000, 30_000, 20_000]
    shipping["fallthrough"] = {
        "rollout": {
            "variations": [{"variation": i, "weight": w} for i, w in enumerate(weights)],
            "bucketBy": "key",
            "contextKind": "user",
        }
    }
    onboarding = _flag(state, "default", "new-onboarding-flow")["environments"]["test"]
    onboarding["prerequisites"] = [{"key": "dark-mode-default", "variation": 1}]


def _lifecycle(state: dict[str, Any], anchor: int) -> None:
    for row in state["flags"].values():
        if row["kind"] == "boolean":  # on serves true, off serves false
            values = [v["value"] for v in row["variations"]]
            row["defaults"] = {"onVariation": values.index(True), "offVariation": values.index(False)}
            for config in row["environments"].values():
                config["offVariation"] = values.index(False)
        row["tags"] = list(TAGS.get(row["key"], []))
        row["temporary"] = row["key"] not in PERMANENT
        for config in row["environments"].values():
            config["archived"] = row["archived"]
        if row["archived"]:
            row["archivedDate"] = anchor - 40 * DAY_MS
    rating = _flag(state, "mobile-app", "app-rating-request")
    rating.update(deprecated=True, deprecatedDate=anchor - 45 * DAY_MS)
    _flag(state, "default", "checkout-button-color")["clientSideAvailability"]["usingEnvironmentId"] = True
    _flag(state, "default", "checkout-button-color")["includeInSnippet"] = True
    _flag(state, "mobile-app", "push-permission-prompt")["clientSideAvailability"]["usingMobileKey"] = True


def _requests(state: dict[str, Any], rng: random.Random, anchor: int) -> None:
    """When SDKs last evaluated each flag per environment, for which context kinds, with which fallback."""
    for row in sorted(state["flags"].values(), key=lambda r: (r["projectKey"], r["key"])):
        for env_key in sorted(row["environments"]):
            config = row["environments"][env_key]
            if row["key"] == "app-rating-request" and env_key == "test":
                continue  # never asked for there
            if row["archived"]:
                last = anchor - (40 + rng.randrange(30)) * DAY_MS
            elif not config["on"]:
                last = anchor - (10 + rng.randrange(20)) * DAY_MS
            else:
                last = anchor - rng.randrange(5 * 60 * 1000, 20 * HOUR_MS)
            off = config.get("offVariation")
            kinds = CONTEXT_KINDS[row["projectKey"]][: 1 + rng.randrange(2)]
            config["_requests"] = {"last": last, "contextKinds": kinds}
            if off is not None:
                config["_requests"]["default"] = row["variations"][off]["value"]


def seed_flag_details(state: dict[str, Any], ctx: SeedContext) -> None:
    rng = random.Random(f"{ctx.seed}:launchdarkly-flags")
    anchor = m.millis(ctx.anchor)
    _targeting(state)
    _lifecycle(state, anchor)
    _requests(state, rng, anchor)
