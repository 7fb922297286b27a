"""The seeded LaunchDarkly world: two projects, flags with rules, metrics, metric groups,
experiments in every iteration state, a flag with legacy experiments, and around them the
account's members, the projects' environments settings and context kinds, a layer and a holdout.

Everything comes from the seed and the anchor instant, so the same seed gives the same bytes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mockserver.core.store import SeedContext, next_uuid, pure_seeder
from mockserver.vendors.launchdarkly import experiments, holdouts, iterations, layers
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.flag_seed import seed_flag_details

if TYPE_CHECKING:
    from faker import Faker

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


# Seeded experiments are Bayesian unless listed here.
METHODOLOGY = {"push-primer-test": "frequentist"}
# key, name, description, kinds per project (the first one is each project's built-in kind)
CONTEXT_KINDS = {
    "default": [
        ("user", "User", "People who use the product"),
        ("organization", "Organization", "Companies and teams with an account"),
        ("device", "Device", "Browsers and phones"),
        ("account", "Account", "Billing accounts"),
        ("request", "Request", "Single API requests"),
    ],
    "mobile-app": [
        ("user", "User", "People who use the app"),
        ("device", "Device", "Phones and tablets"),
        ("account", "Account", "Billing accounts"),
    ],
}
MEMBER_ROLES = ("owner", "admin", "writer", "writer", "reader")
ENV_COLORS = {"production": "417505", "test": "f5a623"}
# layer key, name, description, project, environment, reservations (experiment, percent)
LAYERS = [
    (
        "checkout-flow",
        "Checkout flow",
        "Experiments on the path from pricing to payment share this traffic",
        "default",
        "production",
        [("onboarding-flow-test", 50), ("pricing-layout-test", 30)],
    )
]
# holdout key, name, project, environment, percent held out, metric, experiments that joined it
HOLDOUTS = [("q4-holdout", "Q4 holdout", "default", "production", "5", "checkout-completed", ["search-ranking-test"])]


def _hex_id(rng) -> str:
    """LaunchDarkly's object ids are 24 hex digits."""
    return f"{rng.getrandbits(96):024x}"


@pure_seeder
def seed(ctx: SeedContext) -> dict[str, Any]:
    rng = ctx.rng
    from faker import Faker  # imported when a world is seeded, not when a cached one is loaded

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
    seed_context_kinds(state, ago)  # draws nothing from the RNGs: the records above and below stay as they were
    for index, spec in enumerate(EXPERIMENTS):
        _experiment(state, fake, index, spec, ago)
    _legacy(state, ago)
    # Later steps only add to what the steps above built, so their records stay as they were.
    seed_members(state, fake, ago)
    seed_environments(state, fake)
    seed_metric_details(state, fake, ago)
    seed_layers(state, ago)
    seed_holdouts(state, ago)
    seed_flag_details(state, ctx)  # its own random stream: moves nothing above
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
        "methodology": METHODOLOGY.get(key, "bayesian"),
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


# -- around the experiments ---------------------------------------------------------------------


def seed_members(state: dict[str, Any], fake: Faker, ago) -> None:
    """A profile per member: the first one owns the account (and the personal tokens)."""
    profiles = m.table(state, "member_profiles")
    for index, member_id in enumerate(state["members"]):
        first, last = fake.first_name(), fake.last_name()
        profiles[member_id] = {
            "_id": member_id,
            "firstName": first,
            "lastName": last,
            "email": f"{first}.{last}@example.com".lower(),
            "role": MEMBER_ROLES[index % len(MEMBER_ROLES)],
            "customRoles": [],
            "mfa": "enabled" if index % 2 == 0 else "disabled",
            "creationDate": ago(500 - index * 20),
            "_lastSeen": ago(index + 0.5),
        }


