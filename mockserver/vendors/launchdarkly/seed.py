"""The seeded LaunchDarkly world: two projects, flags with rules, metrics, metric groups,
experiments in every iteration state, and a flag with legacy experiments.

Everything comes from the seed and the anchor instant, so the same seed gives the same bytes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from faker import Faker

from mockserver.core.store import SeedContext, next_uuid
from mockserver.vendors.launchdarkly import experiments, iterations
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.flag_seed import seed_flag_details

PROJECTS = {
    "default": ("Default Project", {"production": "Production", "test": "Test"}),
    "mobile-app": ("Mobile App", {"production": "Production", "test": "Test"}),
}
# key, name, variation values, on in production, archived
FLAGS = {
    "default": [
        ("checkout-button-color", "Checkout button color", ["grey", "green", "blue"], True, False),
        ("new-onboarding-flow", "New onboarding flow", [False, True], True, False),
        ("pricing-page-layout", "Pricing page layout", ["classic", "compact"], True, False),
        ("search-ranking-v2", "Search ranking v2", [False, True], True, False),
        ("recommendations-widget", "Recommendations widget", ["off", "carousel", "grid"], True, False),
        ("dark-mode-default", "Dark mode by default", [False, True], False, False),
        ("holiday-banner", "Holiday banner", [False, True], True, True),
        ("free-shipping-threshold", "Free shipping threshold", [50, 75, 100], True, False),
    ],
    "mobile-app": [
        ("push-permission-prompt", "Push permission prompt", ["system", "primer"], True, False),
        ("app-rating-request", "App rating request", [False, True], True, False),
    ],
}
# key, name, kind, numeric, aggregation
METRICS = {
    "default": [
        ("checkout-completed", "Checkout completed", "custom", False, None),
        ("page-load-ms", "Page load time (ms)", "custom", True, "average"),
        ("revenue-per-user", "Revenue per user", "custom", True, "sum"),
        ("signup-clicked", "Signup button clicked", "click", False, None),
        ("pricing-page-viewed", "Pricing page viewed", "pageview", False, None),
        ("search-result-clicked", "Search result clicked", "click", False, None),
    ],
    "mobile-app": [
        ("app-opened", "App opened", "custom", False, None),
        ("push-enabled", "Push notifications enabled", "custom", False, None),
    ],
}
GROUPS = {
    "default": [
        ("checkout-funnel", "Checkout funnel", "funnel", ["pricing-page-viewed", "checkout-completed"]),
        ("engagement", "Engagement", "standard", ["search-result-clicked", "signup-clicked"]),
    ],
    "mobile-app": [],
}
UNITS = {"default": ["user", "organization", "device"], "mobile-app": ["user", "device"]}
# project, env, key, flag, rule (fallthrough or rule index), metrics (primary first), plan
EXPERIMENTS = [
    (
        "default",
        "production",
        "checkout-button-test",
        "checkout-button-color",
        "fallthrough",
        ["checkout-completed", "revenue-per-user"],
        "running_after_stop",
    ),
    (
        "default",
        "production",
        "onboarding-flow-test",
        "new-onboarding-flow",
        "fallthrough",
        ["signup-clicked"],
        "not_started",
    ),
    (
        "default",
        "production",
        "pricing-layout-test",
        "pricing-page-layout",
        0,
        ["checkout-funnel", "page-load-ms"],
        "stopped",
    ),
    (
        "default",
        "production",
        "search-ranking-test",
        "search-ranking-v2",
        "fallthrough",
        ["search-result-clicked", "engagement"],
        "running",
    ),
    (
        "default",
        "production",
        "recommendations-test",
        "recommendations-widget",
        "fallthrough",
        ["revenue-per-user"],
        "archived",
    ),
    (
        "default",
        "test",
        "recommendations-test-env",
        "recommendations-widget",
        "fallthrough",
        ["checkout-completed"],
        "running",
    ),
    (
        "mobile-app",
        "production",
        "push-primer-test",
        "push-permission-prompt",
        "fallthrough",
        ["push-enabled", "app-opened"],
        "running",
    ),
]


def _hex_id(rng) -> str:
    """LaunchDarkly's object ids are 24 hex digits."""
    return f"{rng.getrandbits(96):024x}"


