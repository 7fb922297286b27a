"""LaunchDarkly's helpers on a control client (``client.launchdarkly``): its URL and rate limits
(``/__admin/launchdarkly/rate-limit``, specs/launchdarkly.admin.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# pytest leaves this module's frames out of a failing test's traceback (--full-trace shows them):
# a refusal points at the test's own line.
__tracebackhide__ = True

if TYPE_CHECKING:
    from mockserver.client import Client


class LaunchDarklyControl:
    # Also offered on the client itself under these names.
    shortcuts = ("rate_limit", "rate_limits", "clear_rate_limits")

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def url(self) -> str:
        """The REST API root (``…/api/v2``); LaunchDarkly clients that want a host take the client's ``url``."""
        return f"{self._client.url}/api/v2"

    def rate_limit(
        self,
        limit: int,
        window_seconds: int = 10,
        token: str | None = None,
        *,
        scope: str | None = None,
        route: str | None = None,
    ) -> dict[str, Any]:
        """Answer 429 past ``limit`` requests per ``window_seconds``. ``scope`` says what one budget
        counts: ``token`` (the default: each access token, or only ``token``), ``global`` (the whole
        account), ``route`` (each operation, or only the operationId ``route``; a ``route`` alone
        implies it) or ``ip``."""
        if route is not None and scope is None:
            scope = "route"
        body: dict[str, Any] = {"limit": limit, "window_seconds": window_seconds}
        for name, value in (("token", token), ("scope", scope), ("route", route)):
            if value is not None:
                body[name] = value
        return self._client._call("POST", "/__admin/launchdarkly/rate-limit", body)

    def rate_limits(self) -> list[dict[str, Any]]:
        return self._client._call("GET", "/__admin/launchdarkly/rate-limit")["rules"]

    def clear_rate_limits(self) -> None:
        self._client._call("DELETE", "/__admin/launchdarkly/rate-limit")


def control(client: Client) -> LaunchDarklyControl:
    return LaunchDarklyControl(client)
