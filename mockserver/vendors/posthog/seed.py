"""The seeded PostHog world: two projects, users, flags, holdouts, shared metrics, experiments, actions
and the event definitions of every event they name.

Everything comes from the seed and the anchor instant, so the same seed gives the same bytes.
Records are created in a fixed order (fixtures refer to experiments and flags by id).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random
from typing import TYPE_CHECKING, Any

from mockserver.core.clock import iso
from mockserver.core.store import SeedContext, next_id, next_uuid, pure_seeder
from mockserver.vendors.posthog import events, fingerprints, flags, models, ordering, timeseries
from mockserver.vendors.posthog.metric_references import entity_references

if TYPE_CHECKING:
    from faker import Faker


@functools.cache
def _faker() -> Faker:
    """Imported when a world is first seeded: a cached world (``core.disk_cache``) needs no Faker."""
    from faker import Faker

    return Faker("en_US")


THEMES = [
    "Checkout button copy",
    "Onboarding checklist",
    "Pricing page layout",
    "Signup form length",
    "Search ranking model",
    "Homepage hero video",
    "Free trial length",
    "Recommendation carousel",
    "Reminder email timing",
    "Mobile navigation redesign",
    "Dashboard empty state",
    "Upgrade modal",
    "Referral banner",
    "Annual plan discount",
    "Cart abandonment nudge",
    "Product tour",
    "Invite teammates prompt",
    "Billing page trust badges",
]
EVENTS = [
    "$pageview",
    "signed_up",
    "checkout_started",
    "purchase_completed",
    "subscription_upgraded",
    "search_performed",
    "invite_sent",
    "onboarding_completed",
]
ROLES = ["engineering", "data", "product", "founder", "leadership", "marketing", "sales", "other"]

# (status the experiment is seeded in, archived, deleted)
PLAN = [
    ("draft", False, False),
    ("draft", False, False),
    ("draft", False, False),
    ("running", False, False),
    ("running", False, False),
    ("running", False, False),
    ("running", False, False),
    ("paused", False, False),
    ("paused", False, False),
    ("stopped", False, False),
    ("stopped", False, False),
    ("stopped", True, False),
    ("stopped", True, False),
    ("running", False, True),
    ("draft", False, False),
]


@dataclass
class _World:
    """What the seeding steps share: the state being built and the means to fill it."""

    state: dict[str, Any]
    rng: Random
    fake: Faker
    at: Callable[[float], str]
    user_ids: list[int]


def variant_list(keys: list[str]) -> list[dict[str, Any]]:
    share, rest = divmod(100, len(keys))
    out = []
    for index, key in enumerate(keys):
        name = "Control" if key == "control" else key.replace("-", " ").capitalize()
        out.append({"key": key, "name": name, "rollout_percentage": share + (1 if index < rest else 0)})
    return out


def mean_metric(event: str, math: str = "total", math_property: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"kind": "EventsNode", "event": event, "math": math}
    if math_property:
        source["math_property"] = math_property
    return {
        "kind": "ExperimentMetric",
        "metric_type": "mean",
        "name": f"{event} ({math})",
        "goal": "increase",
        "source": source,
    }


def funnel_metric(events: list[str]) -> dict[str, Any]:
    return {
        "kind": "ExperimentMetric",
        "metric_type": "funnel",
        "name": " → ".join(events),
        "goal": "increase",
        "series": [{"kind": "EventsNode", "event": e} for e in events],
    }


def legacy_trends_metric(event: str) -> dict[str, Any]:
    """A pre-ExperimentMetric trends query, as experiments made before 2025 still hold."""
    return {
        "kind": "ExperimentTrendsQuery",
        "name": f"{event} count",
        "count_query": {
            "kind": "TrendsQuery",
            "series": [{"kind": "EventsNode", "event": event}],
            "dateRange": {"date_from": "-14d", "date_to": None, "explicitDate": False},
        },
    }


@pure_seeder
def seed(ctx: SeedContext) -> dict[str, Any]:
    fake = _faker()
    fake.seed_instance(ctx.seed)
    anchor = ctx.anchor
    world = _World(models.empty_state(ctx.seed), ctx.rng, fake, lambda days: iso(anchor - timedelta(days=days)), [])
    _organization(world)
    _users(world)
    _holdouts(world)
    _shared_metrics(world)
    _standalone_flags(world)
    _experiments(world)
    _legacy_experiment(world)
    _finished_calculations(world)
    _taxonomy(world, anchor)
    return world.state


def _organization(world: _World) -> None:
    state, fake = world.state, world.fake
    org_uuid = next_uuid(state)
    state["organization"] = {"id": org_uuid, "name": fake.company()}
    for _ in range(2):
        pid = next_id(state, "project")
        state["projects"][str(pid)] = {
            "id": pid,
            "name": ["Web app", "Mobile app"][pid - 1],
            "organization": org_uuid,
            "api_token": f"phc_{fake.pystr(min_chars=32, max_chars=32)}",
        }


def _users(world: _World) -> None:
    state, fake, rng = world.state, world.fake, world.rng
    for index in range(5):
        uid = next_id(state, "user")
        first, last = fake.first_name(), fake.last_name()
        state["users"][str(uid)] = {
            "id": uid,
            "uuid": next_uuid(state),
            "distinct_id": fake.pystr(min_chars=24, max_chars=24),
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{last.lower()}@{fake.domain_name()}",
            "is_email_verified": index % 4 != 3,
            "hedgehog_config": None,
            "role_at_organization": ROLES[rng.randrange(len(ROLES))],
        }
    world.user_ids = [int(u) for u in state["users"]]


def _holdouts(world: _World) -> None:
    state, user_ids = world.state, world.user_ids
    for name, pct in (("Global 5% holdout", 5), ("Pricing holdout", 10), ("Q3 growth holdout", 3)):
        hid = next_id(state, "holdout")
        created = world.at(120 - hid * 7)
        state["holdouts"][str(hid)] = {
            "id": hid,
            "team_id": 1,
            "name": name,
            "description": world.fake.sentence(nb_words=10),
            "filters": [{"properties": [], "rollout_percentage": pct, "variant": f"holdout-{hid}"}],
            "created_by_id": user_ids[hid % len(user_ids)],
            "created_at": created,
            "updated_at": created,
        }


def _shared_metrics(world: _World) -> None:
    shared = [
        ("Checkout conversion", funnel_metric(["checkout_started", "purchase_completed"]), ["growth"]),
        ("Revenue per user", mean_metric("purchase_completed", math="sum", math_property="revenue"), ["revenue"]),
        ("Weekly active usage", mean_metric("$pageview", math="dau"), []),
        ("Upgrade rate", funnel_metric(["$pageview", "subscription_upgraded"]), ["activation"]),
    ]
    for name, query, tags in shared:
        _add_shared_metric(world, name, query, tags)


def _add_shared_metric(world: _World, name: str, query: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    state = world.state
    mid = next_id(state, "saved_metric")
    created = world.at(100 - mid * 5)
    row = {
        "id": mid,
        "team_id": 1,
        "name": name,
        "description": world.fake.sentence(nb_words=8),
        "query": dict(query, uuid=next_uuid(state)),
        "created_by_id": world.user_ids[mid % len(world.user_ids)],
        "created_at": created,
        "updated_at": created,
        "tags": tags,
    }
    state["saved_metrics"][str(mid)] = row
    return row


def _standalone_flags(world: _World) -> None:
    """Flags that back no experiment: candidates for linking and for eligible_feature_flags."""
    for team_id, key, variants, days, creator in (
        (1, "new-pricing-table", ["control", "test"], 200, 0),
        (1, "ai-summary-beta", ["control", "concise", "detailed"], 200, 0),
        (1, "dark-mode-default", None, 200, 0),
        (2, "mobile-onboarding-v2", ["control", "test"], 150, 1),
    ):
        name = "Mobile onboarding v2" if team_id == 2 else key.replace("-", " ").capitalize()
        flags.insert_flag(
            world.state,
            team_id,
            key,
            name,
            flags.seeded_filters(variant_list(variants) if variants else None),
            active=True,
            created_at=world.at(days),
            created_by_id=world.user_ids[creator],
        )


def _experiments(world: _World) -> None:
    themes = list(THEMES)
    world.rng.shuffle(themes)
    for index, (status, archived, deleted) in enumerate(PLAN):
        _seed_experiment(world, themes[index], status, archived, deleted, index)
    _seed_experiment(world, "Onboarding video length", "running", False, False, 12, team_id=2)


def _seed_experiment(world: _World, name, status, archived, deleted, index, team_id=1) -> dict[str, Any]:
    state, rng = world.state, world.rng
    variants = variant_list(["control", "test-1", "test-2"] if index % 4 == 1 else ["control", "test"])
    created_days = 90 - index * 5
    holdout = state["holdouts"]["1"] if index in (3, 9) and team_id == 1 else None
    flag = flags.insert_flag(
        state,
        team_id,
        models.slug(name),
        f"Feature Flag for Experiment {name}",
        {**flags.seeded_filters(variants), "holdout": flags.holdout_block(holdout)},
        active=status in ("running", "stopped"),
        created_at=world.at(created_days),
        created_by_id=world.user_ids[index % 5],
    )
    primary = [
        mean_metric(EVENTS[rng.randrange(len(EVENTS))]),
        funnel_metric(["$pageview", EVENTS[2 + rng.randrange(len(EVENTS) - 2)]]),
    ]
    for metric in primary:
        metric["uuid"] = next_uuid(state)
    exp = models.new_experiment_record(
        state,
        team_id=team_id,
        name=name,
        flag=flag,
        description=world.fake.paragraph(nb_sentences=2),
        created_by_id=world.user_ids[(index + 1) % len(world.user_ids)],
        created_at=world.at(created_days),
        updated_at=world.at(max(created_days - 31, 0.5)),
        parameters={"feature_flag_variants": variants, "minimum_detectable_effect": 5},
        metrics=primary,
        start_date=world.at(created_days - 2) if status != "draft" else None,
        end_date=world.at(max(created_days - 30, 1)) if status == "stopped" else None,
        archived=archived,
        deleted=deleted,
        holdout_id=holdout["id"] if holdout else None,
        primary_metrics_ordered_uuids=ordering.uuids(primary),
        secondary_metrics_ordered_uuids=[],
    )
    if status == "stopped":
        exp["conclusion"] = ["won", "inconclusive", "lost", "stopped_early"][index % 4]
        exp["conclusion_comment"] = world.fake.sentence(nb_words=9)
    exp["metrics"] = fingerprints.refresh(exp["metrics"], exp)
    if team_id == 1 and index < 8:
        _link(world, exp, 1 + index % 4, "primary" if index % 2 else "secondary")
    return exp


def _link(world: _World, exp: dict[str, Any], metric_id: int, side: str) -> None:
    exp["saved_metrics"].append(models.new_link(world.state, metric_id, {"type": side}, exp["created_at"]))
    links = exp["saved_metrics"]
    ordering.add_links(exp, ordering.link_uuids(links, models.saved_queries(world.state, links)))


def _legacy_experiment(world: _World) -> None:
    """An archived experiment from before ExperimentMetric: read-only apart from its name, end date and deletion."""
    shared = _add_shared_metric(world, "Legacy pageview trend", legacy_trends_metric("$pageview"), ["legacy"])
    variants = variant_list(["control", "test"])
    name = "Legacy signup funnel (2024)"
    flag = flags.insert_flag(
        world.state,
        1,
        models.slug(name),
        f"Feature Flag for Experiment {name}",
        flags.seeded_filters(variants),
        active=True,
        created_at=world.at(400),
        created_by_id=world.user_ids[0],
    )
    metric = dict(legacy_trends_metric("signed_up"), uuid=next_uuid(world.state))
    exp = models.new_experiment_record(
        world.state,
        team_id=1,
        name=name,
        flag=flag,
        description=world.fake.paragraph(nb_sentences=2),
        created_by_id=world.user_ids[0],
        created_at=world.at(400),
        updated_at=world.at(360),
        parameters={"feature_flag_variants": variants},
        metrics=[metric],
        start_date=world.at(398),
        end_date=world.at(370),
        archived=True,
        conclusion="inconclusive",
        primary_metrics_ordered_uuids=[metric["uuid"]],
        secondary_metrics_ordered_uuids=[],
    )
    exp["metrics"] = fingerprints.refresh(exp["metrics"], exp)
    _link(world, exp, shared["id"], "secondary")


def _finished_calculations(world: _World) -> None:
    """Launched experiments of project 1 have results for their inline metrics, computed a day ago."""
    for exp in world.state["experiments"].values():
        if exp["team_id"] != 1 or exp.get("start_date") is None or exp.get("deleted"):
            continue
        for metric in exp["metrics"]:
            if metric.get("kind") == "ExperimentMetric":
                timeseries.seed_completed(world.state, exp, metric, world.at(1))


# Actions per project: (name, description, steps). Their events are ingested like the metrics' events.
ACTIONS = {
    1: [
        ("Completed purchase", "A checkout that went through.", [{"event": "purchase_completed"}]),
        (
            "Viewed pricing page",
            "Any page view of the pricing page.",
            [{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}],
        ),
        ("Signed up", "A new account.", [{"event": "signed_up"}]),
    ],
    2: [("Finished onboarding", "The last onboarding step in the app.", [{"event": "onboarding_completed"}])],
}


def _taxonomy(world: _World, anchor: datetime) -> None:
    """Event definitions for every event the seeded metrics and actions name, and a few actions.

    Runs after the experiments so their ids, uuids and random draws stay what they were.
    """
    state = world.state
    users = sorted(int(u) for u in state["users"])
    for team_id in sorted(int(p) for p in state["projects"]):
        metrics = [q["query"] for q in state["saved_metrics"].values() if q["team_id"] == team_id]
        for exp in state["experiments"].values():
            if exp["team_id"] == team_id:
                metrics += (exp.get("metrics") or []) + (exp.get("metrics_secondary") or [])
        names = entity_references(metrics)[0] | set(EVENTS) | {"$feature_flag_called"}
        names |= {step["event"] for _, _, steps in ACTIONS.get(team_id, []) for step in steps}
        for index, name in enumerate(sorted(names)):
            row = events.record(state, team_id, name, iso(anchor - timedelta(days=240 - index * 3)))
            row["last_seen_at"] = iso(anchor - timedelta(hours=1 + index * 7))
        for index, (name, description, steps) in enumerate(ACTIONS.get(team_id, [])):
            aid = next_id(state, "action")
            created = iso(anchor - timedelta(days=180 - aid * 11))
            state["actions"][str(aid)] = {
                "id": aid,
                "team_id": team_id,
                "name": name,
                "description": description,
                "tags": [],
                "post_to_slack": False,
                "slack_message_format": "",
                "steps": [
                    {
                        "tag_name": None,
                        "text": None,
                        "text_matching": None,
                        "href": None,
                        "href_matching": None,
                        "selector": None,
                        "url": None,
                        "event": None,
                        "properties": None,
                        "url_matching": "contains",
                        **step,
                    }
                    for step in steps
                ],
                "created_at": created,
                "created_by_id": users[(aid + index) % len(users)],
                "deleted": False,
                "last_calculated_at": created,
                "pinned_at": None,
            }