def seed(ctx: SeedContext) -> dict[str, Any]:
    rng = ctx.rng
    fake = Faker("en_US")
    fake.seed_instance(ctx.seed)
    anchor = m.millis(ctx.anchor)

    def ago(days: float) -> int:
        return anchor - int(timedelta(days=days).total_seconds() * 1000)

    state = m.empty_state(ctx.seed)
    state["members"] = [_hex_id(rng) for _ in range(5)]
    for project_key, (name, envs) in PROJECTS.items():
        state["projects"][project_key] = {
            "_id": _hex_id(rng),
            "key": project_key,
            "name": name,
            "environments": {k: {"_id": _hex_id(rng), "key": k, "name": v} for k, v in envs.items()},
        }
        state["settings"][project_key] = {
            "_creationDate": ago(400),
            "randomizationUnits": [
                {"randomizationUnit": u, "default": i == 0, "_hidden": False, "_displayName": u.capitalize()}
                for i, u in enumerate(UNITS[project_key])
            ],
        }
        for spec in FLAGS[project_key]:
            _flag(state, fake, rng, project_key, envs, spec, ago(300 - rng.randrange(100)))
        for key, mname, kind, numeric, aggregation in METRICS[project_key]:
            state["metrics"][m.scoped(project_key, key)] = {
                "_id": _hex_id(rng),
                "_versionId": next_uuid(state),
                "key": key,
                "name": mname,
                "kind": kind,
                "isNumeric": numeric,
                "eventKey": key,
                "unitAggregationType": aggregation,
                "analysisType": "mean" if numeric else None,
                "randomizationUnits": ["user"],
                "tags": [],
                "_creationDate": ago(250),
                "description": fake.sentence(nb_words=8),
            }
        for key, gname, kind, members in GROUPS[project_key]:
            state["metric_groups"][m.scoped(project_key, key)] = {
                "key": key,
                "name": gname,
                "kind": kind,
                "_versionId": next_uuid(state),
                "metrics": [
                    {"key": k, "nameInGroup": f"Step {i + 1}" if kind == "funnel" else None}
                    for i, k in enumerate(members)
                ],
            }
    for index, spec in enumerate(EXPERIMENTS):
        _experiment(state, fake, index, spec, ago)
    _legacy(state, ago)
    seed_flag_details(state, ctx)
    return state


def _flag(state, fake, rng, project_key, envs, spec, created) -> None:
    key, name, values, on_in_prod, archived = spec
    variations = [{"_id": next_uuid(state), "value": v, "name": str(v).capitalize()} for v in values]
    environments = {}
    for env_key, env_name in envs.items():
        rules = [
            {
                "_id": next_uuid(state),
                "variation": 0,
                "description": "Beta testers",
                "trackEvents": False,
                "clauses": [
                    {
                        "_id": next_uuid(state),
                        "attribute": "segmentMatch",
                        "op": "segmentMatch",
                        "values": ["beta-testers"],
                        "contextKind": "user",
                        "negate": False,
                    }
                ],
            }
        ]
        environments[env_key] = {
            "on": on_in_prod or env_key != "production",
            "archived": False,
            "salt": fake.pystr(20, 20),
            "sel": fake.pystr(32, 32),
            "lastModified": created,
            "version": 1 + rng.randrange(6),
            "targets": [],
            "contextTargets": [],
            "rules": rules,
            "fallthrough": {"variation": 0},
            "offVariation": len(values) - 1,
            "prerequisites": [],
            "_site": m.link(f"/{project_key}/{env_key}/features/{key}"),
            "_environmentName": env_name,
            "trackEvents": False,
            "trackEventsFallthrough": False,
        }
    state["flags"][m.scoped(project_key, key)] = {
        "name": name,
        "kind": "boolean" if isinstance(values[0], bool) else "multivariate",
        "description": fake.sentence(nb_words=10),
        "key": key,
        "_version": 1 + rng.randrange(9),
        "creationDate": created,
        "includeInSnippet": False,
        "clientSideAvailability": {"usingMobileKey": False, "usingEnvironmentId": False},
        "variations": variations,
        "temporary": True,
        "tags": [],
        "maintainerId": state["members"][0],
        "goalIds": [],
        "experiments": {"baselineIdx": 0, "items": []},
        "customProperties": {},
        "archived": archived,
        "deprecated": False,
        "defaults": {"onVariation": 0, "offVariation": len(values) - 1},
        "environments": environments,
        "projectKey": project_key,
    }


