"""Who may talk to this server: the Host check (DNS rebinding) and the control API's gate.

A page on another site can make a browser send simple requests (no preflight) to any local port,
and a DNS name it controls can be re-pointed at 127.0.0.1. So every request's ``Host`` must be a
name this server answers for, and ``/__admin`` refuses anything a browser sends on behalf of
another site (``Origin`` / ``Sec-Fetch-Site``), whatever the method or content type. Clients that
are not browsers send neither header and pass. With a token, every control-API call needs it.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from werkzeug.wrappers import Request

from mockserver.core.problems import Problem

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})
TOKEN_HEADER = "X-Mockserver-Admin-Token"
SAME_SITE_FETCH = frozenset({"same-origin", "none"})


def host_name(host_header: str) -> str:
    """``Host`` without its port, lower-cased; IPv6 literals without brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, _port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return name or host


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostGuard:
    """Names this server answers for: loopback, the bound address, and ``--allowed-hosts``.

    Bound to a wildcard address, any IP literal is accepted (the socket listens on every interface);
    DNS names, which is what a rebinding attack needs, must still be listed.
    """

    bound: str
    extra: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, bound_host: str, allowed_hosts: str) -> HostGuard:
        names = {host_name(h) for h in allowed_hosts.split(",") if h.strip()}
        return cls(host_name(bound_host) if bound_host else "", frozenset(names))

    def stand_in(self) -> str:
        """The host an HTTP/1.0 request without one is served as (links in answers name it)."""
        return "127.0.0.1" if self.bound in WILDCARD_ADDRESSES else self.bound

    def why_refused(self, host_header: str) -> str | None:
        """Why a request naming this host may not be served (403), or None."""
        if "*" in self.extra:
            return None
        name = host_name(host_header)
        if name in LOOPBACK_NAMES or name == self.bound or name in self.extra:
            return None
        if self.bound in WILDCARD_ADDRESSES and is_ip(name):
            return None
        return f"Host {name!r} is not one this server answers for; allow it with --allowed-hosts {name}"


@dataclass(frozen=True)
class AdminGuard:
    token: str | None  # None: no token needed
    origins: frozenset[str] = frozenset()  # other origins explicitly allowed to call /__admin

    def check_site(self, request: Request) -> None:
        """Refuse what a browser sends on behalf of another site (403), for every method."""
        origin = request.headers.get("Origin")
        own = f"{request.scheme}://{request.host}".lower()
        if origin is not None:
            if origin.lower() == own or origin.lower() in self.origins:
                return
            raise Problem(
                "permission_denied",
                f"The control API refuses cross-site requests (Origin {origin!r}); "
                "allow an origin with --admin-origins",
            )
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site.lower() not in SAME_SITE_FETCH:
            raise Problem("permission_denied", f"The control API refuses cross-site requests (Sec-Fetch-Site: {site})")

    def check_token(self, request: Request) -> None:
        if self.token is None:
            return
        given = request.headers.get(TOKEN_HEADER)
        if given is None:
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            given = value.strip() if scheme.lower() == "bearer" else None
        if not given:
            raise Problem(
                "not_authenticated",
                f"The control API needs the admin token: send Authorization: Bearer <token> or {TOKEN_HEADER}",
            )
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise Problem("authentication_failed", "The admin token is not valid")
