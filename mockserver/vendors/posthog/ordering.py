"""The display order of an experiment's metrics, kept the way PostHog keeps it.

``primary_metrics_ordered_uuids`` / ``secondary_metrics_ordered_uuids`` list the uuids of inline
metrics and of linked shared metrics (their query uuid). PostHog never rebuilds them: a write
appends what it added and drops what it removed, keeps anything else the client put there, and
refuses an order that leaves out a metric the experiment has. Added uuids are appended in the
order the metrics are listed (PostHog walks a set; any order is PostHog's, this one is stable).
"""

from __future__ import annotations

from typing import Any

from mockserver.vendors.posthog.errors import invalid

FIELDS = {"primary": "primary_metrics_ordered_uuids", "secondary": "secondary_metrics_ordered_uuids"}
INLINE = {"primary": "metrics", "secondary": "metrics_secondary"}
_REFRESH = "This is likely a frontend bug - please refresh and try again."


def uuids(metrics: Any) -> list[str]:
    return [m["uuid"] for m in metrics or [] if isinstance(m, dict) and m.get("uuid")]


def role(metadata: Any) -> str:
    """A link's side: ``metadata.type`` "primary" (the default) or anything else, secondary."""
    return "primary" if (metadata or {}).get("type", "primary") == "primary" else "secondary"


def link_uuids(links: list[dict[str, Any]], queries: dict[int, dict[str, Any]]) -> dict[str, list[str]]:
    """The query uuids of linked shared metrics, by side, in link order."""
    out: dict[str, list[str]] = {"primary": [], "secondary": []}
    for link in links:
        uuid = (queries.get(link["saved_metric"]) or {}).get("uuid")
        if uuid and uuid not in out[role(link.get("metadata"))]:
            out[role(link.get("metadata"))].append(uuid)
    return out


def _appended(order: list[str], added: list[str]) -> list[str]:
    return order + [u for u in dict.fromkeys(added) if u not in order]


def on_create(given: Any, metrics: list[Any] | None) -> Any:
    """A new experiment's order: the one sent, then inline metrics it lacks (kept as sent without metrics)."""
    if metrics is None:
        return given
    return _appended(list(given or []), uuids(metrics))


def add_links(experiment: dict[str, Any], linked: dict[str, list[str]]) -> None:
    """Creating links appends their uuids; when anything was added both orders are written as lists."""
    grown = {side: _appended(list(experiment.get(f) or []), linked[side]) for side, f in FIELDS.items()}
    if any(grown[side] != list(experiment.get(f) or []) for side, f in FIELDS.items()):
        for side, f in FIELDS.items():
            experiment[f] = grown[side]


def sync_inline(experiment: dict[str, Any], changes: dict[str, Any]) -> None:
    """An update that replaces inline metrics adds and drops their uuids in the order it writes."""
    for side, field in FIELDS.items():
        inline = INLINE[side]
        if inline not in changes:
            continue
        old, new = uuids(experiment.get(inline)), uuids(changes[inline])
        added = [u for u in new if u not in old]
        removed = set(old) - set(new)
        if not added and not removed:
            continue
        base = changes[field] if field in changes else experiment.get(field)
        changes[field] = _appended([u for u in base or [] if u not in removed], added)


def sync_links(
    experiment: dict[str, Any], changes: dict[str, Any], before: dict[str, list[str]], after: dict[str, list[str]]
) -> None:
    """An update that replaces links adds and drops their uuids; an explicit reorder sent with it wins."""
    for side, field in FIELDS.items():
        added = [u for u in after[side] if u not in before[side]]
        removed = set(before[side]) - set(after[side])
        if not added and not removed:
            continue
        automatic = _appended([u for u in experiment.get(field) or [] if u not in removed], added)
        if field in changes and list(changes[field] or []) != automatic:
            changes[field] = _appended([u for u in changes[field] or [] if u not in removed], added)
        else:
            changes[field] = automatic


def check_complete(order: dict[str, Any], expected: dict[str, list[str]]) -> None:
    """Every metric the experiment shows must have a place in the order of its side."""
    for side, field in FIELDS.items():
        wanted = set(expected[side])
        if not wanted:
            continue
        if order[side] is None:
            raise invalid(f"{field} is null but {side} metrics exist. {_REFRESH}")
        missing = wanted - set(order[side])
        if missing:
            raise invalid(f"{field} is missing UUIDs: {sorted(missing)}. {_REFRESH}")
