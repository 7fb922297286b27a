"""A contract-checked local mock of the PostHog and LaunchDarkly experiment APIs."""

from mockserver.version import __version__

__all__ = ["Client", "MockServer", "MockServerError", "__version__"]


def __getattr__(name: str):
    """``from mockserver import MockServer, Client`` without paying for Flask or httpx at ``import mockserver``."""
    if name == "MockServer":
        from mockserver.server import MockServer

        return MockServer
    if name in ("Client", "MockServerError"):
        from mockserver import client

        return getattr(client, name)
    raise AttributeError(name)
