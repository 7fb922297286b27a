"""What PostHog tests share: paths, bodies, and the calls and checks every test file makes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mockserver.core.clock import iso
from tests.conftest import NOW

P = "/api/projects/1"
P2 = "/api/projects/2"
ENV = "/api/environments/1"
JSON = "application/json"
LEGACY_ID = 17  # the seeded experiment from before ExperimentMetric (archived, project 1)
LEGACY_SAVED_METRIC_ID = 5
HOLDOUT_FILTERS = [{"properties": [], "rollout_percentage": 10}]


def mean(event: str = "$pageview", **extra: Any) -> dict[str, Any]:
    """A mean ExperimentMetric over one event."""
    return {
        "kind": "ExperimentMetric",
        "metric_type": "mean",
        "source": {"kind": "EventsNode", "event": event},
        **extra,
    }


def funnel(*events: str) -> dict[str, Any]:
    return {
        "kind": "ExperimentMetric",
        "metric_type": "funnel",
        "series": [{"kind": "EventsNode", "event": e} for e in events],
    }


def variants(*pairs: tuple[str, int]) -> dict[str, Any]:
    """parameters with these (key, split) variants."""
    return {"feature_flag_variants": [{"key": key, "split_percent": split} for key, split in pairs]}


def create(api, **fields: Any) -> dict[str, Any]:
    body = {"name": "Pricing test", "feature_flag_key": "pricing-test", **fields}
    response = api.post(f"{P}/experiments/", json_body=body)
    assert response.status_code == 201, response.text
    return response.json()


def patch(api, exp_id: int, body: Any, status: int = 200) -> dict[str, Any]:
    response = api.patch(f"{P}/experiments/{exp_id}/", json_body=body)
    assert response.status_code == status, response.text
    return response.json()


def act(api, exp_id: int, action: str, body: Any = None, status: int = 200) -> dict[str, Any]:
    response = api.post(f"{P}/experiments/{exp_id}/{action}/", json_body=body)
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def create_saved_metric(api, name: str = "Signups", query: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post(f"{P}/experiment_saved_metrics/", json_body={"name": name, "query": query or mean("signed_up")})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(
    response, status: int, detail: str | None = None, code: str | None = None, attr: str | None = "__any__"
) -> dict[str, Any]:
    """PostHog's envelope, with the given detail, code and attribute where stated."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}, body
    if detail is not None:
        assert body["detail"] == detail, body
    if code is not None:
        assert body["code"] == code, body
    if attr != "__any__":
        assert body["attr"] == attr, body
    return body


def assert_field_error(response, attr: str | None, code: str, detail: str) -> None:
    body = assert_error(response, 400, detail, code, attr)
    assert body["type"] == "validation_error"


def posthog_state(api) -> dict[str, Any]:
    return api.get("/__admin/state", check_spec=False).json()["data"]["posthog"]


@contextmanager
def clock_moved(api, seconds: float) -> Iterator[None]:
    """The mock clock moved on by ``seconds``, and back to the tests' instant afterwards (servers are shared)."""
    response = api.post("/__admin/clock/advance", json_body={"seconds": seconds}, check_spec=False)
    assert response.status_code == 200, response.text
    try:
        yield
    finally:
        api.post("/__admin/clock/freeze", json_body={"at": iso(NOW)}, check_spec=False)


def find_seeded(api, status: str, archived: bool = False) -> dict[str, Any]:
    query = f"?status={status}" + ("&archived=true" if archived else "")
    results = api.get(f"{P}/experiments/{query}").json()["results"]
    assert results, f"no seeded {status} experiment"
    return results[0]
