"""/__admin/settings: read and change the run-time settings (latency, no-auth)."""

from __future__ import annotations

from collections.abc import Callable

from mockserver.admin import runtime_settings as live
from mockserver.core.problems import Problem
from mockserver.core.settings import Settings
from mockserver.core.vendor import Call, Reply


def get_settings(call: Call) -> Reply:
    return Reply(200, live.current(call.runtime.settings))


def _restorer(settings: Settings) -> Callable[[], None]:
    latency, no_auth = settings.latency, settings.no_auth

    def restore() -> None:
        settings.latency, settings.no_auth = latency, no_auth

    return restore


def patch_settings(call: Call) -> Reply:
    tx = call.runtime.store.in_transaction
    if tx is not None:  # a failed request puts the settings back too
        tx.log(_restorer(call.runtime.settings), None)
    try:
        return Reply(200, live.update(call.runtime.settings, call.body))
    except live.SettingsError as exc:
        raise Problem("conflict" if exc.conflict else "bad_request", exc.detail, attr=exc.field) from None


HANDLERS = {"getSettings": get_settings, "patchSettings": patch_settings}
