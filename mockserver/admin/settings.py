"""/__admin/settings: read and change the run-time settings (latency, no-auth)."""

from __future__ import annotations

from mockserver.admin import runtime_settings as live
from mockserver.core.problems import Problem
from mockserver.core.vendor import Call, Reply


def get_settings(call: Call) -> Reply:
    return Reply(200, live.current(call.runtime.settings))


def patch_settings(call: Call) -> Reply:
    try:
        return Reply(200, live.update(call.runtime.settings, call.body))
    except live.SettingsError as exc:
        raise Problem("conflict" if exc.conflict else "bad_request", exc.detail, attr=exc.field) from None


HANDLERS = {"getSettings": get_settings, "patchSettings": patch_settings}
