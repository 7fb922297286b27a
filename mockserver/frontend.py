"""Local frontend development: CORS, artificial latency, and requests without credentials.

A browser app pointed at the mock sends a CORS preflight first; flask-cors answers it from
Flask's automatic OPTIONS handling, which runs before any vendor auth or contract check.
``--latency`` delays vendor responses so loading states show; ``--no-auth`` lets a request
that carries no key through as a full-access one (a request that does carry a key is still
checked as usual).
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from flask import Flask, request

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

# Headers the vendors' own clients send, plus what browsers add.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "LD-API-Version", "X-Requested-With", "Accept"]
EXPOSED_HEADERS = [
    "X-Ratelimit-Global-Limit",
    "X-Ratelimit-Global-Remaining",
    "X-Ratelimit-Route-Limit",
    "X-Ratelimit-Route-Remaining",
    "X-Ratelimit-Auth-Token-Limit",
    "X-Ratelimit-Auth-Token-Remaining",
    "X-Ratelimit-Auth-Token-Reset",
    "X-Ratelimit-Reset",
    "Retry-After",
    "ETag",
    "Location",
    "X-Mock-Nearest-Path",
    "X-Mock-Contract-Violations",
    "X-Mock-Fault",
]
# What a credential-less request is treated as under --no-auth, in each vendor's header format.
NO_AUTH_KEYS = {"posthog": "Bearer phx_mockserver_no_auth", "launchdarkly": "api-mockserver-no-auth"}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _body(req: Any) -> bytes:
    from werkzeug.exceptions import HTTPException

    try:
        return req.get_data(cache=True)
    except HTTPException:
        return b""


def install(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings
    if settings.cors_origins.strip().lower() != "off":
        from flask_cors import CORS

        origins: Any = _split(settings.cors_origins) or "*"
        if origins == ["*"]:
            origins = "*"
        CORS(
            app,
            origins=origins,
            allow_headers=[*ALLOWED_HEADERS, *_split(settings.cors_headers)],
            expose_headers=EXPOSED_HEADERS,
            supports_credentials=settings.cors_credentials,
            max_age=600,
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        )

    rng = random.Random(f"{settings.seed}:latency")

    @app.before_request
    def _frontend() -> None:
        if request.method == "OPTIONS" or request.path.startswith("/__admin"):
            return
        vendor = runtime.vendor_for_path(request.path)
        if vendor is None:
            return
        latency = settings.latency  # read per request: PATCH /__admin/settings may change it
        if latency is not None:
            time.sleep(rng.uniform(latency[0], latency[1]) / 1000)
        if (
            settings.no_auth
            and "HTTP_AUTHORIZATION" not in request.environ
            and "personal_api_key" not in request.args
            and b"personal_api_key" not in _body(request)
        ):
            request.environ["HTTP_AUTHORIZATION"] = NO_AUTH_KEYS.get(vendor.name, "Bearer mockserver_no_auth")
