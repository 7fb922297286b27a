"""PostHog's helpers on a control client (``client.posthog``): its URL, approval policies and the
change requests they open (``/__admin/posthog/…``, specs/posthog.admin.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.errors import int_id, path_segment

# pytest leaves this module's frames out of a failing test's traceback (--full-trace shows them):
# a refusal points at the test's own line.
__tracebackhide__ = True

if TYPE_CHECKING:
    from mockserver.client import Client

DEFAULT_PROJECT = 1


class ProjectURL(str):
    """The API root of project 1 (``…/api/projects/1``); call it for another: ``url(2)``.

    A string, like the client's ``url``, that can also be called, so ``posthog_url()`` in older
    tests means the same as ``posthog_url``.
    """

    __slots__ = ()

    def __call__(self, project_id: int | str = DEFAULT_PROJECT) -> str:
        base = self.rsplit("/", 1)[0]
        return f"{base}/{project_id}"


class PostHogControl:
    # Also offered on the client itself under these names (the fixture's older spellings).
    shortcuts = ("approval_policy", "approval_policies", "change_requests", "change_request", "approve", "reject")

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def url(self) -> ProjectURL:
        return ProjectURL(f"{self._client.url}/api/projects/{DEFAULT_PROJECT}")

    def approval_policy(
        self,
        action_key: str = "experiment.launch",
        *,
        quorum: int = 1,
        project_id: int = DEFAULT_PROJECT,
        users: list[int] | None = None,
        roles: list[str] | None = None,
        allow_self_approve: bool = False,
        expires_after_days: int = 14,
    ) -> dict[str, Any]:
        """Gate an action (``experiment.launch``, ``experiment.update``, ``feature_flag.update``…):
        a matching change then answers 409 and opens a change request. ``users`` may approve (none
        named: anyone but the requester); an undecided request expires after ``expires_after_days``
        on the mock clock."""
        body = {
            "action_key": action_key,
            "quorum": quorum,
            "project_id": project_id,
            "users": users or [],
            "roles": roles or [],
            "allow_self_approve": allow_self_approve,
            "expires_after_days": expires_after_days,
        }
        return self._client._call("POST", "/__admin/posthog/approval-policies", body)

    def approval_policies(self) -> list[dict[str, Any]]:
        return self._client._call("GET", "/__admin/posthog/approval-policies")["policies"]

    def delete_approval_policy(self, policy_id: int | str) -> None:
        policy_id = int_id("policy_id", policy_id, "a policy's id (int)")
        self._client._call("DELETE", f"/__admin/posthog/approval-policies/{policy_id}")

    def change_requests(self, state: str | None = None) -> list[dict[str, Any]]:
        """Change requests, optionally in one state (pending, approved, applied, rejected, failed, expired)."""
        params = {"state": state} if state else None
        return self._client._call("GET", "/__admin/posthog/change-requests", params=params)["change_requests"]

    def change_request(self, change_request_id: str) -> dict[str, Any]:
        return self._client._call("GET", f"/__admin/posthog/change-requests/{path_segment('id', change_request_id)}")

    def approve(self, change_request_id: str, user_id: int | None = None) -> dict[str, Any]:
        """Approve as ``user_id`` (default: the first approver the policy names who is not the
        requester); at quorum the original request is applied (state ``applied``)."""
        path = f"/__admin/posthog/change-requests/{path_segment('id', change_request_id)}/approve"
        return self._client._call("POST", path, {} if user_id is None else {"user_id": user_id})

    def reject(
        self, change_request_id: str, user_id: int | None = None, reason: str | None = "Rejected"
    ) -> dict[str, Any]:
        """Reject as ``user_id`` (chosen as for ``approve``); PostHog requires a reason (``None``
        leaves it out, to see PostHog's refusal)."""
        path = f"/__admin/posthog/change-requests/{path_segment('id', change_request_id)}/reject"
        body = {key: value for key, value in (("user_id", user_id), ("reason", reason)) if value is not None}
        return self._client._call("POST", path, body)

    def cancel(self, change_request_id: str, reason: str | None = None) -> dict[str, Any]:
        """Withdraw a pending request as its requester (PostHog records it as their rejection)."""
        path = f"/__admin/posthog/change-requests/{path_segment('id', change_request_id)}/cancel"
        return self._client._call("POST", path, {} if reason is None else {"reason": reason})


def control(client: Client) -> PostHogControl:
    return PostHogControl(client)