def seed_environments(state: dict[str, Any], fake: Faker) -> None:
    """Project defaults and environment settings, with the SDK credentials the REST API refuses."""
    for project in state["projects"].values():
        project.update(
            tags=["experimentation"],
            includeInSnippetByDefault=False,
            defaultClientSideAvailability={"usingMobileKey": False, "usingEnvironmentId": True},
        )
        for env in project["environments"].values():
            env.update(
                apiKey=f"sdk-{next_uuid(state)}",
                mobileKey=f"mob-{next_uuid(state)}",
                color=ENV_COLORS.get(env["key"], fake.hex_color()[1:]),
                defaultTtl=0,
                secureMode=False,
                defaultTrackEvents=False,
                requireComments=env["key"] == "production",
                confirmChanges=env["key"] == "production",
                tags=[],
                critical=env["key"] == "production",
            )


def seed_context_kinds(state: dict[str, Any], ago) -> None:
    table = m.table(state, "context_kinds")
    for project_key, kinds in CONTEXT_KINDS.items():
        for index, (key, name, description) in enumerate(kinds):
            table[m.scoped(project_key, key)] = {
                "key": key,
                "projectKey": project_key,
                "name": name,
                "description": description,
                "version": 1,
                "creationDate": ago(450 - index),
                "lastModified": ago(450 - index),
                "lastSeen": ago(1),
                "createdFrom": "default" if index == 0 else "manual",
                "archived": False,
            }


def seed_metric_details(state: dict[str, Any], fake: Faker, ago) -> None:
    """What a metric or a group carries besides what experiments read: maintainers, versions, URLs."""
    owner = state["members"][0]
    for key, row in state["metrics"].items():
        project_key = key.split("/")[0]
        row.update(_version=1, maintainerId=owner, analysisUnits=list(row["randomizationUnits"]), lastModified=ago(30))
        if row["kind"] in ("click", "pageview"):
            row["urls"] = [{"kind": "substring", "substring": f"/{project_key}/{row['key'].split('-')[0]}"}]
        if row["kind"] == "click":
            row["selector"] = f"#{row['key']}"
        if row["isNumeric"]:
            lower = row["key"].endswith("-ms")
            row.update(successCriteria="LowerThanBaseline" if lower else "HigherThanBaseline")
            row["unit"] = "ms" if lower else "USD"
    for group in state["metric_groups"].values():
        group.update(
            _id=next_uuid(state).replace("-", "")[:24],
            description=fake.sentence(nb_words=8),
            tags=["seeded"],
            maintainerId=owner,
            _creationDate=ago(240),
            _lastModified=ago(30),
            _version=1,
        )


def seed_layers(state: dict[str, Any], ago) -> None:
    table = m.table(state, "layers")
    for key, name, description, project_key, env_key, reservations in LAYERS:
        table[m.scoped(project_key, key)] = {
            "key": key,
            "name": name,
            "description": description,
            "projectKey": project_key,
            "createdAt": ago(90),
            "randomizationUnit": "user",
            "reservations": {env_key: [{"experimentKey": e, "reservationPercent": p} for e, p in reservations]},
        }
        for exp_key, _percent in reservations:
            exp = state["experiments"][m.scoped(project_key, env_key, exp_key)]
            for it in exp["iterations"]:
                if it.get("startedAt") is not None:
                    it["layerSnapshot"] = layers.snapshot(state, exp)


def seed_holdouts(state: dict[str, Any], ago) -> None:
    for key, name, project_key, env_key, amount, metric, members in HOLDOUTS:
        body = {
            "key": key,
            "name": name,
            "description": f"{amount}% of {env_key} traffic sees none of the quarter's experiments",
            "holdoutamount": amount,
            "randomizationunit": "user",
            "metrics": [{"key": metric}],
        }
        holdout = holdouts.create(state, project_key, env_key, body, state["members"][0], ago(75))
        for exp_key in members:
            exp = state["experiments"][m.scoped(project_key, env_key, exp_key)]
            exp["holdoutId"] = holdout["_id"]
            holdouts.join(holdout, exp_key, ago(75))
            started = iterations.current_of(exp).get("startedAt")
            if started is not None:
                holdouts.started(state, exp, started)
