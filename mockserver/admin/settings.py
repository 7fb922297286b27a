"""/__admin/settings: read and change the run-time settings (latency, no-auth)."""

from __future__ import annotations

from flask import Response

from mockserver.admin import blueprint, json_body, problem, reply, runtime
from mockserver.admin import runtime_settings as live


@blueprint.get("/settings")
def get_settings() -> Response:
    return reply(live.current(runtime().settings))


@blueprint.patch("/settings")
def patch_settings() -> Response:
    body, error = json_body()
    if error:
        return error
    try:
        return reply(live.update(runtime().settings, body))
    except live.SettingsError as exc:
        return problem(409 if exc.conflict else 400, exc.detail, exc.field)