def _iteration_body(state, project_key, env_key, flag_key, rule, metric_keys) -> dict[str, Any]:
    row = state["flags"][m.scoped(project_key, flag_key)]
    config = row["environments"][env_key]
    rule_id = "fallthrough" if rule == "fallthrough" else config["rules"][rule]["_id"]
    share = 100 // len(row["variations"])
    treatments = []
    for index, variation in enumerate(row["variations"]):
        percent = share + (100 - share * len(row["variations"]) if index == 0 else 0)
        treatments.append(
            {
                "name": variation["name"] if index else "Control",
                "baseline": index == 0,
                "allocationPercent": str(percent),
                "parameters": [{"flagKey": flag_key, "variationId": variation["_id"]}],
            }
        )
    metrics = [{"key": k, "isGroup": m.scoped(project_key, k) in state["metric_groups"]} for k in metric_keys]
    return {
        "hypothesis": "",
        "metrics": metrics,
        "treatments": treatments,
        "flags": {flag_key: {"ruleId": rule_id, "flagConfigVersion": config["version"]}},
    }


def _experiment(state, fake, index, spec, ago) -> None:
    project_key, env_key, key, flag_key, rule, metric_keys, plan = spec
    created = ago(60 - index * 4)
    body = _iteration_body(state, project_key, env_key, flag_key, rule, metric_keys)
    body["hypothesis"] = fake.sentence(nb_words=12)
    post = {
        "key": key,
        "name": key.replace("-", " ").capitalize(),
        "description": fake.sentence(nb_words=14),
        "maintainerId": state["members"][index % len(state["members"])],
        "iteration": body,
        "tags": ["seeded"],
    }
    exp = experiments.create(state, project_key, env_key, post, state["members"][0], created)
    first = exp["iterations"][0]
    if plan == "not_started":
        return
    iterations.start(state, exp, None, created + 3_600_000)
    if plan == "running":
        return
    winner = first["treatments"][-1]["_id"]
    iterations.stop(
        state, exp, {"winningTreatmentId": winner, "winningReason": fake.sentence(nb_words=8)}, ago(20 - index)
    )
    if plan == "archived":
        exp["archivedDate"] = ago(10)
    if plan == "running_after_stop":
        body = _iteration_body(state, project_key, env_key, flag_key, rule, metric_keys)
        body["hypothesis"] = fake.sentence(nb_words=12)
        experiments.add_iteration(state, exp, body, ago(15))
        iterations.start(state, exp, "Second iteration with fixed tracking", ago(14))


def _legacy(state, ago) -> None:
    row = state["flags"][m.scoped("default", "free-shipping-threshold")]
    row["experiments"] = {
        "baselineIdx": 0,
        "items": [
            {
                "metricKey": "revenue-per-user",
                "environments": ["production"],
                "_environmentSettings": {
                    "production": {"startDate": ago(30), "enabledPeriods": [{"startDate": ago(30)}]}
                },
            },
            {
                "metricKey": "checkout-completed",
                "environments": [],
                "_environmentSettings": {
                    "production": {
                        "startDate": ago(50),
                        "stopDate": ago(35),
                        "enabledPeriods": [{"startDate": ago(50), "stopDate": ago(35)}],
                    }
                },
            },
        ],
    }
