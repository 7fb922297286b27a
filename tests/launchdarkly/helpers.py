"""Shared LaunchDarkly test helpers: tokens, paths, builders that read what they need through the API,
and the flag API's semantic patches."""

from __future__ import annotations

import json
from typing import Any

TOKEN = "api-test-token"
LD_KEY = {"Authorization": TOKEN}
PROJECT = "default"
ENV = "production"
BASE = f"/api/v2/projects/{PROJECT}/environments/{ENV}/experiments"
FLAGS = f"/api/v2/flags/{PROJECT}"
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
BETA = {"LD-API-Version": "beta"}


def without_counters(part: dict[str, Any]) -> dict[str, Any]:
    """The LaunchDarkly part of the state less its rate-limit windows: they count every authenticated
    request, refused or not, as LaunchDarkly's budgets do, so only the data must stay unchanged."""
    return {k: v for k, v in part.items() if k != "rate_windows"}


def runtime_of(client) -> Any:
    app = getattr(client, "app", None)
    if app is not None:
        return app.extensions["mockserver"]
    raise AttributeError("HTTP clients reach the runtime through live_server")


# -- flags ----------------------------------------------------------------------------------------


def flag_url(key: str, project: str = PROJECT) -> str:
    return f"/api/v2/flags/{project}/{key}"


def get_flag(client, key: str, project: str = PROJECT) -> dict[str, Any]:
    response = client.get(flag_url(key, project))
    assert response.status_code == 200, response.text
    return response.json()


def create_flag(client, key: str, **fields: Any) -> dict[str, Any]:
    response = client.post(FLAGS, json_body={"key": key, "name": key.replace("-", " ").title(), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def variation_id(flag: dict[str, Any], value: Any) -> str:
    return next(v["_id"] for v in flag["variations"] if v["value"] == value)


def turn_on(client, flag_key: str, env: str = ENV) -> None:
    response = client.patch(
        flag_url(flag_key),
        json_body=[{"op": "replace", "path": f"/environments/{env}/on", "value": True}],
    )
    assert response.status_code == 200, response.text


def semantic(
    client,
    key: str,
    *instructions: dict[str, Any],
    env: str | None = ENV,
    query: str = "",
    project: str = PROJECT,
    comment: str | None = "test",
):
    """PATCH the flag with a semantic patch; the response, unchecked."""
    body: dict[str, Any] = {"instructions": list(instructions)}
    if env is not None:
        body["environmentKey"] = env
    if comment is not None:
        body["comment"] = comment
    return client.patch(flag_url(key, project) + query, data=json.dumps(body), content_type=SEMANTIC)


def applied(client, key: str, *instructions: dict[str, Any], env: str | None = ENV, **kwargs: Any) -> dict[str, Any]:
    """A semantic patch that must succeed; the flag it answers with."""
    response = semantic(client, key, *instructions, env=env, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def refused_patch(client, key: str, *instructions: dict[str, Any], status: int = 400, env: str | None = ENV) -> str:
    """A flag semantic patch that must be refused and change nothing; the error message."""
    before = get_flag(client, key)
    response = semantic(client, key, *instructions, env=env)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "id"}, body
    assert get_flag(client, key) == before
    return body["message"]


# -- experiments ----------------------------------------------------------------------------------


def iteration_input(
    client,
    flag_key: str = "pricing-page-layout",
    *,
    metrics=("checkout-completed",),
    env: str = ENV,
    rule: str = "fallthrough",
    allocations=("50", "50"),
    unit: str | None = "user",
) -> dict[str, Any]:
    """A valid IterationInput built from the flag as the API reports it."""
    row = get_flag(client, flag_key)
    variations = row["variations"]
    treatments = []
    for index, percent in enumerate(allocations):
        treatments.append(
            {
                "name": "Control" if index == 0 else f"Variant {index}",
                "baseline": index == 0,
                "allocationPercent": percent,
                "parameters": [{"flagKey": flag_key, "variationId": variations[index]["_id"]}],
            }
        )
    body: dict[str, Any] = {
        "hypothesis": "The variant converts better",
        "metrics": [{"key": k} for k in metrics],
        "treatments": treatments,
        "flags": {flag_key: {"ruleId": rule, "flagConfigVersion": row["environments"][env]["version"]}},
    }
    if unit is not None:
        body["randomizationUnit"] = unit
    return body


def experiment_post(client, key: str = "new-exp", **kwargs: Any) -> dict[str, Any]:
    return {
        "name": key.replace("-", " ").title(),
        "key": key,
        "description": "Created by a test",
        "iteration": iteration_input(client, **kwargs),
    }


def create(client, key: str = "new-exp", env: str = ENV, **kwargs: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v2/projects/{PROJECT}/environments/{env}/experiments",
        json_body=experiment_post(client, key, env=env, **kwargs),
    )
    assert response.status_code == 201, response.text
    return response.json()


def patch(client, key: str, *instructions: dict[str, Any], env: str = ENV, content_type: str | None = None):
    body = json.dumps({"comment": "test", "instructions": list(instructions)})
    return client.patch(
        f"/api/v2/projects/{PROJECT}/environments/{env}/experiments/{key}",
        data=body,
        content_type=content_type or "application/json",
    )


def get(client, key: str, expand: str | None = None, env: str = ENV) -> dict[str, Any]:
    url = f"/api/v2/projects/{PROJECT}/environments/{env}/experiments/{key}"
    response = client.get(url + (f"?expand={expand}" if expand else ""))
    assert response.status_code == 200, response.text
    return response.json()


# -- errors and members ---------------------------------------------------------------------------

ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "optimistic_locking_error",
}


def refused(response, status: int) -> str:
    """Assert LaunchDarkly's error envelope with the status's code; the message, for the caller to check."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "id"}, body
    if status in ERROR_CODES:
        assert body["code"] == ERROR_CODES[status], body
    return body["message"]


def member_id(client) -> str:
    response = client.get("/api/v2/members/me")
    assert response.status_code == 200, response.text
    return response.json()["_id"]
