"""Small helpers for PostHog tests."""

from __future__ import annotations

from typing import Any

P = "/api/projects/1"


def create(api, **fields: Any) -> dict[str, Any]:
    body = {"name": "Pricing test", "feature_flag_key": "pricing-test", **fields}
    response = api.post(f"{P}/experiments/", json_body=body)
    assert response.status_code == 201, response.text
    return response.json()


def act(api, exp_id: int, action: str, body: Any = None, status: int = 200) -> dict[str, Any]:
    response = api.post(f"{P}/experiments/{exp_id}/{action}/", json_body=body)
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def assert_error(
    response, status: int, detail: str | None = None, code: str | None = None, attr: str | None = "__any__"
) -> dict[str, Any]:
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


def find_seeded(api, status: str, archived: bool = False) -> dict[str, Any]:
    query = f"?status={status}" + ("&archived=true" if archived else "")
    results = api.get(f"{P}/experiments/{query}").json()["results"]
    assert results, f"no seeded {status} experiment"
    return results[0]
