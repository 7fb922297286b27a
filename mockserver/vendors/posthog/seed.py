"""The seeded PostHog world: two projects, users, flags, holdouts, shared metrics, experiments.

Everything comes from the seed and the anchor instant, so the same seed gives the same bytes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from faker import Faker

from mockserver.core.clock import iso
from mockserver.core.store import SeedContext, next_id, next_uuid
from mockserver.vendors.posthog import models
from mockserver.vendors.posthog.metric_references import entity_references

_FAKER = Faker("en_US")

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


def seed(ctx: SeedContext) -> dict[str, Any]:
    rng = ctx.rng
    fake = _FAKER
    fake.seed_instance(ctx.seed)
    anchor = ctx.anchor
    state: dict[str, Any] = models.empty_state(ctx.seed)
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
    user_ids = [int(u) for u in state["users"]]

    def at(days_ago: float) -> str:
        return iso(anchor - timedelta(days=days_ago))

    # Holdouts
    for name, pct in (("Global 5% holdout", 5), ("Pricing holdout", 10), ("Q3 growth holdout", 3)):
        hid = next_id(state, "holdout")
        created = at(120 - hid * 7)
        state["holdouts"][str(hid)] = {
            "id": hid,
            "team_id": 1,
            "name": name,
            "description": fake.sentence(nb_words=10),
            "filters": [{"properties": [], "rollout_percentage": pct, "variant": f"holdout-{hid}"}],
            "created_by_id": user_ids[hid % len(user_ids)],
            "created_at": created,
            "updated_at": created,
        }

    # Shared metrics
    shared = [
        ("Checkout conversion", models.funnel_metric(["checkout_started", "purchase_completed"])),
        ("Revenue per user", models.mean_metric("purchase_completed", math="sum", math_property="revenue")),
        ("Weekly active usage", models.mean_metric("$pageview", math="dau")),
        ("Upgrade rate", models.funnel_metric(["$pageview", "subscription_upgraded"])),
    ]
    for name, query in shared:
        mid = next_id(state, "saved_metric")
        query = dict(query, uuid=next_uuid(state))
        created = at(100 - mid * 5)
        state["saved_metrics"][str(mid)] = {
            "id": mid,
            "team_id": 1,
            "name": name,
            "description": fake.sentence(nb_words=8),
            "query": query,
            "created_by_id": user_ids[mid % len(user_ids)],
            "created_at": created,
            "updated_at": created,
            "tags": [["growth"], ["revenue"], [], ["activation"]][mid - 1],
        }

    # Flags that back no experiment: candidates for linking and for eligible_feature_flags.
    for key, variants in (
        ("new-pricing-table", ["control", "test"]),
        ("ai-summary-beta", ["control", "concise", "detailed"]),
        ("dark-mode-default", None),
    ):
        models.insert_flag(
            state,
            1,
            key,
            f"{key.replace('-', ' ').capitalize()}",
            models.variant_list(variants) if variants else None,
            active=True,
            created_at=at(200),
            created_by_id=user_ids[0],
        )
    models.insert_flag(
        state,
        2,
        "mobile-onboarding-v2",
        "Mobile onboarding v2",
        models.variant_list(["control", "test"]),
        active=True,
        created_at=at(150),
        created_by_id=user_ids[1],
    )

    themes = list(THEMES)
    rng.shuffle(themes)
    for index, (status, archived, deleted) in enumerate(PLAN):
        _seed_experiment(state, rng, fake, themes[index], status, archived, deleted, index, at, user_ids)
    _seed_experiment(state, rng, fake, "Onboarding video length", "running", False, False, 12, at, user_ids, team_id=2)
    seed_taxonomy(state, ctx)
    return state


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


def seed_taxonomy(state: dict[str, Any], ctx: SeedContext) -> None:
    """Event definitions for every event the seeded metrics and actions name, and a few actions.

    Runs after the experiments so their ids, uuids and random draws stay what they were.
    """
    anchor = ctx.anchor
    users = sorted(int(u) for u in state["users"])
    for team_id in sorted(int(p) for p in state["projects"]):
        metrics = [q["query"] for q in state["saved_metrics"].values() if q["team_id"] == team_id]
        for exp in state["experiments"].values():
            if exp["team_id"] == team_id:
                metrics += (exp.get("metrics") or []) + (exp.get("metrics_secondary") or [])
        names = entity_references(metrics)[0] | set(EVENTS) | {"$feature_flag_called"}
        names |= {step["event"] for _, _, steps in ACTIONS.get(team_id, []) for step in steps}
        for index, name in enumerate(sorted(names)):
            uid = next_uuid(state)
            first = iso(anchor - timedelta(days=240 - index * 3))
            state["event_definitions"][uid] = {
                "id": uid,
                "team_id": team_id,
                "name": name,
                "description": "",
                "tags": [],
                "owner_id": None,
                "created_at": first,
                "updated_at": first,
                "updated_by_id": None,
                "last_seen_at": iso(anchor - timedelta(hours=1 + index * 7)),
                "verified": False,
                "verified_at": None,
                "verified_by_id": None,
                "hidden": False,
                "default_columns": [],
            }
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


def _seed_experiment(state, rng, fake, name, status, archived, deleted, index, at, user_ids, team_id=1):
    key = models.slug(name)
    three_way = index % 4 == 1
    variants = models.variant_list(["control", "test-1", "test-2"] if three_way else ["control", "test"])
    created_days = 90 - index * 5
    start = end = None
    if status != "draft":
        start = at(created_days - 2)
    if status == "stopped":
        end = at(max(created_days - 30, 1))
    flag = models.insert_flag(
        state,
        team_id,
        key,
        f"Feature Flag for Experiment {name}",
        variants,
        active=status in ("running", "stopped"),
        created_at=at(created_days),
        created_by_id=user_ids[index % 5],
    )
    primary = [
        models.mean_metric(EVENTS[rng.randrange(len(EVENTS))]),
        models.funnel_metric(["$pageview", EVENTS[2 + rng.randrange(len(EVENTS) - 2)]]),
    ]
    for metric in primary:
        metric["uuid"] = next_uuid(state)
    holdout_id = 1 if index in (3, 9) and team_id == 1 else None
    exp = models.new_experiment_record(
        state,
        team_id=team_id,
        name=name,
        description=fake.paragraph(nb_sentences=2),
        flag=flag,
        created_by_id=user_ids[(index + 1) % len(user_ids)],
        created_at=at(created_days),
        parameters={"feature_flag_variants": variants, "minimum_detectable_effect": 5},
        metrics=primary,
    )
    exp.update(
        start_date=start,
        end_date=end,
        archived=archived,
        deleted=deleted,
        holdout_id=holdout_id,
        updated_at=at(max(created_days - 31, 0.5)),
    )
    if status == "stopped":
        exp["conclusion"] = ["won", "inconclusive", "lost", "stopped_early"][index % 4]
        exp["conclusion_comment"] = fake.sentence(nb_words=9)
    if holdout_id:
        models.apply_holdout_to_flag(state, flag, state["holdouts"][str(holdout_id)])
    if team_id == 1 and index < 8:
        metric_id = 1 + index % 4
        models.link_saved_metrics(
            state,
            exp,
            [{"id": metric_id, "metadata": {"type": "primary" if index % 2 else "secondary"}}],
            exp["created_at"],
        )
    models.sync_ordering(exp, state)
    return exp
