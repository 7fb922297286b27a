"""What the app asks of PostHog (with requests) and LaunchDarkly (with httpx, sync and async).

It knows nothing of the mock: it is given base URLs and keys, as it would be in production.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import requests


class UpstreamError(RuntimeError):
    pass


@dataclass
class PostHog:
    host: str
    key: str
    project_id: int = 1
    retries: int = 2

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.key}"

    @property
    def base(self) -> str:
        return f"{self.host}/api/projects/{self.project_id}"

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(method, self.base + path, timeout=10, **kwargs)
            except requests.ConnectionError:
                if attempt == self.retries:
                    raise UpstreamError(f"{method} {path}: connection failed") from None
                continue
            if response.status_code in (429, 502, 503) and attempt < self.retries:
                time.sleep(0.01)
                continue
            return response
        raise AssertionError("unreachable")

    def running(self) -> list[dict[str, Any]]:
        """Every running experiment, following the pagination links."""
        found: list[dict[str, Any]] = []
        url: str | None = f"{self.base}/experiments/?limit=2&status=running"
        while url:
            response = self.session.get(url, timeout=10)
            response.raise_for_status()
            page = response.json()
            found.extend(page["results"])
            url = page["next"]
        return found

    def create_draft(self, name: str, flag_key: str) -> dict[str, Any]:
        response = self._request("POST", "/experiments/", json={"name": name, "feature_flag_key": flag_key})
        if response.status_code != 201:
            raise UpstreamError(response.json().get("detail", response.text))
        return response.json()

    def launch(self, experiment_id: int) -> str:
        """``launched``, or ``needs-approval`` when a policy gates it."""
        response = self._request("POST", f"/experiments/{experiment_id}/launch/")
        if response.status_code == 409:
            return "needs-approval"
        if response.status_code != 200:
            raise UpstreamError(response.json().get("detail", response.text))
        return "launched"

    def get(self, experiment_id: int) -> dict[str, Any]:
        response = self._request("GET", f"/experiments/{experiment_id}/")
        if response.status_code != 200:
            raise UpstreamError(f"experiment {experiment_id}: HTTP {response.status_code}")
        return response.json()


@dataclass
class LaunchDarkly:
    host: str
    token: str
    project: str = "default"
    environment: str = "production"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": self.token}

    @property
    def _experiments(self) -> str:
        return f"{self.host}/api/v2/projects/{self.project}/environments/{self.environment}/experiments"

    def experiment_keys(self) -> list[str]:
        with httpx.Client(headers=self._headers, timeout=10) as client:
            response = client.get(self._experiments, params={"limit": 50})
            response.raise_for_status()
            return [item["key"] for item in response.json()["items"]]

    async def experiments(self, keys: list[str]) -> dict[str, Any]:
        """Several experiments at once (async)."""
        async with httpx.AsyncClient(headers=self._headers, timeout=10) as client:
            answers = await asyncio.gather(*(client.get(f"{self._experiments}/{key}") for key in keys))
        out = {}
        for key, response in zip(keys, answers, strict=True):
            if response.status_code == 429:
                raise UpstreamError(f"rate limited (retry after {response.headers.get('Retry-After')} s)")
            response.raise_for_status()
            out[key] = response.json()
        return out
