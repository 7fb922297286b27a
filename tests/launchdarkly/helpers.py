"""Helpers for the LaunchDarkly flag tests: URLs, semantic patches, and the flag as the API reports it."""

from __future__ import annotations

import json
from typing import Any

PROJECT = "default"
ENV = "production"
SEMANTIC = "application/json; domain-model=launchdarkly.semanticpatch"
FLAGS = f"/api/v2/flags/{PROJECT}"


def flag_url(key: str, project: str = PROJECT) -> str:
    return f"/api/v2/flags/{project}/{key}"


def get_flag(client, key: str, project: str = PROJECT) -> dict[str, Any]:
    response = client.get(flag_url(key, project))
    assert response.status_code == 200, response.text
    return response.json()


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


def refused(client, key: str, *instructions: dict[str, Any], status: int = 400, env: str | None = ENV) -> str:
    """A semantic patch that must be refused and change nothing; the error message."""
    before = get_flag(client, key)
    response = semantic(client, key, *instructions, env=env)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "message"}
    assert get_flag(client, key) == before
    return body["message"]


def variation_id(flag: dict[str, Any], value: Any) -> str:
    return next(v["_id"] for v in flag["variations"] if v["value"] == value)


def create_flag(client, key: str, **fields: Any) -> dict[str, Any]:
    response = client.post(FLAGS, json_body={"key": key, "name": key.replace("-", " ").title(), **fields})
    assert response.status_code == 201, response.text
    return response.json()
